"""What the benchmarks share: recording a result, wrk, CPU time, the `blog` card in process,
and (from ``testbed.processes``, shared with the tests) the servers they start.

Every process a benchmark starts gets its own session (``start_new_session``), so stopping it
stops its workers too; ``Processes`` stops them all, newest first, even when the run fails.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import results
from testbed import processes as testbed
from testbed.processes import (
    AWS_ENV,
    Processes,
    RedisServer,
    S3Server,
    free_port,
    group_alive,
    nginx_conf,
    redis_answers,
    stop_group,
)

# Re-exported for the benchmarks (one import line for what they share).
__all__ = [
    "AWS_ENV",
    "BENCH",
    "OUT",
    "PYTHON",
    "REPO",
    "BlogCards",
    "Processes",
    "RedisServer",
    "S3Server",
    "api_key",
    "app_env",
    "cli",
    "cpu_per_answer",
    "cpu_snapshot",
    "cpu_summary",
    "create_keys",
    "free_port",
    "group_alive",
    "group_cpu",
    "http",
    "met",
    "others_busy",
    "redis_answers",
    "redis_keys",
    "repo_conf",
    "rotated_rounds",
    "row",
    "start_nginx",
    "start_redis",
    "start_s3",
    "stop_group",
    "write_section",
    "wrk",
    "wrk_figures",
]

REPO = Path(__file__).resolve().parents[1]
BENCH = REPO / "bench"
#: Scratch output of benchmark runs (PNGs, logs, reports); not kept in git.
OUT = BENCH / "out"
#: The interpreter running the benchmark: app servers and helpers run on the same one.
PYTHON = Path(sys.executable)
HZ = os.sysconf("SC_CLK_TCK")


def app_env(port: int, data_dir: Path, workers: int, **settings: str) -> dict[str, str]:
    """The environment of a benchmarked app server: loopback, its own data directory, an
    anonymous allowance no benchmark runs out of, and ``settings`` on top."""
    return testbed.app_env(
        port, data_dir, workers, OGMINT_ANONYMOUS_DAILY_LIMIT="100000000", **settings
    )


def http(
    url: str,
    method: str = "GET",
    body: bytes | None = None,
    headers: Mapping[str, str] | None = None,
) -> tuple[int, str, bytes]:
    """(status, content type, body); status 0 when nothing answered."""
    req = urllib.request.Request(url, data=body, method=method, headers=dict(headers or {}))
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.headers.get("content-type", ""), r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("content-type", ""), e.read()
    except OSError:
        return 0, "", b""


def repo_conf(
    upstreams: list[int],
    port: int,
    *,
    data_dir: Path | None = None,
    s3_endpoint: str = "http://127.0.0.1:9",
    edits: tuple[tuple[str, str], ...] = (),
) -> str:
    """The repo's nginx.conf on ``port``, in front of app servers on the ports ``upstreams``
    (each out of rotation for 2 s after a failure), X-Accel files from ``data_dir`` or
    ``s3_endpoint``; ``edits`` are further replacements."""
    servers = [f"127.0.0.1:{p} max_fails=1 fail_timeout=2s" for p in upstreams]
    return nginx_conf(servers, port, data_dir=data_dir, s3_endpoint=s3_endpoint, edits=edits)


def start_nginx(
    procs: Processes, name: str, prefix: Path, conf: str, port: int
) -> subprocess.Popen[bytes]:
    """nginx with ``conf`` under the prefix directory ``prefix``, answering on ``port``; stopped
    with ``procs``. (``name``: kept for the callers; nginx logs to ``prefix/nginx.log``.)"""
    return procs.adopt(testbed.start_nginx(prefix, conf, port).process)


def start_redis(procs: Processes, port: int, appendonly: bool = False) -> subprocess.Popen[bytes]:
    """A scratch ``redis-server`` on 127.0.0.1:``port``, ready when returned, stopped with
    ``procs`` (in memory only, or with an fsynced append-only file in ``procs``' log
    directory, so a restart on the same port keeps the data)."""
    return _adopted(procs, RedisServer(port, procs.log(f"redis-{port}"), appendonly=appendonly))


def start_s3(procs: Processes, port: int, bucket: str) -> subprocess.Popen[bytes]:
    """A moto S3 server on 127.0.0.1:``port`` with ``bucket`` (credentials: ``AWS_ENV``),
    stopped with ``procs``."""
    return _adopted(procs, S3Server(port, procs.log(f"moto-{port}"), bucket=bucket))


def _adopted(procs: Processes, server: RedisServer | S3Server) -> subprocess.Popen[bytes]:
    server.start()
    assert server.process is not None
    return procs.adopt(server.process)


def write_section(
    name: str, text: str, figures: dict[str, Any] | None = None, others: float | None = None
) -> None:
    """Records this run of benchmark ``name``: its Markdown section ``text`` and its
    ``figures``, stamped with the command, date, machine and load (``bench/results/NAME.json``),
    then regenerates ``bench/RESULTS.md`` (every other benchmark keeps its latest result).
    ``others``: cores other processes kept busy meanwhile, when the benchmark measured it."""
    results.record(name, text, figures, others)


def row(*cells: object) -> str:
    """One row of a Markdown table."""
    return "| " + " | ".join(str(c) for c in cells) + " |"


def met(ok: bool) -> str:
    return "met" if ok else "**not met**"


def wrk(cmd: list[str]) -> tuple[dict, str]:
    """Runs wrk; (the script's ``WRK_JSON`` summary, wrk's whole output)."""
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=600).stdout
    line = next(ln for ln in out.splitlines() if ln.startswith("WRK_JSON "))
    return json.loads(line.removeprefix("WRK_JSON ")), out


def wrk_figures(stats: dict) -> dict:
    """Requests/s (all, and 2xx/3xx only), failures and latency percentiles of one wrk run."""
    seconds = stats["duration_us"] / 1e6
    socket_errors = sum(
        stats[k] for k in ("connect_errors", "read_errors", "write_errors", "timeouts")
    )
    ok = stats["requests"] - stats["non_2xx_3xx"] - socket_errors
    return {
        "requests": stats["requests"],
        "seconds": round(seconds, 2),
        "rps": round(stats["requests"] / seconds, 1),
        "ok_rps": round(ok / seconds, 1),
        "non_2xx_3xx": stats["non_2xx_3xx"],
        "socket_errors": socket_errors,
        "latency_ms": {k: round(stats[f"{k}_us"] / 1000, 2) for k in ("p50", "p90", "p99", "max")},
    }


def cli(env: Mapping[str, str], command: str, action: str, *args: str) -> list[str]:
    """``ogmint COMMAND ACTION ARGS`` on the state ``env`` names (created when there is none
    yet: ``--init``); its output lines. Raises with its error output when it fails."""
    done = subprocess.run(
        [str(PYTHON), "-m", "ogmint.cli", command, action, "--init", *args],
        env=dict(env),
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    if done.returncode:
        raise RuntimeError(f"ogmint {command} {action} failed: {done.stderr[-2000:]}")
    return done.stdout.strip().splitlines()


def api_key(env: Mapping[str, str], user: str, plan: str = "agency") -> str:
    """A new API key of ``user`` on ``plan``, made with the CLI on the state ``env`` names."""
    return cli(env, "keys", "create", "--user", user, "--plan", plan)[-1]


async def create_keys(state: Any, users: int, prefix: str, plan: str = "agency") -> list[str]:
    """One ``plan`` key for each of ``users`` users named ``{prefix}{i:05d}``, written through
    the app's own (opened) state store, 32 at a time; the keys, in user order."""
    from ogmint.domain.keys import hash_key, new_key

    limit = asyncio.Semaphore(32)

    async def create(i: int) -> str:
        key_id, key = new_key()
        async with limit:
            await state.keys.create_key(f"{prefix}{i:05d}", key_id, hash_key(key), plan)
        return key

    return list(await asyncio.gather(*(create(i) for i in range(users))))


async def redis_keys(redis_url: str, users: int, prefix: str) -> list[str]:
    """``create_keys`` on the app's Redis state at ``redis_url``."""
    from ogmint.state.redis import redis_state

    state = redis_state(redis_url, timeout=10)
    await state.open()
    try:
        return await create_keys(state, users, prefix)
    finally:
        await state.close()


def cpu_per_answer(cmd: list[str], pgid: int) -> dict:
    """One wrk run (``cmd``): its figures, and the CPU the server's process group ``pgid``
    spent per answered (non-error) request, in µs (``cpu_us_per_request``)."""
    before = group_cpu(pgid)
    stats, _ = wrk(cmd)
    cpu = group_cpu(pgid) - before
    answered = stats["requests"] - stats["non_2xx_3xx"]
    return {**wrk_figures(stats), "cpu_us_per_request": round(cpu / max(answered, 1) * 1e6, 1)}


def rotated_rounds(
    ways: tuple[str, ...], measure: Callable[[str], dict], rounds: int
) -> dict[str, list[dict]]:
    """``measure(way)`` for every way in each of ``rounds`` rounds, the order rotated per
    round so no way always runs first; the samples by way."""
    samples: dict[str, list[dict]] = {w: [] for w in ways}
    for i in range(rounds):
        k = i % len(ways)
        for way in ways[k:] + ways[:k]:
            samples[way].append(measure(way))
    return samples


def cpu_summary(samples: dict[str, list[dict]]) -> dict[str, dict[str, float]]:
    """Per way: the lowest round's CPU per request (other processes on shared cores only ever
    add to a round's CPU time), the median round's, and the median answers/s."""
    return {
        "cpu_us_per_request": {
            w: min(s["cpu_us_per_request"] for s in ss) for w, ss in samples.items()
        },
        "cpu_us_per_request_median": {
            w: statistics.median(s["cpu_us_per_request"] for s in ss) for w, ss in samples.items()
        },
        "rps": {w: statistics.median(s["ok_rps"] for s in ss) for w, ss in samples.items()},
    }


@dataclass(frozen=True)
class CpuSnapshot:
    """Wall time, CPU seconds of the whole machine, of this process and its reaped children."""

    wall: float
    machine: float
    own: float


def cpu_snapshot() -> CpuSnapshot:
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields[:8]
    t = os.times()
    own = t.user + t.system + t.children_user + t.children_system
    return CpuSnapshot(time.monotonic(), (user + nice + system + irq + softirq + steal) / HZ, own)


def others_busy(before: CpuSnapshot, after: CpuSnapshot) -> float:
    """Cores kept busy by other processes between two snapshots (children must be reaped)."""
    wall = after.wall - before.wall
    return round(((after.machine - before.machine) - (after.own - before.own)) / wall, 2)


def group_cpu(pgid: int) -> float:
    """CPU seconds used so far by the live processes of one process group."""
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # exited meanwhile
        # The command name (field 2) may hold spaces: split after its closing parenthesis.
        rest = stat.rsplit(")", 1)[1].split()
        if int(rest[2]) == pgid:  # pgrp
            total += int(rest[11]) + int(rest[12])  # utime, stime
    return total / HZ


#: The benchmarks' `blog` card: everything but the title (and what a caller adds) fixed.
BLOG_CARD = {
    "template": "blog",
    "description": "How a Rust rasteriser, a font cache and a fast PNG encoder fit.",
    "tag": "Engineering",
    "author": "Ada Lovelace",
    "palette": "midnight",
}


class BlogCards:
    """The V1 path for the `blog` card in this process (``parse_params`` → template → PNG),
    on a one-thread renderer with the bundled fonts. ``close()`` when done."""

    def __init__(self) -> None:
        # Imported here: the load benchmarks use this module without the extension built.
        from ogmint.rendering.native import Renderer, bundled_font_dirs
        from ogmint.rendering.template import load_directory

        self.renderer = Renderer(
            bundled_font_dirs(), threads=1, queue=1, max_svg_bytes=2 << 20, max_nodes=20000
        )
        self.templates = load_directory(REPO / "templates")
        self.blog = self.templates["blog"]

    def spec(self, title: str, **extra: str) -> Any:
        """The card's validated parameters (a ``RenderSpec``) with ``title`` and ``extra``."""
        from ogmint.rendering.params import parse_params

        return parse_params(
            {**BLOG_CARD, "title": title, **extra},
            strict=False,
            template_exists=self.templates.__contains__,
            resolve_font=self.renderer.resolve_family,
        )

    def layers(self, title: str) -> Any:
        """The card's background and foreground SVG and background key."""
        return self.blog.layers(self.spec(title), {}, self.renderer)

    def png(self, title: str, images: Mapping[str, bytes] | None = None, **extra: str) -> bytes:
        """The card rendered as V1 renders it."""
        from ogmint.rendering.pipeline import render_image

        return render_image(self.renderer, self.blog, self.spec(title, **extra), images or {})

    def close(self) -> None:
        self.renderer.close()
