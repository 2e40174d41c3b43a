"""``make load`` (and ``make drills``): the whole scale-out stack on this machine under locust.

Starts a real ``redis-server`` (append-only file, so a restart keeps the keys), a moto S3
server with a bucket, an HTTPS webhook receiver, two app servers sharing them (one worker each,
``OGMINT_BEHIND_NGINX=true``) and nginx with the repo's nginx.conf in front (X-Accel files
from the S3 endpoint); creates API keys with the CLI; runs ``bench/drill/locustfile.py`` headless for
a fixed time; keeps locust's HTML report and CSVs under ``bench/out/`` and writes a summary to
its section of ``bench/RESULTS.md``.

With ``--drills``, three more locust runs, each with one failure injected while it runs — kill
-9 of one app server, a Redis restart, S3 stopped (SIGSTOP) for 10 s — and a probe making a
new V2 render and an ``/i/`` miss every 0.3 s, to report what clients saw and how long service
took to come back. After the kill, every V2 render acknowledged with a 201 during the drills
is checked: its image is served, and asking again answers 200 ``cached`` with the same slug.
``make load`` and ``make drills`` then run the Redis Sentinel drill (``bench/drill/sentinel_drill.py``, a
benchmark of its own: ``drills-sentinel``).
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import orjson
import trustme

from bench.harness import (
    AWS_ENV,
    BENCH,
    OUT,
    PYTHON,
    Processes,
    api_key,
    free_port,
    http,
    repo_conf,
    start_nginx,
    start_redis,
    start_s3,
    write_section,
)

LOCUSTFILE = Path(__file__).resolve().with_name("locustfile.py")
RECEIVER = BENCH / "webhooks" / "webhook_receiver.py"
BUCKET, REGION = "ogmint-load", "us-east-1"  # moto's region (testbed.processes.S3_REGION)
KEYS = 12
USERS, SPAWN_RATE = 40, 20
DRILL_SECONDS, DRILL_AT = 40, 12


@dataclass
class Stack:
    procs: Processes
    tmp: Path
    url: str = ""
    keys: list[str] = field(default_factory=list)
    apps: list[subprocess.Popen[bytes]] = field(default_factory=list)
    ports: list[int] = field(default_factory=list)
    app_env: dict[str, str] = field(default_factory=dict)
    redis: subprocess.Popen[bytes] | None = None
    redis_port: int = 0
    moto: subprocess.Popen[bytes] | None = None
    webhook_url: str = ""

    def start_redis(self) -> None:
        """Redis with an fsynced append-only file: a restart keeps the keys."""
        self.redis = start_redis(self.procs, self.redis_port, appendonly=True)


def build(procs: Processes, tmp: Path) -> Stack:
    stack = Stack(procs, tmp, redis_port=free_port())
    stack.start_redis()
    moto_port = free_port()
    endpoint = f"http://127.0.0.1:{moto_port}"
    stack.moto = start_s3(procs, moto_port, BUCKET)

    ca = trustme.CA()
    ca_file = tmp / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    pem = tmp / "receiver.pem"
    ca.issue_cert("127.0.0.1").private_key_and_cert_chain_pem.write_to_path(str(pem))
    hook_port, stats_port = free_port(), free_port()
    receiver = procs.start(
        "receiver", [str(PYTHON), str(RECEIVER), str(hook_port), str(stats_port), str(pem)]
    )
    procs.wait_until(
        "receiver", receiver, lambda: http(f"http://127.0.0.1:{stats_port}/counts")[0] == 200, 30
    )
    stack.webhook_url = f"https://127.0.0.1:{hook_port}/hook"

    stack.app_env = {
        **os.environ,
        **AWS_ENV,
        "OGMINT_HOST": "127.0.0.1",
        "OGMINT_WORKERS": "1",
        "OGMINT_DATA_DIR": str(tmp / "data"),
        "OGMINT_REDIS_URL": f"redis://127.0.0.1:{stack.redis_port}",
        "OGMINT_S3_BUCKET": BUCKET,
        "OGMINT_S3_ENDPOINT": endpoint,
        "OGMINT_S3_REGION": REGION,
        "OGMINT_DEPENDENCY_TIMEOUT": "1",
        "OGMINT_BEHIND_NGINX": "true",
        "OGMINT_TRUSTED_PROXIES": "127.0.0.1",
        "OGMINT_ANONYMOUS_DAILY_LIMIT": "100000000",
        # Every locust user is 127.0.0.1: a real hotlink limit would refuse the whole crowd.
        "OGMINT_IMAGE_RATE_LIMIT": "0",
        "OGMINT_OUTBOUND_ALLOW": "127.0.0.1",
        "OGMINT_OUTBOUND_CA_FILE": str(ca_file),
    }
    stack.ports = [free_port(), free_port()]
    for i, port in enumerate(stack.ports):
        stack.apps.append(start_app(stack, i, port))
    edge_port = free_port()
    conf = repo_conf(stack.ports, edge_port, s3_endpoint=endpoint)
    start_nginx(procs, "nginx", tmp / "nginx", conf, edge_port)
    stack.url = f"http://127.0.0.1:{edge_port}"
    # the last one is the probe's
    stack.keys = [api_key(stack.app_env, f"load{i}") for i in range(KEYS + 1)]
    return stack


def start_app(stack: Stack, i: int, port: int) -> subprocess.Popen[bytes]:
    env = {**stack.app_env, "OGMINT_PORT": str(port)}
    return stack.procs.start_app(f"app{i}", env)[0]


def locust(
    stack: Stack, name: str, seconds: int, acks: Path | None = None
) -> subprocess.Popen[bytes]:
    """Starts locust headless against the edge; reports go to ``bench/out/<name>*``."""
    OUT.mkdir(exist_ok=True)
    env = {
        **os.environ,
        "OGMINT_LOAD_API_KEYS": ",".join(stack.keys[:-1]),
        "OGMINT_LOAD_WEBHOOK_URL": stack.webhook_url,
    }
    if acks is not None:
        env["OGMINT_LOAD_ACKS"] = str(acks)
    args = [str(PYTHON), "-m", "locust", "-f", str(LOCUSTFILE), "--headless"]
    args += ["-u", str(USERS), "-r", str(SPAWN_RATE), "-t", f"{seconds}s", "--host", stack.url]
    args += ["--csv", str(OUT / name), "--html", str(OUT / f"{name}.html"), "--only-summary"]
    return stack.procs.start(f"locust-{name}", args, env)


def stats(name: str) -> list[dict[str, str]]:
    with (OUT / f"{name}_stats.csv").open() as f:
        return list(csv.DictReader(f))


def failures(name: str) -> list[dict[str, str]]:
    path = OUT / f"{name}_failures.csv"
    if not path.exists():
        return []
    with path.open() as f:
        return list(csv.DictReader(f))


def stats_table(name: str) -> list[str]:
    lines = [
        "| Endpoint | requests | failures | rps | p50 ms | p95 ms | p99 ms |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in stats(name):
        label = "**all**" if row["Name"] == "Aggregated" else f"`{row['Name']}`"
        lines.append(
            f"| {label} | {row['Request Count']} | {row['Failure Count']} | "
            f"{float(row['Requests/s']):.1f} | {row['50%']} | {row['95%']} | {row['99%']} |"
        )
    return lines


class Probe(threading.Thread):
    """A new V2 render (Redis and S3 both needed) and an /i/ miss, every 0.3 s: (t, what,
    status, Retry-After present) per request."""

    def __init__(self, stack: Stack) -> None:
        super().__init__(daemon=True)
        self.stack = stack
        self.key = stack.keys[-1]
        self.seen: list[tuple[float, str, int, bool]] = []
        self.stop = threading.Event()

    def run(self) -> None:
        n = 0
        tag = f"{random.getrandbits(32):08x}"
        while not self.stop.is_set():
            n += 1
            body = orjson.dumps({"template": "blog", "title": f"Probe {tag} {n}"})
            headers = {"content-type": "application/json", "x-api-key": self.key}
            status, _, reply, retry = _request(f"{self.stack.url}/api/v2/render", body, headers)
            self.seen.append((time.monotonic(), "render", status, retry))
            if status == 201:
                slug = orjson.loads(reply)["slug"]
                status, _, _, retry = _request(f"{self.stack.url}/i/{slug}")
                self.seen.append((time.monotonic(), "image", status, retry))
            self.stop.wait(0.3)  # under the key's 5/s burst limit


def _request(
    url: str, body: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, str, bytes, bool]:
    import urllib.error
    import urllib.request

    req = urllib.request.Request(url, data=body, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.headers.get("content-type", ""), r.read(), False
    except urllib.error.HTTPError as e:
        return (
            e.code,
            e.headers.get("content-type", ""),
            e.read(),
            bool(e.headers.get("retry-after")),
        )
    except OSError:
        return 0, "", b"", False


@dataclass
class DrillReport:
    name: str
    what: str
    fault_start: float
    fault_end: float
    probe: list[tuple[float, str, int, bool]]
    run: str

    def lines(self) -> list[str]:
        during = [p for p in self.probe if p[0] >= self.fault_start]
        bad = [p for p in during if p[2] not in (200, 201)]
        statuses: dict[str, int] = {}
        for _, _, status, retry in bad:
            label = f"{status}{' + Retry-After' if retry else ''}" if status else "no answer"
            statuses[label] = statuses.get(label, 0) + 1
        after = [p for p in during if p[0] >= self.fault_end]
        recovered = next(
            (i for i, p in enumerate(after) if all(q[2] in (200, 201) for q in after[i : i + 5])),
            None,
        )
        recovery = (
            "not within the run"
            if recovered is None
            else f"{max(after[recovered][0] - self.fault_end, 0):.1f} s"
        )
        fails = failures(self.run)
        seen = ", ".join(f"{n} × {s}" for s, n in sorted(statuses.items())) or "none"
        # By endpoint and status only: error texts are the app's business (and may change).
        counted: dict[str, int] = {}
        for f in fails:
            code = re.search(r"HTTP (\d+)", f["Error"])
            label = f"`{f['Name']}` {code.group(1) if code else f['Error'][:40]}"
            counted[label] = counted.get(label, 0) + int(f["Occurrences"])
        client = "; ".join(f"{n} × {label}" for label, n in sorted(counted.items()))
        client = f"non-2xx answers: {client}" if client else "no failures"
        aggregated = next(r for r in stats(self.run) if r["Name"] == "Aggregated")
        return [
            f"**{self.name}** — {self.what}",
            "",
            f"- probe (new V2 render + `/i/` miss every 0.3 s): non-2xx answers: {seen}; "
            f"back to 5 good answers in a row {recovery} after the fault ended",
            f"- locust ({aggregated['Request Count']} requests, {USERS} users): {client}",
            "",
        ]


def drills(stack: Stack) -> list[str]:
    acks = OUT / "drill-acks.tsv"
    acks.unlink(missing_ok=True)
    out: list[str] = []
    for name, what, fault in (
        ("kill", "kill -9 of one app server (its whole process group)", kill_app),
        ("redis", "Redis stopped and started again (3 s down; AOF keeps the data)", restart_redis),
        ("s3", "S3 server stopped (SIGSTOP) for 10 s, then resumed", pause_s3),
    ):
        print(f"drill {name} …", flush=True)
        run = f"drill-{name}"
        probe = Probe(stack)
        probe.start()
        load = locust(stack, run, DRILL_SECONDS, acks)
        time.sleep(DRILL_AT)
        start = time.monotonic()
        fault(stack)
        end = time.monotonic()
        load.wait(timeout=DRILL_SECONDS + 120)
        probe.stop.set()
        probe.join()
        out += DrillReport(name, what, start, end, probe.seen, run).lines()
        if fault is kill_app:  # back to two servers for the next drills
            stack.apps[0] = start_app(stack, 0, stack.ports[0])
    out += verify_acks(stack, acks)
    return out


def kill_app(stack: Stack) -> None:
    victim = stack.apps[0]
    os.killpg(victim.pid, signal.SIGKILL)
    victim.wait()


def restart_redis(stack: Stack) -> None:
    assert stack.redis is not None
    stack.procs.stop(stack.redis)
    time.sleep(3)
    stack.start_redis()


def pause_s3(stack: Stack) -> None:
    assert stack.moto is not None
    os.killpg(stack.moto.pid, signal.SIGSTOP)
    time.sleep(10)
    os.killpg(stack.moto.pid, signal.SIGCONT)


def verify_acks(stack: Stack, acks: Path) -> list[str]:
    """Every 201 of the drills: image served; asked again → 200 cached, same slug."""
    rows = [line.split("\t") for line in acks.read_text().splitlines()] if acks.exists() else []
    lost, twice = [], []
    for key, body, slug in rows:
        if _request(f"{stack.url}/i/{slug}")[0] != 200:
            lost.append(slug)
        while True:
            headers = {"content-type": "application/json", "x-api-key": key}
            status, _, reply, _ = _request(f"{stack.url}/api/v2/render", body.encode(), headers)
            if status != 429:
                break
            time.sleep(1)
        answer = orjson.loads(reply) if reply else {}
        if status != 200 or answer.get("slug") != slug or not answer.get("cached"):
            twice.append(f"{slug}: {status} {answer.get('slug')}")
    return [
        f"**Acknowledged renders** across the drills: {len(rows)} V2 renders answered 201; "
        f"images missing afterwards: {len(lost)}; asked again and not answered 200 `cached` "
        f"with the same slug: {len(twice)}" + (f" ({', '.join(twice[:5])})" if twice else "") + ".",
        "",
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--drills", action="store_true", help="run the drills after the load")
    parser.add_argument("--no-load", action="store_true", help="only the drills")
    args = parser.parse_args()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="ogmint-load-") as name, Processes(Path(name)) as p:
        stack = build(p, Path(name))
        if not args.no_load:
            print(f"locust for {args.seconds} s …", flush=True)
            locust(stack, "load", args.seconds).wait(timeout=args.seconds + 180)
            fails = failures("load")
            lines = [
                "## Load: locust against the whole stack (edge)",
                "",
                "Command: `make load` (`python -m bench load`): nginx (repo nginx.conf, X-Accel "
                "from S3) in front of two app servers (one worker each) sharing a real "
                "redis-server and a moto S3 server, an HTTPS webhook receiver; `locust -f "
                f"bench/drill/locustfile.py --headless -u {USERS} -r {SPAWN_RATE} -t {args.seconds}s` "
                "(user classes and weights in the locustfile). Reports: `bench/out/load.html`, "
                "`bench/out/load_stats.csv`. Everything, locust included, on this 2-core machine.",
                "",
                *stats_table("load"),
                "",
                f"Failures: {sum(int(f['Occurrences']) for f in fails)}.",
            ]
            write_section("load", "\n".join(lines))
            print("\n".join(lines))
        if args.drills:
            lines = [
                "### Drills (edge)",
                "",
                f"Command: `make drills` (`python -m bench drills`; `make load` "
                f"runs them too): the same stack; each drill is its own {DRILL_SECONDS} s locust "
                f"run (same users), the fault injected at {DRILL_AT} s; reports "
                "`bench/out/drill-*.html`.",
                "",
                *drills(stack),
            ]
            write_section("drills", "\n".join(lines))
            print("\n".join(lines))
    print(f"whole run: {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
