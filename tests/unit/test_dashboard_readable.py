"""Times and numbers in the reader's words (issue 25: raw ISO strings on every page)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ogmint.dashboard.readable import ago, number, when

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("delta", "words"),
    [
        (timedelta(seconds=5), "just now"),
        (timedelta(seconds=50), "1 minute ago"),
        (timedelta(minutes=3), "3 minutes ago"),
        (timedelta(minutes=59), "1 hour ago"),
        (timedelta(hours=5), "5 hours ago"),
        (timedelta(hours=30), "yesterday"),
        (timedelta(days=3), "3 days ago"),
        (timedelta(days=15), "2 weeks ago"),
        (timedelta(days=65), "2 months ago"),
        (timedelta(days=800), "2 years ago"),
        (-timedelta(hours=2), "in 2 hours"),
    ],
)
def test_ago(delta: timedelta, words: str) -> None:
    assert ago(NOW - delta, NOW) == words


def test_when_keeps_the_exact_time() -> None:
    html = str(when("2026-12-07T11:57:00.000Z", NOW))
    assert html == (
        '<time datetime="2026-12-07T11:57:00.000Z" title="2026-12-07 11:57:00 UTC">'
        "3 minutes ago</time>"
    )
    assert str(when("not <a> time", NOW)) == "not &lt;a&gt; time"
    assert str(when("", NOW)) == "—"


def test_numbers_have_separators() -> None:
    assert number(1234567) == "1,234,567"
    assert number(100) == "100"
    assert number("n/a") == "n/a"
