"""What durable commits cost on the embedded backend: ``save_render`` (the transaction that
records a V2 render's slug and its webhook delivery before the 201) at ``synchronous=FULL``, as
the app runs it, against the same transaction at ``synchronous=NORMAL`` (what it ran at before).

One SQLite file in a throw-away directory on the same disk as the working tree; ``--rounds``
blocks alternate between the two settings so drift and noise hit both alike; each block saves
``--block`` renders with a delivery, one at a time, through the app's own state code. Prints
medians and p95 of one save, in ms, and their ratio, as JSON.

``python -m bench.state.durable_commit [--rounds 10] [--block 50]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path

from ogmint.ids import random_base62
from ogmint.state.deliveries import Delivery
from ogmint.state.renders import RenderRecord
from ogmint.state.sqlite import sqlite_state
from ogmint.state.sqlite.db import Database

CREATED = "2026-12-01T00:00:00.000Z"
HERE = Path(__file__).resolve().parent


def render() -> tuple[RenderRecord, Delivery]:
    slug = random_base62(8)
    record = RenderRecord(slug, "key_bench", slug, f"images/{slug}.png", '"e"', 1, "blog", CREATED)
    body = b'{"event":"render.completed","data":{}}'
    return record, Delivery(
        "msg_" + random_base62(24), slug, "bench", "https://h/x", "", body, CREATED
    )


async def measure(rounds: int, block: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory(dir=HERE) as tmp:
        state = sqlite_state(Path(tmp) / "bench.sqlite3")
        await state.open()
        db = state.backend
        assert isinstance(db, Database)
        times: dict[str, list[float]] = {"FULL": [], "NORMAL": []}
        try:
            for _ in range(rounds):
                for level in ("FULL", "NORMAL"):
                    await db.run(lambda c, lv=level: c.execute(f"PRAGMA synchronous={lv}"))
                    for _ in range(block):
                        record, delivery = render()
                        started = time.perf_counter()
                        assert await state.atomic.save_render(record, delivery)
                        times[level].append((time.perf_counter() - started) * 1000)
        finally:
            await state.close()
    full, normal = times["FULL"], times["NORMAL"]

    def p95(xs: list[float]) -> float:
        return statistics.quantiles(xs, n=20)[-1]

    return {
        "saves_each": len(full),
        "full_median_ms": round(statistics.median(full), 3),
        "full_p95_ms": round(p95(full), 3),
        "normal_median_ms": round(statistics.median(normal), 3),
        "normal_p95_ms": round(p95(normal), 3),
        "median_ratio_full_over_normal": round(
            statistics.median(full) / statistics.median(normal), 2
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--block", type=int, default=50)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(measure(args.rounds, args.block)), indent=2))


if __name__ == "__main__":
    main()
