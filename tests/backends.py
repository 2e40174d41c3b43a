"""Real backing servers (Redis, S3) started by the test harness, on loopback only.

``s3_server`` is a shared moto standalone server (a real S3-protocol HTTP server in its own
process) with a bucket ready; ``s3_server_factory`` starts private ones for tests that stop and
restart their server. Both set dummy AWS credentials in the environment for the session, so
clients built on the default credential chain (``S3Storage``) find them.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, TypeVar

import boto3
import pytest


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


S3_REGION = "us-east-1"
S3_BUCKET = "ogmint-test"
AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "test",
    "AWS_SECRET_ACCESS_KEY": "test",
    "AWS_DEFAULT_REGION": S3_REGION,
    "AWS_EC2_METADATA_DISABLED": "true",
}


@dataclass
class S3Server:
    """A moto S3 server process on a fixed loopback port; it keeps its data in memory only."""

    port: int
    log_path: Path
    bucket: str = S3_BUCKET
    region: str = S3_REGION
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Starts (or restarts) the server on the same port, waits for it and creates the bucket.

        A restarted server is empty: objects written before ``stop()`` are gone.
        """
        if self.process is not None and self.process.poll() is None:
            return
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
                env={**os.environ, **AWS_ENV},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._wait_until_answering()
        boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name=self.region,
            aws_access_key_id="test",
            aws_secret_access_key="test",
        ).create_bucket(Bucket=self.bucket)

    def stop(self) -> None:
        """Kills the server; its port refuses connections until ``start()``."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self.process = None

    def _wait_until_answering(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"moto server exited: {self.log_path.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(self.endpoint_url + "/", timeout=1):
                    return
            except urllib.error.HTTPError:
                return  # any HTTP answer means it is serving
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("moto server did not answer in 30 s")


@pytest.fixture(scope="session")
def aws_env() -> Iterator[None]:
    """Dummy AWS credentials and region for the session (and no shared config files)."""
    with pytest.MonkeyPatch.context() as mp:
        for name, value in AWS_ENV.items():
            mp.setenv(name, value)
        for name in ("AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_ENDPOINT_URL"):
            mp.delenv(name, raising=False)
        mp.setenv("AWS_CONFIG_FILE", os.devnull)
        mp.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
        yield


@pytest.fixture(scope="session")
def s3_server_factory(
    tmp_path_factory: pytest.TempPathFactory, aws_env: None
) -> Iterator[Callable[[], S3Server]]:
    """Starts private S3 servers (each with the bucket created); all are killed at the end."""
    yield from _factory(S3Server, "moto", tmp_path_factory)


@pytest.fixture(scope="session")
def s3_server(s3_server_factory: Callable[[], S3Server]) -> S3Server:
    """The shared S3 server. Do not stop it: take one from ``s3_server_factory`` for that."""
    return s3_server_factory()


@dataclass
class RedisServer:
    """A ``redis-server`` process on a fixed loopback port, in memory only (no RDB, no AOF)."""

    port: int
    log_path: Path
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Starts (or restarts) the server on the same port and waits until it answers PING.

        A restarted server is empty: everything written before ``stop()`` is gone.
        """
        if self.process is not None and self.process.poll() is None:
            return
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail("redis-server is not installed: `make test` installs it (apt redis-server)")
        args = [binary, "--port", str(self.port), "--bind", "127.0.0.1"]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [*args, "--save", "", "--appendonly", "no"],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._wait_until_answering()

    def stop(self) -> None:
        """Kills the server; its port refuses connections until ``start()``."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self.process = None

    def _wait_until_answering(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"redis-server exited: {self.log_path.read_text()[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(64).startswith(b"+PONG"):
                        return
            except OSError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("redis-server did not answer PING in 30 s")


@pytest.fixture(scope="session")
def redis_server_factory(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[[], RedisServer]]:
    """Starts private Redis servers (for tests that stop them); all are killed at the end."""
    yield from _factory(RedisServer, "redis", tmp_path_factory)


@pytest.fixture(scope="session")
def redis_server(redis_server_factory: Callable[[], RedisServer]) -> RedisServer:
    """The shared Redis server. Do not stop it: take one from ``redis_server_factory``."""
    return redis_server_factory()


class _Process(Protocol):
    def start(self) -> None: ...
    def stop(self) -> None: ...


P = TypeVar("P", bound=_Process)


def _factory(
    cls: Callable[[int, Path], P], name: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[[], P]]:
    """A factory of started ``cls`` servers on free ports, all stopped when it is closed."""
    started: list[P] = []

    def factory() -> P:
        port = free_port()
        server = cls(port, tmp_path_factory.mktemp(name) / f"{name}-{port}.log")
        started.append(server)
        server.start()
        return server

    yield factory
    for server in started:
        server.stop()
