"""The UTC windows counters are kept in (SPEC §6: quotas reset 00:00 UTC on the 1st), on any
date, and the SQLite counters under a fixed clock: a window ends exactly at its reset."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ogmint.state.base import utc_day, utc_month
from ogmint.state.sqlite.limits import DAILY, MONTHLY, SCHEMA, consume, quota_status

MOMENTS = st.datetimes(
    min_value=datetime(1970, 1, 2), max_value=datetime(9998, 12, 31), timezones=st.just(UTC)
)
DECEMBER = st.builds(
    lambda year, day, seconds: datetime(year, 12, day, tzinfo=UTC) + timedelta(seconds=seconds),
    st.integers(1970, 9998),
    st.integers(1, 31),
    st.floats(0, 86399.999, allow_nan=False),
)


def at(timestamp: int) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC)


@given(MOMENTS)
def test_month_window_resets_at_the_next_first(now: datetime) -> None:
    month, reset = utc_month(now)
    assert month == f"{now.year:04d}-{now.month:02d}"
    end = at(reset)
    assert (end.day, end.hour, end.minute, end.second) == (1, 0, 0, 0)
    assert now < end <= now + timedelta(days=31)
    assert utc_month(end - timedelta(microseconds=1))[0] == month  # the last moment inside
    assert utc_month(end)[0] != month  # the first moment of the next window


@given(DECEMBER)
def test_december_wraps_to_january_of_the_next_year(now: datetime) -> None:
    month, reset = utc_month(now)
    assert month == f"{now.year:04d}-12"
    assert at(reset) == datetime(now.year + 1, 1, 1, tzinfo=UTC)


@given(MOMENTS)
def test_day_window_resets_at_the_next_midnight(now: datetime) -> None:
    day, reset = utc_day(now)
    assert day == now.strftime("%Y-%m-%d")
    end = at(reset)
    assert (end.hour, end.minute, end.second) == (0, 0, 0)
    assert now < end <= now + timedelta(days=1)


@pytest.fixture
def db() -> sqlite3.Connection:
    connection = sqlite3.connect(":memory:")
    connection.executescript(SCHEMA)
    return connection


@pytest.mark.parametrize(
    ("last", "first"),
    [
        (datetime(2026, 12, 31, 23, 59, 59, 999999, UTC), datetime(2027, 1, 1, tzinfo=UTC)),
        (datetime(2027, 1, 31, 23, 59, 59, tzinfo=UTC), datetime(2027, 2, 1, tzinfo=UTC)),
        (datetime(2028, 2, 29, 12, tzinfo=UTC), datetime(2028, 3, 1, tzinfo=UTC)),
    ],
)
def test_sqlite_monthly_quota_under_a_fixed_clock(
    db: sqlite3.Connection, last: datetime, first: datetime
) -> None:
    early = last.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    assert consume(db, MONTHLY, "alice", 2, early) == 1
    assert consume(db, MONTHLY, "alice", 2, last) == 2  # the same month's window
    refused = consume(db, MONTHLY, "alice", 2, last)
    assert refused is None
    status = quota_status(refused, 2, last)
    assert (status.allowed, status.remaining, status.reset) == (False, 0, int(first.timestamp()))
    # The next month's first moment: a fresh window, resetting on the 1st after it.
    assert consume(db, MONTHLY, "alice", 2, first) == 1
    status = quota_status(1, 2, first)
    assert (status.allowed, status.remaining) == (True, 1)
    following = (first + timedelta(days=32)).replace(day=1)
    assert status.reset == int(following.timestamp())
    assert consume(db, MONTHLY, "bob", 2, last) == 1  # per user


def test_sqlite_daily_allowance_under_a_fixed_clock(db: sqlite3.Connection) -> None:
    night = datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC)
    assert [consume(db, DAILY, "1.2.3.4", 1, night) for _ in range(2)] == [1, None]
    assert consume(db, DAILY, "1.2.3.4", 1, night + timedelta(seconds=1)) == 1
