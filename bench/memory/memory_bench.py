"""Memory under sustained renders: RSS of each server worker after 5,000 and after 50,000
V1 requests (issues 14 and 26: the later within 5 % of the earlier).

Starts ``python -m ogmint`` as ``load_v1.py`` does (2 workers, a throw-away data dir) and
drives it with wrk in short runs until the server has answered the given number of requests,
reading each worker's ``VmRSS`` from ``/proc`` and the caches' bytes from ``/metrics`` at both
marks. Traffic ``mixed`` (the default, ``memory_mixed.lua``): new cards over every built-in
template, size preset, format and @2x, and one request in five a repeat; ``unique``
(``unique_v1.lua``): a new `blog` card on every request. ``make bench`` runs it after the other
benchmarks and writes its own section of ``bench/RESULTS.md``.

``python -m bench.memory.memory_bench [--first 5000] [--last 50000] [--traffic mixed]
[--no-write]``
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from bench.harness import Processes, app_env, free_port, http, write_section, wrk
from bench.load.load_v1 import WORKERS

BENCH = Path(__file__).resolve().parent
SCRIPTS = {"mixed": BENCH / "memory_mixed.lua", "unique": BENCH.parent / "load" / "unique_v1.lua"}
#: Cache-bytes gauges read from /metrics at each mark (summed over the live workers).
CACHE_GAUGES = ("ogmint_render_cache_bytes", "ogmint_cache_bytes")
STARTUP_TIMEOUT = 90.0
#: Seconds of each wrk run between checks of the render count.
STEP_SECONDS = 5
CONNECTIONS = 8
#: Largest growth of a worker's RSS from the first mark to the last that counts as flat.
FLAT = 0.05


def _workers(leader: int) -> dict[int, int]:
    """RSS in KiB of each worker: the server group's processes that render (have the native
    renderer mapped; the leader and helper processes do not)."""
    rss = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == leader:
            continue
        try:
            if os.getpgid(int(entry.name)) != leader:
                continue
            if b"_native." not in (entry / "maps").read_bytes():
                continue
            status = (entry / "status").read_text()
        except (ProcessLookupError, FileNotFoundError, PermissionError):
            continue
        line = next((ln for ln in status.splitlines() if ln.startswith("VmRSS:")), None)
        if line is not None:
            rss[int(entry.name)] = int(line.split()[1])
    return rss


def _cache_bytes(base: str) -> dict[str, int]:
    """Bytes each cache holds, summed over the workers, from the server's metrics."""
    status, _, body = http(base + "/metrics")
    if status != 200:
        return {}
    return {
        s.labels["cache"]: int(s.value)
        for family in text_string_to_metric_families(body.decode())
        for s in family.samples
        if s.name in CACHE_GAUGES
    }


def run(first: int = 5_000, last: int = 50_000, traffic: str = "mixed") -> dict:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    marks: dict[int, dict[int, int]] = {}
    caches: dict[int, dict[str, int]] = {}
    command = ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{STEP_SECONDS}s", "--latency", "-s"]
    with (
        tempfile.TemporaryDirectory(prefix="ogmint-bench-") as tmp,
        Processes(Path(tmp)) as procs,
    ):
        env = app_env(port, Path(tmp) / "data", WORKERS)
        proc, _ = procs.start_app("server", env, STARTUP_TIMEOUT)
        started = time.monotonic()
        renders = failed = 0
        for mark in (first, last):
            while renders < mark:
                stats, _ = wrk([*command, str(SCRIPTS[traffic]), base])
                bad = sum(
                    stats[k]
                    for k in (
                        "non_2xx_3xx",
                        "connect_errors",
                        "read_errors",
                        "write_errors",
                        "timeouts",
                    )
                )
                renders += stats["requests"] - bad
                failed += bad
            marks[mark] = _workers(proc.pid)
            time.sleep(1.5)  # each worker reads its own caches into the metrics once a second
            caches[mark] = _cache_bytes(base)
        seconds = time.monotonic() - started
    growth = {
        pid: marks[last][pid] / kib - 1 for pid, kib in marks[first].items() if pid in marks[last]
    }
    return {
        "traffic": traffic,
        "first": first,
        "last": last,
        "renders": renders,
        "failed": failed,
        "seconds": round(seconds),
        "rss_mib": {
            str(pid): [round(marks[first][pid] / 1024, 1), round(marks[last][pid] / 1024, 1)]
            for pid in growth
        },
        "worst_growth": max(growth.values()) if growth else None,
        "cache_mib": {
            name: [round(caches[first].get(name, 0) / 2**20, 1), round(held / 2**20, 1)]
            for name, held in sorted(caches[last].items())
        },
        "workers_seen": len(growth),
    }


def section(r: dict) -> str:
    worst = r["worst_growth"]
    ok = worst is not None and worst <= FLAT
    rows = [
        f"| worker {i + 1} | {a:.1f} | {b:.1f} | {b / a - 1:+.1%} |"
        for i, (a, b) in enumerate(r["rss_mib"].values())
    ]
    cache_rows = [f"| {name} | {a:.1f} | {b:.1f} |" for name, (a, b) in r["cache_mib"].items()]
    script = SCRIPTS[r["traffic"]].relative_to(BENCH.parent.parent)
    what = (
        "new cards over every built-in template, size preset, format and @2x, one request in "
        "five a repeat"
        if r["traffic"] == "mixed"
        else "a new `blog` card on every request"
    )
    return "\n".join(
        [
            f"## Memory over {r['last']:,} {r['traffic']} V1 requests (issues 14 and 26)",
            "",
            f"`.venv/bin/python -m bench.memory.memory_bench --traffic {r['traffic']} --first "
            f"{r['first']} --last {r['last']}`: `python -m ogmint` with {WORKERS} workers, wrk "
            f"`-t1 -c{CONNECTIONS}` with `{script}` ({what}) in {STEP_SECONDS} s runs until "
            f"{r['first']:,} and then {r['last']:,} requests were answered ({r['renders']:,} in "
            f"{r['seconds']} s, {r['failed']} failed); `VmRSS` of each worker at both marks, and "
            "the bytes each cache holds (`ogmint_render_cache_bytes`, `ogmint_cache_bytes` on "
            "`/metrics`, summed over the workers).",
            "",
            f"| process | RSS MiB after {r['first']:,} | after {r['last']:,} | growth |",
            "| --- | ---: | ---: | ---: |",
            *rows,
            "",
            f"| cache | MiB after {r['first']:,} | after {r['last']:,} |",
            "| --- | ---: | ---: |",
            *cache_rows,
            "",
            f"Target: every worker within {FLAT:.0%} of its size at the first mark — "
            + ("**met**." if ok else "**not met**."),
            "",
        ]
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--first", type=int, default=5_000)
    parser.add_argument("--last", type=int, default=50_000)
    parser.add_argument("--traffic", choices=sorted(SCRIPTS), default="mixed")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    result = run(args.first, args.last, args.traffic)
    json.dump(result, sys.stderr, indent=2)
    text = section(result)
    print(text)
    if not args.no_write:
        write_section("memory", text, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
