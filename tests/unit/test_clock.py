"""The one timestamp format: UTC ISO-8601 with milliseconds and a ``Z``."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from ogmint.clock import iso, ms_iso, now_iso, unix_iso


def test_the_format() -> None:
    at = datetime(2025, 3, 8, 0, 0, 0, 123456, tzinfo=UTC)
    assert iso(at) == "2025-03-08T00:00:00.123Z"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", now_iso())
    assert unix_iso(1.5) == "1970-01-01T00:00:01.500Z"


def test_milliseconds_are_exact() -> None:
    for ms in (0, 1, 999, 1_741_392_000_123, 1_765_097_000_999):
        seconds = datetime.fromtimestamp(ms // 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S")
        assert ms_iso(ms) == f"{seconds}.{ms % 1000:03d}Z"
