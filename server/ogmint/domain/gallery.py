"""The stored images behind ``/i/{slug}`` (SPEC §8): where a render's PNG is kept, and the
images of finished renders, remembered per worker (an image never changes).

Records are not remembered: a render can be deleted (SPEC §3.1), and from then on ``/i/`` is a
404 on every server, so each lookup asks the shared state whether the slug still exists.
"""

from __future__ import annotations

from datetime import datetime

from ogmint.cache import BoundedCache
from ogmint.rendering.formats import CONTENT_TYPES, Format
from ogmint.state.renders import RenderRecord, RenderStore
from ogmint.storage.base import BlobStorage, StoredObject

SLUG_LENGTH = 8
#: Stored images kept in memory per worker.
IMAGE_CACHE_BYTES = 64 * 1024 * 1024


#: The file extension a stored image has, by format; the extension is how a record tells its
#: format (records made before formats existed are all ``.png``).
EXTENSIONS: dict[str, str] = {"png": "png", "webp": "webp", "jpeg": "jpg"}
_TYPES_BY_EXTENSION = {ext: CONTENT_TYPES[fmt] for fmt, ext in EXTENSIONS.items()}


def storage_key(slug: str, at: datetime, fmt: Format = "png") -> str:
    """Where a render made at ``at`` (UTC) is stored: one directory per minute, so concurrent
    renders touch one directory, and the local storage's commit rounds few directory blocks."""
    return f"images/{at:%Y-%m-%d/%H%M}/{slug}.{EXTENSIONS[fmt]}"


def content_type(record: RenderRecord) -> str:
    """The stored image's ``Content-Type``, from its storage key's extension."""
    return _TYPES_BY_EXTENSION.get(record.storage_key.rpartition(".")[2], "image/png")


def _image_bytes(item: tuple[RenderRecord, bytes]) -> int:
    return len(item[1])


class Gallery:
    """Stored renders by slug: their records and their images."""

    def __init__(
        self, renders: RenderStore, storage: BlobStorage, image_cache_bytes: int = IMAGE_CACHE_BYTES
    ) -> None:
        self._renders = renders
        self._storage = storage
        self._images: BoundedCache[str, tuple[RenderRecord, bytes]] = BoundedCache(
            None, max_weight=image_cache_bytes, weigh=_image_bytes
        )

    @property
    def cache(self) -> BoundedCache[str, tuple[RenderRecord, bytes]]:
        """The stored images kept for ``/i/`` (for the metrics)."""
        return self._images

    async def store(self, path: str, image: bytes, content_type: str) -> StoredObject:
        """Stores a new render's image at ``path`` (refusing to overwrite)."""
        return await self._storage.put(path, image, content_type)

    async def discard(self, path: str) -> None:
        """Deletes a stored PNG that no record points at."""
        await self._storage.delete(path)

    async def remove(self, record: RenderRecord) -> None:
        """Deletes a render's stored image and this worker's copy of it."""
        await self._storage.delete(record.storage_key)
        self._images.pop(record.slug)

    def remember(self, record: RenderRecord, png: bytes) -> None:
        """Keeps a render just recorded (and its image) for the next ``/i/`` requests."""
        self._images.put(record.slug, (record, png))

    async def record(self, slug: str) -> RenderRecord | None:
        """The render behind a slug, without reading the image."""
        if len(slug) != SLUG_LENGTH or not slug.isascii() or not slug.isalnum():
            return None
        return await self._renders.get_render(slug)

    async def image(self, slug: str) -> tuple[RenderRecord, bytes] | None:
        """The stored PNG behind a slug (immutable, so cached in memory while it exists)."""
        record = await self.record(slug)
        if record is None:
            self._images.pop(slug)
            return None
        cached = self._images.get(slug)
        if cached is not None and cached[0] == record:
            return cached
        data = await self._storage.get(record.storage_key)
        if data is None:
            return None
        self._images.put(slug, (record, data))
        return record, data

    async def edge_location(self, record: RenderRecord) -> str:
        """Where nginx reads the stored file from (``X-Accel-Redirect``)."""
        return await self._storage.edge_location(record.storage_key)
