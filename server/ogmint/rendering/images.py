"""Avatar and logo images: fetched through the guarded client, checked, re-encoded as PNG.

The renderer only ever sees PNGs this module produced: the type is sniffed from the bytes
(never the Content-Type), the pixel count is checked from the header before decoding, and the
image is downsized and re-encoded so hostile encodings never reach the renderer.
"""

from __future__ import annotations

import asyncio
import io
from collections import OrderedDict
from typing import Final

from PIL import Image, ImageOps, UnidentifiedImageError
from yarl import URL

from ogmint.errors import FetchError, FieldError
from ogmint.net import GuardedClient, OutboundError

_FORMATS: Final = ("PNG", "JPEG", "GIF", "WEBP")


class _Unusable(Exception):
    """The image cannot be used. The message is public; callers prefix their field name."""


def _field_error(field: str, message: str) -> FetchError:
    return FetchError(f"{field}: {message}", [FieldError(field, message)])


def _decode(data: bytes, max_side: int, max_pixels: int) -> Image.Image:
    with Image.open(io.BytesIO(data), formats=_FORMATS) as img:
        width, height = img.size
        if width * height > max_pixels:
            raise _Unusable(
                f"the image is {width}x{height} pixels, more than the limit of {max_pixels}"
            )
        if img.format == "JPEG":
            img.draft("RGB", (max_side, max_side))  # let libjpeg decode at a reduced scale
        img.load()
        return ImageOps.exif_transpose(img).convert("RGBA")


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
    img.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    img.save(out, format="PNG", compress_level=1)  # fast: it is re-read at once, not stored
    return out.getvalue()


class ImageFetcher:
    """Fetches remote images as bounded PNGs, with an LRU cache and shared in-flight fetches."""

    def __init__(self, client: GuardedClient, *, max_pixels: int, cache_entries: int) -> None:
        self._client = client
        self._max_pixels = max_pixels
        self._cache_entries = cache_entries
        self._cache: OrderedDict[tuple[str, int], bytes] = OrderedDict()
        self._inflight: dict[tuple[str, int], asyncio.Task[bytes]] = {}

    async def fetch_png(self, field: str, url: str, max_side: int) -> bytes:
        """The image at ``url`` as a PNG fitting ``max_side`` x ``max_side``.

        Raises :class:`FetchError` naming ``field`` for every reason the image is unusable.
        """
        try:
            scheme = URL(url).scheme
        except (TypeError, ValueError):
            raise _field_error(field, "not a valid URL") from None
        if scheme != "https":
            raise _field_error(field, "must be an https:// URL")
        key = (url, max_side)
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
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
        except OutboundError as e:
            raise _Unusable(e.message) from e
        if 300 <= resp.status < 400:
            raise _Unusable(f"the server answered HTTP {resp.status}; redirects are not followed")
        if resp.status != 200:
            raise _Unusable(f"the server answered HTTP {resp.status}, expected 200")
        # Decoding is CPU-bound; a thread keeps the event loop serving requests.
        return await asyncio.to_thread(_to_png, resp.body, max_side, self._max_pixels)

    def _settle(self, key: tuple[str, int], task: asyncio.Task[bytes]) -> None:
        self._inflight.pop(key, None)
        # exception() also marks a failure as retrieved when every waiter has gone.
        if task.cancelled() or task.exception() is not None or self._cache_entries <= 0:
            return
        self._cache[key] = task.result()
        while len(self._cache) > self._cache_entries:
            self._cache.popitem(last=False)
