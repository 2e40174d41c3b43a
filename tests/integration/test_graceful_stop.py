"""Graceful stop (SPEC §9): a SIGTERM in the middle of a burst of V2 renders with webhooks.

The server process gets the signal alone, as a container runtime sends it to its main process.
Every render it acknowledged must be stored, and every acknowledged render's webhook must be
delivered — by this server before it exits or, for an attempt it had to cut short, by the next
server on the same state after a restart.
"""

from __future__ import annotations

import contextlib
import io
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
import trustme
from PIL import Image

from conftest import start_server
from receiver import Receiver, wait_until, write_ca
from support import request

USERS = 10  # the burst limit is per user (5/s): ten users make a burst of ~50 renders/s
ROUNDS = 40


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    # Every answer takes 0.4 s: renders (each fetches its own avatar from here) and webhook
    # attempts are in flight when the signal arrives.
    avatar = io.BytesIO()
    Image.new("RGB", (64, 64), "teal").save(avatar, "PNG")
    files = {f"/avatar/{n}-{i}.png": avatar.getvalue() for n in range(USERS) for i in range(ROUNDS)}
    r = Receiver(trustme.CA(), delay=0.4, files=files)
    r.start()
    yield r
    r.stop()


def paths(receiver: Receiver, prefix: str) -> set[str]:
    with receiver._lock:
        return {h.path for h in receiver.hits if h.path.startswith(prefix)}


def test_sigterm_drains_renders_and_keeps_every_delivery(
    receiver: Receiver, tmp_path: Path
) -> None:
    env = {
        "OGMINT_DATA_DIR": str(tmp_path / "data"),  # kept across the restart
        "OGMINT_WORKERS": "2",
        "OGMINT_OUTBOUND_CA_FILE": write_ca(receiver.ca, tmp_path / "ca.pem"),
        "OGMINT_OUTBOUND_ALLOW": "127.0.0.1",
        "OGMINT_WEBHOOK_TIMEOUT": "2",
        "OGMINT_WEBHOOK_LEASE": "3.5",
        "OGMINT_WEBHOOK_POLL_INTERVAL": "0.1",
        "OGMINT_GRACEFUL_TIMEOUT": "10",
    }
    srv = start_server(tmp_path, **env)
    keys = [srv.create_key(f"burst-{n}") for n in range(USERS)]
    answers: dict[str, int | str] = {}  # "n-i" -> status, or the connection error
    acknowledged: dict[str, str] = {}  # "n-i" -> slug
    lock = threading.Lock()
    go = threading.Event()

    def burst(n: int) -> None:
        headers = {"content-type": "application/json", "x-api-key": keys[n]}
        go.wait()
        for i in range(ROUNDS):
            body = {
                "template": "blog",
                "title": f"Burst {n}-{i}",
                "webhookUrl": receiver.url(f"/hook/{n}-{i}"),
                "webhookSecret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                "avatar": receiver.url(f"/avatar/{n}-{i}.png"),
            }
            try:
                reply = request(srv.url + "/api/v2/render", "POST", headers, orjson.dumps(body))
            except OSError as e:  # refused or reset: the server is stopping
                with lock:
                    answers[f"{n}-{i}"] = repr(e)
                return
            with lock:
                answers[f"{n}-{i}"] = reply.status
                if reply.status == 201:
                    acknowledged[f"{n}-{i}"] = reply.json()["slug"]
            time.sleep(0.1)  # each user stays under the burst limit

    threads = [threading.Thread(target=burst, args=(n,)) for n in range(USERS)]
    for t in threads:
        t.start()
    go.set()
    # Signal once several renders of the second round are under way (fetching their avatar):
    # requests accepted and in flight.
    wait_until(lambda: len(paths(receiver, "/avatar/")) >= USERS + 3 or None, timeout=20)
    in_flight = {p[len("/avatar/") : -len(".png")] for p in paths(receiver, "/avatar/")}
    stopped_at = time.monotonic()
    os.kill(srv.process.pid, signal.SIGTERM)  # the main process only, like `podman stop`
    code = srv.process.wait(timeout=20)
    took = time.monotonic() - stopped_at
    for t in threads:
        t.join(30)
    port = srv.url.rsplit(":", 1)[1]
    assert code == 0, (tmp_path / f"server-{port}.log").read_text()[-3000:]
    assert took < 10 + 5, took  # within OGMINT_GRACEFUL_TIMEOUT (plus the worker teardown)
    # Every render under way when the signal came was finished and answered.
    assert {r: answers.get(r) for r in in_flight} == dict.fromkeys(in_flight, 201)

    # The same state, a new server: every acknowledged image is there ...
    again = start_server(tmp_path, **env)
    try:
        for render, slug in acknowledged.items():
            got = request(f"{again.url}/i/{slug}")
            assert got.status == 200, (render, slug, got.status)
            assert got.body.startswith(b"\x89PNG")
        # ... and every acknowledged render's webhook arrives, for that render (an attempt the
        # stop cut short once its lease has expired).
        wanted = {f"/hook/{render}" for render in acknowledged}
        wait_until(lambda: wanted <= paths(receiver, "/hook/") or None, timeout=30)
        for render, slug in acknowledged.items():
            hits = receiver.hits_for(f"/hook/{render}")
            assert {orjson.loads(h.body)["data"]["slug"] for h in hits} == {slug}
    finally:
        again.stop()


def test_sigterm_waits_no_longer_than_the_graceful_timeout(tmp_path: Path) -> None:
    # A render whose avatar takes 8 s to arrive is still in flight when the signal comes;
    # the server gives it OGMINT_GRACEFUL_TIMEOUT (1 s here), not the fetch's 9 s, then exits.
    avatar = Receiver(trustme.CA(), slow_seconds=8.0, script={"/slow.png": ["slow"]})
    avatar.start()
    try:
        srv = start_server(
            tmp_path,
            OGMINT_OUTBOUND_CA_FILE=write_ca(avatar.ca, tmp_path / "ca.pem"),
            OGMINT_OUTBOUND_ALLOW="127.0.0.1",
            OGMINT_FETCH_TIMEOUT="9",
            OGMINT_GRACEFUL_TIMEOUT="1",
        )
        key = srv.create_key("slow")
        body = orjson.dumps(
            {"template": "blog", "title": "Slow", "avatar": avatar.url("/slow.png")}
        )
        headers = {"content-type": "application/json", "x-api-key": key}

        def send() -> None:
            with contextlib.suppress(OSError):  # cut short by the stop: no answer
                request(srv.url + "/api/v2/render", "POST", headers, body)

        sent = threading.Thread(target=send)
        sent.start()
        avatar.wait_for("/slow.png", 1)
        stopped_at = time.monotonic()
        os.kill(srv.process.pid, signal.SIGTERM)
        assert srv.process.wait(timeout=20) == 0
        took = time.monotonic() - stopped_at
        assert took < 5, took
        sent.join(10)
    finally:
        avatar.stop()
