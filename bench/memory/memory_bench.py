"""Memory under sustained unique renders: RSS of each server worker after 5,000 and after
50,000 unique V1 renders (issue 14: the later within 5 % of the earlier).

Starts ``python -m ogmint`` as ``load_v1.py`` does (2 workers, a throw-away data dir) and
drives it with wrk and ``unique_v1.lua`` (a new title on every request, palettes rotating) in
short runs until the server has answered the given number of renders, reading each worker's
``VmRSS`` from ``/proc`` at both marks. ``make bench`` runs it after the other benchmarks and
writes its own section of ``bench/RESULTS.md``.

``python -m bench.memory.memory_bench [--first 5000] [--last 50000] [--no-write]``

``--mixed`` (issue 23): 10,000 unique renders mixing sizes (``og`` to ``story`` and the
retina ``og@2x``) and formats (PNG, WebP, JPEG) with ``mixed_v1.lua``, each worker's ``VmRSS``
sampled every 1,000; recorded as ``memory-mixed`` (``--keep-buffers``: the server with
``OGMINT_RENDER_KEEP_BUFFERS=1``, recorded as ``memory-mixed-keep-buffers``).

``python -m bench.memory.memory_bench --mixed [--last 10000] [--every 1000] [--keep-buffers]
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

from bench.harness import Processes, app_env, free_port, write_section, wrk
from bench.load.load_v1 import WORKERS, wrk_command

HEADING = "## Memory over 50,000 unique renders (issue 14)"
STARTUP_TIMEOUT = 90.0
#: Seconds of each wrk run between checks of the render count.
STEP_SECONDS = 5
CONNECTIONS = 8
#: Largest growth of a worker's RSS from the first mark to the last that counts as flat.
FLAT = 0.05
MIXED_LUA = Path(__file__).with_name("mixed_v1.lua")
#: Seconds of each wrk run in the mixed run: short, so samples land near each mark.
MIXED_STEP_SECONDS = 2


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


def run(first: int = 5_000, last: int = 50_000) -> dict:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    marks: dict[int, dict[int, int]] = {}
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
                stats, _ = wrk(wrk_command(base, 1, CONNECTIONS, STEP_SECONDS))
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
        seconds = time.monotonic() - started
    growth = {
        pid: marks[last][pid] / kib - 1 for pid, kib in marks[first].items() if pid in marks[last]
    }
    return {
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
        "workers_seen": len(growth),
    }


def run_mixed(last: int = 10_000, every: int = 1_000, *, keep_buffers: bool = False) -> dict:
    """Unique renders of every size and format until ``last`` were answered, each worker's
    RSS sampled at the first count past every multiple of ``every``."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    samples: list[tuple[int, float, dict[int, int]]] = []
    with (
        tempfile.TemporaryDirectory(prefix="ogmint-bench-") as tmp,
        Processes(Path(tmp)) as procs,
    ):
        env = app_env(port, Path(tmp) / "data", WORKERS)
        if keep_buffers:
            env["OGMINT_RENDER_KEEP_BUFFERS"] = "1"
        proc, _ = procs.start_app("server", env, STARTUP_TIMEOUT)
        started = time.monotonic()
        renders = failed = step = 0
        while renders < last:
            step += 1
            cmd = [
                "wrk",
                "-t1",
                f"-c{CONNECTIONS}",
                f"-d{MIXED_STEP_SECONDS}s",
                "--timeout",
                "10s",
                "-s",
                str(MIXED_LUA),
                base,
                "--",
                f"s{step}-",
            ]
            stats, _ = wrk(cmd)
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
            before = renders
            renders += stats["requests"] - bad
            failed += bad
            if renders // every > before // every or renders >= last:
                samples.append((renders, time.monotonic() - started, _workers(proc.pid)))
        seconds = time.monotonic() - started
    pids = sorted(samples[0][2])
    return {
        "last": last,
        "every": every,
        "keep_buffers": keep_buffers,
        "renders": renders,
        "failed": failed,
        "seconds": round(seconds),
        "samples": [
            {
                "renders": n,
                "seconds": round(t),
                "rss_mib": [round(rss.get(pid, 0) / 1024, 1) for pid in pids],
            }
            for n, t, rss in samples
        ],
    }


def mixed_section(r: dict) -> str:
    samples = r["samples"]
    workers = len(samples[0]["rss_mib"])
    # Flat: from the second sample on (the caches are warm by then), each worker within FLAT.
    settled = samples[1] if len(samples) > 1 else samples[0]
    growth = [
        b / a - 1 for a, b in zip(settled["rss_mib"], samples[-1]["rss_mib"], strict=True) if a > 0
    ]
    ok = bool(growth) and max(growth) <= FLAT
    head = " | ".join(f"worker {i + 1} RSS MiB" for i in range(workers))
    rows = [
        f"| {s['renders']:,} | {s['seconds']} | "
        + " | ".join(f"{mib:.1f}" for mib in s["rss_mib"])
        + " |"
        for s in samples
    ]
    heading = f"## Memory over {r['last']:,} mixed-size, mixed-format renders (issue 23)"
    return "\n".join(
        [
            heading + (", OGMINT_RENDER_KEEP_BUFFERS=1" if r["keep_buffers"] else ""),
            "",
            "`python bench/memory_bench.py --mixed"
            + (" --keep-buffers`: `OGMINT_RENDER_KEEP_BUFFERS=1 " if r["keep_buffers"] else "`: `")
            + f"python -m ogmint` with {WORKERS} workers, wrk `-t1 -c{CONNECTIONS}` with `bench/memory/mixed_v1.lua` (every "
            "request a new title; sizes `og`, `og@2x`, `twitter`, `square`, `portrait`, `story`, "
            "`1000x500` × formats PNG, WebP, JPEG × two palettes) in "
            f"{MIXED_STEP_SECONDS} s runs until {r['last']:,} renders were answered "
            f"({r['renders']:,} in {r['seconds']} s, {r['failed']} failed); `VmRSS` of each "
            f"worker after every {r['every']:,}.",
            "",
            f"| renders | seconds | {head} |",
            "| ---: | ---: |" + " ---: |" * workers,
            *rows,
            "",
            f"Target: flat — every worker within {FLAT:.0%} of its size at "
            f"{settled['renders']:,} renders (caches warm) at the end "
            f"(worst {max(growth):+.1%}) — " + ("**met**." if ok else "**not met**."),
            "",
        ]
    )


def section(r: dict) -> str:
    worst = r["worst_growth"]
    ok = worst is not None and worst <= FLAT
    rows = [
        f"| worker {i + 1} | {a:.1f} | {b:.1f} | {b / a - 1:+.1%} |"
        for i, (a, b) in enumerate(r["rss_mib"].values())
    ]
    return "\n".join(
        [
            HEADING,
            "",
            "`.venv/bin/python -m bench.memory.memory_bench` (run by `make bench`): `python -m ogmint` "
            f"with {WORKERS} workers, wrk `-t1 -c{CONNECTIONS}` with `bench/load/unique_v1.lua` in "
            f"{STEP_SECONDS} s runs until {r['first']:,} and then {r['last']:,} unique renders "
            f"were answered ({r['renders']:,} in {r['seconds']} s, {r['failed']} failed); "
            "`VmRSS` of each worker at both marks.",
            "",
            f"| process | RSS MiB after {r['first']:,} | after {r['last']:,} | growth |",
            "| --- | ---: | ---: | ---: |",
            *rows,
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
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--mixed", action="store_true", help="every size and format (issue 23)")
    parser.add_argument("--every", type=int, default=1_000, help="--mixed: RSS sample period")
    parser.add_argument(
        "--keep-buffers", action="store_true", help="--mixed: with OGMINT_RENDER_KEEP_BUFFERS=1"
    )
    args = parser.parse_args()
    if args.mixed:
        last = args.last if args.last != 50_000 else 10_000
        mixed = run_mixed(last, args.every, keep_buffers=args.keep_buffers)
        json.dump(mixed, sys.stderr, indent=2)
        text = mixed_section(mixed)
        print(text)
        if not args.no_write:
            name = "memory-mixed-keep-buffers" if args.keep_buffers else "memory-mixed"
            write_section(name, text, mixed)
        return 0
    result = run(args.first, args.last)
    json.dump(result, sys.stderr, indent=2)
    text = section(result)
    print(text)
    if not args.no_write:
        write_section("memory", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
