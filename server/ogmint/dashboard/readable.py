"""Times and numbers as a reader says them: "3 minutes ago" (the exact UTC time kept in a
``<time datetime>`` and its tooltip) and "12,345"."""

from __future__ import annotations

from datetime import UTC, datetime

from markupsafe import Markup

#: (seconds in the unit, its name), largest first.
UNITS = (
    (365 * 86400, "year"),
    (30 * 86400, "month"),
    (7 * 86400, "week"),
    (86400, "day"),
    (3600, "hour"),
    (60, "minute"),
)


def parse(value: str) -> datetime | None:
    """An ISO-8601 time (``Z`` or an offset; naive means UTC), or None if it is not one."""
    try:
        at = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def ago(at: datetime, now: datetime) -> str:
    """``at`` relative to ``now``: "just now", "3 minutes ago", "in 2 hours", "yesterday"."""
    seconds = (now - at).total_seconds()
    future = seconds < 0
    seconds = abs(seconds)
    if seconds < 45:
        return "just now" if not future else "in a few seconds"
    if not future and 86400 <= seconds < 2 * 86400:
        return "yesterday"
    for size, name in UNITS:
        if seconds >= size * 0.95 or name == "minute":
            n = max(round(seconds / size), 1)
            words = f"{n} {name}{'' if n == 1 else 's'}"
            return f"in {words}" if future else f"{words} ago"
    raise AssertionError("unreachable: minutes catch the rest")


def when(value: object, now: datetime | None = None) -> Markup:
    """A ``<time>`` element saying ``value`` (an ISO string) in words, the exact UTC time in its
    ``datetime`` and ``title``; anything that is not a time is shown as it is."""
    text = str(value or "")
    at = parse(text)
    if at is None:
        return Markup("{}").format(text) if text else Markup("—")
    exact = at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    return Markup('<time datetime="{}" title="{}">{}</time>').format(
        text, exact, ago(at, now or datetime.now(UTC))
    )


def number(value: object) -> str:
    """An integer with thousands separators ("12,345"); anything else as it is."""
    if isinstance(value, bool) or not isinstance(value, int):
        return str(value)  # the page escapes it
    return f"{value:,}"
