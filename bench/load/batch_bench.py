"""V2 at scale (issue 24): a batch of 100 unique renders vs the same work as 100 single
requests, and the dry run's latency.

One ogmint server (2 workers, embedded SQLite, images on local disk). Each round sends 100 unique
``blog`` cards as one ``POST /api/v2/render/batch`` and 100 other unique cards as 100 sequential
``POST /api/v2/render`` (one at a time, rotating over 25 users' keys so the 5/s burst limit
never makes the singles wait: the figure is the server's cost, not the limit), alternating which
goes first. Wall time from the client, server CPU from the server's process group.

Then ``/api/v2/validate``: the dry run in-process (JSON body → parameters → template → text
fitting, as ``Renders.validate`` does after its burst token) and over HTTP.

Prints its Markdown section and writes it into ``bench/RESULTS.md`` (section ``batch``). Usage: ``.venv/bin/python
bench/load/batch_bench.py [--rounds 3]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import orjson

from bench.harness import (
    BLOG_CARD,
    BlogCards,
    Processes,
    api_key,
    free_port,
    group_cpu,
    http,
    write_section,
)

WORKERS = 2
ITEMS = 100
USERS = 25


def _post(base: str, path: str, key: str, body: object) -> tuple[int, bytes]:
    headers = {"x-api-key": key, "content-type": "application/json"}
    status, _, reply = http(base + path, "POST", orjson.dumps(body), headers)
    return status, reply


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    rounds = parser.parse_args().rounds
    with tempfile.TemporaryDirectory() as tmp, Processes(Path(tmp)) as procs:
        port = free_port()
        env = {
            **os.environ,
            "OGMINT_HOST": "127.0.0.1",
            "OGMINT_PORT": str(port),
            "OGMINT_WORKERS": str(WORKERS),
            "OGMINT_DATA_DIR": str(Path(tmp) / "data"),
            "OGMINT_PLAN_QUOTAS": "free=100,starter=1000,pro=10000,agency=100000000",
        }
        keys = [api_key(env, f"batch-bench-{i}") for i in range(USERS)]
        proc, _ = procs.start_app("ogmint", env, 90)
        base = f"http://127.0.0.1:{port}"
        # Warm both workers (fonts, template caches) outside the measurements.
        for i in range(8):
            _post(base, "/api/v2/render", keys[i], {**BLOG_CARD, "title": f"warm {i}"})
        figures: dict[str, list[tuple[float, float]]] = {"batch": [], "singles": []}

        def batch(r: int) -> None:
            items = [{**BLOG_CARD, "title": f"batch {r}.{i}"} for i in range(ITEMS)]
            status, reply = _post(base, "/api/v2/render/batch", keys[0], {"items": items})
            assert status == 200, reply[:300]
            results = orjson.loads(reply)["results"]
            assert [x["status"] for x in results] == [201] * ITEMS, results[:3]

        def singles(r: int) -> None:
            for i in range(ITEMS):
                body = {**BLOG_CARD, "title": f"single {r}.{i}"}
                status, reply = _post(base, "/api/v2/render", keys[1 + i % (USERS - 1)], body)
                assert status == 201, reply[:300]

        for r in range(rounds):
            order = [("batch", batch), ("singles", singles)]
            for name, run in order if r % 2 == 0 else order[::-1]:
                cpu, started = group_cpu(proc.pid), time.perf_counter()
                run(r)
                figures[name].append((time.perf_counter() - started, group_cpu(proc.pid) - cpu))
        # The dry run over HTTP, one at a time (each key stays under its burst limit).
        http_ms = []
        for i in range(200):
            body = {**BLOG_CARD, "title": f"Does this title fit, take {i}?"}
            started = time.perf_counter()
            status, _ = _post(base, "/api/v2/validate", keys[i % USERS], body)
            http_ms.append((time.perf_counter() - started) * 1000)
            assert status == 200, status
            time.sleep(0.01)  # 25 keys at most 100/s: under every key's 5/s
        render_ms = []
        for i in range(100):
            body = {**BLOG_CARD, "title": f"Rendered instead, take {i}?"}
            started = time.perf_counter()
            status, _ = _post(base, "/api/v2/render", keys[i % USERS], body)
            render_ms.append((time.perf_counter() - started) * 1000)
            assert status == 201, status
            time.sleep(0.01)
    in_process = _in_process()
    load = os.getloadavg()
    wall = {k: statistics.median(w for w, _ in v) for k, v in figures.items()}
    cpu = {k: statistics.median(c for _, c in v) for k, v in figures.items()}
    section = f"""## V2 batch and dry run (issue 24)

`bench/load/batch_bench.py --rounds {rounds}`: one server, {WORKERS} workers, embedded SQLite, images on
local disk; medians of {rounds} rounds, batch and singles alternating which goes first. Load
average after the run: {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} (shared 2-core host).

| 100 unique `blog` cards | wall time | server CPU |
| --- | ---: | ---: |
| one `POST /api/v2/render/batch` | {wall["batch"]:.2f} s | {cpu["batch"]:.2f} s |
| 100 sequential `POST /api/v2/render` (25 users' keys) | {wall["singles"]:.2f} s | {cpu["singles"]:.2f} s |
| batch / singles | {wall["batch"] / wall["singles"]:.2f}x | {cpu["batch"] / cpu["singles"]:.2f}x |

With one key, the 100 singles would also wait out the 5/s burst limit (≥ 19 s); the batch takes
one token. A batch's items run concurrently on one worker's render pool (as many at once as it
has threads), so a batch uses that worker's cores but not the other worker's.

| `POST /api/v2/validate` (the `blog` card) | median | p95 |
| --- | ---: | ---: |
| in-process: body → parameters → template → text fitting | {statistics.median(in_process):.3f} ms | {_p95(in_process):.3f} ms |
| over HTTP, one at a time (burst token included) | {statistics.median(http_ms):.2f} ms | {_p95(http_ms):.2f} ms |
| a `POST /api/v2/render` of the same card over HTTP, for comparison | {statistics.median(render_ms):.2f} ms | {_p95(render_ms):.2f} ms |
"""
    print(section)
    write_section("batch", section)
    return 0


def _p95(samples: list[float]) -> float:
    return sorted(samples)[int(len(samples) * 0.95) - 1]


def _in_process() -> list[float]:
    """Milliseconds per dry run in this process, on a one-thread renderer."""
    from ogmint.domain.json_body import json_object
    from ogmint.rendering.params import parse_params

    cards = BlogCards()
    try:
        samples = []
        for i in range(500):
            raw = orjson.dumps({**BLOG_CARD, "title": f"Does this title fit, take {i}?"})
            started = time.perf_counter()
            spec = parse_params(
                json_object(raw),
                strict=True,
                template_exists=cards.templates.__contains__,
                resolve_font=cards.renderer.resolve_family,
            )
            cards.templates[spec.template].layout(spec, cards.renderer)
            samples.append((time.perf_counter() - started) * 1000)
        return samples[50:]  # after warm-up
    finally:
        cards.close()


if __name__ == "__main__":
    raise SystemExit(main())
