"""The renders aggregate: finished renders (by slug and by dedup key) and in-flight claims."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class RenderRecord:
    """A stored render: what ``/i/{slug}`` serves and what dedup answers with."""

    slug: str
    user: str
    dedup_key: str
    storage_key: str
    etag: str
    size: int
    template: str
    created_at: str  # UTC ISO-8601 with milliseconds
    # The user whose key made it (``user`` is the key: dedup is per key, listing per user);
    # "" for renders recorded before renders were listed.
    owner: str = ""
    format: str = "png"
    width: int = 1200
    height: int = 630
    params: str = "{}"  # the canonical render parameters, JSON


#: Where a page of a user's renders starts: after this (created_at, slug), newest first.
Position = tuple[str, str]


class RenderStore(Protocol):
    """Every method raises StateUnavailable when the backend cannot be reached in time.

    Recording a render is an atomic step with the limits and deliveries: see
    :class:`ogmint.state.atomic.AtomicSteps`.
    """

    async def find_render(self, user: str, dedup_key: str) -> RenderRecord | None:
        """The user's finished render with this dedup key, if any."""

    async def claim_render(self, user: str, dedup_key: str, ttl: float) -> bool:
        """Claims the right to render ``dedup_key`` for ``ttl`` seconds; False if claimed or done."""

    async def release_claim(self, user: str, dedup_key: str) -> None:
        """Drops a claim (the render failed)."""

    async def refresh_claim(self, user: str, dedup_key: str, ttl: float) -> None:
        """Extends a live claim to ``ttl`` seconds from now (its holder is still rendering);
        an expired or dropped claim stays gone. Claims are short and kept alive this way, so
        the claim of a server that died stops blocking identical requests within ``ttl``."""

    async def get_render(self, slug: str) -> RenderRecord | None:
        """The render behind a slug."""

    async def list_renders(
        self, owner: str, limit: int, after: Position | None = None
    ) -> list[RenderRecord]:
        """Up to ``limit`` of ``owner``'s renders, newest first (by ``created_at``, then slug,
        both descending), starting after ``after``."""
