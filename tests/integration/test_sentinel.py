"""Redis Sentinel (SPEC §9): two app servers on a ``redis+sentinel://`` URL follow a failover
during a burst of V2 renders without a restart; meanwhile requests get 503 + ``Retry-After``
(fail closed), and every render acknowledged with a 201 is readable afterwards.

The drill: a primary, one replica and three sentinels (``redis-sentinel``) on loopback, tuned
to notice a dead primary in 1.5 s. Every write waits for the replica (``WAIT 1``, the default
with Sentinel), so the replica that takes over has everything that was acknowledged.
"""

from __future__ import annotations

import concurrent.futures
import threading
import time
import types
from collections.abc import Iterator
from dataclasses import dataclass

import orjson
import pytest
import redis
from redis import exceptions as rx

from backends import SENTINEL_SERVICE, S3Server, SentinelGroup
from conftest import Server, start_server
from ogmint.state.redis.client import _PrimaryConnection
from support import Reply, assert_error, request

PREFIX = "drill:"
USERS = 6
#: Per user: under the burst limit (5/s), so what clients see is the failover, not 429s.
INTERVAL = 0.25


@dataclass
class Sent:
    server: int
    user: int
    at: float
    reply: Reply


def render(server: Server, key: str, title: str) -> Reply:
    body = {"template": "blog", "title": title, "palette": "ocean"}
    headers = {"content-type": "application/json", "x-api-key": key}
    return request(server.url + "/api/v2/render", "POST", headers, orjson.dumps(body))


@pytest.fixture(scope="module")
def apps(
    sentinel_group: SentinelGroup, s3_server: S3Server, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[Server]]:
    """Two app servers for the whole module: they follow every failover without a restart."""
    tmp_path = tmp_path_factory.mktemp("apps")
    env = {
        "OGMINT_REDIS_URL": sentinel_group.url,
        "OGMINT_REDIS_PREFIX": PREFIX,
        **s3_server.env(),
        "OGMINT_S3_PREFIX": f"sentinel-{tmp_path.name}/",
        "OGMINT_DEPENDENCY_TIMEOUT": "0.5",
    }
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        servers = list(pool.map(lambda _: start_server(tmp_path, **env), range(2)))
    try:
        yield servers
    finally:
        for s in servers:
            s.stop()


class Burst:
    """V2 renders from USERS clients, each alternating between the app servers, until stopped."""

    def __init__(self, servers: list[Server], keys: list[str]) -> None:
        self.servers = servers
        self.keys = keys
        self.sent: list[Sent] = []
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, args=(u,)) for u in range(USERS)]

    def __enter__(self) -> Burst:
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for t in self._threads:
            t.join()

    def _run(self, user: int) -> None:
        n = 0
        while not self._stop.is_set():
            i = (user + n) % len(self.servers)
            at = time.monotonic()
            reply = render(self.servers[i], self.keys[user], f"Drill {user}-{n}")
            self.sent.append(Sent(i, user, at, reply))
            n += 1
            pause = INTERVAL
            if reply.status == 429:
                pause = max(pause, float(reply.headers.get("retry-after", "1")))
            self._stop.wait(pause)


@pytest.mark.parametrize("fault", ["kill", "failover"])
def test_failover_during_a_burst_loses_no_acknowledged_render(
    apps: list[Server], sentinel_group: SentinelGroup, fault: str
) -> None:
    group = sentinel_group
    group.wait_healthy()
    keys = [apps[0].create_key(f"{fault}{u}", plan="agency") for u in range(USERS)]
    pids = [s.process.pid for s in apps]
    old = group.primary()
    with Burst(apps, keys) as burst:
        time.sleep(1.5)
        t0 = time.monotonic()
        if fault == "kill":
            old.stop()  # SIGKILL: the primary is gone until it comes back as a replica
        else:
            group.sentinels[0].ask("SENTINEL", "FAILOVER", SENTINEL_SERVICE)
        group.wait_until(lambda: group.primary() is not old, "a new primary")
        new = group.primary()
        if fault == "kill":
            old.replica_of = new.port
            old.start()  # empty: it resyncs from the new primary
        group.wait_healthy()
        healthy = time.monotonic()
        time.sleep(1.5)

    replies = [s.reply for s in burst.sent]
    statuses = sorted({r.status for r in replies})
    odd = [(s.server, round(s.at - t0, 2), s.reply.status, s.reply.body[:100]) for s in burst.sent]
    assert set(statuses) <= {201, 429, 503}, [o for o in odd if o[2] not in (201, 429, 503)]
    for r in replies:
        if r.status == 503:
            assert_error(r, 503)
            assert int(r.headers["retry-after"]) >= 1
    # Between the kill and the promotion there was no primary, and after a failover the new
    # one has no replica until the old one is reconfigured: writes failed closed meanwhile.
    assert any(r.status == 503 for r in replies), statuses
    # Both app servers, never restarted, write to the new primary.
    assert [s.process.pid for s in apps] == pids
    assert all(s.process.poll() is None for s in apps)
    for i in range(len(apps)):
        after = [s.reply.status for s in burst.sent if s.server == i and s.at > healthy]
        assert after.count(201) >= 3, (i, after)

    acked = [s.reply.json()["slug"] for s in burst.sent if s.reply.status == 201]
    assert len(acked) >= 20, len(acked)
    # In the new primary itself (app servers remember renders they made), and served.
    with redis.Redis(port=group.primary().port, decode_responses=True) as r:
        missing = [slug for slug in acked if not r.exists(f"{PREFIX}slug:{slug}")]
    assert not missing, (len(missing), len(acked))
    for n, slug in enumerate(acked):
        image = request(f"{apps[n % 2].url}/i/{slug}")
        assert image.status == 200 and image.body.startswith(b"\x89PNG"), slug


def test_writes_fail_closed_while_no_replica_confirms(
    apps: list[Server], sentinel_group: SentinelGroup
) -> None:
    """With the replica down a write cannot be made failover-safe: 503, not a 201 that a
    failover could lose. Back once the replica is."""
    sentinel_group.wait_healthy()
    key = apps[0].create_key("lonely", plan="agency")
    assert render(apps[0], key, "Before").status == 201
    primary = sentinel_group.primary()
    replica = next(s for s in sentinel_group.servers if s is not primary)
    replica.stop()
    try:
        reply = render(apps[0], key, "Unconfirmed")
        assert_error(reply, 503)
        assert int(reply.headers["retry-after"]) >= 1
    finally:
        replica.replica_of = primary.port
        replica.start()
    sentinel_group.wait_healthy()
    assert render(apps[1], key, "After").status == 201


async def test_only_a_server_that_says_it_is_primary_is_used(
    sentinel_group: SentinelGroup,
) -> None:
    """A sentinel that has not heard of a failover names the old primary; a connection to a
    server that is not (or no longer) the primary is refused, so its stale copy is never read.
    An ACL user without ROLE cannot check, and trusts the sentinels."""
    sentinel_group.wait_healthy()
    primary = sentinel_group.primary()
    replica = next(s for s in sentinel_group.servers if s is not primary)
    with redis.Redis(port=primary.port) as r:
        r.acl_setuser(
            "norole", enabled=True, passwords=["+pw"], keys=["*"], commands=["+@all", "-role"]
        )
    pool = types.SimpleNamespace(is_master=True, check_connection=False)  # what the pool reads

    async def opens(port: int, **auth: str) -> bool:
        conn = _PrimaryConnection(connection_pool=pool, host="127.0.0.1", port=port, **auth)
        try:
            await conn._connect()
            await conn.on_connect_check_health()
            return True
        except rx.ConnectionError:
            return False
        finally:
            await conn.disconnect()

    assert await opens(primary.port)
    assert not await opens(replica.port)
    assert await opens(primary.port, username="norole", password="pw")
