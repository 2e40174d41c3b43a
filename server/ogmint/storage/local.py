"""Images as files under one directory (the embedded default).

Writes are atomic and durable: a temporary file in the target directory is written and fsynced,
renamed over the target and the directory fsynced. Readers therefore see the old or the new
object, never a partial one, and several processes may share the directory.
"""

from __future__ import annotations

import asyncio
import functools
import os
import secrets
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from ogmint.storage.base import StorageUnavailable, StoredObject, check_key, content_etag

# "~" never appears in a key, so temporary files can never be mistaken for objects.
_TEMP_SUFFIX = "~tmp"

T = TypeVar("T")


class LocalStorage:
    """``BlobStorage`` on a local directory; ``content_type`` is not stored."""

    def __init__(self, root: Path) -> None:
        self._root = root
        # Directories made or seen by this instance: a put then costs no stat calls for them.
        # Directories are never removed by ogmint, so the set cannot go stale.
        self._dirs: set[Path] = set()
        # File work has threads of its own: a busy shared executor must not delay a durable
        # write (or a read serving an image).
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="storage")

    async def _run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(
            self._pool, functools.partial(fn, *args, **kwargs)
        )

    async def open(self) -> None:
        """Creates the root directory if needed."""
        await self._run(self._root.mkdir, mode=0o700, parents=True, exist_ok=True)

    async def close(self) -> None:
        """Stops the file threads."""
        self._pool.shutdown(wait=False)

    async def put(self, key: str, data: bytes, content_type: str = "image/png") -> StoredObject:
        """Atomically replaces the file for ``key``; durable on return."""
        path = self._path(key)
        try:
            await self._run(self._write, path, data)
        except OSError as e:
            raise StorageUnavailable(f"cannot write {key}: {e.strerror}") from e
        return StoredObject(key, len(data), content_etag(data))

    async def get(self, key: str) -> bytes | None:
        """The file's bytes, or None when there is none."""
        path = self._path(key)
        try:
            return await self._run(_read, path)
        except OSError as e:
            raise StorageUnavailable(f"cannot read {key}: {e.strerror}") from e

    async def head(self, key: str) -> StoredObject | None:
        """The file's size and ETag (hashed on demand: xxh3 runs at memory speed)."""
        data = await self.get(key)
        return None if data is None else StoredObject(key, len(data), content_etag(data))

    async def delete(self, key: str) -> None:
        """Removes the file if it exists."""
        path = self._path(key)
        try:
            await self._run(path.unlink, missing_ok=True)
        except OSError as e:
            raise StorageUnavailable(f"cannot delete {key}: {e.strerror}") from e

    async def ping(self) -> None:
        """Raises ``StorageUnavailable`` unless the root is a writable directory."""
        ok = await self._run(
            lambda: self._root.is_dir() and os.access(self._root, os.W_OK | os.X_OK)
        )
        if not ok:
            raise StorageUnavailable(f"storage directory {self._root} is not writable")

    async def edge_location(self, key: str) -> str:
        """``/_ogmint/local/<key>``: nginx maps it onto this directory."""
        return "/_ogmint/local/" + check_key(key)

    def _path(self, key: str) -> Path:
        return self._root / check_key(key)

    def _write(self, path: Path, data: bytes) -> None:
        # Plain os calls: this runs once per render, and tempfile/pathlib helpers cost more
        # CPU than the syscalls they wrap.
        directory = path.parent
        if directory not in self._dirs:
            _make_dirs(self._root, directory)
            self._dirs.add(directory)
        temp = f"{path}.{secrets.token_hex(6)}{_TEMP_SUFFIX}"
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
        try:
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
                os.fchmod(fd, 0o644)  # whatever the umask: a proxy may serve these files
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(temp, path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
        _fsync_dir(directory)


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return None


def _make_dirs(root: Path, directory: Path) -> None:
    """Creates ``directory`` below ``root``, fsyncing each parent that gains an entry."""
    missing: list[Path] = []
    while directory != root and not directory.is_dir():
        missing.append(directory)
        directory = directory.parent
    for d in reversed(missing):
        d.mkdir(exist_ok=True)  # another process may have just created it
        _fsync_dir(d.parent)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
