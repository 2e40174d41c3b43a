"""OpenTelemetry traces (SPEC §9): an app server with ``OTEL_EXPORTER_OTLP_ENDPOINT`` set exports
its spans over OTLP/HTTP to a real receiver (``tests/otlp.py``), which decodes the protobuf.

One V1 render with an avatar and logo, one V2 render with a webhook: the request span is the
parent of admit, fetch, render, store and save in one trace; each webhook attempt is a span of
its own; attributes name routes, templates and statuses but never keys, titles or secrets.
"""

from __future__ import annotations

import io
import urllib.parse
from collections.abc import Callable, Iterator

import orjson
import pytest
import trustme
from PIL import Image

from conftest import Server
from otlp import OtlpReceiver, ReceivedSpan
from receiver import Receiver, write_ca
from support import request

TITLE = "Quarterly secret roadmap"
SECRET = "whsec-not-really-but-private"
TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


def png(color: str) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 64), color).save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture(scope="module")
def collector() -> Iterator[OtlpReceiver]:
    r = OtlpReceiver()
    r.start()
    yield r
    r.stop()


@pytest.fixture(scope="module")
def origin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Receiver, str]]:
    """HTTPS server for the avatar and logo, and the webhook receiver."""
    ca = trustme.CA()
    r = Receiver(ca)
    r.files = {"/avatar.png": png("#ff0000"), "/logo.png": png("#0000ff")}
    r.start()
    yield r, write_ca(ca, tmp_path_factory.mktemp("ca") / "ca.pem")
    r.stop()


@pytest.fixture(scope="module")
def app(
    collector: OtlpReceiver,
    origin: tuple[Receiver, str],
    server_factory: Callable[..., Server],
) -> Server:
    return server_factory(
        OTEL_EXPORTER_OTLP_ENDPOINT=collector.endpoint,
        OTEL_BSP_SCHEDULE_DELAY="100",
        OTEL_SERVICE_NAME="ogmint-test",
        OGMINT_OUTBOUND_ALLOW="127.0.0.1",
        OGMINT_OUTBOUND_CA_FILE=origin[1],
        OGMINT_WEBHOOK_POLL_INTERVAL="0.1",
    )


def trace_of(spans: list[ReceivedSpan], root: ReceivedSpan) -> dict[str, ReceivedSpan]:
    return {s.name: s for s in spans if s.trace_id == root.trace_id and s is not root}


def test_v1_render_is_one_trace(
    app: Server, collector: OtlpReceiver, origin: tuple[Receiver, str]
) -> None:
    r, _ = origin
    key = app.create_key("tracer", plan="pro")
    params = {
        "template": "blog",
        "title": TITLE,
        "avatar": r.url("/avatar.png"),
        "logo": r.url("/logo.png"),
    }
    reply = request(
        f"{app.url}/api/og?{urllib.parse.urlencode(params)}",
        headers={"x-api-key": key, "traceparent": TRACEPARENT},
    )
    assert reply.status == 200

    def v1_request(spans: list[ReceivedSpan]) -> ReceivedSpan | None:
        roots = [s for s in spans if s.name == "request" and s.attributes["http.route"] == "api/og"]
        return roots[0] if roots else None

    spans = collector.wait_for(lambda spans: v1_request(spans) is not None)
    root = v1_request(spans)
    assert root is not None
    assert root.attributes["http.request.method"] == "GET"
    assert root.attributes["http.response.status_code"] == 200
    assert root.kind == 2  # SERVER
    assert root.resource["service.name"] == "ogmint-test"
    # The caller's traceparent is continued.
    assert root.trace_id == "0af7651916cd43dd8448eb211c80319c"
    assert root.parent_id == "b7ad6b7169203331"
    collector.wait_for(lambda spans: len(trace_of(spans, root)) >= 3)
    children = [s for s in collector.spans if s.trace_id == root.trace_id and s is not root]
    names = sorted(s.name for s in children)
    assert names == ["admit", "fetch", "fetch", "render"], names
    assert all(s.parent_id == root.span_id for s in children)
    fields = sorted(str(s.attributes["ogmint.field"]) for s in children if s.name == "fetch")
    assert fields == ["avatar", "logo"]
    render = next(s for s in children if s.name == "render")
    assert render.attributes == {"ogmint.api": "v1", "ogmint.template": "blog"}
    admit = next(s for s in children if s.name == "admit")
    assert admit.attributes["ogmint.anonymous"] is False
    assert_private(collector.spans, key)


def test_v2_render_and_webhook_attempt(
    app: Server, collector: OtlpReceiver, origin: tuple[Receiver, str]
) -> None:
    r, _ = origin
    key = app.create_key("tracer2", plan="pro")
    r.script["/hook"] = [500]  # one failed attempt, then a delivered one
    body = {"template": "blog", "title": TITLE, "webhookUrl": r.url("/hook")}
    body["webhookSecret"] = SECRET
    headers = {"content-type": "application/json", "x-api-key": key}
    reply = request(app.url + "/api/v2/render", "POST", headers, orjson.dumps(body))
    assert reply.status == 201
    slug = reply.json()["slug"]

    def v2_root(spans: list[ReceivedSpan]) -> ReceivedSpan | None:
        roots = [s for s in spans if s.name == "request" and "v2/render" in str(s.attributes)]
        return roots[0] if roots else None

    spans = collector.wait_for(
        lambda spans: (
            (root := v2_root(spans)) is not None
            and {"admit", "render", "store", "save"} <= set(trace_of(spans, root))
        )
    )
    root = v2_root(spans)
    assert root is not None and root.attributes["http.response.status_code"] == 201
    assert root.parent_id == ""
    steps = trace_of(spans, root)
    assert {s.parent_id for s in steps.values()} == {root.span_id}
    assert steps["save"].attributes == {"ogmint.webhook": True, "ogmint.created": True}
    assert steps["store"].attributes["ogmint.bytes"] > 1000  # type: ignore[operator]
    assert steps["render"].attributes["ogmint.api"] == "v2"

    attempts = collector.wait_for(lambda spans: len([s for s in spans if is_hook(s)]) >= 2)
    tried = sorted(
        (s.attributes["ogmint.attempt"], s.attributes.get("http.response.status_code"))
        for s in attempts
        if is_hook(s)
    )
    assert tried[:2] == [(1, 500), (2, 200)], tried
    first = next(s for s in attempts if is_hook(s) and s.attributes["ogmint.attempt"] == 1)
    assert first.attributes["ogmint.outcome"] == "pending"  # to be retried
    assert first.parent_id == ""  # a trace of its own, not part of the request's
    assert_private(collector.spans, key, slug)


def is_hook(span: ReceivedSpan) -> bool:
    return span.name == "webhook.attempt"


def assert_private(spans: list[ReceivedSpan], *secrets: str) -> None:
    """No span carries the title, the key, the slug or the webhook secret."""
    text = repr([(s.name, s.attributes) for s in spans])
    for secret in (TITLE, SECRET, *secrets):
        assert secret not in text, secret


def test_client_errors_are_requests_not_failures(app: Server, collector: OtlpReceiver) -> None:
    reply = request(f"{app.url}/api/og?template=no-such-template&title=x")
    assert reply.status == 400

    def failed(spans: list[ReceivedSpan]) -> list[ReceivedSpan]:
        return [
            s
            for s in spans
            if s.name == "request" and s.attributes.get("http.response.status_code") == 400
        ]

    (span,) = failed(collector.wait_for(lambda spans: bool(failed(spans))))
    assert span.attributes["http.route"] == "api/og"
    assert span.status == 0  # a 4xx is the client's; only 5xx mark the span an error
