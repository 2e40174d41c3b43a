"""Images as files under one directory (the embedded default).

Writes are atomic and durable: the bytes go to a temporary file beside the target, which is
fsynced, renamed over the target, and the directory fsynced. Readers therefore see the old or
the new object, never a partial one, and several processes may share the directory.

The directory fsyncs of concurrent puts are group-committed (``_GroupCommit``): a put whose
rename is done waits for a directory fsync that started after it, and one fsync serves every
put waiting for the same directories (renders made at about the same time share one, see
``renders.storage_key``). A put returns only after its file and its directory entry are
durable; a failed fsync fails every put that waited on it.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import secrets
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from ogmint.storage.base import StorageUnavailable, StoredObject, check_key, content_etag

# "~" never appears in a key, so temporary files can never be mistaken for objects.
_TEMP_SUFFIX = "~tmp"
#: Directories remembered as existing; forgotten when full (then only looked at again).
_KNOWN_DIRS = 4096

T = TypeVar("T")


class LocalStorage:
    """``BlobStorage`` on a local directory; ``content_type`` is not stored.

    ``fsync`` is ``os.fsync`` unless a test wraps it to watch or fail the durable steps.
    """

    def __init__(self, root: Path, *, fsync: Callable[[int], None] = os.fsync) -> None:
        self._root = root
        self._fsync = fsync
        # Directories made or seen by this instance: a put then costs no stat calls for them.
        # Directories are never removed by ogmint, so the set cannot go stale.
        self._dirs: set[str] = set()
        self._commits = _GroupCommit(self._fsync_dir)
        # File work has threads of its own: a busy shared executor must not delay a durable
        # write (or a read serving an image).
        self._pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="storage")

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
        path = str(self._path(key))
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

    def _write(self, path: str, data: bytes) -> None:
        # Plain os calls: this runs once per render, and tempfile/pathlib helpers cost more
        # CPU than the syscalls they wrap.
        directory = os.path.dirname(path)
        if directory not in self._dirs:
            self._make_dirs(directory)
            if len(self._dirs) >= _KNOWN_DIRS:
                self._dirs.clear()
            self._dirs.add(directory)
        temp = f"{path}.{secrets.token_hex(6)}{_TEMP_SUFFIX}"
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
        try:
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
                os.fchmod(fd, 0o644)  # whatever the umask: a proxy may serve these files
                self._fsync(fd)  # concurrent puts' file fsyncs share the journal's commits
            finally:
                os.close(fd)
            os.replace(temp, path)
        except BaseException:
            _unlink(temp)
            raise
        self._commits.sync(directory)

    def _make_dirs(self, directory: str) -> None:
        """Creates ``directory`` below the root, fsyncing each parent that gains an entry."""
        root = str(self._root)
        missing: list[str] = []
        while directory != root and not os.path.isdir(directory):
            missing.append(directory)
            directory = os.path.dirname(directory)
        for d in reversed(missing):
            with contextlib.suppress(FileExistsError):  # another process may have just made it
                os.mkdir(d)
            self._fsync_dir(os.path.dirname(d))

    def _fsync_dir(self, directory: str) -> None:
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
        try:
            self._fsync(fd)
        finally:
            os.close(fd)


class _GroupCommit:
    """Directory fsyncs shared by the threads that need them (group commit).

    A thread calls ``sync(directory)`` after its rename and returns once an fsync of that
    directory that started after the call has succeeded. While one round of fsyncs runs, the
    threads arriving meanwhile wait; then one of them runs the next round for all of them,
    fsyncing each of their directories once. A failed round fails every thread it covered.
    """

    def __init__(self, fsync_dir: Callable[[str], None]) -> None:
        self._fsync_dir = fsync_dir
        self._cond = threading.Condition()
        self._dirty: set[str] = set()  # directories renamed into since the last round began
        self._tickets = 0  # syncs asked for so far; each caller holds one
        self._durable = 0  # every ticket up to this one is durable
        self._failed: tuple[int, int, OSError] | None = None  # (after, up to, error) of a round
        self._running = False

    def sync(self, directory: str) -> None:
        """Returns when ``directory``'s entries as of now are durable; OSError if not."""
        with self._cond:
            self._tickets += 1
            ticket = self._tickets
            self._dirty.add(directory)
            while True:
                if self._durable >= ticket:
                    return
                failed = self._failed
                if failed is not None and failed[0] < ticket <= failed[1]:
                    raise failed[2]
                if not self._running:
                    break
                self._cond.wait()
            # This thread runs the next round, for every ticket taken so far.
            self._running = True
            after, upto = self._durable, self._tickets
            directories, self._dirty = self._dirty, set()
        error: OSError | None = None
        try:
            for d in sorted(directories):
                self._fsync_dir(d)
        except OSError as e:
            error = e
        finally:
            with self._cond:
                self._running = False
                if error is None:
                    self._durable = upto
                else:
                    self._failed = (after, upto, error)
                    self._dirty |= directories  # the next round fsyncs them again
                self._cond.notify_all()
        if error is not None:
            raise error


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return None


def _unlink(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
