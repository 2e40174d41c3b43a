"""Load benchmark: unique V1 renders per second from the real server, driven by wrk on loopback.

Starts ``python -m ogmint`` (2 workers, a throw-away data dir, the anonymous daily limit out of
the way), waits for ``/healthz``, warms it up, runs wrk with ``unique_v1.lua`` (every request a
different title, so every 200 is a real render) and stops the server's process group.

``python -m bench.load.load_v1 [--duration 15] [--connections 8]`` prints the figures as JSON and
records them (section ``load-v1``).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from bench.harness import (
    REPO,
    Processes,
    app_env,
    free_port,
    http,
    met,
    row,
    write_section,
    wrk,
)

LUA = Path(__file__).resolve().with_name("unique_v1.lua")
WORKERS = 2
STARTUP_TIMEOUT = 90.0
WARMUP_SECONDS = 3


def wrk_command(base: str, threads: int, connections: int, seconds: int) -> list[str]:
    return [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--latency",
        "-s",
        str(LUA),
        base,
    ]


def run(
    duration: int = 15, threads: int = 1, connections: int = 8, warmup: int = WARMUP_SECONDS
) -> dict:
    """Runs the server under wrk and returns requests/s, errors and latency percentiles."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with (
        tempfile.TemporaryDirectory(prefix="ogmint-bench-") as tmp,
        Processes(Path(tmp)) as procs,
    ):
        env = app_env(port, Path(tmp) / "data", WORKERS)
        _, startup_s = procs.start_app("server", env, STARTUP_TIMEOUT)
        status, ctype, body = http(base + "/api/og?template=blog&title=Warm%20up&author=Ada")
        if status != 200 or not body.startswith(b"\x89PNG"):
            raise RuntimeError(f"V1 render failed: {status} {ctype} {body[:200]!r}")
        wrk(wrk_command(base, threads, connections, warmup))  # fonts, caches, JIT-free
        cmd = wrk_command(base, threads, connections, duration)
        stats, text = wrk(cmd)

    seconds = stats["duration_us"] / 1e6
    failed = (
        stats["non_2xx_3xx"]
        + stats["connect_errors"]
        + stats["read_errors"]
        + stats["write_errors"]
        + stats["timeouts"]
    )
    return {
        "command": " ".join(cmd)
        .replace(str(REPO) + "/", "")
        .replace(base, "http://127.0.0.1:PORT"),
        "workers": WORKERS,
        "connections": connections,
        "threads": threads,
        "warmup_s": warmup,
        "startup_s": round(startup_s, 2),
        "sample_png_bytes": len(body),
        "requests": stats["requests"],
        "seconds": round(seconds, 2),
        "ok": stats["requests"] - stats["non_2xx_3xx"],
        "non_2xx_3xx": stats["non_2xx_3xx"],
        "socket_errors": failed - stats["non_2xx_3xx"],
        "rps_total": round(stats["requests"] / seconds, 1),
        "unique_renders_per_s": round((stats["requests"] - failed) / seconds, 1),
        "latency_ms": {k: round(stats[f"{k}_us"] / 1000, 1) for k in ("p50", "p90", "p99", "max")},
        "wrk_output": text.strip(),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=15)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--warmup", type=int, default=WARMUP_SECONDS, help="seconds")
    args = parser.parse_args()
    result = run(args.duration, args.threads, args.connections, args.warmup)
    json.dump(result, sys.stdout, indent=2)
    print()
    write_section("load-v1", section(result), result)
    return 0


#: Issue 26's V1 target on the embedded default (issue 2 asked ≥ 150/s, issue 14 ≥ 750/s).
TARGET_RPS = 1000


def section(load: dict) -> str:
    """The ``load-v1`` section of RESULTS.md."""
    rps = load["unique_renders_per_s"]
    return "\n".join(
        [
            "## V1 under load (real server, unique renders)",
            "",
            f"`python -m ogmint` with {load['workers']} workers (default 2 render threads each), "
            "a temporary data dir and `OGMINT_ANONYMOUS_DAILY_LIMIT=100000000`; wrk on 127.0.0.1 "
            "with `bench/load/unique_v1.lua`, which gives every request its own title (counter + "
            "wrk thread id) and rotates palettes, so each 200 is one real render. After a "
            f"{load['warmup_s']} s warm-up, {load['seconds']} s measured with `{load['command']}`. "
            "wrk shares the two cores with the server.",
            "",
            row("figure", "value"),
            row("---", "---:"),
            row("unique renders/s (200s only)", f"**{rps}**"),
            row(f"target (issue 26): ≥ {TARGET_RPS:,}/s", met(rps >= TARGET_RPS)),
            row("requests", load["requests"]),
            row("non-2xx/3xx responses", load["non_2xx_3xx"]),
            row("socket errors (connect/read/write/timeout)", load["socket_errors"]),
            row("latency p50 ms", load["latency_ms"]["p50"]),
            row("latency p90 ms", load["latency_ms"]["p90"]),
            row("latency p99 ms", load["latency_ms"]["p99"]),
            row("PNG bytes of a sample card", f"{load['sample_png_bytes']:,}"),
            row("server start to healthy, s", load["startup_s"]),
            "",
            "<details><summary>wrk output</summary>",
            "",
            "```",
            load["wrk_output"],
            "```",
            "",
            "</details>",
        ]
    )


if __name__ == "__main__":
    sys.exit(main())
