"""A user's renders as a resource (SPEC §3.1): listed newest first in pages, one with its
parameters and webhook deliveries, and deleted — image, dedup entry and pending deliveries.

A render belongs to the user whose key made it; for anyone else it does not exist (404
``render_not_found``), so slugs cannot be probed.

Cursors are opaque to clients: base64url of the position the next page starts after and a tag
of the user it was made for, with a check digit. A cursor that was not made by us for this user
(edited, truncated, another user's) is a 400 naming ``cursor``. They are not secret: a cursor
only names a render of the caller's own.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass

import orjson

from ogmint.domain.deliveries import Deliveries, DeliveryStatus
from ogmint.domain.gallery import SLUG_LENGTH, Gallery
from ogmint.errors import RenderNotFoundError, ValidationError
from ogmint.state.renders import Position
from ogmint.state.renders import RenderRecord as RenderRecord
from ogmint.state.store import State

#: Page sizes of ``GET /api/v2/renders`` (SPEC §3.1).
MIN_LIMIT, MAX_LIMIT, DEFAULT_LIMIT = 1, 100, 20
#: Longer cursors are not ours (ours are ~80 characters).
MAX_CURSOR = 200

_ISO_MS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
_SLUG = re.compile(rf"[A-Za-z0-9]{{{SLUG_LENGTH}}}")
_CHECK_BYTES = 8


def _check(user: str, at: str, slug: str) -> str:
    digest = hashlib.sha256(f"ogmint-cursor\n{user}\n{at}\n{slug}".encode()).digest()
    return base64.urlsafe_b64encode(digest[:_CHECK_BYTES]).decode().rstrip("=")


def encode_cursor(user: str, position: Position) -> str:
    """The cursor of the page after ``position`` (created_at, slug) for ``user``."""
    at, slug = position
    raw = orjson.dumps([at, slug, _check(user, at, slug)])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(user: str, cursor: str) -> Position:
    """The position a cursor of ``user``'s stands for; 400 naming ``cursor`` otherwise."""
    bad = ValidationError.field("cursor", "not a cursor from a previous page (nextCursor)")
    if not cursor or len(cursor) > MAX_CURSOR or not cursor.isascii():
        raise bad
    try:
        decoded = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, orjson.JSONDecodeError):
        raise bad from None
    if (
        not isinstance(decoded, list)
        or len(decoded) != 3
        or not all(isinstance(v, str) for v in decoded)
    ):
        raise bad
    at, slug, check = decoded
    if not _ISO_MS.fullmatch(at) or not _SLUG.fullmatch(slug) or check != _check(user, at, slug):
        raise bad
    return at, slug


def page_limit(raw: str | None) -> int:
    """``limit`` of a list request: 1–100, 20 when absent; 400 naming ``limit`` otherwise."""
    if raw is None:
        return DEFAULT_LIMIT
    text = raw.strip()
    if not text.isascii() or not text.isdigit() or len(text) > 3:
        raise ValidationError.field("limit", f"an integer from {MIN_LIMIT} to {MAX_LIMIT}")
    limit = int(text)
    if not MIN_LIMIT <= limit <= MAX_LIMIT:
        raise ValidationError.field("limit", f"an integer from {MIN_LIMIT} to {MAX_LIMIT}")
    return limit


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a user's renders and the cursor of the next (None: this was the last)."""

    renders: list[RenderRecord]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class RenderDetail:
    """One render with its webhook deliveries."""

    record: RenderRecord
    deliveries: list[DeliveryStatus]

    @property
    def params(self) -> dict[str, object]:
        """The canonical render parameters it was made with."""
        params: dict[str, object] = orjson.loads(self.record.params)
        return params


class Library:
    """Users' stored renders."""

    def __init__(self, state: State, gallery: Gallery, deliveries: Deliveries) -> None:
        self._state = state
        self._gallery = gallery
        self._deliveries = deliveries

    async def page(self, user: str, limit: str | None, cursor: str | None) -> Page:
        """A page of ``user``'s renders, newest first (``limit``, ``cursor``: as sent)."""
        size = page_limit(limit)
        after = None if cursor is None else decode_cursor(user, cursor)
        # One more than asked: whether a next page exists without an empty last page.
        found = await self._state.renders.list_renders(user, size + 1, after)
        if len(found) <= size:
            return Page(found, None)
        last = found[size - 1]
        return Page(found[:size], encode_cursor(user, (last.created_at, last.slug)))

    async def kept(self, user: str, slugs: Iterable[str]) -> set[str]:
        """Which of ``slugs`` still name a stored render of ``user``'s (the others were
        deleted, or were never theirs)."""
        unique = sorted(set(slugs))
        found = await asyncio.gather(*(self._gallery.record(s) for s in unique))
        return {s for s, r in zip(unique, found, strict=True) if r is not None and r.owner == user}

    async def _owned(self, user: str, slug: str) -> RenderRecord:
        record = await self._gallery.record(slug)
        if record is None or record.owner != user:
            raise RenderNotFoundError()
        return record

    async def detail(self, user: str, slug: str) -> RenderDetail:
        """One of ``user``'s renders and its deliveries (404 for anyone else's)."""
        record = await self._owned(user, slug)
        return RenderDetail(record, await self._deliveries.listed(user, slug))

    async def delete(self, user: str, slug: str) -> None:
        """Deletes one of ``user``'s renders (404 for anyone else's): first its image (so a
        failure leaves a record a retry deletes), then, in one step, the record, its dedup
        entry (the same request renders anew) and its deliveries (pending ones never go)."""
        record = await self._owned(user, slug)
        await self._gallery.remove(record)
        if await self._state.atomic.delete_render(user, slug) is None:
            raise RenderNotFoundError()  # deleted meanwhile by another request
