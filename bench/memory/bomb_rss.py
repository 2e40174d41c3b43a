"""Image bombs against one app worker: its peak RSS, and ``/healthz`` latency meanwhile.

A local HTTPS origin (aiohttp in a thread of this process, certificate from a throw-away CA)
serves six 5000 x 5000 decompression bombs of a few KB each (lossy, lossless and alpha WebP,
1-bit PNG, GIF, and a 25 MP JPEG that is decoded at reduced scale) plus six "budget" images just
inside the pixel budget (2048 x 2048 noise PNGs: the most a request may make a worker decode).
One ``python -m ogmint`` with a single worker process (embedded default, throw-away data dir)
may fetch from it. For each configuration, ``--rounds`` times: six concurrent V1 renders, one
per bomb (then one per budget image), each with a distinct title so nothing is cached, while
``/healthz`` is polled back to back; RSS of the worker is sampled every 5 ms (``VmRSS``) and
its peak read from ``VmHWM``. Configurations:

- ``defaults``: the shipped settings (pixel budget 4.2 MP, one decode thread).
- ``old-limits``: today's code with the limits before issue 8 (``OGMINT_IMAGE_MAX_PIXELS`` at
  the old 25 MP, six decode threads: every image decoded at once), for comparison in the same
  run. (The code before issue 8 also copied each decoded image once more; not measured here.)

``python -m bench.memory.bomb_rss [--rounds 5] [--config defaults,old-limits]`` prints JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import ssl
import statistics
import sys
import tempfile
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import trustme
from aiohttp import web
from PIL import Image

from bench.harness import Processes, free_port, http

CONFIGS = {
    "defaults": {},
    "old-limits": {"OGMINT_IMAGE_MAX_PIXELS": "25000000", "OGMINT_DECODE_THREADS": "6"},
}


def encoded(fmt: str, size: tuple[int, int], mode: str = "RGB", **options: object) -> bytes:
    color: object = (0, 0, 0, 0) if mode == "RGBA" else 1 if mode == "1" else "teal"
    out = io.BytesIO()
    Image.new(mode, size, color).save(out, format=fmt, **options)  # type: ignore[arg-type]
    return out.getvalue()


def images() -> tuple[dict[str, bytes], list[str], list[str]]:
    side = (5000, 5000)
    bombs = {
        "/webp": encoded("WEBP", side),
        "/webp-lossless": encoded("WEBP", side, lossless=True),
        "/webp-alpha": encoded("WEBP", side, "RGBA", lossless=True),
        "/png": encoded("PNG", side, "1"),
        "/gif": encoded("GIF", side, "P"),
        "/jpeg": encoded("JPEG", side),
    }
    budget = {}
    for i in range(6):
        out = io.BytesIO()
        extent = (-2.0 + i * 0.1, -1.5, 1.0, 1.5)
        fractal = Image.effect_mandelbrot((2048, 2048), extent, 64).convert("RGB")
        fractal.save(out, "PNG")
        budget[f"/budget-{i}.png"] = out.getvalue()
    return {**bombs, **budget}, list(bombs), list(budget)


def serve_origin(files: dict[str, bytes], port: int, tls: ssl.SSLContext) -> None:
    async def get(request: web.Request) -> web.Response:
        return web.Response(body=files[request.path], content_type="application/octet-stream")

    loop = asyncio.new_event_loop()
    app = web.Application()
    app.router.add_get("/{tail:.*}", get)
    runner = web.AppRunner(app)
    loop.run_until_complete(runner.setup())
    loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", port, ssl_context=tls).start())
    loop.run_forever()


def rss_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def run_config(
    name: str, env: dict[str, str], kind: str, urls: list[str], rounds: int, ca: str, tmp: Path
) -> dict[str, object]:
    """One fresh server for one configuration and one kind of image (RSS never shrinks back)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    label = f"ogmint-{name}-{kind}"
    with Processes(tmp) as procs:
        proc, _ = procs.start_app(
            label,
            {
                **os.environ,
                "OGMINT_PORT": str(port),
                "OGMINT_WORKERS": "1",
                "OGMINT_DATA_DIR": str(tmp / f"data-{label}"),
                "OGMINT_ANONYMOUS_DAILY_LIMIT": "1000000",
                "OGMINT_OUTBOUND_ALLOW": "127.0.0.1",
                "OGMINT_OUTBOUND_CA_FILE": ca,
                "OGMINT_IMAGE_CACHE_BYTES": "0",
                **env,
            },
            60,
        )
        pid = proc.pid  # one worker: the server process serves the requests itself
        http(f"{url}/api/og?template=blog&title=warm")
        idle = [timed(url + "/healthz") for _ in range(200)]
        base = rss_kb(pid, "VmRSS")
        samples: list[int] = []
        health: list[float] = []
        statuses: list[int] = []
        stop = threading.Event()

        def sample() -> None:
            while not stop.is_set():
                samples.append(rss_kb(pid, "VmRSS"))
                time.sleep(0.005)

        def poll() -> None:
            while not stop.is_set():
                health.append(timed(url + "/healthz"))

        threads = [threading.Thread(target=sample), threading.Thread(target=poll)]
        for t in threads:
            t.start()
        with ThreadPoolExecutor(len(urls)) as pool:
            for r in range(rounds):
                queries = [
                    urllib.parse.urlencode(
                        {"template": "blog", "title": f"{kind} {r} {i}", "avatar": avatar}
                    )
                    for i, avatar in enumerate(urls)
                ]
                statuses += list(pool.map(lambda q: http(f"{url}/api/og?{q}")[0], queries))
        stop.set()
        for t in threads:
            t.join()
        figures: dict[str, object] = {
            "statuses": {str(s): statuses.count(s) for s in sorted(set(statuses))},
            "baseline_rss_mb": round(base / 1024, 1),
            "peak_rss_mb": round(rss_kb(pid, "VmHWM") / 1024, 1),
            "sampled_peak_rss_mb": round(max(samples) / 1024, 1),
            "idle_healthz_median_ms": round(statistics.median(idle), 2),
            "healthz_median_ms": round(statistics.median(health), 2),
            "healthz_p99_ms": round(sorted(health)[int(0.99 * (len(health) - 1))], 2),
            "healthz_max_ms": round(max(health), 2),
        }
        procs.stop(proc)
    return figures


def timed(url: str) -> float:
    started = time.perf_counter()
    http(url)
    return (time.perf_counter() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--config", default="defaults,old-limits")
    args = parser.parse_args()
    files, bombs, budget = images()
    ca = trustme.CA()
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(tls)
    port = free_port()
    threading.Thread(target=serve_origin, args=(files, port, tls), daemon=True).start()
    with tempfile.TemporaryDirectory() as tmp:
        ca_file = Path(tmp) / "ca.pem"
        ca.cert_pem.write_to_path(str(ca_file))
        origin = f"https://127.0.0.1:{port}"
        out = {
            f"{name}/{kind}": run_config(
                name,
                CONFIGS[name],
                kind,
                [origin + p for p in paths],
                args.rounds,
                str(ca_file),
                Path(tmp),
            )
            for name in args.config.split(",")
            for kind, paths in (("bombs", bombs), ("budget", budget))
        }
    json.dump(out, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
