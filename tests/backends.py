"""Real backing servers (Redis, S3) started by the test harness, on loopback only.

``s3_server`` is a shared moto standalone server (a real S3-protocol HTTP server in its own
process) with a bucket ready; ``s3_server_factory`` starts private ones for tests that stop and
restart their server. Both set dummy AWS credentials in the environment for the session, so
clients built on the default credential chain (``S3Storage``) find them.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Protocol, TypeVar

import pytest

from testbed.processes import (
    AWS_ENV,
    SENTINEL_SERVICE,
    RedisServer,
    S3Server,
    SentinelGroup,
    SentinelServer,
    free_port,
)
from testbed.processes import sentinel_group as start_sentinel_group

# Tests import these from here (the classes live in testbed.processes, shared with bench/).
__all__ = [
    "AWS_ENV",
    "SENTINEL_SERVICE",
    "RedisServer",
    "S3Server",
    "SentinelGroup",
    "SentinelServer",
    "free_port",
]


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


@pytest.fixture(scope="module")
def sentinel_group(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SentinelGroup]:
    """A Sentinel-managed primary + replica (three sentinels) for one test module to break;
    each test waits for it to be healthy first (``wait_healthy``)."""
    with start_sentinel_group(tmp_path_factory.mktemp("sentinel")) as group:
        yield group


@pytest.fixture(scope="session")
def shared_sentinel_group(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SentinelGroup]:
    """A Sentinel group shared by the session's tests. Do not break it."""
    with start_sentinel_group(tmp_path_factory.mktemp("sentinel")) as group:
        yield group
