"""The repeat-cache aggregate (SPEC §2): which V1 images were rendered lately, by ETag.

The bytes live in the blob storage; this index says where, and which entries are still fresh.
The index is bounded by bytes and drops its oldest entries first; it returns the storage keys
it lets go of, and the caller deletes those blobs. Storage keys are unique per save, so a
freed key is never one that a newer entry uses.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class RepeatEntry:
    """One cached V1 image."""

    etag: str  # the V1 ETag's hex digest (unquoted)
    storage_key: str  # where its bytes are in the blob storage
    size: int  # bytes
    content_type: str
    template: str  # the custom template it was rendered with; "" for a built-in


class RepeatStore(Protocol):
    """Every method raises StateUnavailable when the backend cannot be reached in time."""

    async def find_repeat(self, etag: str, ttl: float) -> RepeatEntry | None:
        """The entry for ``etag`` if it was saved less than ``ttl`` seconds ago."""

    async def save_repeat(self, entry: RepeatEntry, ttl: float, max_bytes: int) -> list[str]:
        """Saves ``entry`` (replacing one of the same ETag), then drops entries older than
        ``ttl`` seconds and the oldest ones until all entries hold at most ``max_bytes``.
        Returns the storage keys no entry refers to any more (replaced, expired, evicted)."""

    async def drop_repeat(self, etag: str, storage_key: str) -> None:
        """Drops the entry for ``etag`` if it still refers to ``storage_key`` (its blob is
        gone); a newer entry of the same ETag stays."""

    async def drop_template_repeats(self, template: str) -> list[str]:
        """Drops every entry rendered with the custom template ``template``; their keys."""
