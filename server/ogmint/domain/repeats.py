"""The V1 repeat cache (SPEC §2): an image rendered within the last 24 hours is served again
from a cache shared by every app server, without rendering and without counting against any
limit — with or without nginx in front.

Like imgproxy's result cache: the bytes are in the blob storage (local files or S3) and an
index entry by ETag in the shared state says where; the index is bounded by bytes
(``OGMINT_REPEAT_CACHE_BYTES``) and drops its oldest entries, whose blobs are then deleted.
Saving happens after the response is sent; until it is done, this worker serves the image
from memory, and identical requests arriving while it renders wait for that render.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from ogmint.cache import BoundedCache
from ogmint.errors import DependencyError
from ogmint.ids import random_base62
from ogmint.rendering.pipeline import CUSTOM_PREFIX
from ogmint.state.repeats import RepeatEntry, RepeatStore
from ogmint.storage.base import BlobStorage

log = logging.getLogger("ogmint.repeats")

#: How long a rendered V1 image is a free repeat (SPEC §2).
REPEAT_TTL = 86400.0
#: Saves waiting to be written per worker; past this, new renders are not cached (memory).
MAX_PENDING = 64
#: How long an identical request waits for this worker's render of the same card.
WAIT_FOR_RENDER = 30.0
#: Bytes of recent repeats each worker keeps in memory, and for how long (seconds): a card
#: fetched again and again costs no storage read (an S3 GET) each time.
MEMORY_BYTES = 32 * 1024 * 1024
MEMORY_TTL = 300.0
_EXTENSIONS = {"image/png": "png", "image/webp": "webp", "image/jpeg": "jpg"}


@dataclass(frozen=True, slots=True)
class Repeat:
    """A cached image."""

    data: bytes
    content_type: str


def _digest(etag: str) -> str:
    """The index key of an ETag (its quotes off)."""
    return etag.strip('"')


def storage_key(etag: str, content_type: str, at: datetime) -> str:
    """Where a cached image is stored: unique per save, so that dropping an old entry never
    deletes a newer copy of the same card."""
    ext = _EXTENSIONS.get(content_type, "bin")
    return f"repeats/{at:%Y-%m-%d/%H}/{_digest(etag)}-{random_base62(8)}.{ext}"


class RepeatCache:
    """Finds and keeps V1 images by ETag; one per worker, over the shared index and storage."""

    def __init__(self, store: RepeatStore, storage: BlobStorage, max_bytes: int) -> None:
        self._store = store
        self._storage = storage
        self._max = max_bytes
        self._pending: dict[str, Repeat] = {}  # rendered here, being saved
        self._recent: BoundedCache[str, Repeat] = BoundedCache(
            None,
            ttl=MEMORY_TTL,
            max_weight=min(MEMORY_BYTES, max_bytes),
            weigh=lambda image: len(image.data),
        )
        self._rendering: dict[str, asyncio.Future[Repeat | None]] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def enabled(self) -> bool:
        return self._max > 0

    @property
    def cache(self) -> BoundedCache[str, Repeat]:
        """The recent repeats this worker keeps in memory (for the metrics)."""
        return self._recent

    async def find(self, etag: str) -> Repeat | None:
        """The cached image for ``etag``, or None (then the caller renders, within its limits).

        Waits for this worker's render of the same card, if one is in progress. A blob that
        the index names but the storage lost (or a crash cut short) is a miss, and leaves the
        index.
        """
        if not self.enabled:
            return None
        key = _digest(etag)
        rendering = self._rendering.get(key)
        if rendering is not None:
            try:
                done = await asyncio.wait_for(asyncio.shield(rendering), WAIT_FOR_RENDER)
            except TimeoutError:
                done = None
            if done is not None:
                return done
        known = self._pending.get(key) or self._recent.get(key)
        if known is not None:
            return known
        entry = await self._store.find_repeat(key, REPEAT_TTL)
        if entry is None:
            return None
        try:
            data = await self._storage.get(entry.storage_key)
        except DependencyError as e:
            log.warning("repeat cache: storage unavailable, rendering instead: %s", e)
            return None
        if data is None or len(data) != entry.size:  # lost, or cut short by a crash
            await self._store.drop_repeat(key, entry.storage_key)
            return None
        found = Repeat(data, entry.content_type)
        self._recent.put(key, found)
        return found

    async def render(
        self,
        etag: str,
        template: str,
        make: Callable[[], Awaitable[bytes]],
        content_type: str = "image/png",
    ) -> bytes:
        """Runs ``make()`` (the render) and keeps its image for repeats; identical requests to
        this worker meanwhile wait for it (:meth:`find`). ``template`` is the template name:
        a custom template's images are dropped with it."""
        if not self.enabled:
            return await make()
        key = _digest(etag)
        future: asyncio.Future[Repeat | None] = asyncio.get_running_loop().create_future()
        mine = key not in self._rendering
        if mine:
            self._rendering[key] = future
        try:
            data = await make()
        except BaseException:
            future.set_result(None)  # the waiters render for themselves
            raise
        finally:
            if mine:
                del self._rendering[key]
        image = Repeat(data, content_type)
        future.set_result(image)
        if len(data) <= self._max and len(self._pending) < MAX_PENDING:
            self._pending[key] = image
            self._spawn(self._save(key, image, template))
        return data

    async def forget_template(self, template: str) -> None:
        """Drops a deleted custom template's images (SPEC §2): from the index now, so none is
        served again; their blobs are deleted afterwards."""
        await self._settle()  # a save under way may be of this template: drop it too
        freed = await self._store.drop_template_repeats(template)
        if freed:
            self._spawn(self._delete(freed))

    async def close(self) -> None:
        """Waits for the saves and deletions under way (the worker is stopping)."""
        await self._settle()

    async def _settle(self) -> None:
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    def _spawn(self, work: Awaitable[None]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)  # a reference, so the task is not collected mid-flight
        task.add_done_callback(self._tasks.discard)

    async def _save(self, key: str, image: Repeat, template: str) -> None:
        path = storage_key(key, image.content_type, datetime.now(UTC))
        custom = template if template.startswith(CUSTOM_PREFIX) else ""
        try:
            # A copy: no durable write (syncfs) per render; a crash may cut it short, which
            # the size check in find() catches.
            stored = await self._storage.put(path, image.data, image.content_type, durable=False)
            entry = RepeatEntry(key, path, stored.size, image.content_type, custom)
            freed = await self._store.save_repeat(entry, REPEAT_TTL, self._max)
        except DependencyError as e:  # a cache: the next request renders again
            log.warning("repeat cache: not saved: %s", e)
            return
        finally:
            self._pending.pop(key, None)
        self._recent.put(key, image)
        await self._delete(freed)

    async def _delete(self, keys: list[str]) -> None:
        for path in keys:
            try:
                await self._storage.delete(path)
            except DependencyError as e:  # an orphaned blob, nothing served from it
                log.warning("repeat cache: %s not deleted: %s", path, e)
