"""Load benchmark of V2 on the scale-out backends: stored images, dedup hits and unique renders.

Starts a real ``redis-server`` (loopback, no persistence), a moto S3 server with a bucket, and
``python -m ogmint`` with 2 workers on them; creates ``USERS`` users with one ``agency`` key each
straight through the app's own Redis state (the burst limit is 5 requests/s per user,
so throughput needs many users); pre-renders one card for each of the first ``DEDUP_KEYS`` keys.
Then, each for ``--duration`` seconds after a short warm-up, wrk on 127.0.0.1 drives:

- the ceiling: ``bench/ceiling_app.py``, bare Sanic with the same workers, a fixed 40 KB body,
  and the same with a body as large as a stored image (run last, alone);
- ``GET /i/{slug}`` over ``IMAGES`` stored images;
- V2 dedup hits: every (key, body) pair already rendered for that key (200, ``cached``);
- V2 unique renders: a new title per request, rotating over every key (201);
- V1 unique renders in the same server (anonymous), the same card with new titles.

Every process started here is stopped (its process group) when the run ends, failed or not.

``python bench/load_v2.py [--duration 10] [--connections 32]`` prints the figures as JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import boto3
import orjson

from harness import (
    PYTHON,
    REPO,
    Processes,
    cpu_snapshot,
    free_port,
    group_cpu,
    http,
    start_redis,
    wrk,
    wrk_figures,
)
from ogmint.domain.keys import hash_key, new_key
from ogmint.state.redis import redis_state

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
REGION = "us-east-1"
AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "test",
    "AWS_SECRET_ACCESS_KEY": "test",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
}
#: The monthly quota out of the way: the agency plan is what the bench users get.
PLAN_QUOTAS = "free=100,starter=1000,pro=10000,agency=100000000"
PALETTES = ("midnight", "paper", "forest", "sunset", "ocean")


def _start_moto(procs: Processes, port: int) -> subprocess.Popen[bytes]:
    endpoint = f"http://127.0.0.1:{port}"
    args = [str(PYTHON), "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
    proc = procs.start("moto", args, {**os.environ, **AWS_ENV})
    procs.wait_until("moto", proc, lambda: http(endpoint + "/")[0] != 0, 30)
    boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="test",
        aws_secret_access_key="test",
    ).create_bucket(Bucket=BUCKET)
    return proc


async def _create_keys(redis_url: str, users: int) -> list[str]:
    """One ``agency`` key for each of ``users`` users, written through the app's own state."""
    store = redis_state(redis_url, timeout=10)
    await store.open()
    limit = asyncio.Semaphore(32)

    async def create(i: int) -> str:
        key_id, key = new_key()
        async with limit:
            await store.keys.create_key(f"bench-{i:05d}", key_id, hash_key(key), "agency")
        return key

    try:
        return list(await asyncio.gather(*(create(i) for i in range(users))))
    finally:
        await store.close()


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

    def __init__(self, groups: dict[str, int], tmp: Path) -> None:
        self.groups = groups
        self.tmp = tmp

    def measure(self, cmd: list[str], base: str) -> dict:
        wrk([f"-d{WARMUP_SECONDS}s" if a.startswith("-d") else a for a in cmd])
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
    procs: Processes, tmp: Path, threads: int, connections: int, duration: int, sized: int
) -> tuple[dict, dict]:
    """The bare-Sanic ceiling: (40 KB body, ``sized``-byte body)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    args = [str(PYTHON), str(CEILING_APP), str(port), str(WORKERS), str(sized)]
    proc = procs.start("ceiling", args)
    try:
        procs.wait_until("ceiling", proc, lambda: http(base + "/")[0] == 200, STARTUP_TIMEOUT)
        phase = _Phase({"server": proc.pid}, tmp)
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
        redis_port, moto_port, port = free_port(), free_port(), free_port()
        redis = start_redis(procs, redis_port)
        moto = _start_moto(procs, moto_port) if storage == "s3" else None
        redis_url = f"redis://127.0.0.1:{redis_port}/0"
        base = f"http://127.0.0.1:{port}"
        env = {
            **os.environ,
            **AWS_ENV,
            "OGMINT_HOST": "127.0.0.1",
            "OGMINT_PORT": str(port),
            "OGMINT_WORKERS": str(WORKERS),
            "OGMINT_DATA_DIR": str(tmp / "data"),
            "OGMINT_REDIS_URL": redis_url,
            "OGMINT_PLAN_QUOTAS": PLAN_QUOTAS,
            "OGMINT_ANONYMOUS_DAILY_LIMIT": "100000000",
            "OGMINT_IMAGE_RATE_LIMIT": "0",  # wrk fetches /i/ from one address, with no nginx
        }
        if moto is not None:
            env |= {
                "OGMINT_S3_BUCKET": BUCKET,
                "OGMINT_S3_ENDPOINT": f"http://127.0.0.1:{moto_port}",
                "OGMINT_S3_REGION": REGION,
            }
        started = time.monotonic()
        keys = asyncio.run(_create_keys(redis_url, USERS))
        keys_s = time.monotonic() - started
        server = procs.start("ogmint", [str(PYTHON), "-m", "ogmint"], env)
        startup_s = procs.wait_until(
            "ogmint", server, lambda: http(base + "/healthz")[0] == 200, STARTUP_TIMEOUT
        )

        started = time.monotonic()
        slugs = _prerender(base, keys[:DEDUP_KEYS])
        prerender_s = time.monotonic() - started

        status, reply = _render(base, keys[0], _card(0))
        if status != 200 or reply.get("cached") is not True:
            raise RuntimeError(f"dedup check answered {status}: {reply}")
        status, ctype, png = http(f"{base}/i/{slugs[0]}")
        if status != 200 or ctype != "image/png":
            raise RuntimeError(f"/i/ check answered {status} {ctype}")

        files = {
            "images": "\n".join(f"/i/{s}" for s in slugs[:IMAGES]),
            "dedup": "\n".join(f"{keys[i]}\t{_card(i).decode()}" for i in range(DEDUP_KEYS)),
            "keys": "\n".join(keys[:RENDER_USERS]),
        }
        for name, text in files.items():
            (tmp / f"{name}.txt").write_text(text + "\n")

        groups = {"server": server.pid, "redis": redis.pid}
        if moto is not None:
            groups["moto"] = moto.pid
        phase = _Phase(groups, tmp)

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
        ceiling, ceiling_sized = _ceiling(procs, tmp, threads, connections, duration, len(png))

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
        "users": USERS,
        "render_users": RENDER_USERS,
        "dedup_keys": DEDUP_KEYS,
        "image_count": IMAGES,
        "image_bytes": len(png),
        "warmup_s": WARMUP_SECONDS,
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--render-connections", type=int, default=8)
    parser.add_argument("--storage", choices=["local", "s3"], default="local")
    args = parser.parse_args()
    report = run(
        args.duration, args.threads, args.connections, args.render_connections, args.storage
    )
    json.dump(report, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
