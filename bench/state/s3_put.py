"""Client CPU of one S3 upload: botocore's ``put_object`` against ``S3Storage.put`` (signed by
botocore's ``S3SigV4Auth`` alone and sent on its own aiohttp pool), in one process, interleaved rounds.

Starts a moto S3 server (which answers ``Connection: close``, so every request of both paths
opens a TCP connection: real S3 keeps them alive, and both paths then cost less) and, for the
keep-alive case, a bare aiohttp server that accepts any PUT. Reports the lowest and median
round of each path's CPU per upload (this process's utime + stime: the servers are other
processes) and writes the ``s3-put`` section of ``bench/RESULTS.md``.

``python -m bench.state.s3_put [--rounds 5] [--puts 150] [--no-write]``
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.harness import Processes, free_port, http, write_section

PYTHON = sys.executable

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
#: A card's size: what the render paths upload.
BODY = os.urandom(36_000)
KEEP_ALIVE_SERVER = """
import sys
from aiohttp import web

async def put(request):
    await request.read()
    return web.Response(headers={"ETag": '"0"'})

app = web.Application(client_max_size=1 << 24)
app.router.add_route("PUT", "/{tail:.*}", put)
app.router.add_route("GET", "/", lambda r: web.Response())
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None)
"""


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def measure(endpoint: str, rounds: int, puts: int) -> dict[str, list[float]]:
    import aioboto3  # type: ignore[import-untyped]
    from aiobotocore.config import AioConfig  # type: ignore[import-untyped]

    from ogmint.storage.s3 import MAX_ATTEMPTS, S3Storage

    config = AioConfig(retries={"total_max_attempts": MAX_ATTEMPTS, "mode": "standard"})
    store = S3Storage(BUCKET, endpoint_url=endpoint, region=REGION)
    await store.open()
    async with aioboto3.Session().client(
        "s3", endpoint_url=endpoint, region_name=REGION, config=config
    ) as client:

        async def botocore_put(key: str) -> Any:
            return await client.put_object(
                Bucket=BUCKET, Key=key, Body=BODY, ContentType="image/png", Metadata={"xxh3": "0"}
            )

        async def store_put(key: str) -> Any:
            return await store.put(key, BODY)

        paths = {"botocore put_object": botocore_put, "S3Storage.put": store_put}
        for put in paths.values():  # warm-up: connections, endpoint rules, credentials
            for i in range(10):
                await put(f"warm/{i}.png")
        figures: dict[str, list[float]] = {name: [] for name in paths}
        for r in range(rounds):
            for name, put in paths.items():
                before = cpu()
                for i in range(puts):
                    await put(f"bench/{r}/{i}.png")
                figures[name].append((cpu() - before) / puts * 1000)
    await store.close()
    return figures


def run(rounds: int, puts: int) -> dict[str, dict[str, list[float]]]:
    os.environ.update(AWS_ENV)
    results = {}
    with tempfile.TemporaryDirectory(prefix="ogmint-s3put-") as tmp, Processes(Path(tmp)) as p:
        moto_port, plain_port = free_port(), free_port()
        moto = p.start(
            "moto", [str(PYTHON), "-m", "moto.server", "-H", "127.0.0.1", "-p", str(moto_port)]
        )
        moto_url = f"http://127.0.0.1:{moto_port}"
        p.wait_until("moto", moto, lambda: http(moto_url + "/")[0] != 0, 30)
        http(f"{moto_url}/{BUCKET}", "PUT")
        plain = p.start("keep-alive", [str(PYTHON), "-c", KEEP_ALIVE_SERVER, str(plain_port)])
        plain_url = f"http://127.0.0.1:{plain_port}"
        p.wait_until("keep-alive", plain, lambda: http(plain_url + "/")[0] != 0, 30)
        results["moto (Connection: close)"] = asyncio.run(measure(moto_url, rounds, puts))
        results["keep-alive PUT server"] = asyncio.run(measure(plain_url, rounds, puts))
    return results


def section(results: dict[str, dict[str, list[float]]], rounds: int, puts: int) -> str:
    lines = [
        "## S3 uploads: botocore's pipeline vs the store's own signed PUT (issue 26, item 4)",
        "",
        f"`.venv/bin/python -m bench.state.s3_put --rounds {rounds} --puts {puts}`: one process, "
        f"{rounds} interleaved rounds of {puts} uploads of {len(BODY):,} bytes per path; this "
        "process's CPU (utime + stime) per upload, the servers being other processes. "
        "`S3Storage.put` sends the request botocore would (same URL and headers, signed by "
        "botocore's `S3SigV4Auth`) without the rest of its request pipeline.",
        "",
        "| server | path | ms CPU per upload (lowest round) | median round | vs botocore |",
        "| --- | --- | ---: | ---: | ---: |",
    ]
    for server, figures in results.items():
        base = statistics.median(figures["botocore put_object"])
        for path, values in figures.items():
            median = statistics.median(values)
            lines.append(
                f"| {server} | {path} | {min(values):.3f} | {median:.3f} | {median / base:.2f}x |"
            )
    lines.append("")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--puts", type=int, default=150)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    text = section(run(args.rounds, args.puts), args.rounds, args.puts)
    print(text)
    if not args.no_write:
        write_section("s3-put", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
