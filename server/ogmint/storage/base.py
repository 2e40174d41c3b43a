"""The BlobStorage protocol: every stored image goes through it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

import xxhash

from ogmint.errors import DependencyError

MAX_KEY_LENGTH = 256
MAX_SEGMENT_LENGTH = 128  # file systems cap a name at 255 bytes; local temp names add a suffix

# Slash-separated segments of safe characters: no empty segments, so no leading, trailing or
# doubled "/".
_KEY = re.compile(r"[A-Za-z0-9_.-]+(?:/[A-Za-z0-9_.-]+)*")


@dataclass(frozen=True, slots=True)
class StoredObject:
    """What is known about a stored object without reading it."""

    key: str
    size: int
    etag: str  # xxh3_128 hex of the bytes, unquoted; quoting for HTTP is the caller's job


class StorageUnavailable(DependencyError):
    """The storage backend is down, misconfigured or timed out (the API answers 503)."""

    default_message = "Image storage temporarily unavailable"


def content_etag(data: bytes) -> str:
    """The ETag of some bytes: their xxh3_128 digest in hex."""
    return str(xxhash.xxh3_128_hexdigest(data))


def check_key(key: str) -> str:
    """Returns ``key`` if it is a valid object key, else raises ``ValueError``.

    Keys look like ``images/ab/abcdEFGH.png``: at most 256 characters of ``[A-Za-z0-9/_.-]``,
    no ``..``, no empty or ``.`` segment (so no leading or trailing ``/``), no segment longer
    than 128 characters.
    """
    segments = key.split("/")
    if (
        len(key) > MAX_KEY_LENGTH
        or not _KEY.fullmatch(key)
        or ".." in key
        or "." in segments
        or max(map(len, segments)) > MAX_SEGMENT_LENGTH
    ):
        raise ValueError(f"invalid storage key: {key[:80]!r}")
    return key


class BlobStorage(Protocol):
    """Image bytes by key. Implementations: a local directory (embedded default) and S3.

    Every method raises ``ValueError`` for an invalid key and ``StorageUnavailable`` when the
    backend cannot answer.
    """

    async def open(self) -> None:
        """Prepares the storage (creates the directory, connects)."""

    async def close(self) -> None:
        """Releases connections."""

    async def put(
        self, key: str, data: bytes, content_type: str = "image/png", *, durable: bool = True
    ) -> StoredObject:
        """Stores ``data`` under ``key``, replacing any previous object; durable on return
        unless ``durable`` is false (a cached copy: readable at once, but a crash may lose or
        truncate it, so its reader checks the size)."""

    async def get(self, key: str) -> bytes | None:
        """The object's bytes, or None when there is none."""

    async def head(self, key: str) -> StoredObject | None:
        """The object's size and ETag, or None when there is none."""

    async def delete(self, key: str) -> None:
        """Removes the object; deleting a missing object is not an error."""

    async def ping(self) -> None:
        """Raises ``StorageUnavailable`` if the backend is unreachable."""

    async def edge_location(self, key: str) -> str:
        """The ``X-Accel-Redirect`` target from which nginx (the repo's nginx.conf) fetches
        the object itself: a path under ``/_ogmint/``. Computed locally, no request made."""
