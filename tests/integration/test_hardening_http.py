"""The outside review's findings (issue 8), each through real HTTP on the embedded default."""

from __future__ import annotations

import base64
import contextlib
import http.client
import os
import re
import signal
import socket
import stat
import struct
import time
import urllib.parse
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import orjson
import pytest
import trustme

from bombs import bombs, encoded
from conftest import Server
from receiver import Receiver, write_ca
from support import Reply, assert_error, request

BODY = {"template": "blog", "title": "Hardened", "palette": "forest"}


@pytest.fixture(scope="module")
def srv(server_factory: Callable[..., Server]) -> Server:
    return server_factory(OGMINT_ANONYMOUS_DAILY_LIMIT="1000000")


@pytest.fixture(scope="module")
def key(srv: Server) -> str:
    return srv.create_key("hardening", plan="agency")


def render(server: Server, key: str | None, body: object) -> Reply:
    """POSTs a V2 render, waiting out the burst limit (these tests are about other answers)."""
    headers = {"content-type": "application/json"}
    if key is not None:
        headers["x-api-key"] = key
    data = body if isinstance(body, bytes) else orjson.dumps(body)
    while True:
        reply = request(server.url + "/api/v2/render", "POST", headers, data)
        if reply.status != 429 or "burst" not in reply.json()["error"].lower():
            return reply
        time.sleep(0.25)


def whsec(size: int) -> str:
    return "whsec_" + base64.b64encode(bytes(range(size))).decode()


@pytest.mark.parametrize(
    "secret",
    ["whsec_\u00e9\u00e9\u00e9\u00e9", "whsec_", whsec(1), whsec(23), whsec(65), "", "x" * 101],
)
def test_bad_webhook_secret_is_400(srv: Server, key: str, secret: str) -> None:
    assert_error(render(srv, key, {**BODY, "webhookSecret": secret}), 400, "webhookSecret")


@pytest.mark.parametrize(
    "secret", [whsec(24), whsec(64), "pl\u00e4in s\u00e9cret \U0001f511", "x" * 100]
)
def test_good_webhook_secret_is_accepted(srv: Server, key: str, secret: str) -> None:
    reply = render(srv, key, {**BODY, "webhookSecret": secret})
    assert reply.status in (200, 201), reply.body


def og(server: Server, headers: dict[str, str] | None = None, **params: str) -> Reply:
    return request(f"{server.url}/api/og?{urllib.parse.urlencode(params)}", headers=headers)


BAD_HOSTS = ["https://a..example.com/x.png", f"https://{'a' * 64}.example.com/x.png"]


@pytest.mark.parametrize("url", BAD_HOSTS)
@pytest.mark.parametrize("field", ["avatar", "logo"])
def test_image_host_with_bad_dns_label_is_400(srv: Server, key: str, field: str, url: str) -> None:
    assert_error(og(srv, template="blog", title="Labels", **{field: url}), 400, field)
    assert_error(render(srv, key, {**BODY, field: url}), 400, field)


@pytest.mark.parametrize("url", BAD_HOSTS)
def test_webhook_host_with_bad_dns_label_is_400(srv: Server, key: str, url: str) -> None:
    assert_error(render(srv, key, {**BODY, "webhookUrl": url}), 400, "webhookUrl")


def test_failed_v1_render_of_a_key_holder_is_not_charged(srv: Server) -> None:
    key = srv.create_key("refunds", plan="starter")
    headers = {"x-api-key": key}
    first = og(srv, headers, template="blog", title="Charged")
    assert first.status == 200
    remaining = int(first.headers["x-ratelimit-remaining"])
    failed = og(srv, headers, template="blog", title="Not charged", avatar=BAD_HOSTS[1])
    assert_error(failed, 400, "avatar")
    again = og(srv, headers, template="blog", title="Charged again")
    assert int(again.headers["x-ratelimit-remaining"]) == remaining - 1


@pytest.mark.parametrize("value", ["\xff\xfe\xfd", "ogm_live_" + "\xe9" * 40, "x" * 5000, ""])
def test_api_key_that_is_not_key_shaped_is_401(srv: Server, value: str) -> None:
    assert_error(og(srv, {"x-api-key": value}, template="blog", title="Key"), 401)
    assert_error(render(srv, value, BODY), 401)


def with_metadata(body: dict[str, object], metadata: bytes) -> bytes:
    """``body`` plus a ``metadata`` written as raw JSON text (beyond what orjson would write)."""
    return orjson.dumps(body)[:-1] + b',"metadata":' + metadata + b"}"


def nested(depth: int) -> bytes:
    return b'{"a":' * depth + b"1" + b"}" * depth


@pytest.mark.parametrize("depth", [33, 350, 900])
def test_deeply_nested_metadata_is_400(srv: Server, key: str, depth: int) -> None:
    assert_error(render(srv, key, with_metadata(BODY, nested(depth))), 400, "metadata")


def test_metadata_nested_32_deep_is_accepted(srv: Server, key: str) -> None:
    reply = render(srv, key, with_metadata({**BODY, "title": "Deep"}, nested(32)))
    assert reply.status in (200, 201), reply.body


@pytest.mark.parametrize("literal", [b"18446744073709551617", b"-18446744073709551617", b"1" * 30])
def test_metadata_integer_beyond_2_pow_64_a_double_changes_is_400(
    srv: Server, key: str, literal: bytes
) -> None:
    assert_error(render(srv, key, with_metadata(BODY, b'{"n":' + literal + b"}")), 400, "metadata")


def test_metadata_float_literal_beyond_2_pow_64_is_accepted(srv: Server, key: str) -> None:
    reply = render(srv, key, with_metadata({**BODY, "title": "Float"}, b'{"n":1e30}'))
    assert reply.status in (200, 201), reply.body


def anonymous(server: Server, forwarded: str, title: str) -> int:
    return og(server, {"X-Forwarded-For": forwarded}, template="blog", title=title).status


def test_forwarded_for_is_ignored_without_a_configured_proxy(
    server_factory: Callable[..., Server],
) -> None:
    s = server_factory(OGMINT_ANONYMOUS_DAILY_LIMIT="2")
    statuses = [anonymous(s, f"198.51.100.{i}", f"t{i}") for i in range(3)]
    assert statuses == [200, 200, 429]


def test_forwarded_hops_that_are_not_addresses_are_ignored(
    server_factory: Callable[..., Server],
) -> None:
    s = server_factory(OGMINT_ANONYMOUS_DAILY_LIMIT="2", OGMINT_TRUSTED_PROXIES="127.0.0.1")
    junk = ["x" * 3000, "not-an-ip", "1.2.3.4:80, [::1]", "2001:db8::1 junk"]
    statuses = [anonymous(s, hop, f"junk{i}") for i, hop in enumerate(junk)]
    assert statuses == [200, 200, 429, 429]  # all counted as the proxy's own address


def test_ipv6_clients_are_limited_per_64(server_factory: Callable[..., Server]) -> None:
    s = server_factory(OGMINT_ANONYMOUS_DAILY_LIMIT="2", OGMINT_TRUSTED_PROXIES="127.0.0.1")
    same_64 = ["2001:db8:1:2::1", "2001:db8:1:2:ffff::9", "2001:db8:1:2:abcd::1"]
    assert [anonymous(s, ip, f"v6-{ip}") for ip in same_64] == [200, 200, 429]
    assert anonymous(s, "2001:db8:1:3::1", "next /64") == 200


def test_storage_failure_503_names_no_path(server_factory: Callable[..., Server]) -> None:
    s = server_factory()
    key = s.create_key("disk")
    (s.data_dir / "images").write_bytes(b"")  # a file where the image directory should be
    reply = render(s, key, {**BODY, "title": "Disk trouble"})
    body = assert_error(reply, 503)
    assert body["error"] == "Image storage temporarily unavailable"
    text = reply.body.decode()
    assert "images" not in text and str(s.data_dir) not in text
    log = s.data_dir.parent / f"server-{s.url.rsplit(':', 1)[1]}.log"
    assert "cannot write images/" in log.read_text()  # the detail is logged


@pytest.fixture(scope="module")
def origin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Receiver, str]]:
    """A local HTTPS origin serving the generated bombs (and one good avatar)."""
    ca = trustme.CA()
    r = Receiver(ca, files={**bombs(), "/good.png": encoded("PNG", (300, 300))})
    r.start()
    yield r, write_ca(ca, tmp_path_factory.mktemp("origin") / "ca.pem")
    r.stop()


def test_image_bombs_are_400_and_still_count_for_anonymous_callers(
    server_factory: Callable[..., Server], origin: tuple[Receiver, str]
) -> None:
    receiver, ca_file = origin
    s = server_factory(
        OGMINT_ANONYMOUS_DAILY_LIMIT="6",
        OGMINT_OUTBOUND_ALLOW="127.0.0.1",
        OGMINT_OUTBOUND_CA_FILE=ca_file,
    )
    paths = ["/bomb-webp", "/bomb-png", "/bomb-gif", "/bomb-jpeg", "/truncated-webp"]
    for i, path in enumerate(paths):
        reply = og(s, template="blog", title=f"Bomb {i}", avatar=receiver.url(path))
        assert_error(reply, 400, "avatar")
    assert og(s, template="blog", title="Good", avatar=receiver.url("/good.png")).status == 200
    # Six renders were asked for, five of them failed fetches: the allowance is used up.
    assert_error(og(s, template="blog", title="Seventh"), 429)


def raw(server: Server, data: bytes, pause: float = 0.0) -> tuple[int, bytes]:
    """Sends raw bytes (then waits ``pause`` s) and returns the status and body of the answer."""
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(data)
        time.sleep(pause)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
            if b"\r\n\r\n" in answer:
                head, _, body = answer.partition(b"\r\n\r\n")
                length = int(re.search(rb"content-length: (\d+)", head, re.I)[1])  # type: ignore[index]
                if len(body) >= length:
                    break
    status = int(answer.split(b" ", 2)[1])
    return status, answer.partition(b"\r\n\r\n")[2]


def test_transport_errors_have_their_own_statuses(server_factory: Callable[..., Server]) -> None:
    s = server_factory(OGMINT_REQUEST_TIMEOUT="1")
    status, body = raw(s, b"GET /healthz HTTP/1.1\r\nHost: x\r\n", pause=2.5)
    assert status == 408 and orjson.loads(body)["code"] == "request_timeout"
    status, body = raw(s, b"GET /" + b"a" * 10_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    assert status == 414 and orjson.loads(body)["code"] == "uri_too_long"
    status, body = raw(
        s, b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 10_000 + b"\r\n\r\n"
    )
    assert status == 431 and orjson.loads(body)["code"] == "headers_too_large"


def test_if_none_match_star_is_304(srv: Server, key: str) -> None:
    assert og(srv, {"If-None-Match": "*"}, template="blog", title="Star").status == 304
    url = render(srv, key, {**BODY, "title": "Star V2"}).json()["url"]
    assert request(url, headers={"If-None-Match": "*"}).status == 304
    assert request(url).status == 200


def test_error_bodies_echo_only_an_excerpt(srv: Server, key: str) -> None:
    body = assert_error(request(f"{srv.url}/i/{'s' * 4000}"), 404)
    assert len(body["error"]) <= 300
    junk = {f"u{i}": 0 for i in range(5000)}
    body = assert_error(render(srv, key, {**BODY, **junk}), 400)
    assert len(body["details"]) <= 20 and len(body["error"]) <= 300
    long_name = {"x" * 3000: 1}
    body = assert_error(render(srv, key, {**BODY, **long_name}), 400)
    assert all(len(d["field"]) <= 64 for d in body["details"])


@pytest.mark.parametrize("title", [" ", "   \t ", "\u200b\u200b", "\x00\x01", "\u3164", "\u2028"])
def test_title_that_draws_nothing_is_400(srv: Server, key: str, title: str) -> None:
    assert_error(og(srv, template="blog", title=title), 400, "title")
    assert_error(render(srv, key, {**BODY, "title": title}), 400, "title")


def test_data_directory_and_database_are_private(srv: Server, key: str) -> None:
    assert render(srv, key, {**BODY, "title": "Private"}).status in (200, 201)
    assert stat.S_IMODE(srv.data_dir.stat().st_mode) == 0o700
    for name in ("ogmint.sqlite3", "ogmint.sqlite3-wal"):
        assert stat.S_IMODE((srv.data_dir / name).stat().st_mode) == 0o600, name


def test_claim_of_a_killed_server_stops_blocking_the_identical_retry(
    server_factory: Callable[..., Server], origin: tuple[Receiver, str]
) -> None:
    receiver, ca_file = origin
    env = {"OGMINT_OUTBOUND_ALLOW": "127.0.0.1", "OGMINT_OUTBOUND_CA_FILE": ca_file}
    first = server_factory(**env)
    second = server_factory(**env, OGMINT_DATA_DIR=str(first.data_dir))  # the same state
    key = first.create_key("crash", plan="agency")
    receiver.script["/slow-avatar.png"] = ["slow"]
    receiver.files["/slow-avatar.png"] = encoded("PNG", (64, 64))
    body = {**BODY, "title": "Crash mid-render", "avatar": receiver.url("/slow-avatar.png")}
    with ThreadPoolExecutor(1) as pool:
        pending = pool.submit(render, first, key, body)
        receiver.wait_for("/slow-avatar.png", 1)  # the first server holds the claim, fetching
        os.killpg(first.process.pid, signal.SIGKILL)
        with contextlib.suppress(OSError):  # the killed server never answers
            pending.result()
    started = time.monotonic()
    retry = render(second, key, body)
    assert retry.status == 201, retry.body  # not a 503 after the full OGMINT_DEDUP_WAIT
    assert time.monotonic() - started < 15


def test_client_disconnect_is_logged_quietly(
    server_factory: Callable[..., Server], origin: tuple[Receiver, str]
) -> None:
    receiver, ca_file = origin
    s = server_factory(OGMINT_OUTBOUND_ALLOW="127.0.0.1", OGMINT_OUTBOUND_CA_FILE=ca_file)
    receiver.script["/gone.png"] = ["slow"]
    receiver.files["/gone.png"] = encoded("PNG", (64, 64))
    query = urllib.parse.urlencode(
        {"template": "blog", "title": "Gone", "avatar": receiver.url("/gone.png")}
    )
    host, port = s.url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)))
    sock.sendall(f"GET /api/og?{query} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    receiver.wait_for("/gone.png", 1)  # the server is busy with this request
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()  # a reset: the client is gone
    time.sleep(1)
    assert request(s.url + "/healthz").status == 200
    log = (s.data_dir.parent / f"server-{port}.log").read_text()
    assert "Traceback" not in log and "unhandled error" not in log, log


def with_keys(server: Server, method: str, path: str, keys: list[str]) -> Reply:
    """``method path`` with one ``x-api-key`` header per item of ``keys``, in order."""
    conn = http.client.HTTPConnection("127.0.0.1", int(server.url.rsplit(":", 1)[1]), timeout=30)
    try:
        conn.putrequest(method, path)
        for value in keys:
            conn.putheader("x-api-key", value)
        conn.endheaders()
        r = conn.getresponse()
        return Reply(r.status, {k.lower(): v for k, v in r.getheaders()}, r.read())
    finally:
        conn.close()


@pytest.mark.parametrize("path", ["/api/v2/usage", "/api/og?template=blog&title=Two+keys"])
def test_two_different_api_keys_are_401(srv: Server, key: str, path: str) -> None:
    # Review 2026-12: the first of several x-api-key headers was used and the rest ignored,
    # so a proxy in front checking another one saw a different caller than the app.
    other = srv.create_key("hardening-other", plan="agency")
    for keys in ([key, other], [other, key], [key, "ogm_live_" + "x" * 40], ["", key]):
        assert_error(with_keys(srv, "GET", path, keys), 401)
    # The same key twice is unambiguous.
    assert with_keys(srv, "GET", path, [key, key]).status == 200


def test_v2_body_naming_a_parameter_twice_is_400(srv: Server, key: str) -> None:
    # Review 2026-12: {"size": "og", "size": "story"} rendered a story (the last one won).
    reply = render(
        srv, key, b'{"template": "blog", "title": "Twice", "size": "og", "size": "story"}'
    )
    assert_error(reply, 400, "size")
