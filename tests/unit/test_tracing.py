"""Tracing off (no ``OTEL_EXPORTER_OTLP_ENDPOINT``): nothing loaded, spans that do nothing."""

from __future__ import annotations

import subprocess
import sys

from ogmint.settings import Settings
from ogmint.tracing import Tracing, start_tracing


def test_off_by_default_and_spans_do_nothing() -> None:
    tracing = start_tracing(Settings.from_env({}))
    assert not tracing.enabled
    with tracing.span("render", {"ogmint.api": "v1"}) as span:
        span.set_attribute("ogmint.created", True)
    assert tracing.request({}, "GET", "api/og") is None
    assert tracing.span("a") is tracing.span("b")  # one shared object: nothing allocated
    tracing.close()


def test_off_loads_no_opentelemetry_module() -> None:
    code = (
        "import sys\n"
        "from ogmint.app import create_app\n"
        "from ogmint.settings import Settings\n"
        "create_app(Settings.from_env({}))\n"
        "print(sorted(m for m in sys.modules if m.startswith('opentelemetry')))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


def test_on_builds_an_exporting_provider() -> None:
    settings = Settings.from_env({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9"})
    tracing = start_tracing(settings)
    try:
        assert tracing.enabled
        assert tracing.span("render") is not Tracing().span("render")  # a real span (not entered)
    finally:
        tracing.close()


def test_otel_settings_use_the_standard_names() -> None:
    s = Settings.from_env(
        {
            "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318",
            "OTEL_EXPORTER_OTLP_HEADERS": "authorization=Bearer x, x-tenant=7",
            "OTEL_SERVICE_NAME": "og",
            "OTEL_TRACES_SAMPLER_ARG": "0.25",
        }
    )
    assert s.otel_exporter_otlp_headers == (("authorization", "Bearer x"), ("x-tenant", "7"))
    assert (s.otel_service_name, s.otel_traces_sampler_arg) == ("og", 0.25)
    assert Settings.from_env({"OGMINT_OTEL_SERVICE_NAME": "ignored"}).otel_service_name == "ogmint"
