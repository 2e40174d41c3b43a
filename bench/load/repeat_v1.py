"""What the V1 repeat cache costs and saves: server CPU per request, with and without it.

Starts two ``python -m ogmint`` servers (embedded SQLite + local files, 2 workers each), one
with the repeat cache (``OGMINT_REPEAT_CACHE_BYTES`` default) and one without (``0``), and
drives them in turn over several rounds: unique cards (``unique_v1.lua``: every 200 is a real
render, which the cache also saves — its cost), and, on the server with the cache, one card
fetched again and again without ``If-None-Match`` (every 200 a repeat, from a worker's memory)
and revalidated with it (every answer a 304: the floor of a V1 request). Server CPU comes from
``/proc`` for each server's process group; figures are the lowest round (other processes only
add to it) and the median.

``python -m bench.load.repeat_v1 [--rounds 4] [--duration 4] [--write]`` prints JSON;
``--write`` records it (section ``repeat-v1``; ``make bench`` passes it).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
import tempfile
import urllib.request
from pathlib import Path

from bench.harness import (
    Processes,
    app_env,
    cpu_per_answer,
    cpu_summary,
    free_port,
    rotated_rounds,
    write_section,
)

BENCH = Path(__file__).resolve().parent
HEADING = "## V1 repeat cache: renders, repeats and revalidations"
WORKERS = 2
CARD = "/api/og?template=blog&title=Fetched%20again%20and%20again&author=Ada%20Lovelace"
WAYS = ("render_cached", "render_uncached", "repeat", "revalidate")
_RUNS = itertools.count()


def _measure(base: str, pgid: int, way: str, etag: str, seconds: int) -> dict:
    cmd = ["wrk", "-t1", "-c8", f"-d{seconds}s", "--latency", "-s"]
    if way.startswith("render"):  # a fresh title prefix per run: no card is ever repeated
        cmd += [str(BENCH / "unique_v1.lua"), base, "--", f"{next(_RUNS)}-"]
    else:  # fixed_304.lua sends If-None-Match: "-" never matches, so every answer is a 200
        cmd += [
            str(BENCH / "fixed_304.lua"),
            base,
            "--",
            CARD,
            etag if way == "revalidate" else "-",
        ]
    return cpu_per_answer(cmd, pgid)


def run(rounds: int = 4, duration: int = 4) -> dict:
    load_before = os.getloadavg()
    with (
        tempfile.TemporaryDirectory(prefix="ogmint-bench-") as tmp,
        Processes(Path(tmp)) as procs,
    ):
        servers = {}
        for name, cache in (("cached", None), ("uncached", "0")):
            port = free_port()
            env = app_env(port, Path(tmp) / f"data-{name}", WORKERS)
            if cache is not None:
                env["OGMINT_REPEAT_CACHE_BYTES"] = cache
            proc, _ = procs.start_app(name, env, 90)
            base = f"http://127.0.0.1:{port}"
            servers[name] = (base, proc.pid)
        base, _ = servers["cached"]
        with urllib.request.urlopen(base + CARD) as r:
            etag = r.headers["ETag"]
        target = {
            "render_cached": servers["cached"],
            "render_uncached": servers["uncached"],
            "repeat": servers["cached"],
            "revalidate": servers["cached"],
        }
        for way in WAYS:  # warm-up: fonts, caches, connections
            _measure(*target[way], way, etag, 1)
        samples = rotated_rounds(
            WAYS, lambda way: _measure(*target[way], way, etag, duration), rounds
        )
    failed = {w: sum(s["non_2xx_3xx"] + s["socket_errors"] for s in samples[w]) for w in WAYS}
    return {
        "workers": WORKERS,
        "rounds": rounds,
        "duration": duration,
        **cpu_summary(samples),
        "failed": failed,
        "load_average": [round(x, 2) for x in load_before] + [round(x, 2) for x in os.getloadavg()],
        "samples": samples,
    }


def section(r: dict) -> str:
    m, med, rps = r["cpu_us_per_request"], r["cpu_us_per_request_median"], r["rps"]
    rows = [
        ("unique cards, repeat cache on (each render also saved)", "render_cached"),
        ("unique cards, repeat cache off (`OGMINT_REPEAT_CACHE_BYTES=0`)", "render_uncached"),
        ("one card again and again: repeats", "repeat"),
        ("one card revalidated (`If-None-Match` → 304)", "revalidate"),
    ]
    lines = [
        HEADING,
        "",
        "Two app",
        f"servers (embedded SQLite, local files, {r['workers']} workers each), one with the",
        "repeat cache and one without, driven in turn (order rotated per round) with",
        f"`wrk -t1 -c8 -d{r['duration']}s`: unique cards (`bench/load/unique_v1.lua`) on both, and one",
        "fixed card (`bench/load/fixed_304.lua`) without and with a matching `If-None-Match`; each",
        "run's unique titles have a prefix of their own, so no run repeats another's cards.",
        "Server CPU is each server's process group's utime + stime from `/proc` per answered",
        "request: the lowest round and the median. Load average (1/5/15 min) at start",
        f"{' / '.join(map(str, r['load_average'][:3]))}, at end"
        f" {' / '.join(map(str, r['load_average'][3:]))}: other engineers' runs share the 2 cores,"
        " so compare the rows with each other, not with other runs.",
        "",
        "| requests | server CPU per request (lowest round) | median round | answers/s | failed |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for label, way in rows:
        lines.append(
            f"| {label} | {m[way]:.0f} µs | {med[way]:.0f} µs | {rps[way]:.0f} | {r['failed'][way]} |"
        )
    lines += [
        "",
        f"Saving renders for repeats costs {m['render_cached'] / m['render_uncached']:.2f}x the CPU",
        "of a render without the cache (a blob write and an index row, after the response);",
        f"a repeat costs {m['repeat'] / m['render_uncached']:.3f}x a render",
        f"({m['repeat'] / m['revalidate']:.2f}x a 304 revalidation). A render's extra cost is",
        "the index lookup that misses, then, after the response, a blob write (no sync: a",
        "cached copy) and one SQLite transaction. With the durable put (`syncfs`) the ratio",
        "measured the same within noise (1.23x vs 1.22x): the cost is the two state round trips.",
        "",
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--duration", type=int, default=4)
    parser.add_argument("--write", action="store_true", help="record the result (RESULTS.md)")
    args = parser.parse_args()
    result = run(args.rounds, args.duration)
    print(json.dumps({k: v for k, v in result.items() if k != "samples"}, indent=2))
    if args.write:
        write_section("repeat-v1", section(result), result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
