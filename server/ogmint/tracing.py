"""OpenTelemetry traces (SPEC §9), off unless ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set.

One span per step, named by it (README "Tracing"): ``request`` (the HTTP request, parent of
the rest), ``admit`` (limits, quota, dedup claim), ``fetch`` (one avatar or logo), ``render``
(the native render), ``store`` (the image write), ``save`` (the render record and its webhook
delivery) and ``webhook.attempt`` (one delivery attempt, a trace of its own). Attributes name
the route, API, template, field and status — never API keys, titles, slugs, URLs or secrets.

Off, ``Tracing.span`` hands back one shared do-nothing context manager: no OpenTelemetry
module is even imported. On, spans are batched and exported over OTLP/HTTP (protobuf) by a
thread of each worker process.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractContextManager
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol

from ogmint.settings import Settings

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.trace import Tracer

#: Attribute values spans may carry.
Value = str | bool | int | float


class Span(Protocol):
    """What steps do with their span: add what they learnt while running."""

    def set_attribute(self, key: str, value: Value) -> None: ...


class _Off:
    """The span, and its context manager, when tracing is off: does nothing, costs a call."""

    __slots__ = ()

    def __enter__(self) -> _Off:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None

    def set_attribute(self, key: str, value: Value) -> None:
        return None


_OFF = _Off()


class Tracing:
    """Spans of one worker process (built per worker, after the fork: the exporter is a thread)."""

    def __init__(self, provider: TracerProvider | None = None) -> None:
        self._provider = provider
        self._tracer: Tracer | None = None if provider is None else provider.get_tracer("ogmint")

    @property
    def enabled(self) -> bool:
        return self._tracer is not None

    def span(
        self, name: str, attributes: Mapping[str, Value] | None = None
    ) -> AbstractContextManager[Span]:
        """A child of the current span (a new trace when there is none), ended on exit; an
        exception escaping it is recorded and marks it an error."""
        if self._tracer is None:
            return _OFF
        return self._tracer.start_as_current_span(name, attributes=attributes)

    def request(
        self, headers: Mapping[str, str], method: str, route: str
    ) -> tuple[Any, object] | None:
        """Starts a ``request`` span (continuing the caller's ``traceparent``) and makes it
        current: (span, token) for ``end_request``, or None when off."""
        if self._tracer is None:
            return None
        from opentelemetry import context, trace
        from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

        parent = TraceContextTextMapPropagator().extract(headers)
        span = self._tracer.start_span(
            "request",
            parent,
            kind=trace.SpanKind.SERVER,
            attributes={"http.request.method": method, "http.route": route},
        )
        return span, context.attach(trace.set_span_in_context(span, parent))

    @staticmethod
    def end_request(started: tuple[Any, object], status: int) -> None:
        """Ends a ``request`` span with the response status."""
        from opentelemetry import context, trace

        span, token = started
        span.set_attribute("http.response.status_code", status)
        if status >= 500:
            span.set_status(trace.StatusCode.ERROR)
        span.end()
        context.detach(token)  # type: ignore[arg-type]

    def close(self) -> None:
        """Exports what is still queued and stops the exporter thread."""
        if self._provider is not None:
            self._provider.shutdown()


def start_tracing(settings: Settings) -> Tracing:
    """Tracing as the settings ask: off without an endpoint, else an OTLP/HTTP exporter."""
    endpoint = settings.otel_exporter_otlp_endpoint
    if not endpoint:
        return Tracing()
    # Imported only when used: off, tracing costs no memory or start-up time.
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor
    from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased

    # Everything passed explicitly: the SDK would otherwise read OTEL_* variables itself.
    provider = TracerProvider(
        resource=Resource({"service.name": settings.otel_service_name}),
        sampler=ParentBased(TraceIdRatioBased(settings.otel_traces_sampler_arg)),
    )
    exporter = OTLPSpanExporter(
        endpoint=endpoint.rstrip("/") + "/v1/traces",
        headers=dict(settings.otel_exporter_otlp_headers),
        timeout=10,
    )
    provider.add_span_processor(
        BatchSpanProcessor(
            exporter,
            max_queue_size=2048,
            schedule_delay_millis=settings.otel_bsp_schedule_delay,
            max_export_batch_size=512,
            export_timeout_millis=10_000,
        )
    )
    return Tracing(provider)
