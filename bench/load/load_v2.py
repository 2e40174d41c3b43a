"""Load benchmark of V2 on the scale-out backends: stored images, dedup hits and unique renders.

Starts a real ``redis-server`` (loopback, no persistence), a moto S3 server with a bucket, and
``python -m ogmint`` with 2 workers on them; creates ``USERS`` users with one ``agency`` key each
straight through the app's own Redis state (the burst limit is 5 requests/s per user,
so throughput needs many users); pre-renders one card for each of the first ``DEDUP_KEYS`` keys.
Then, each for ``--duration`` seconds after a short warm-up, wrk on 127.0.0.1 drives:

- the ceiling: ``bench/load/ceiling_app.py``, bare Sanic with the same workers, a fixed 40 KB body,
  and the same with a body as large as a stored image (run last, alone);
- ``GET /i/{slug}`` over ``IMAGES`` stored images;
- V2 dedup hits: every (key, body) pair already rendered for that key (200, ``cached``);
- V2 unique renders: a new title per request, rotating over every key (201);
- V1 unique renders in the same server (anonymous), the same card with new titles.

Every process started here is stopped (its process group) when the run ends, failed or not.

``python -m bench.load.load_v2 [--duration 10] [--connections 32]`` prints the figures as JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import orjson

from bench.harness import (
    AWS_ENV,
    PYTHON,
    REPO,
    Processes,
    app_env,
    cpu_snapshot,
    free_port,
    group_cpu,
    http,
    met,
    redis_keys,
    row,
    start_redis,
    start_s3,
    write_section,
    wrk,
    wrk_figures,
)

BENCH = Path(__file__).resolve().parent
LUA = BENCH / "load_v2.lua"
CEILING_APP = BENCH / "ceiling_app.py"
WORKERS = 2
USERS = 4000
#: Keys with a pre-rendered card: each gets ``rps / DEDUP_KEYS`` requests/s of the dedup run,
#: which must stay under the 5/s burst limit.
DEDUP_KEYS = 4000
#: Keys the render phases rotate over: each user stays well under the 5/s burst limit at these
#: rates and is seen often enough for the per-worker key cache (``OGMINT_KEY_CACHE_TTL``) to
#: hold it, as with real API clients; over all 4000 keys nearly every request would look its
#: key up in Redis, a cost of the benchmark's key rotation rather than of rendering.
RENDER_USERS = 400
IMAGES = 50
WARMUP_SECONDS = 2
PRERENDER_CONCURRENCY = 16
STARTUP_TIMEOUT = 90.0
BUCKET = "ogmint-bench"
REGION = "us-east-1"  # moto's (testbed.processes.S3_REGION)
#: The monthly quota out of the way: the agency plan is what the bench users get.
PLAN_QUOTAS = "free=100,starter=1000,pro=10000,agency=100000000"
PALETTES = ("midnight", "paper", "forest", "sunset", "ocean")


def _card(i: int) -> bytes:
    return orjson.dumps(
        {
            "template": "blog",
            "title": f"Dedup card {i}: rendered once, asked for again",
            "author": "Ada Lovelace",
            "palette": PALETTES[i % len(PALETTES)],
        }
    )


def _render(base: str, key: str, body: bytes) -> tuple[int, dict]:
    status, _, reply = http(
        base + "/api/v2/render",
        "POST",
        body,
        {"x-api-key": key, "content-type": "application/json"},
    )
    return status, orjson.loads(reply) if reply.startswith(b"{") else {}


def _prerender(base: str, keys: list[str]) -> list[str]:
    """Renders ``_card(i)`` for ``keys[i]``; the slugs, in order."""

    def one(i: int) -> str:
        status, reply = _render(base, keys[i], _card(i))
        if status != 201:
            raise RuntimeError(f"pre-render {i} answered {status}: {reply}")
        return str(reply["slug"])

    with ThreadPoolExecutor(PRERENDER_CONCURRENCY) as pool:
        return list(pool.map(one, range(len(keys))))


def _wrk_command(
    base: str, threads: int, connections: int, seconds: int, script: Path, *args: str
) -> list[str]:
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency"]
    cmd += ["-s", str(script), base]
    return [*cmd, "--", *args] if args else cmd


class _Phase:
    """Runs one wrk measurement and accounts for the CPU it took, by process group."""

    def __init__(self, groups: dict[str, int], tmp: Path, warmup: int) -> None:
        self.groups = groups
        self.tmp = tmp
        self.warmup = warmup

    def measure(self, cmd: list[str], base: str) -> dict:
        wrk([f"-d{self.warmup}s" if a.startswith("-d") else a for a in cmd])
        before = {name: group_cpu(pgid) for name, pgid in self.groups.items()}
        t0, cpu0 = os.times(), cpu_snapshot()
        stats, text = wrk(cmd)
        t1, cpu1 = os.times(), cpu_snapshot()
        after = {name: group_cpu(pgid) for name, pgid in self.groups.items()}
        wall = cpu1.wall - cpu0.wall
        cores = {name: round((after[name] - before[name]) / wall, 2) for name in self.groups}
        cores["wrk"] = round(
            (t1.children_user + t1.children_system - t0.children_user - t0.children_system) / wall,
            2,
        )
        this = t1.user + t1.system - t0.user - t0.system
        busy = (cpu1.machine - cpu0.machine) / wall
        cores["others"] = round(busy - sum(cores.values()) - this / wall, 2)
        cores["machine"] = round(busy, 2)
        return {
            **wrk_figures(stats),
            # Counted by load_v2.lua's POST modes only.
            "status": {
                code: stats.get(f"status_{code}") for code in ("200", "201", "429", "503", "other")
            },
            "cores": cores,
            "command": _shown(cmd, base, self.tmp),
            "wrk_output": text.strip(),
        }


def _shown(cmd: list[str], base: str, tmp: Path) -> str:
    """The command as the report shows it: repo-relative, without this run's port and temp dir."""
    return (
        " ".join(cmd)
        .replace(str(REPO) + "/", "")
        .replace(base, "http://127.0.0.1:PORT")
        .replace(str(tmp), "$TMP")
    )


def _ceiling(
    procs: Processes,
    tmp: Path,
    threads: int,
    connections: int,
    duration: int,
    sized: int,
    warmup: int,
) -> tuple[dict, dict]:
    """The bare-Sanic ceiling: (40 KB body, ``sized``-byte body)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    args = [str(PYTHON), str(CEILING_APP), str(port), str(WORKERS), str(sized)]
    proc = procs.start("ceiling", args)
    try:
        procs.wait_until("ceiling", proc, lambda: http(base + "/")[0] == 200, STARTUP_TIMEOUT)
        phase = _Phase({"server": proc.pid}, tmp, warmup)
        results = []
        for path in ("/", "/sized"):
            paths = tmp / f"ceiling-{path.strip('/') or 'root'}.txt"
            paths.write_text(path + "\n")
            cmd = _wrk_command(base, threads, connections, duration, LUA, "get", str(paths))
            results.append(phase.measure(cmd, base))
        return results[0], results[1]
    finally:
        procs.stop(proc)


def run(
    duration: int = 10,
    threads: int = 1,
    connections: int = 32,
    render_connections: int = 8,
    storage: str = "local",
    users: int = USERS,
    warmup: int = WARMUP_SECONDS,
) -> dict:
    """Measures the ceiling and the four ogmint paths; returns their figures and ratios.

    State is always Redis. Images go to local disk by default: a moto S3 server on this
    2-core machine would itself take about half a core, which real S3 does not; ``storage="s3"``
    measures through moto anyway. Renders are CPU-bound, so V1 and V2 renders are both driven
    with ``render_connections`` (more connections only queue or shed with 503).
    """
    with (
        tempfile.TemporaryDirectory(prefix="ogmint-bench-v2-") as tmp_name,
        Processes(Path(tmp_name)) as procs,
    ):
        tmp = Path(tmp_name)
        dedup_keys, render_users = min(DEDUP_KEYS, users), min(RENDER_USERS, users)
        image_count = min(IMAGES, dedup_keys)
        redis_port, moto_port, port = free_port(), free_port(), free_port()
        redis = start_redis(procs, redis_port)
        moto = start_s3(procs, moto_port, BUCKET) if storage == "s3" else None
        redis_url = f"redis://127.0.0.1:{redis_port}/0"
        base = f"http://127.0.0.1:{port}"
        env = app_env(
            port,
            tmp / "data",
            WORKERS,
            **AWS_ENV,
            OGMINT_REDIS_URL=redis_url,
            OGMINT_PLAN_QUOTAS=PLAN_QUOTAS,
            OGMINT_IMAGE_RATE_LIMIT="0",  # wrk fetches /i/ from one address, with no nginx
        )
        if moto is not None:
            env |= {
                "OGMINT_S3_BUCKET": BUCKET,
                "OGMINT_S3_ENDPOINT": f"http://127.0.0.1:{moto_port}",
                "OGMINT_S3_REGION": REGION,
            }
        started = time.monotonic()
        keys = asyncio.run(redis_keys(redis_url, users, "bench-"))
        keys_s = time.monotonic() - started
        server, startup_s = procs.start_app("ogmint", env, STARTUP_TIMEOUT)

        started = time.monotonic()
        slugs = _prerender(base, keys[:dedup_keys])
        prerender_s = time.monotonic() - started

        status, reply = _render(base, keys[0], _card(0))
        if status != 200 or reply.get("cached") is not True:
            raise RuntimeError(f"dedup check answered {status}: {reply}")
        status, ctype, png = http(f"{base}/i/{slugs[0]}")
        if status != 200 or ctype != "image/png":
            raise RuntimeError(f"/i/ check answered {status} {ctype}")

        files = {
            "images": "\n".join(f"/i/{s}" for s in slugs[:image_count]),
            "dedup": "\n".join(f"{keys[i]}\t{_card(i).decode()}" for i in range(dedup_keys)),
            "keys": "\n".join(keys[:render_users]),
        }
        for name, text in files.items():
            (tmp / f"{name}.txt").write_text(text + "\n")

        groups = {"server": server.pid, "redis": redis.pid}
        if moto is not None:
            groups["moto"] = moto.pid
        phase = _Phase(groups, tmp, warmup)

        def cmd(script: Path, *args: str, conns: int = connections) -> list[str]:
            return _wrk_command(base, threads, conns, duration, script, *args)

        results = {
            "images": phase.measure(cmd(LUA, "get", str(tmp / "images.txt")), base),
            "dedup": phase.measure(cmd(LUA, "dedup", str(tmp / "dedup.txt")), base),
            "v2_unique": phase.measure(
                cmd(LUA, "unique", str(tmp / "keys.txt"), conns=render_connections), base
            ),
            "v1_unique": phase.measure(cmd(LUA, "v1", conns=render_connections), base),
            "v1_key_unique": phase.measure(
                cmd(LUA, "v1key", str(tmp / "keys.txt"), conns=render_connections), base
            ),
        }
        # The ceiling last, alone on the machine: every other process is stopped first.
        for proc in (server, moto, redis):
            if proc is not None:
                procs.stop(proc)
        ceiling, ceiling_sized = _ceiling(
            procs, tmp, threads, connections, duration, len(png), warmup
        )

    ok = {
        "ceiling": ceiling["ok_rps"],
        "ceiling_sized": ceiling_sized["ok_rps"],
        "images": results["images"]["ok_rps"],
        "dedup": round(results["dedup"]["status"]["200"] / results["dedup"]["seconds"], 1),
        "v2_unique": round(
            results["v2_unique"]["status"]["201"] / results["v2_unique"]["seconds"], 1
        ),
        "v1_unique": round(
            results["v1_unique"]["status"]["200"] / results["v1_unique"]["seconds"], 1
        ),
        "v1_key_unique": round(
            results["v1_key_unique"]["status"]["200"] / results["v1_key_unique"]["seconds"], 1
        ),
    }
    return {
        "storage": storage,
        "render_connections": render_connections,
        "workers": WORKERS,
        "users": users,
        "render_users": render_users,
        "dedup_keys": dedup_keys,
        "image_count": image_count,
        "image_bytes": len(png),
        "warmup_s": warmup,
        "connections": connections,
        "startup_s": round(startup_s, 2),
        "keys_s": round(keys_s, 2),
        "prerender_s": round(prerender_s, 2),
        "ceiling": ceiling,
        "ceiling_sized": ceiling_sized,
        **results,
        "ok_rps": ok,
        "ratios": {
            "dedup_over_ceiling": round(ok["dedup"] / ok["ceiling"], 3),
            "images_over_ceiling": round(ok["images"] / ok["ceiling"], 3),
            "images_over_sized_ceiling": round(ok["images"] / ok["ceiling_sized"], 3),
            "v2_over_v1_unique": round(ok["v2_unique"] / ok["v1_unique"], 2),
            "v2_over_v1_key_unique": round(ok["v2_unique"] / ok["v1_key_unique"], 2),
        },
    }


#: (result key, label, which answers count as done)
V2_PATHS = (
    ("ceiling", "ceiling: bare Sanic, fixed 40 KB", "2xx"),
    ("ceiling_sized", "ceiling: bare Sanic, image-sized body", "2xx"),
    ("images", "`GET /i/{slug}`", "2xx"),
    ("dedup", "V2 dedup hit", "200 cached"),
    ("v2_unique", "V2 unique render", "201"),
    ("v1_unique", "V1 unique render (anonymous)", "200"),
    ("v1_key_unique", "V1 unique render (with an API key)", "200"),
)


def cpu_per_request(load: dict, key: str, rps: float) -> float:
    """Milliseconds of server + Redis CPU per counted answer of one phase."""
    cores = load[key]["cores"]
    return (cores.get("server", 0) + cores.get("redis", 0)) / rps * 1000 if rps else 0.0


def targets(load: dict) -> list[str]:
    """Issues 3 and 26's targets against this run."""
    v2 = load["ratios"]
    rows = (
        (
            "3",
            "V2 dedup hits/s / 40 KB ceiling",
            "≥ 25%",
            f"{v2['dedup_over_ceiling']:.1%}",
            v2["dedup_over_ceiling"] >= 0.25,
        ),
        (
            "3",
            "`GET /i/{slug}`/s / 40 KB ceiling",
            "≥ 50%",
            f"{v2['images_over_ceiling']:.1%}",
            v2["images_over_ceiling"] >= 0.50,
        ),
        (
            "3",
            "V2 unique renders/s / V1 unique renders/s",
            "≥ 1x",
            f"{v2['v2_over_v1_unique']:g}x",
            v2["v2_over_v1_unique"] >= 1.0,
        ),
        (
            "26",
            "V2 unique renders/s / V1 with a key",
            "≥ 0.9x",
            f"{v2['v2_over_v1_key_unique']:g}x",
            v2["v2_over_v1_key_unique"] >= 0.9,
        ),
    )
    return [
        row("issue", "target", "wanted", "this run", "met?"),
        row("---", "---", "---:", "---:", "---"),
        *(row(f"#{i}", label, want, got, met(ok)) for i, label, want, got, ok in rows),
    ]


def section(load: dict) -> str:
    """The ``load-v2`` section of RESULTS.md."""
    ratios = load["ratios"]
    ok = load["ok_rps"]

    def refused(r: dict) -> str:
        status = r["status"]
        if not any(status.values()):  # load_v2.lua counts statuses in its POST modes only
            return str(r["non_2xx_3xx"] + r["socket_errors"])
        return f"{r['non_2xx_3xx']} ({status['429']} / {status['503']} / {status['other']})"

    def cores(r: dict) -> str:
        c = r["cores"]
        return " / ".join(str(c.get(k, "–")) for k in ("server", "redis", "moto", "wrk", "others"))

    return "\n".join(
        [
            "## V2 under load (Redis backend)",
            "",
            *targets(load),
            "",
            "`bench/load/load_v2.py` starts `redis-server` (loopback, no persistence) and `python -m ogmint`",
            f"with {load['workers']} workers on it, images on local disk (`--storage s3` puts them in a",
            "moto S3 server instead, which on this 2-core machine itself burns about half a core that",
            "real S3 would not). Quotas are out of the way (`agency=100000000`; anonymous V1 limit",
            "likewise). The burst limit is 5",
            f"requests/s per user, so it creates {load['users']} users with one `agency` key each",
            f"through the app's own Redis state ({load['keys_s']} s), then pre-renders one card",
            f"for each of the first {load['dedup_keys']} keys through V2 ({load['prerender_s']} s).",
            "wrk drives 127.0.0.1 with `bench/load/load_v2.lua`; each measurement gets a",
            f"{load['warmup_s']} s warm-up, then {load['ceiling']['seconds']:.0f} s measured with "
            f"`-t1 -c{load['connections']}` (renders, V1 and V2 alike, with `-c{load['render_connections']}`: they",
            "are CPU-bound, so more connections would only queue or be shed with 503):",
            "",
            "- ceiling: `bench/load/ceiling_app.py`, bare Sanic (same version, same worker count) answering",
            "  a fixed 40 KB body, and again with a body as large as the stored image — run last,",
            "  after every other process is stopped;",
            f"- `GET /i/{{slug}}` rotating over {load['image_count']} stored images of about "
            f"{load['image_bytes']:,} bytes",
            "  (more bytes per answer than the ceiling's 40 KB);",
            f"- V2 dedup hits: `POST /api/v2/render` rotating over the {load['dedup_keys']} (key, body)",
            "  pairs already rendered, each answered `200` with `cached: true`;",
            f"- V2 unique renders: a new title per request, rotating over the first {load['render_users']} keys",
            "  (201): each user stays under its burst limit and, like a real API client, is seen often",
            "  enough for the per-worker key cache to hold its key;",
            "- V1 unique renders: `GET /api/og`, anonymous, the same card with new titles (200), and",
            "  again with an `x-api-key` rotating over the same keys as V2 (burst limit and monthly",
            "  quota charged, as for V2).",
            "",
            "Requests/s counts only the answers named in the third column; refused answers (429 / 503",
            "/ other) are cheap and would flatter the figure. Cores = CPU time of each process group",
            "(server = the app's main process and workers) / wall time during the measurement;",
            "`others` is the rest of the machine.",
            "",
            row(
                "path",
                "counts",
                "requests/s",
                "all answers/s",
                "p50 ms",
                "p99 ms",
                "non-2xx (429 / 503 / other)",
                "cores: server / redis / moto / wrk / others",
            ),
            row("---", "---", "---:", "---:", "---:", "---:", "---:", "---"),
            *(
                row(
                    label,
                    counts,
                    f"**{ok[key]}**",
                    load[key]["rps"],
                    load[key]["latency_ms"]["p50"],
                    load[key]["latency_ms"]["p99"],
                    refused(load[key]),
                    cores(load[key]),
                )
                for key, label, counts in V2_PATHS
            ),
            "",
            "Ratios: V2 dedup hits / ceiling = "
            f"**{ratios['dedup_over_ceiling']:.1%}**, `/i/{{slug}}` / ceiling = "
            f"**{ratios['images_over_ceiling']:.1%}**, V2 unique renders / V1 unique renders = "
            f"**{ratios['v2_over_v1_unique']:g}x** (targets: see the top); against V1 with an API key "
            f"(the same limits work as V2): **{ratios['v2_over_v1_key_unique']:g}x**.",
            "",
            "CPU per render (server and Redis cores x seconds / renders): "
            + ", ".join(
                f"{label} {cpu_per_request(load, key, ok[key]):.2f} ms"
                for key, label in (
                    ("v2_unique", "V2"),
                    ("v1_unique", "V1 anonymous"),
                    ("v1_key_unique", "V1 with a key"),
                )
            )
            + ". The same render costs both the same; V2 also writes the PNG and waits for a",
            "`syncfs` covering it and its directory entry (the 201 promises a durable image; renders",
            "finishing together share one) and records the render in Redis, work V1 does not do.",
            "",
            "Like for like (the ceiling answering as many bytes as `/i/` does): `/i/{slug}` / ceiling = "
            f"**{ratios['images_over_sized_ceiling']:.1%}**. Server start to healthy: "
            f"{load['startup_s']} s.",
            "",
            "<details><summary>wrk output</summary>",
            "",
            "```",
            *(load[key]["wrk_output"] + "\n" for key, _, _ in V2_PATHS),
            "```",
            "",
            "</details>",
        ]
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--render-connections", type=int, default=8)
    parser.add_argument("--storage", choices=["local", "s3"], default="local")
    parser.add_argument("--users", type=int, default=USERS, help="users with an agency key each")
    parser.add_argument("--warmup", type=int, default=WARMUP_SECONDS, help="seconds per phase")
    args = parser.parse_args()
    report = run(
        args.duration,
        args.threads,
        args.connections,
        args.render_connections,
        args.storage,
        args.users,
        args.warmup,
    )
    json.dump(report, sys.stdout, indent=2)
    print()
    write_section("load-v2", section(report), report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
