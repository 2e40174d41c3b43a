"""The delivery worker in-process: the address check is made again on every attempt."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest

from ogmint.metrics import Metrics
from ogmint.net import AddressPolicy, GuardedClient
from ogmint.state.deliveries import PENDING, Delivery, DeliveryStatus
from ogmint.state.renders import RenderRecord
from ogmint.state.sqlite import sqlite_state
from ogmint.webhooks.queue import RetryPolicy
from ogmint.webhooks.worker import DeliveryWorker

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_name_now_resolving_to_private_address_is_a_failed_attempt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    loop = asyncio.get_running_loop()
    real_getaddrinfo = loop.getaddrinfo
    looked_up: list[str] = []

    async def rebound(host: str, port: int, **kwargs: object) -> object:
        if host == "hooks.example.test":  # accepted at request time; now points inside
            looked_up.append(host)
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.5", port))]
        return await real_getaddrinfo(host, port, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(loop, "getaddrinfo", rebound)
    store = sqlite_state(tmp_path / "state.db")
    await store.open()
    record = RenderRecord(
        "slugAAAA", "key_1", "d", "k", '"e"', 1, "blog", "2026-11-05T10:20:30.456Z"
    )
    d = Delivery(
        "msg_1", "slugAAAA", "alice", "https://hooks.example.test/x", "", b"{}", record.created_at
    )
    assert await store.atomic.save_render(record, d)
    worker = DeliveryWorker(
        store.deliveries,
        GuardedClient(AddressPolicy(), "", 2.0, 1024),
        RetryPolicy((60.0,)),
        timeout=1.0,
        lease=5.0,
        concurrency=4,
        poll_interval=0.05,
        metrics=Metrics(None),
    )
    worker.start()
    try:
        status: DeliveryStatus | None = None
        for _ in range(100):
            status = await store.deliveries.get_delivery("msg_1")
            if status is not None and status.attempts:
                break
            await asyncio.sleep(0.05)
    finally:
        await worker.stop()
        await store.close()
    assert status is not None and looked_up
    (attempt,) = status.attempts
    assert attempt.status is None and "non-public address" in attempt.error
    assert status.state == PENDING  # retried later: the name may point outside again
