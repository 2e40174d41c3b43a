"""The Redis Sentinel drill, measured: two app servers on a ``redis+sentinel://`` URL under a
steady stream of new V2 renders while the primary is failed over, twice — killed (SIGKILL, then
brought back empty as a replica) and by ``SENTINEL FAILOVER``. Reports what clients saw, how
long writes failed closed, and whether every 201 survived; writes its section of RESULTS.md.

    python -m bench drills-sentinel      (or python -m bench.drill.sentinel_drill)

Real processes on loopback: a redis-server primary and one replica, three redis-sentinel
(down-after 1.5 s), a moto S3 server, two app servers (one worker each; ``WAIT 1`` is the
default with Sentinel). The same scenario, with assertions, is
``tests/integration/test_sentinel.py``.
"""

from __future__ import annotations

import os
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import orjson
import redis

from bench.harness import AWS_ENV, Processes, api_key, free_port, http, start_s3, write_section
from testbed.processes import SENTINEL_SERVICE, SentinelGroup, sentinel_group

USERS = 6
INTERVAL = 0.25  # per user: under the 5/s burst limit
BEFORE, AFTER = 3.0, 3.0  # seconds of traffic before the fault and after recovery


@dataclass
class Sent:
    at: float
    server: int
    user: int
    body: bytes
    status: int
    retry_after: bool
    slug: str


def post(url: str, body: bytes, key: str) -> tuple[int, bytes, bool]:
    """(status, body, Retry-After present); 0 when nothing answered."""
    headers = {"content-type": "application/json", "x-api-key": key}
    req = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=10) as reply:
            return reply.status, reply.read(), False
    except urllib.error.HTTPError as e:
        return e.code, e.read(), bool(e.headers.get("retry-after"))
    except OSError:
        return 0, b"", False


def burst(urls: list[str], keys: list[str], stop: threading.Event, sent: list[Sent]) -> None:
    def user(u: int) -> None:
        n = 0
        while not stop.is_set():
            i = (u + n) % len(urls)
            body = orjson.dumps({"template": "blog", "title": f"Drill {u}-{n} {time.time()}"})
            at = time.monotonic()
            status, reply, retry = post(f"{urls[i]}/api/v2/render", body, keys[u])
            slug = orjson.loads(reply)["slug"] if status == 201 else ""
            sent.append(Sent(at, i, u, body, status, retry, slug))
            n += 1
            stop.wait(INTERVAL)

    threads = [threading.Thread(target=user, args=(u,)) for u in range(USERS)]
    for t in threads:
        t.start()
    stop.wait()
    for t in threads:
        t.join()


def drill(group: SentinelGroup, urls: list[str], keys: list[str], fault: str) -> list[str]:
    group.wait_healthy()
    stop, sent = threading.Event(), []
    runner = threading.Thread(target=burst, args=(urls, keys, stop, sent))
    runner.start()
    time.sleep(BEFORE)
    old = group.primary()
    t0 = time.monotonic()
    if fault == "kill":
        old.stop()  # SIGKILL: the primary is gone until it comes back as a replica
    else:
        group.sentinels[0].ask("SENTINEL", "FAILOVER", SENTINEL_SERVICE)
    group.wait_until(lambda: group.primary() is not old, "a new primary", 30)
    promoted = time.monotonic() - t0
    if fault == "kill":
        old.replica_of = group.primary().port
        old.start()  # empty: it resyncs from the new primary
    group.wait_healthy()
    healed = time.monotonic() - t0
    time.sleep(AFTER)
    stop.set()
    runner.join()

    after = [s for s in sent if s.at >= t0]
    refused = [s for s in after if s.status == 503]
    other = sorted({s.status for s in sent} - {201, 503})
    window = f"{refused[0].at - t0:.1f}–{refused[-1].at - t0:.1f} s" if refused else "none"
    first_ok = [
        s.at - t0 for s in after if s.status == 201 and (not refused or s.at > refused[-1].at)
    ]
    acked = [s for s in sent if s.status == 201]
    with redis.Redis(port=group.primary().port, decode_responses=True) as r:
        missing = [s.slug for s in acked if not r.exists(f"drill:slug:{s.slug}")]
    unserved = [s.slug for s in acked if http(f"{urls[s.server]}/i/{s.slug}")[0] != 200]
    return [
        f"**{fault}** — "
        + (
            "SIGKILL of the primary; brought back empty as a replica of the new one"
            if fault == "kill"
            else "`SENTINEL FAILOVER` (the old primary is demoted, Sentinel reconfigures it)"
        ),
        "",
        f"- new primary named by the sentinels {promoted:.1f} s after the fault; a replica "
        f"in sync again at {healed:.1f} s",
        f"- {len(sent)} V2 renders from {USERS} clients over 2 app servers: "
        f"{len(acked)} × 201, {len(refused)} × 503 (all with Retry-After: "
        f"{all(s.retry_after for s in refused)}), other statuses: {other or 'none'}",
        f"- writes failed closed from {window} after the fault; first 201 after that at "
        f"{min(first_ok):.1f} s"
        if first_ok
        else "- no 201 after the fault",
        f"- acknowledged renders missing from the new primary: {len(missing)}; "
        f"not served from `/i/`: {len(unserved)}",
        "",
    ]


def main() -> int:
    with (
        tempfile.TemporaryDirectory(prefix="ogmint-sentinel-") as name,
        Processes(Path(name)) as procs,
        sentinel_group(Path(name)) as group,
    ):
        tmp = Path(name)
        moto_port = free_port()
        endpoint = f"http://127.0.0.1:{moto_port}"
        start_s3(procs, moto_port, "drill")
        env = {
            **os.environ,
            **AWS_ENV,
            "OGMINT_HOST": "127.0.0.1",
            "OGMINT_WORKERS": "1",
            "OGMINT_REDIS_URL": group.url,
            "OGMINT_REDIS_PREFIX": "drill:",
            "OGMINT_S3_BUCKET": "drill",
            "OGMINT_S3_ENDPOINT": endpoint,
            "OGMINT_DEPENDENCY_TIMEOUT": "0.5",
        }
        urls = []
        for i in range(2):
            port = free_port()
            env_i = {**env, "OGMINT_PORT": str(port), "OGMINT_DATA_DIR": str(tmp / f"d{i}")}
            procs.start_app(f"app{i}", env_i, 90)
            url = f"http://127.0.0.1:{port}"
            urls.append(url)
        keys = [api_key(env, f"d{u}") for u in range(USERS)]
        lines = [
            "### Redis Sentinel drill (issue 21, item 6)",
            "",
            "Command: `make bench NAME=drills-sentinel` (`make drills` and `make load` "
            "run it after the others) — a redis-server primary and one "
            "replica, three redis-sentinel (`down-after-milliseconds` 1500), moto S3, two app "
            f"servers (one worker each) on `{group.url.split('//')[0]}//…/{SENTINEL_SERVICE}` with the "
            f"default `WAIT 1`; {USERS} clients each send a new V2 render every {INTERVAL} s, "
            "alternating between the app servers; the fault comes after "
            f"{BEFORE:.0f} s, traffic goes on {AFTER:.0f} s after the group is healthy again. "
            "Times are from the fault. The app servers are never restarted. Host load average "
            f"at the start: {os.getloadavg()[0]:.1f} ({os.cpu_count()} cores, shared).",
            "",
        ]
        for fault in ("kill", "failover"):
            print(f"drill {fault} …", flush=True)
            lines += drill(group, urls, keys, fault)
        lines.append(
            "With one replica, `WAIT 1` refuses writes until a replica is in sync with the new "
            "primary: at once after the kill (the old primary is brought back by hand), about "
            "10 s after `SENTINEL FAILOVER` (Sentinel reconfigures the demoted primary when it "
            "next reads its INFO). Two replicas keep writes going through a failover; "
            "`OGMINT_REDIS_REPLICAS=0` trades the guarantee for availability (README, Scale-out)."
        )
    text = "\n".join(lines)
    print(text)
    write_section("drills-sentinel", text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
