"""nginx (the repo's nginx.conf) in front of a real app server caches V1 responses."""

from __future__ import annotations

import shutil
import signal
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from backends import free_port
from conftest import ROOT, Server
from ogmint_client import SigningKey, image_url
from support import assert_error, request

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


@pytest.fixture(scope="module")
def edge(
    server_factory: Callable[..., Server], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Server]]:
    if not Path(NGINX).exists():
        pytest.fail("nginx is not installed (make test installs it)")
    # nginx dials the app from 127.0.0.2, the only trusted proxy; clients come from 127.0.0.1.
    app = server_factory(OGMINT_ANONYMOUS_DAILY_LIMIT="2", OGMINT_TRUSTED_PROXIES="127.0.0.2")
    prefix = tmp_path_factory.mktemp("nginx")
    (prefix / "logs").mkdir()
    port = free_port()
    conf = (ROOT / "nginx.conf").read_text()
    conf = conf.replace("server 127.0.0.1:8080;", f"server {app.url.removeprefix('http://')};")
    conf = conf.replace("listen 127.0.0.1:8000;", f"listen 127.0.0.1:{port};")
    conf = conf.replace(
        "proxy_http_version 1.1;", "proxy_http_version 1.1;\n proxy_bind 127.0.0.2;"
    )
    (prefix / "nginx.conf").write_text(conf)
    proc = subprocess.Popen(
        [
            NGINX,
            "-p",
            str(prefix),
            "-c",
            str(prefix / "nginx.conf"),
            "-g",
            "daemon off; user root;",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(url + "/healthz", timeout=1)
            break
        except OSError:
            time.sleep(0.05)
    yield url, app
    proc.send_signal(signal.SIGQUIT)
    proc.wait(timeout=10)


def test_repeat_fetches_are_served_by_nginx(edge: tuple[str, Server]) -> None:
    url, _ = edge
    path = "/api/og?template=blog&title=Cached+at+the+edge"
    first = request(url + path)
    assert first.status == 200
    assert first.headers["x-cache-status"] == "MISS"
    # The app allows 2 anonymous renders a day; cached repeats never reach it.
    for _ in range(5):
        again = request(url + path)
        assert again.status == 200
        assert again.headers["x-cache-status"] == "HIT"
        assert again.body == first.body
    assert request(url + "/api/og?template=blog&title=Second").status == 200
    assert_error(request(url + "/api/og?template=blog&title=Third"), 429)


def test_errors_and_bad_keys_are_not_cached(edge: tuple[str, Server]) -> None:
    url, _ = edge
    path = "/api/og?template=blog&title=Cached+at+the+edge"
    r = request(url + path, headers={"x-api-key": "ogm_live_not_a_real_key_000000000000"})
    assert_error(r, 401)
    bad = "/api/og?template=blog&title="
    assert_error(request(url + bad), 400)
    assert request(url + bad).headers.get("x-cache-status") != "HIT"


def test_client_cannot_spoof_forwarded_for(edge: tuple[str, Server]) -> None:
    url, _ = edge
    # Both anonymous renders are used up for 127.0.0.1 by the tests above; a forged
    # X-Forwarded-For does not help because nginx appends the real peer address.
    r = request(url + "/api/og?template=blog&title=Spoof", headers={"X-Forwarded-For": "8.8.8.8"})
    assert_error(r, 429)


def test_metrics_are_not_served_through_nginx(edge: tuple[str, Server]) -> None:
    url, app = edge
    for path in ("/metrics", "/metrics/", "//metrics", "/%6Detrics", "/metrics?x=1"):
        assert_error(request(url + path), 404)
    assert request(app.url + "/metrics").status == 200  # the app serves it to direct scrapers


def test_signed_urls_are_cached_like_other_v1_responses(edge: tuple[str, Server]) -> None:
    url, app = edge
    api_key = app.create_key("edge-signer")
    reply = request(app.url + "/api/v2/signing-keys", "POST", {"x-api-key": api_key})
    doc = reply.json()["signingKey"]
    key = SigningKey(doc["id"], doc["secret"])
    signed = image_url(url, {"template": "blog", "title": "Signed at the edge"}, key)
    first = request(signed)
    assert (first.status, first.headers["x-cache-status"]) == (200, "MISS")
    again = request(signed)
    assert (again.status, again.headers["x-cache-status"]) == (200, "HIT")
    assert again.body == first.body
    tampered = request(signed.replace("edge", "edgy"))
    assert assert_error(tampered, 403)["code"] == "invalid_signature"
    assert assert_error(request(signed.replace("edge", "edgy")), 403)  # 403s are not cached
