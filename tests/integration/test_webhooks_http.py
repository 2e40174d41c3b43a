"""Webhooks end to end: real app-server processes deliver to a real local HTTPS receiver.

The retry schedule, attempt timeout and lease are compressed through settings; everything else
(TLS with a private CA, the guarded client, the outbox in SQLite or Redis) is the real thing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import shutil
import signal
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
import trustme

from backends import RedisServer
from conftest import Server
from receiver import Hit, Receiver, wait_until, write_ca
from support import Reply, assert_error, request

BODY = {"template": "blog", "title": "Hooked", "palette": "paper"}
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
API_POLL = 0.3  # polling the API stays under the burst limit (5 requests/s per user)
ISO_MS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")  # SPEC: UTC, milliseconds


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def hook_env(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return {
        "OGMINT_OUTBOUND_CA_FILE": write_ca(ca, tmp_path_factory.mktemp("ca") / "ca.pem"),
        "OGMINT_OUTBOUND_ALLOW": "127.0.0.1,localhost",
        "OGMINT_WEBHOOK_RETRY_SCHEDULE": "0.2,0.3,0.4,0.5",
        "OGMINT_WEBHOOK_TIMEOUT": "1",
        "OGMINT_WEBHOOK_LEASE": "2.5",
        "OGMINT_WEBHOOK_POLL_INTERVAL": "0.1",
    }


@pytest.fixture(scope="module", params=["embedded", "redis"])
def backend(request: pytest.FixtureRequest) -> dict[str, str]:
    if request.param == "embedded":
        return {}
    redis: RedisServer = request.getfixturevalue("redis_server")
    return redis.namespace()


@pytest.fixture(scope="module")
def receiver(ca: trustme.CA, backend: dict[str, str]) -> Iterator[Receiver]:
    """A fresh receiver per backend, so each one's hits are its own."""
    r = Receiver(ca, slow_seconds=3.0)
    r.start()
    yield r
    r.stop()


@pytest.fixture(scope="module")
def srv(
    backend: dict[str, str], hook_env: dict[str, str], server_factory: Callable[..., Server]
) -> Iterator[Server]:
    s = server_factory(**hook_env, **backend)
    yield s
    s.stop()  # before the other backend's server starts: one idle server less


def render(server: Server, key: str, body: dict[str, object]) -> Reply:
    headers = {"content-type": "application/json", "x-api-key": key}
    return request(server.url + "/api/v2/render", "POST", headers, orjson.dumps(body))


def deliveries(server: Server, key: str, slug: str) -> Reply:
    return request(f"{server.url}/api/v2/renders/{slug}/deliveries", headers={"x-api-key": key})


def settled(server: Server, key: str, slug: str, count: int = 1) -> list[dict[str, object]]:
    """Waits until the render's deliveries are all delivered or failed; returns them."""

    def probe() -> list[dict[str, object]] | None:
        found: list[dict[str, object]] = deliveries(server, key, slug).json()["deliveries"]
        done = len(found) == count and all(d["state"] != "pending" for d in found)
        return found if done else None

    return wait_until(probe, timeout=20, step=API_POLL)


def hooked(server: Server, key: str, receiver: Receiver, path: str, **extra: object) -> str:
    """A new render with a webhook to ``path``; returns its slug."""
    reply = render(
        server,
        key,
        {**BODY, "title": f"Hook {path} {time.time()}", "webhookUrl": receiver.url(path), **extra},
    )
    assert reply.status == 201, reply.body
    assert reply.json()["webhook_dispatched"] is True
    return str(reply.json()["slug"])


def check_signatures(hit: Hit, secret: str) -> None:
    body = hit.body
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    assert hit.headers["x-ogmint-signature"] == expected
    key = (
        base64.b64decode(secret.removeprefix("whsec_"))
        if secret.startswith("whsec_")
        else secret.encode()
    )
    signed = f"{hit.headers['webhook-id']}.{hit.headers['webhook-timestamp']}.".encode() + body
    sig = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    assert hit.headers["webhook-signature"] == f"v1,{sig}"
    assert abs(int(hit.headers["webhook-timestamp"]) - time.time()) < 60


def js_roundtrip(body: bytes) -> bytes:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not installed: `make test` installs it (apt nodejs)")
    script = (
        "process.stdout.write(JSON.stringify(JSON.parse(require('fs').readFileSync(0, 'utf8'))))"
    )
    return subprocess.run([node, "-e", script], input=body, capture_output=True, check=True).stdout


# -- success, payload, signatures ---------------------------------------------------------------
def test_delivery_payload_and_signatures(srv: Server, receiver: Receiver) -> None:
    key = srv.create_key("hook-ok")
    metadata = {
        "post": 42,
        "ratio": 1.0,
        "big": 1e21,
        "name": "Zoë — 東京 🚀",
        "2": [None, True],
        "1": "/\u2028",
    }
    slug = hooked(srv, key, receiver, "/ok", webhookSecret=SECRET, metadata=metadata)
    (hit,) = receiver.wait_for("/ok", 1)
    assert hit.headers["content-type"] == "application/json"
    assert hit.headers["webhook-id"].startswith("msg_")
    record = srv.url + f"/i/{slug}"
    data = orjson.loads(hit.body)
    assert list(data) == ["event", "data"]
    assert data["event"] == "render.completed"
    assert list(data["data"]) == ["url", "slug", "template", "metadata", "createdAt"]
    assert data["data"]["url"] == record
    assert data["data"]["slug"] == slug
    assert data["data"]["template"] == "blog"
    assert data["data"]["metadata"] == {**metadata, "ratio": 1, "big": 10**21}
    created = data["data"]["createdAt"]
    assert ISO_MS.fullmatch(created), created
    at = datetime.strptime(created, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC).timestamp()
    assert time.time() - 60 < at <= time.time()  # when the render was made, not a fixed value
    assert b" " not in hit.body.replace("Zoë — 東京 🚀".encode(), b"")  # compact
    check_signatures(hit, SECRET)
    # A receiver re-serialising the parsed body with JSON.stringify gets the same bytes.
    assert js_roundtrip(hit.body) == hit.body
    (d,) = settled(srv, key, slug)
    assert (
        d["state"] == "delivered" and d["signed"] is True and d["id"] == hit.headers["webhook-id"]
    )
    assert [(a["number"], a["status"], a["error"]) for a in d["attempts"]] == [(1, 200, None)]  # type: ignore[union-attr]


def test_signatures_cover_the_raw_body_javascript_writes(srv: Server, receiver: Receiver) -> None:
    # Values Python's and JavaScript's serialisers write differently (1e-06 / 0.000001,
    # 1e+20 / 100000000000000000000, key order, escapes): a body signed in one form and sent
    # in the other fails here, which metadata that serialises the same either way cannot show.
    key = srv.create_key("hook-raw")
    metadata = {"tiny": 0.000001, "huge": 1e20, "z": 1, "10": "ten", "2": "two", "é": "ü 😀"}
    hooked(srv, key, receiver, "/raw", webhookSecret=SECRET, metadata=metadata)
    (hit,) = receiver.wait_for("/raw", 1)
    check_signatures(hit, SECRET)
    assert js_roundtrip(hit.body) == hit.body
    sent = hit.body.decode()
    written = sent[sent.index('"metadata":') + len('"metadata":') :]
    assert written.startswith(
        '{"2":"two","10":"ten","tiny":0.000001,"huge":100000000000000000000,"z":1,"é":"ü 😀"}'
    ), written
    assert orjson.dumps(metadata).decode() not in sent  # the forms really differ


def test_plain_secret_and_unsigned(srv: Server, receiver: Receiver) -> None:
    key = srv.create_key("hook-plain")
    hooked(srv, key, receiver, "/plain", webhookSecret="s3cret ü")
    check_signatures(receiver.wait_for("/plain", 1)[0], "s3cret ü")
    hooked(srv, key, receiver, "/unsigned")
    (hit,) = receiver.wait_for("/unsigned", 1)
    assert "x-ogmint-signature" not in hit.headers and "webhook-signature" not in hit.headers
    assert orjson.loads(hit.body)["data"]["metadata"] == {}


def test_dedup_hit_dispatches_nothing(srv: Server, receiver: Receiver) -> None:
    key = srv.create_key("hook-dedup")
    body = {**BODY, "title": "Dedup hook", "webhookUrl": receiver.url("/dedup")}
    assert render(srv, key, body).json()["webhook_dispatched"] is True
    again = render(srv, key, body)
    assert again.status == 200 and again.json()["webhook_dispatched"] is False
    receiver.wait_for("/dedup", 1)
    time.sleep(0.5)
    assert len(receiver.hits_for("/dedup")) == 1


# -- retries ------------------------------------------------------------------------------------
def test_500_then_200_is_retried(srv: Server, receiver: Receiver) -> None:
    receiver.script["/flaky"] = [500, 503, 429]
    key = srv.create_key("hook-flaky")
    slug = hooked(srv, key, receiver, "/flaky", webhookSecret="x")
    hits = receiver.wait_for("/flaky", 4)
    assert len({h.headers["webhook-id"] for h in hits}) == 1  # stable across retries
    assert len({h.body for h in hits}) == 1
    (d,) = settled(srv, key, slug)
    attempts = d["attempts"]
    assert isinstance(attempts, list)
    assert [a["status"] for a in attempts] == [500, 503, 429, 200]
    assert [a["number"] for a in attempts] == [1, 2, 3, 4]
    assert attempts[0]["error"] == "HTTP 500"
    assert all(isinstance(a["durationMs"], int) for a in attempts)
    stamps = [str(a["at"]) for a in attempts]
    assert all(ISO_MS.fullmatch(at) for at in stamps), stamps  # made by the worker, in ms
    assert stamps == sorted(stamps)
    first = datetime.strptime(stamps[0], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    assert time.time() - 60 < first.timestamp() <= time.time()
    assert d["state"] == "delivered"


def test_gone_stops_retries(srv: Server, receiver: Receiver) -> None:
    receiver.script["/gone"] = [410]
    key = srv.create_key("hook-gone")
    slug = hooked(srv, key, receiver, "/gone")
    (d,) = settled(srv, key, slug)
    assert d["state"] == "failed" and d["nextAttemptAt"] is None
    assert [a["status"] for a in d["attempts"]] == [410]  # type: ignore[union-attr]
    time.sleep(0.8)
    assert len(receiver.hits_for("/gone")) == 1


def test_redirect_is_a_failure_not_followed(srv: Server, receiver: Receiver) -> None:
    receiver.script["/moved"] = ["redirect"] * 10
    key = srv.create_key("hook-moved")
    slug = hooked(srv, key, receiver, "/moved")
    (d,) = settled(srv, key, slug)
    # 1 + 4 retries, every one a 302; the Location was never requested.
    assert [a["status"] for a in d["attempts"]] == [302] * 5  # type: ignore[union-attr]
    assert d["state"] == "failed"
    assert receiver.hits_for("/elsewhere") == []


def test_slow_receiver_times_out_then_retry(srv: Server, receiver: Receiver) -> None:
    receiver.script["/slow"] = ["slow"]
    key = srv.create_key("hook-slow")
    slug = hooked(srv, key, receiver, "/slow")
    (d,) = settled(srv, key, slug)
    first, second = d["attempts"]  # type: ignore[misc]
    assert first["status"] is None and "1 s" in first["error"] and 900 <= first["durationMs"] < 2500
    assert second["status"] == 200
    assert d["state"] == "delivered"


def test_receiver_down_then_up(srv: Server, ca: trustme.CA) -> None:
    later = Receiver(ca)  # not started yet: its port refuses connections
    key = srv.create_key("hook-down")
    slug = hooked(srv, key, later, "/later")

    def failed_once() -> bool | None:
        found = deliveries(srv, key, slug).json()["deliveries"]
        return True if found and found[0]["attempts"] else None

    wait_until(failed_once, step=API_POLL)
    later.start()
    try:
        later.wait_for("/later", 1)
        (d,) = settled(srv, key, slug)
        assert d["state"] == "delivered"
        assert d["attempts"][0]["status"] is None and d["attempts"][0]["error"]  # type: ignore[index]
        assert d["attempts"][-1]["status"] == 200  # type: ignore[index]
    finally:
        later.stop()


def test_urls_use_the_public_base_url(
    hook_env: dict[str, str], server_factory: Callable[..., Server], ca: trustme.CA
) -> None:
    """``url`` in the response and in the webhook is the configured public base, not the bind
    address (SPEC §3)."""
    hooks = Receiver(ca)
    hooks.start()
    s = server_factory(**hook_env, OGMINT_PUBLIC_URL="https://og.example.com/")
    try:
        key = s.create_key("public-url")
        reply = render(s, key, {**BODY, "title": "Public", "webhookUrl": hooks.url("/public")})
        slug = reply.json()["slug"]
        assert reply.json()["url"] == f"https://og.example.com/i/{slug}"
        (hit,) = hooks.wait_for("/public", 1)
        assert orjson.loads(hit.body)["data"]["url"] == f"https://og.example.com/i/{slug}"
    finally:
        s.stop()
        hooks.stop()


# -- request-time validation --------------------------------------------------------------------
@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hook",
        "ftp://example.com/x",
        "https://10.0.0.7/hook",
        "https://[::1]/hook",
        "https://169.254.169.254/latest",
        "https://metadata.google.internal/x",
        "https://printer.local/x",
        "https://2130706433/x",
        "https://user:pw@example.com/x",
    ],
)
def test_bad_webhook_url_is_400(srv: Server, url: str) -> None:
    key = srv.create_key(f"hook-bad-{uuid.uuid4().hex}")  # one user per case (burst limit)
    assert_error(render(srv, key, {**BODY, "webhookUrl": url}), 400, "webhookUrl")


def test_metadata_numbers_javascript_would_change_are_400(srv: Server) -> None:
    key = srv.create_key("hook-meta")
    body = (
        orjson.dumps({**BODY, "webhookUrl": "https://127.0.0.1/x"})[:-1]
        + b', "metadata": {"n": 9007199254740993}}'
    )
    reply = request(srv.url + "/api/v2/render", "POST", {"x-api-key": key}, body)
    assert_error(reply, 400, "metadata")


# -- listing and redelivery ---------------------------------------------------------------------
def test_listing_and_redelivery(srv: Server, receiver: Receiver) -> None:
    key = srv.create_key("hook-owner")
    other_key_same_user = srv.create_key("hook-owner")
    stranger = srv.create_key("hook-stranger")
    slug = hooked(srv, key, receiver, "/redeliver", webhookSecret="k")
    (d,) = settled(srv, key, slug)
    # Any key of the owning user sees it; others get 404, as for an unknown slug.
    assert deliveries(srv, other_key_same_user, slug).json()["deliveries"] == [d]
    assert_error(deliveries(srv, stranger, slug), 404)
    assert_error(deliveries(srv, key, "zzzzzzzz"), 404)
    assert_error(request(f"{srv.url}/api/v2/renders/{slug}/deliveries"), 401)
    path = f"{srv.url}/api/v2/renders/{slug}/deliveries/{d['id']}/redeliver"
    assert_error(request(path, "POST", {"x-api-key": stranger}), 404)
    assert_error(
        request(
            f"{srv.url}/api/v2/renders/{slug}/deliveries/msg_nope/redeliver",
            "POST",
            {"x-api-key": key},
        ),
        404,
    )
    time.sleep(1.2)  # the checks above used this user's burst allowance
    reply = request(path, "POST", {"x-api-key": other_key_same_user})
    assert reply.status == 202, reply.body
    assert reply.json() == {"success": True, "id": d["id"], "state": "pending"}
    first, second = receiver.wait_for("/redeliver", 2)
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == d["id"]
    assert first.body == second.body
    check_signatures(second, "k")

    def two_attempts() -> list[object] | None:
        (got,) = deliveries(srv, key, slug).json()["deliveries"]
        return (
            got["attempts"] if len(got["attempts"]) == 2 and got["state"] == "delivered" else None
        )

    assert [a["number"] for a in wait_until(two_attempts, step=API_POLL)] == [1, 2]  # type: ignore[index]
    # A render without a webhook lists no deliveries.
    plain = render(srv, key, {**BODY, "title": "No hook"}).json()["slug"]
    assert deliveries(srv, key, plain).json() == {"success": True, "slug": plain, "deliveries": []}


# -- crash recovery -----------------------------------------------------------------------------
def test_killed_server_deliveries_survive(
    backend: dict[str, str],
    hook_env: dict[str, str],
    server_factory: Callable[..., Server],
    ca: trustme.CA,
    tmp_path: Path,
) -> None:
    hooks = Receiver(ca, delay=0.6)  # attempts stay in flight while the server is killed
    hooks.start()
    try:
        env = {**hook_env, **backend, "OGMINT_DATA_DIR": str(tmp_path / "data")}
        first = server_factory(**env)
        # One user per render: eight renders at once would exceed one user's burst limit.
        keys = [first.create_key(f"hook-crash-{i}") for i in range(8)]
        slugs = [hooked(first, key, hooks, "/crash") for key in keys]
        time.sleep(0.3)
        os.killpg(first.process.pid, signal.SIGKILL)
        first.process.wait()
        in_flight = {h.headers["webhook-id"] for h in hooks.hits_for("/crash")}
        hooks.delay = 0.0
        second = server_factory(**env)

        def all_delivered() -> list[list[dict[str, object]]] | None:
            found = [
                deliveries(second, k, s).json()["deliveries"]
                for k, s in zip(keys, slugs, strict=True)
            ]
            done = all(len(f) == 1 and f[0]["state"] == "delivered" for f in found)
            return found if done else None

        found = wait_until(all_delivered, timeout=30, step=2.0)
        ids = {f[0]["id"] for f in found}
        assert len(ids) == len(slugs)
        received = hooks.hits_for("/crash")
        assert {h.headers["webhook-id"] for h in received} == ids  # none lost
        assert in_flight and in_flight <= ids
        # Attempts cut off by the kill were made again, with the same webhook-id.
        assert len(received) > len(ids)
        by_id: dict[str, set[bytes]] = {}
        for h in received:
            by_id.setdefault(h.headers["webhook-id"], set()).add(h.body)
        assert all(len(bodies) == 1 for bodies in by_id.values())
        second.stop()
    finally:
        hooks.stop()


def test_servers_share_the_queue_each_delivery_once(
    redis_server_factory: Callable[[], RedisServer],
    hook_env: dict[str, str],
    server_factory: Callable[..., Server],
    ca: trustme.CA,
) -> None:
    # Generous attempt timeout and lease: a timed-out attempt is rightly made again, which
    # would blur "once" on a loaded machine.
    env = {
        **hook_env,
        **redis_server_factory().namespace(),
        "OGMINT_WEBHOOK_TIMEOUT": "5",
        "OGMINT_WEBHOOK_LEASE": "10",
    }
    # The renders are all made on ``a``, whose worker takes one delivery at a time (each held
    # 0.3 s by the receiver), so ``b`` can only deliver what it took from the shared queue.
    a = server_factory(**env, OGMINT_WEBHOOK_CONCURRENCY="1")
    b = server_factory(**env)
    hooks = Receiver(ca, delay=0.3, client_pids=(a.process.pid, b.process.pid))
    hooks.start()
    try:
        keys = [a.create_key(f"hook-share-{i}") for i in range(10)]
        slugs = [hooked(a, key, hooks, "/shared") for key in keys]
        found = [settled(a, key, slug)[0] for key, slug in zip(keys, slugs, strict=True)]
        received = hooks.hits_for("/shared")
        assert {h.headers["webhook-id"] for h in received} == {d["id"] for d in found}
        for d in found:
            attempts = d["attempts"]
            assert isinstance(attempts, list)
            # Delivered once: one successful attempt, and every request the receiver got for
            # this delivery is an attempt some worker recorded (none made twice at once).
            assert [x["status"] for x in attempts].count(200) == 1, attempts
            hits = [h for h in received if h.headers["webhook-id"] == d["id"]]
            assert len(hits) == len(attempts), (d["id"], attempts)
        senders = [h.pid for h in received]
        assert a.process.pid in senders and b.process.pid in senders, senders
    finally:
        hooks.stop()
