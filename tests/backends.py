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
import redis


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
    """A ``redis-server`` process, in memory only (no RDB, no AOF); a replica of the server on
    ``replica_of`` when set."""

    replica_of: int | None = field(default=None, kw_only=True)

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
        # Its own directory: a replica writes the primary's snapshot there while syncing.
        args = [binary, "--port", str(self.port), "--bind", "127.0.0.1"]
        args += ["--dir", str(self.log_path.parent)]
        if self.replica_of is not None:
            args += ["--replicaof", "127.0.0.1", str(self.replica_of)]
        # A replica's full sync starts at once (Redis waits 5 s for more replicas by default).
        args += ["--repl-diskless-sync-delay", "0"]
        self._launch("redis-server", [*args, "--save", "", "--appendonly", "no"])

    def _answers(self) -> bool:
        return _pings(self.port)


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


SENTINEL_SERVICE = "ogmint"


@dataclass
class SentinelServer(_ServerProcess):
    """A ``redis-sentinel`` process watching the primary on ``primary_port`` as
    ``SENTINEL_SERVICE``, tuned to fail over within about three seconds. (Shorter down-after
    times trip on a loaded machine: a sentinel stalled on fsync of its config file then sees
    the new primary as down and fails over again, to a replica that may still be empty.)"""

    primary_port: int = field(default=0, kw_only=True)

    def start(self) -> None:
        if self.running():
            return
        binary = shutil.which("redis-sentinel")
        if binary is None:
            pytest.fail("redis-sentinel is not installed: `make test` installs it (apt)")
        conf = self.log_path.with_suffix(".conf")  # sentinel rewrites it: one per process
        conf.write_text(
            f"port {self.port}\nbind 127.0.0.1\ndir {conf.parent}\n"
            f"sentinel monitor {SENTINEL_SERVICE} 127.0.0.1 {self.primary_port} 2\n"
            f"sentinel down-after-milliseconds {SENTINEL_SERVICE} 1500\n"
            f"sentinel failover-timeout {SENTINEL_SERVICE} 4000\n"
        )
        self._launch("redis-sentinel", [binary, str(conf)])

    def _answers(self) -> bool:
        return _pings(self.port)

    def ask(self, *command: str) -> object:
        """One command to this sentinel, its reply decoded."""
        with redis.Redis(port=self.port, socket_timeout=2, decode_responses=True) as r:
            return r.execute_command(*command)


def _pings(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(64).startswith(b"+PONG")
    except OSError:
        return False


@dataclass
class SentinelGroup:
    """A primary, one replica and three sentinels on loopback: ``redis+sentinel://`` state."""

    servers: list[RedisServer]
    sentinels: list[SentinelServer]

    @property
    def url(self) -> str:
        hosts = ",".join(f"127.0.0.1:{s.port}" for s in self.sentinels)
        return f"redis+sentinel://{hosts}/{SENTINEL_SERVICE}"

    def primary(self) -> RedisServer:
        """The server the sentinels name as primary now."""
        _, port = self.sentinels[0].ask("SENTINEL", "GET-MASTER-ADDR-BY-NAME", SENTINEL_SERVICE)  # type: ignore[misc]
        return next(s for s in self.servers if s.port == int(port))

    def wait_until(self, ready: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while not ready():
            if time.monotonic() > deadline:
                raise AssertionError(f"sentinel group: {what} not within {timeout} s")
            time.sleep(0.05)

    def wait_healthy(self) -> None:
        """Until every sentinel knows the others and the replica, and the replica is in sync."""

        def ready() -> bool:
            try:
                for sentinel in self.sentinels:
                    info = sentinel.ask("SENTINEL", "MASTER", SENTINEL_SERVICE)
                    assert isinstance(info, dict)  # redis-py parses the reply
                    if int(info["num-other-sentinels"]) < 2 or int(info["num-slaves"]) < 1:
                        return False
                    if "s_down" in str(info["flags"]) or "o_down" in str(info["flags"]):
                        return False
                primary = self.primary()
                with redis.Redis(port=primary.port, socket_timeout=2) as r:
                    replicas = r.info("replication")
                return any(
                    isinstance(v, dict) and v.get("state") == "online"
                    for k, v in replicas.items()
                    if k.startswith("slave")
                )
            except (redis.RedisError, OSError, StopIteration):
                return False

        self.wait_until(ready, "a healthy primary, replica and three sentinels", timeout=40)

    def stop(self) -> None:
        for server in [*self.sentinels, *self.servers]:
            server.stop()


def sentinel_group_in(directory: Path) -> Iterator[SentinelGroup]:
    """Starts a Sentinel group logging to ``directory``; stops it when the generator closes."""
    primary = RedisServer(free_port(), directory / "primary.log")
    replica = RedisServer(free_port(), directory / "replica.log", replica_of=primary.port)
    group = SentinelGroup([primary, replica], [])
    try:
        primary.start()
        replica.start()
        for i in range(3):
            log = directory / f"sentinel-{i}.log"
            sentinel = SentinelServer(free_port(), log, primary_port=primary.port)
            group.sentinels.append(sentinel)
            sentinel.start()
        group.wait_healthy()
        yield group
    finally:
        group.stop()


@pytest.fixture(scope="module")
def sentinel_group(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SentinelGroup]:
    """A Sentinel-managed primary + replica (three sentinels) for one test module to break;
    each test waits for it to be healthy first (``wait_healthy``)."""
    yield from sentinel_group_in(tmp_path_factory.mktemp("sentinel"))


@pytest.fixture(scope="session")
def shared_sentinel_group(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SentinelGroup]:
    """A Sentinel group shared by the session's tests. Do not break it."""
    yield from sentinel_group_in(tmp_path_factory.mktemp("sentinel"))
