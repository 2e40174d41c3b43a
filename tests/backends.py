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
import uuid
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
class _ServerProcess:
    """A server process on a fixed loopback port, restartable on the same port."""

    port: int
    log_path: Path
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False, kw_only=True)

    def _launch(self, name: str, args: list[str], env: dict[str, str] | None = None) -> None:
        """Starts ``args`` and waits until ``_answers()``."""
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                args, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{name} exited: {self.log_path.read_text()[-2000:]}")
            if self._answers():
                return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"{name} did not answer in 30 s")

    def _answers(self) -> bool:
        raise NotImplementedError

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        """Kills the server; its port refuses connections until ``start()``."""
        if self.running():
            assert self.process is not None
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self.process = None


@dataclass
class S3Server(_ServerProcess):
    """A moto S3 server process; it keeps its data in memory only."""

    bucket: str = S3_BUCKET
    region: str = S3_REGION

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Starts (or restarts) the server on the same port, waits for it and creates the bucket.

        A restarted server is empty: objects written before ``stop()`` are gone.
        """
        if self.running():
            return
        args = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)]
        self._launch("moto server", args, {**os.environ, **AWS_ENV})
        boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name=self.region,
            aws_access_key_id="test",
            aws_secret_access_key="test",
        ).create_bucket(Bucket=self.bucket)

    def _answers(self) -> bool:
        try:
            with urllib.request.urlopen(self.endpoint_url + "/", timeout=1):
                return True
        except urllib.error.HTTPError:
            return True  # any HTTP answer means it is serving
        except OSError:
            return False


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
class RedisServer(_ServerProcess):
    """A ``redis-server`` process, in memory only (no RDB, no AOF)."""

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}"

    def namespace(self) -> dict[str, str]:
        """App-server settings for this Redis under a fresh key prefix: state no other user of
        the server sees. Servers meant to share state are given the same dict."""
        return {"OGMINT_REDIS_URL": self.url, "OGMINT_REDIS_PREFIX": f"t{uuid.uuid4().hex}:"}

    def start(self) -> None:
        """Starts (or restarts) the server on the same port and waits until it answers PING.

        A restarted server is empty: everything written before ``stop()`` is gone.
        """
        if self.running():
            return
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail("redis-server is not installed: `make test` installs it (apt redis-server)")
        args = [binary, "--port", str(self.port), "--bind", "127.0.0.1"]
        self._launch("redis-server", [*args, "--save", "", "--appendonly", "no"])

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                return s.recv(64).startswith(b"+PONG")
        except OSError:
            return False


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
