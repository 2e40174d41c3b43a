"""The Redis Sentinel drill, measured: two app servers on a ``redis+sentinel://`` URL under a
steady stream of new V2 renders while the primary is failed over, twice — killed (SIGKILL, then
brought back empty as a replica) and by ``SENTINEL FAILOVER``. Reports what clients saw, how
long writes failed closed, and whether every 201 survived; writes its section of RESULTS.md.

    .venv/bin/python bench/sentinel_drill.py

Real processes on loopback: a redis-server primary and one replica, three redis-sentinel
(down-after 1.5 s), a moto S3 server, two app servers (one worker each; ``WAIT 1`` is the
default with Sentinel). The same scenario, with assertions, is
``tests/integration/test_sentinel.py``.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import boto3
import orjson
import redis

from bench.harness import Processes, free_port, http, redis_answers, write_section

SERVICE = "ogmint"
USERS = 6
INTERVAL = 0.25  # per user: under the 5/s burst limit
BEFORE, AFTER = 3.0, 3.0  # seconds of traffic before the fault and after recovery
AWS = {"AWS_ACCESS_KEY_ID": "t", "AWS_SECRET_ACCESS_KEY": "t", "AWS_DEFAULT_REGION": "us-east-1"}


@dataclass
class Sent:
    at: float
    server: int
    user: int
    body: bytes
    status: int
    retry_after: bool
    slug: str


class Group:
    def __init__(self, procs: Processes, tmp: Path) -> None:
        self.procs, self.tmp = procs, tmp
        self.ports = [free_port(), free_port()]
        self.redis: dict[int, subprocess.Popen[bytes]] = {}
        self.sentinels = [free_port() for _ in range(3)]
        self.start_redis(self.ports[0])
        self.start_redis(self.ports[1], replica_of=self.ports[0])
        for port in self.sentinels:
            conf = tmp / f"sentinel-{port}.conf"
            conf.write_text(
                f"port {port}\nbind 127.0.0.1\ndir {tmp}\n"
                f"sentinel monitor {SERVICE} 127.0.0.1 {self.ports[0]} 2\n"
                f"sentinel down-after-milliseconds {SERVICE} 1500\n"
                f"sentinel failover-timeout {SERVICE} 4000\n"
            )
            binary = shutil.which("redis-sentinel") or "redis-sentinel"
            proc = procs.start(f"sentinel-{port}", [binary, str(conf)])
            procs.wait_until(f"sentinel-{port}", proc, lambda p=port: redis_answers(p), 30)

    @property
    def url(self) -> str:
        hosts = ",".join(f"127.0.0.1:{p}" for p in self.sentinels)
        return f"redis+sentinel://{hosts}/{SERVICE}"

    def start_redis(self, port: int, replica_of: int | None = None) -> None:
        binary = shutil.which("redis-server") or "redis-server"
        args = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
        args += ["--dir", str(self.tmp)]  # a syncing replica writes the snapshot there
        args += ["--appendonly", "no", "--repl-diskless-sync-delay", "0"]
        if replica_of is not None:
            args += ["--replicaof", "127.0.0.1", str(replica_of)]
        self.redis[port] = self.procs.start(f"redis-{port}", args)
        self.procs.wait_until(f"redis-{port}", self.redis[port], lambda: redis_answers(port), 30)

    def ask(self, *command: str) -> object:
        with redis.Redis(port=self.sentinels[0], socket_timeout=2, decode_responses=True) as r:
            return r.execute_command(*command)

    def primary(self) -> int:
        _, port = self.ask("SENTINEL", "GET-MASTER-ADDR-BY-NAME", SERVICE)  # type: ignore[misc]
        return int(port)

    def healthy(self) -> bool:
        try:
            for port in self.sentinels:
                with redis.Redis(port=port, socket_timeout=2, decode_responses=True) as r:
                    info = r.execute_command("SENTINEL", "MASTER", SERVICE)
                flags = str(info["flags"])
                if int(info["num-other-sentinels"]) < 2 or int(info["num-slaves"]) < 1:
                    return False
                if "s_down" in flags or "o_down" in flags:
                    return False
            with redis.Redis(port=self.primary(), socket_timeout=2) as r:
                replication = r.info("replication")
            return any(
                isinstance(v, dict) and v.get("state") == "online" for v in replication.values()
            )
        except (redis.RedisError, OSError):
            return False

    def wait(self, ready: object, what: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while not ready():  # type: ignore[operator]
            if time.monotonic() > deadline:
                raise RuntimeError(f"{what} not within {timeout} s")
            time.sleep(0.05)


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


def drill(group: Group, urls: list[str], keys: list[str], fault: str) -> list[str]:
    group.wait(group.healthy, "a healthy group")
    stop, sent = threading.Event(), []
    runner = threading.Thread(target=burst, args=(urls, keys, stop, sent))
    runner.start()
    time.sleep(BEFORE)
    old = group.primary()
    t0 = time.monotonic()
    if fault == "kill":
        os.killpg(group.redis[old].pid, signal.SIGKILL)
        group.redis[old].wait()
    else:
        group.ask("SENTINEL", "FAILOVER", SERVICE)
    group.wait(lambda: group.primary() != old, "a new primary")
    promoted = time.monotonic() - t0
    if fault == "kill":
        group.start_redis(old, replica_of=group.primary())
    group.wait(group.healthy, "a replica in sync")
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
    with redis.Redis(port=group.primary(), decode_responses=True) as r:
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
    ):
        tmp = Path(name)
        group = Group(procs, tmp)
        moto_port = free_port()
        endpoint = f"http://127.0.0.1:{moto_port}"
        args = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(moto_port)]
        moto = procs.start("moto", args, {**os.environ, **AWS})
        procs.wait_until("moto", moto, lambda: http(endpoint + "/")[0] != 0, 30)
        boto3.client(
            "s3",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="t",
            aws_secret_access_key="t",
        ).create_bucket(Bucket="drill")
        env = {
            **os.environ,
            **AWS,
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
            proc = procs.start(f"app{i}", [sys.executable, "-m", "ogmint"], env_i)
            url = f"http://127.0.0.1:{port}"
            procs.wait_until(f"app{i}", proc, lambda u=url: http(u + "/healthz")[0] == 200, 90)
            urls.append(url)
        keys = []
        for u in range(USERS):
            cmd = [sys.executable, "-m", "ogmint.cli", "keys", "create", "--user", f"d{u}"]
            out = subprocess.run(
                [*cmd, "--plan", "agency"], env=env, capture_output=True, text=True, check=True
            ).stdout
            keys.append(out.strip().splitlines()[-1])
        lines = [
            "### Redis Sentinel drill (issue 21, item 6)",
            "",
            "Command: `.venv/bin/python bench/sentinel_drill.py` (`make drills` and `make load` "
            "run it after the others) — a redis-server primary and one "
            "replica, three redis-sentinel (`down-after-milliseconds` 1500), moto S3, two app "
            f"servers (one worker each) on `{group.url.split('//')[0]}//…/{SERVICE}` with the "
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
