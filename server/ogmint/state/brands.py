"""The brands aggregate (SPEC §6.1): users' saved looks, with the logo image kept re-encoded."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class BrandMeta:
    """A brand as listed (no logo image)."""

    id: str
    owner: str  # the user: every key of the user may use, update and delete it
    name: str
    look: str  # JSON of the brand's canonical render parameters (colours, palette, font, logo)
    version: str  # digest of look and logo image: part of the ETag and dedup key of its renders
    created_at: str
    updated_at: str


class BrandStore(Protocol):
    """Every method raises StateUnavailable when the backend cannot be reached in time.

    Brands are looked up by owner and id together: another user's id does not exist.
    """

    async def create_brand(self, meta: BrandMeta, logo: bytes, limit: int) -> bool:
        """Stores a new brand and its logo PNG (``b""``: none); False (nothing written) if the
        owner already has ``limit``."""

    async def update_brand(self, meta: BrandMeta, logo: bytes) -> BrandMeta | None:
        """Replaces name, look, version, logo and updated_at of an existing brand (its
        ``created_at`` stays); the stored meta, or None if the owner has no such brand."""

    async def delete_brand(self, owner: str, brand_id: str) -> bool:
        """Deletes the brand; False if the owner has no such brand."""

    async def get_brand(self, owner: str, brand_id: str) -> tuple[BrandMeta, bytes] | None:
        """The brand and its logo PNG (``b""``: none)."""

    async def list_brands(self, owner: str) -> list[BrandMeta]:
        """The owner's brands, newest first."""

    async def brand_version(self, owner: str, brand_id: str) -> str | None:
        """The current version (the render path's one lookup), or None."""
