"""Avatar and logo images: fetched through the guarded client, checked, re-encoded as PNG.

The renderer only ever sees PNGs this module produced: the type is sniffed from the bytes
(never the Content-Type), the decoded size is checked against a pixel budget before any pixel
is decoded, JPEGs are decoded at a reduced scale (the card draws avatars at 192 px and logos at
480), and the image is downsized and re-encoded so hostile encodings never reach the renderer.
Decoding runs in a small pool of its own, admitted by the renderer's capacity: a worker that is
busy refuses (503) instead of decoding more at once.
"""

from __future__ import annotations

import asyncio
import io
import logging
import struct
from concurrent.futures import ThreadPoolExecutor
from typing import Final

from PIL import Image, ImageOps, UnidentifiedImageError
from yarl import URL

from ogmint.cache import BoundedCache
from ogmint.errors import FetchError, FieldError
from ogmint.net import ConnectionFailed, FetchTimeout, GuardedClient, OutboundError
from ogmint.rendering.native import Capacity

_FORMATS: Final = ("PNG", "JPEG", "GIF", "WEBP")
#: What a caller learns when the network failed: not which step (resolving, connecting, TLS,
#: waiting), which would make the fetcher a port scanner. The detail is logged.
FETCH_FAILED: Final = "the image could not be fetched"

log = logging.getLogger("ogmint.images")


class _Unusable(Exception):
    """The image cannot be used. The message is public; callers prefix their field name."""


def _field_error(field: str, message: str) -> FetchError:
    return FetchError(f"{field}: {message}", [FieldError(field, message)])


def _webp_size(data: bytes) -> tuple[int, int]:
    """A WebP's canvas size from its first chunk. Pillow's WebP decoder allocates the whole
    canvas when the file is opened, so the budget must be checked before that."""
    kind = data[12:16]
    try:
        if kind == b"VP8 " and data[23:26] == b"\x9d\x01\x2a":
            width, height = struct.unpack("<HH", data[26:30])
            return width & 0x3FFF, height & 0x3FFF
        if kind == b"VP8L" and data[20:21] == b"\x2f":
            bits = int.from_bytes(data[21:25], "little")
            return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
        if kind == b"VP8X":
            return (
                int.from_bytes(data[24:27], "little") + 1,
                int.from_bytes(data[27:30], "little") + 1,
            )
    except struct.error:
        pass
    raise _Unusable("the image data is corrupt or truncated")


def _check_budget(size: tuple[int, int], max_pixels: int) -> None:
    width, height = size
    if width * height > max_pixels:
        raise _Unusable(
            f"the image is {width}x{height} pixels, more than the limit of {max_pixels}"
        )


def _decode(data: bytes, max_side: int, max_pixels: int) -> Image.Image:
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        _check_budget(_webp_size(data), max_pixels)
    with Image.open(io.BytesIO(data), formats=_FORMATS) as img:
        if img.format == "JPEG":
            # libjpeg decodes at 1/2, 1/4 or 1/8 scale: a huge photo costs what the card needs.
            img.draft("RGB", (max_side, max_side))
        _check_budget(img.size, max_pixels)
        img.load()
        ImageOps.exif_transpose(img, in_place=True)  # a copy would double the peak
        # Palette images convert first (resizing them would fall back to nearest-neighbour);
        # the rest shrink first, so the copies made from here on are small.
        out: Image.Image = img.convert("RGBA") if img.mode in ("P", "1") else img
        out.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
        return out.convert("RGBA")


def _to_png(data: bytes, max_side: int, max_pixels: int) -> bytes:
    """Decodes a PNG/JPEG/GIF/WebP, fits it in ``max_side``² and re-encodes it as RGBA PNG.

    Raises :class:`_Unusable` with a public message for anything that is not a usable image.
    """
    try:
        img = _decode(data, max_side, max_pixels)
    except _Unusable:
        raise
    except Image.DecompressionBombError as e:
        raise _Unusable("the image's dimensions are too large to decode safely") from e
    except UnidentifiedImageError as e:
        raise _Unusable("the content is not a PNG, JPEG, GIF or WebP image") from e
    except Exception as e:  # decoders raise many exception types on hostile input
        raise _Unusable("the image data is corrupt or truncated") from e
    out = io.BytesIO()
    img.save(out, format="PNG", compress_level=1)  # fast: it is re-read at once, not stored
    return out.getvalue()


def local_png(field: str, data: bytes, max_side: int, max_pixels: int) -> bytes:
    """An image given as bytes (a file, for ``ogmint preview``), checked and re-encoded
    exactly as a fetched one is; :class:`FetchError` naming ``field`` when unusable."""
    try:
        return _to_png(data, max_side, max_pixels)
    except _Unusable as e:
        raise _field_error(field, str(e)) from e


class ImageFetcher:
    """Fetches remote images as bounded PNGs, with a byte-bounded LRU cache and shared
    in-flight fetches."""

    def __init__(
        self,
        client: GuardedClient,
        *,
        capacity: Capacity,
        threads: int,
        max_pixels: int,
        cache_bytes: int,
    ) -> None:
        self._client = client
        self._capacity = capacity
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="decode")
        self._max_pixels = max_pixels
        self._cache: BoundedCache[tuple[str, int], bytes] = BoundedCache(
            None, max_weight=cache_bytes, weigh=len
        )
        self._inflight: dict[tuple[str, int], asyncio.Task[bytes]] = {}

    @property
    def cache(self) -> BoundedCache[tuple[str, int], bytes]:
        """The fetched images kept (for the metrics)."""
        return self._cache

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    async def fetch_png(self, field: str, url: str, max_side: int, *, fresh: bool = False) -> bytes:
        """The image at ``url`` as a PNG fitting ``max_side`` x ``max_side``; ``fresh``: fetched
        now, not from this worker's cache (a brand's logo, which is kept once saved).

        Raises :class:`FetchError` naming ``field`` for every reason the image is unusable,
        and ``SaturatedError`` (503) when the worker has no capacity to decode it.
        """
        try:
            scheme = URL(url).scheme
        except (TypeError, ValueError):
            raise _field_error(field, "not a valid URL") from None
        if scheme != "https":
            raise _field_error(field, "must be an https:// URL")
        if fresh:
            try:
                return await self._load(url, max_side)
            except _Unusable as e:
                raise _field_error(field, str(e)) from e
        key = (url, max_side)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        task = self._inflight.get(key)
        if task is None:
            task = asyncio.create_task(self._load(url, max_side))
            self._inflight[key] = task
            task.add_done_callback(lambda done: self._settle(key, done))
        try:
            # Shielded: one caller giving up must not cancel the fetch others are awaiting.
            return await asyncio.shield(task)
        except _Unusable as e:
            raise _field_error(field, str(e)) from e

    async def _load(self, url: str, max_side: int) -> bytes:
        try:
            resp = await self._client.get(url)
        except (ConnectionFailed, FetchTimeout) as e:
            log.info("fetching an image failed: %s", e.message)
            raise _Unusable(FETCH_FAILED) from e
        except OutboundError as e:
            raise _Unusable(e.message) from e
        if 300 <= resp.status < 400:
            raise _Unusable(f"the server answered HTTP {resp.status}; redirects are not followed")
        if resp.status != 200:
            raise _Unusable(f"the server answered HTTP {resp.status}, expected 200")
        body, pixels = resp.body, self._max_pixels
        return await self._capacity.run(self._pool, lambda: _to_png(body, max_side, pixels))

    def _settle(self, key: tuple[str, int], task: asyncio.Task[bytes]) -> None:
        self._inflight.pop(key, None)
        # exception() also marks a failure as retrieved when every waiter has gone.
        if task.cancelled() or task.exception() is not None:
            return
        self._cache.put(key, task.result())
