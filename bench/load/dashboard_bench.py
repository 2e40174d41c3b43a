"""Dashboard figures: server time of the Renders and Usage pages for a user with 10,000 renders
this month, and the CPU render tracking adds to a render (issue 12).

Run with ``make bench-dashboard``; it rewrites only its own section of ``bench/RESULTS.md``
(which ``make bench`` keeps).
"""

from __future__ import annotations

import asyncio
import os
import re
import statistics
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from datetime import UTC, datetime, timedelta
from http.cookiejar import CookieJar
from pathlib import Path

import redis

from bench.harness import Processes, cli, free_port, http, start_redis, write_section
from ogmint.domain.usage import Usage
from ogmint.state.redis import redis_state
from ogmint.state.renders import RenderRecord
from ogmint.state.sqlite import sqlite_state
from ogmint.state.store import State
from ogmint.state.usage import Retention, TrackedRender

RENDERS = 10_000
PAGE_ROUNDS = 40
CPU_CALLS = 300
CPU_ROUNDS = 15
USER = "bench"
PASSWORD = "benchmark passphrase"


def _month_renders(n: int) -> list[TrackedRender]:
    """``n`` renders spread over this month so far, oldest first; two V2 for every V1."""
    now = datetime.now(UTC)
    first = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    span = (now - first).total_seconds()
    out = []
    for i in range(n):
        at = first + timedelta(seconds=span * i / n)
        kind = "v1" if i % 3 == 0 else "v2"
        stamp = at.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        slug = "" if kind == "v1" else f"b{i:07d}"
        out.append(TrackedRender(stamp, kind, "blog", f"Bench render {i}", 200, slug))  # type: ignore[arg-type]
    return out


async def _fill(state: State, retention: Retention) -> None:
    await state.open()
    try:
        for render in _month_renders(RENDERS):
            await state.usage.track(USER, render, retention)
    finally:
        await state.close()


class _Browser:
    """A signed-in visitor without JavaScript: cookies kept, redirects not followed."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.open = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(CookieJar())
        ).open

    def page(self, path: str) -> bytes:
        with self.open(self.base + path, timeout=30) as r:
            return bytes(r.read())

    def form(self, path: str, fields: dict[str, str]) -> None:
        token = re.search(rb'name="csrf" value="([^"]+)"', self.page(path))
        assert token, path
        body = urllib.parse.urlencode({**fields, "csrf": token.group(1).decode()}).encode()
        with self.open(self.base + path, body, timeout=30) as r:
            r.read()


def _median_ms(fetch: object, rounds: int) -> float:
    assert callable(fetch)
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        fetch()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def _pages(procs: Processes, env: dict[str, str], data: Path) -> dict[str, float]:
    """Median milliseconds per page (and of /healthz, the baseline) on a real server."""
    port = free_port()
    env = {**env, "OGMINT_PORT": str(port), "OGMINT_DATA_DIR": str(data)}
    env.setdefault("OGMINT_HOST", "127.0.0.1")
    out = cli(env, "users", "create", USER, "--email", "b@example.com")
    link = urllib.parse.urlsplit(out[-1]).path
    server, _ = procs.start_app(f"dashboard-{port}", env, 60)
    base = f"http://127.0.0.1:{port}"
    b = _Browser(base)
    b.form(link, {"password": PASSWORD})
    b.form("/dashboard/sign-in", {"email": "b@example.com", "password": PASSWORD})
    assert b"Bench render" in b.page("/dashboard/renders")
    figures = {
        "healthz": _median_ms(lambda: http(base + "/healthz"), PAGE_ROUNDS),
        "sign_in": _median_ms(lambda: b.page("/dashboard/sign-in"), PAGE_ROUNDS),
        "renders": _median_ms(lambda: b.page("/dashboard/renders"), PAGE_ROUNDS),
        "usage": _median_ms(lambda: b.page("/dashboard/usage"), PAGE_ROUNDS),
    }
    procs.stop(server)
    return figures


def _redis_cpu(url: str) -> float:
    """Seconds of CPU the Redis server has used (user + system)."""
    info = redis.Redis.from_url(url).info("cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


async def _cpu_us(state: State, redis_url: str | None) -> dict[str, float]:
    """CPU (µs) tracking adds to each render step: the step with tracking minus the same step
    without, in interleaved batches (median of batches); app process and Redis server apart."""
    await state.open()
    usage = Usage(state.usage, Retention(400, 1000))
    atomic, limits = state.atomic, state.limits
    serial = iter(range(10**9))
    hit_record = record_for("hitHITHI", "hitkey")
    await atomic.save_render(hit_record)

    def slug() -> str:
        return f"s{next(serial):07d}"

    steps = {
        # (with tracking, without): one new V2 render saved, one dedup hit admitted, one V1
        # render charged.
        "v2_new": (
            lambda: atomic.save_render(
                record_for(s := slug(), "k"),
                None,
                usage.tracking("cpu", "v2", "blog", "A title", 201, s),
            ),
            lambda: atomic.save_render(record_for(slug(), "k")),
        ),
        "v2_dedup": (
            lambda: atomic.admit_render(
                "cpu",
                "hitkey",
                hit_record.dedup_key,
                quota=10**9,
                ttl=30,
                track=usage.tracking("cpu", "dedup", "blog", "A title", 200),
            ),
            lambda: atomic.admit_render("cpu", "hitkey", hit_record.dedup_key, quota=10**9, ttl=30),
        ),
        "v1": (
            lambda: atomic.charge_quota(
                "cpu", 10**9, usage.tracking("cpu", "v1", "blog", "A title", 200)
            ),
            lambda: limits.consume_quota("cpu", 10**9),
        ),
    }
    out: dict[str, float] = {}
    try:
        for name, (tracked, plain) in steps.items():
            app: dict[bool, list[float]] = {True: [], False: []}
            server: dict[bool, list[float]] = {True: [], False: []}
            for _ in range(50):  # warm-up: connections, scripts, caches
                await tracked()
                await plain()
            for _ in range(CPU_ROUNDS):
                for with_tracking, step in ((True, tracked), (False, plain)):
                    r0 = _redis_cpu(redis_url) if redis_url else 0.0
                    started = time.process_time()
                    for _ in range(CPU_CALLS):
                        await step()
                    app[with_tracking].append((time.process_time() - started) / CPU_CALLS)
                    r1 = _redis_cpu(redis_url) if redis_url else 0.0
                    server[with_tracking].append((r1 - r0) / CPU_CALLS)
            # The least CPU of the batches: other processes on the machine only ever add to it.
            out[name] = (min(app[True]) - min(app[False])) * 1e6
            out[name + "_base"] = min(app[False]) * 1e6
            out[name + "_redis"] = (min(server[True]) - min(server[False])) * 1e6
    finally:
        await state.close()
    return out


def record_for(slug: str, scope: str) -> RenderRecord:
    return RenderRecord(
        slug=slug,
        user=scope,
        dedup_key="d-" + slug,
        storage_key=f"images/{slug}.png",
        etag='"e"',
        size=1000,
        template="blog",
        created_at="2026-12-01T00:00:00.000Z",
    )


def measure() -> dict[str, dict[str, float]]:
    load = {"before": os.getloadavg()[0]}
    retention = Retention(400, 1000)
    with tempfile.TemporaryDirectory() as tmp, Processes(Path(tmp)) as procs:
        root = Path(tmp)
        redis_port = free_port()
        start_redis(procs, redis_port)
        redis_url = f"redis://127.0.0.1:{redis_port}"
        asyncio.run(_fill(sqlite_state(root / "sqlite" / "ogmint.sqlite3"), retention))
        asyncio.run(_fill(redis_state(redis_url), retention))
        figures = {
            "pages_sqlite": _pages(procs, {}, root / "sqlite"),
            "pages_redis": _pages(procs, {"OGMINT_REDIS_URL": redis_url}, root / "redis"),
            "cpu_sqlite": asyncio.run(_cpu_us(sqlite_state(root / "cpu.sqlite3"), None)),
            "cpu_redis": asyncio.run(_cpu_us(redis_state(redis_url, prefix="cpu:"), redis_url)),
        }
    load["after"] = os.getloadavg()[0]
    return {**figures, "load": load}


def section(f: dict[str, dict[str, float]]) -> str:
    rows = []
    for backend in ("sqlite", "redis"):
        p = f[f"pages_{backend}"]
        for name, label in (("renders", "Renders (50 newest)"), ("usage", "Usage (month chart)")):
            rows.append(
                f"| {backend} | {label} | {p[name]:.1f} | {p[name] / p['healthz']:.1f}x "
                f"| {p[name] / p['sign_in']:.1f}x |"
            )
    cpu = []
    for backend in ("sqlite", "redis"):
        c = f[f"cpu_{backend}"]
        for name, label in (
            ("v2_new", "V2 new render (save step)"),
            ("v2_dedup", "V2 dedup hit (admit step)"),
            ("v1", "V1 render with a key (quota step)"),
        ):
            added = c[name] + (c[name + "_redis"] if backend == "redis" else 0.0)
            redis_part = f"{c[name + '_redis']:.1f}" if backend == "redis" else "—"
            verdict = "meets" if added <= 20 else "misses"
            cpu.append(
                f"| {backend} | {label} | {c[name + '_base']:.0f} | {c[name]:.1f} | {redis_part} "
                f"| {added:.1f} | {verdict} ≤ 20 µs |"
            )
    return "\n".join(
        [
            "## Dashboard (issue 12)",
            "",
            "Command: `make bench-dashboard` (`.venv/bin/python -m bench.load.dashboard_bench`); "
            f"run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; 1-minute load average "
            f"{f['load']['before']:.1f} before, {f['load']['after']:.1f} after (2 cores shared "
            "with other work: absolute figures are noisy, compare within a row).",
            "",
            f"Page time for a signed-in user with {RENDERS:,} renders tracked this month: median "
            f"of {PAGE_ROUNDS} loopback requests (one client, one worker), against `/healthz` and "
            "the stateless sign-in page in the same run.",
            "",
            "| state | page | median ms | vs `/healthz` | vs sign-in page |",
            "|---|---|---|---|---|",
            *rows,
            "",
            "CPU the tracking adds to a render: the state step a render already makes, with "
            "tracking folded in minus the same step without, run in interleaved batches "
            f"({CPU_ROUNDS} × {CPU_CALLS} calls each, least CPU of the batches); app process CPU "
            "and, on Redis, "
            "the Redis server's CPU (INFO cpu) apart.",
            "",
            "| state | render (step) | step µs app CPU | + tracking, app µs | + tracking, Redis µs "
            "| added µs | target |",
            "|---|---|---|---|---|---|---|",
            *cpu,
        ]
    )


def main() -> None:
    text = section(measure())
    write_section("dashboard", text)
    print(text)


if __name__ == "__main__":
    sys.exit(main())
