"""A real local HTTPS webhook receiver (trustme CA), serving from a background thread.

Each path follows a script of answers (a status code, ``"slow"`` or ``"redirect"``), then
answers 200; every request is recorded with its headers and exact body bytes, and, when
``client_pids`` is set, with which of those processes sent it.
"""

from __future__ import annotations

import asyncio
import os
import ssl
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import trustme
from aiohttp import web

from backends import free_port

T = TypeVar("T")


@dataclass(frozen=True)
class Hit:
    path: str
    headers: dict[str, str]  # lower-case names
    body: bytes
    at: float
    pid: int | None = None  # the sending process, among ``Receiver.client_pids``


@dataclass
class Receiver:
    ca: trustme.CA
    port: int = field(default_factory=free_port)
    slow_seconds: float = 5.0
    delay: float = 0.0  # added to every answer (to keep attempts in flight)
    hits: list[Hit] = field(default_factory=list)
    script: dict[str, list[int | str]] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)  # bodies served for GET by path
    client_pids: tuple[int, ...] = ()  # processes to tell apart as senders
    _loop: asyncio.AbstractEventLoop | None = None
    _thread: threading.Thread | None = None
    _runner: web.AppRunner | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str) -> str:
        return f"https://127.0.0.1:{self.port}{path}"

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        peer = request.transport.get_extra_info("peername") if request.transport else None
        pid = socket_owner(peer[1], self.client_pids) if peer and self.client_pids else None
        with self._lock:
            self.hits.append(
                Hit(
                    request.path,
                    {k.lower(): v for k, v in request.headers.items()},
                    body,
                    time.time(),
                    pid,
                )
            )
            actions = self.script.get(request.path)
            action: int | str = actions.pop(0) if actions else 200
        if self.delay:
            await asyncio.sleep(self.delay)
        if action == "slow":
            await asyncio.sleep(self.slow_seconds)
            action = 200
        if action == "redirect":
            return web.Response(status=302, headers={"Location": self.url("/elsewhere")})
        if request.method == "GET" and request.path in self.files and action == 200:
            return web.Response(body=self.files[request.path])
        return web.Response(status=int(action), text="ok")

    def start(self) -> None:
        ready = threading.Event()
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.ca.issue_cert("localhost", "127.0.0.1").configure_cert(tls)

        def serve() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            app = web.Application()
            app.router.add_route("*", "/{tail:.*}", self._handle)
            runner = web.AppRunner(app, shutdown_timeout=0.2)
            loop.run_until_complete(runner.setup())
            site = web.TCPSite(runner, "127.0.0.1", self.port, ssl_context=tls, reuse_address=True)
            loop.run_until_complete(site.start())
            self._runner = runner
            ready.set()
            loop.run_forever()
            loop.run_until_complete(runner.cleanup())
            loop.close()

        self._thread = threading.Thread(target=serve, daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("receiver did not start")

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
        self._loop = self._thread = None

    def hits_for(self, path: str) -> list[Hit]:
        with self._lock:
            return [h for h in self.hits if h.path == path]

    def wait_for(self, path: str, count: int, timeout: float = 15.0) -> list[Hit]:
        """Waits until ``path`` got at least ``count`` requests; returns them."""
        return wait_until(lambda: h if len(h := self.hits_for(path)) >= count else None, timeout)


def wait_until(probe: Callable[[], T | None], timeout: float = 15.0, step: float = 0.05) -> T:
    """Polls ``probe`` until it returns something other than None (or fails the test)."""
    deadline = time.monotonic() + timeout
    while True:
        got = probe()
        if got is not None:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(step)


def socket_owner(local_port: int, pids: Iterable[int]) -> int | None:
    """Which of ``pids`` holds the TCP socket bound to loopback ``local_port`` (Linux /proc)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            columns = line.split()
            if int(columns[1].rsplit(":", 1)[1], 16) == local_port:
                inodes.add(f"socket:[{columns[9]}]")
    for pid in pids:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                if os.readlink(fd) in inodes:
                    return pid
            except OSError:  # closed meanwhile
                continue
    return None


def write_ca(ca: trustme.CA, path: Path) -> str:
    ca.cert_pem.write_to_path(str(path))
    return str(path)
