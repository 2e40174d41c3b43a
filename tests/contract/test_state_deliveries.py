"""The deliveries aggregate's contract (the webhook outbox), on SQLite and Redis."""

from __future__ import annotations

import asyncio

import pytest

from contract.records import Window, delivery, outcome, record
from ogmint.state.deliveries import DELIVERED, FAILED, PENDING
from ogmint.state.store import State

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_delivery_is_queued_with_its_render(state: State) -> None:
    d = delivery("slugAAAA")
    outbox = state.deliveries
    assert await state.atomic.save_render(record("slugAAAA"), d)
    (claim,) = await outbox.claim_deliveries("w1", 10, lease=30)
    assert claim.delivery == d and claim.attempts == 0
    (status,) = await outbox.list_deliveries("slugAAAA")
    assert status.delivery == d and status.state == PENDING and status.attempts == ()
    assert await outbox.get_delivery(d.id) == status
    assert await outbox.get_delivery("msg_nope") is None
    assert await outbox.list_deliveries("slugBBBB") == []


async def test_refused_render_queues_no_delivery(state: State) -> None:
    save = state.atomic.save_render
    assert await save(record("slugAAAA"))
    assert not await save(record("slugAAAA", dedup_key="d2"), delivery("slugAAAA"))
    assert not await save(record("slugBBBB"), delivery("slugBBBB"))  # same dedup key
    assert await state.deliveries.claim_deliveries("w1", 10, lease=30) == []
    assert await state.deliveries.list_deliveries("slugBBBB") == []


async def test_a_claimed_delivery_goes_to_one_worker_until_its_lease_ends(state: State) -> None:
    outbox = state.deliveries
    for i in range(5):
        assert await state.atomic.save_render(
            record(f"slug000{i}", dedup_key=f"d{i}"), delivery(f"slug000{i}")
        )
    lease = Window(1.0)
    got = await asyncio.gather(*(outbox.claim_deliveries(f"w{i}", 2, lease=1.0) for i in range(6)))
    lease.started()
    ids = [c.delivery.id for claims in got for c in claims]
    assert sorted(ids) == sorted(f"msg_slug000{i}1" for i in range(5))
    relet = Window(1.0)  # should this worker be late enough to take them over, its own lease
    early = await outbox.claim_deliveries("w9", 10, lease=1.0)
    relet.started()
    if lease.inside():
        assert early == []
    await relet.wait_out(0.2)  # every lease ran out: their workers "crashed"
    again = await outbox.claim_deliveries("w9", 10, lease=1.0)  # every worker uses one lease
    assert sorted(c.delivery.id for c in again) == sorted(ids)


async def test_finish_records_attempts_and_schedules_retries(state: State) -> None:
    outbox = state.deliveries
    d = delivery("slugAAAA")
    assert await state.atomic.save_render(record("slugAAAA"), d)
    (claim,) = await outbox.claim_deliveries("w1", 10, lease=30)
    retry = Window(1.0)
    await outbox.finish_delivery(claim, outcome(PENDING, 500, retry_in=1.0))
    retry.started()
    (status,) = await outbox.list_deliveries("slugAAAA")
    assert status.state == PENDING and status.next_attempt_at is not None
    assert [(a.number, a.status, a.error, a.duration_ms) for a in status.attempts] == [
        (1, 500, "HTTP 500", 12)
    ]
    early = await outbox.claim_deliveries("w1", 10, lease=30)
    if retry.inside():
        assert early == []  # not due yet
    if not early:
        await retry.wait_out()
        early = await outbox.claim_deliveries("w2", 10, lease=30)
    (claim,) = early
    assert claim.attempts == 1 and claim.delivery == d
    await outbox.finish_delivery(claim, outcome(DELIVERED))
    (status,) = await outbox.list_deliveries("slugAAAA")
    assert status.state == DELIVERED and status.next_attempt_at is None
    assert [a.number for a in status.attempts] == [1, 2]
    assert [a.at for a in status.attempts] == ["2026-11-05T10:20:31.000Z"] * 2  # as recorded
    await asyncio.sleep(0.1)
    assert await outbox.claim_deliveries("w1", 10, lease=30) == []


async def test_redeliver_makes_a_finished_delivery_due_again(state: State) -> None:
    outbox = state.deliveries
    d = delivery("slugAAAA")
    assert await state.atomic.save_render(record("slugAAAA"), d)
    (claim,) = await outbox.claim_deliveries("w1", 10, lease=30)
    await outbox.finish_delivery(claim, outcome(FAILED, 410))
    assert (await outbox.get_delivery(d.id)).state == FAILED  # type: ignore[union-attr]
    assert await outbox.redeliver(d.id)
    assert not await outbox.redeliver("msg_nope")
    (claim,) = await outbox.claim_deliveries("w1", 10, lease=30)
    assert claim.delivery == d and claim.attempts == 1
    await outbox.finish_delivery(claim, outcome(DELIVERED))
    status = await outbox.get_delivery(d.id)
    assert status is not None and status.state == DELIVERED
    assert [a.status for a in status.attempts] == [410, 200]


@pytest.mark.parametrize(
    "first", [(DELIVERED, 200, 0.0), (FAILED, 410, 0.0), (PENDING, 500, 3600.0)]
)
async def test_redeliver_during_an_attempt_is_not_overwritten_by_its_outcome(
    state: State, first: tuple[str, int, float]
) -> None:
    d = delivery("slugAAAA")
    outbox = state.deliveries
    assert await state.atomic.save_render(record("slugAAAA"), d)
    (in_flight,) = await outbox.claim_deliveries("w1", 10, lease=30)
    assert await outbox.redeliver(d.id)  # asked for while the attempt is running
    await outbox.finish_delivery(in_flight, outcome(*first))
    status = await outbox.get_delivery(d.id)
    assert status is not None and status.state == PENDING and len(status.attempts) == 1
    (again,) = await outbox.claim_deliveries("w2", 10, lease=30)  # due now, not in an hour
    assert again.delivery.id == d.id and again.attempts == 1
    await outbox.finish_delivery(again, outcome(DELIVERED))
    status = await outbox.get_delivery(d.id)
    assert status is not None and status.state == DELIVERED and len(status.attempts) == 2
