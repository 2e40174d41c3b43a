"""Images as files under one directory (the embedded default).

Writes are atomic and durable: the bytes go to a temporary file beside the target, which is
renamed onto the target, and the file system is synced before the put returns. Readers
therefore see the old or the new object, never a partial one, and several processes may share
the directory.

Puts are committed in rounds by one thread (group commit, ``_Committer``): it writes and
renames every put waiting, then makes all of them durable with one ``syncfs(2)`` — the files'
data, their directory entries and any directory made, in one journal commit instead of a file
fsync and a directory fsync per image. A put returns only after a sync that started after its
rename has succeeded; a failed sync fails every put of its round. A new key's file is renamed
into place before that sync (it is not acknowledged yet, so a crash can at worst leave a file
nobody was told about); replacing an existing file waits for a sync of the new data first, so
a crash never leaves a replaced object half-written. Needs Linux 5.8 or later, whose
``syncfs`` reports write-back errors.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import errno
import functools
import os
import secrets
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from ogmint.storage.base import StorageUnavailable, StoredObject, check_key, content_etag

# "~" never appears in a key, so temporary files can never be mistaken for objects.
_TEMP_SUFFIX = "~tmp"
#: Directories remembered as existing; forgotten when full (then only looked at again).
_KNOWN_DIRS = 4096
#: ``syncfs`` returns write-back errors (not just 0) from this kernel on.
SYNCFS_REPORTS_ERRORS = (5, 8)
_AT_FDCWD = -100
_RENAME_NOREPLACE = 1

T = TypeVar("T")
_libc = ctypes.CDLL(None, use_errno=True)


def syncfs(fd: int) -> None:
    """``syncfs(2)`` on the file system holding ``fd``: every write to it so far is durable."""
    if _libc.syncfs(fd) != 0:
        code = ctypes.get_errno()
        raise OSError(code, os.strerror(code))


def _rename_new(source: str, target: str) -> bool:
    """Renames ``source`` to ``target`` unless ``target`` exists (then False)."""
    done = _libc.renameat2(
        _AT_FDCWD, source.encode(), _AT_FDCWD, target.encode(), _RENAME_NOREPLACE
    )
    if done == 0:
        return True
    code = ctypes.get_errno()
    if code == errno.EEXIST:
        return False
    raise OSError(code, os.strerror(code), target)


def _kernel() -> tuple[int, int]:
    major, minor = os.uname().release.split(".")[:2]
    return int(major), int("".join(c for c in minor if c.isdigit()) or 0)


class LocalStorage:
    """``BlobStorage`` on a local directory; ``content_type`` is not stored.

    ``sync`` is ``syncfs`` unless a test wraps it to watch or fail the durable step.
    """

    def __init__(self, root: Path, *, sync: Callable[[int], None] = syncfs) -> None:
        self._root = root
        self._committer = _Committer(str(root), sync)
        # Reads have threads of their own: a busy shared executor must not delay serving an
        # image.
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="storage")

    async def _run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(
            self._pool, functools.partial(fn, *args, **kwargs)
        )

    async def open(self) -> None:
        """Creates the root directory if needed and starts the commit thread."""
        if _kernel() < SYNCFS_REPORTS_ERRORS:
            raise StorageUnavailable("local storage needs Linux 5.8 or later (syncfs errors)")
        await self._run(self._root.mkdir, mode=0o700, parents=True, exist_ok=True)
        await self._run(self._committer.start)

    async def close(self) -> None:
        """Commits the puts still waiting, then stops the threads."""
        await self._run(self._committer.stop)
        self._pool.shutdown(wait=False)

    async def put(
        self, key: str, data: bytes, content_type: str = "image/png", *, durable: bool = True
    ) -> StoredObject:
        """Atomically replaces the file for ``key``; durable on return unless ``durable`` is
        false (then no sync is waited for: a round of such puts syncs nothing)."""
        path = str(self._path(key))
        loop = asyncio.get_running_loop()
        done = loop.create_future()
        self._committer.submit(_Put(path, data, loop, done, durable))
        try:
            await done
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


@dataclass(slots=True)
class _Put:
    path: str
    data: bytes
    loop: asyncio.AbstractEventLoop
    done: asyncio.Future[None]
    durable: bool = True
    temp: str = ""  # set while the file waits to replace an existing one
    error: OSError | None = None


class _Committer:
    """The thread that writes puts and makes them durable, in rounds.

    A round takes every put submitted so far: writes each to a temporary file and renames it
    into place (an existing target is replaced only after a sync of the new data), then
    syncs the file system once. Puts submitted meanwhile wait for the next round, so each is
    acknowledged by a sync that started after its rename. A failed sync fails its whole round.
    """

    def __init__(self, root: str, sync: Callable[[int], None]) -> None:
        self._root = root
        self._sync = sync
        self._cond = threading.Condition()
        self._waiting: list[_Put] = []
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._root_fd = -1
        # Directories made or seen here: a put then costs no stat calls for them. Directories
        # are never removed by ogmint, so the set cannot go stale.
        self._dirs: set[str] = set()

    def start(self) -> None:
        # Held open: syncfs reports the write-back errors seen since this descriptor was opened.
        self._root_fd = os.open(self._root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        self._thread = threading.Thread(target=self._serve, name="storage-commit", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self._root_fd >= 0:
            os.close(self._root_fd)
            self._root_fd = -1

    def submit(self, put: _Put) -> None:
        with self._cond:
            if self._stopping or self._thread is None:
                raise StorageUnavailable("local storage is not open")
            self._waiting.append(put)
            self._cond.notify()

    def _serve(self) -> None:
        while True:
            with self._cond:
                while not self._waiting and not self._stopping:
                    self._cond.wait()
                if not self._waiting:
                    return
                puts, self._waiting = self._waiting, []
            self._commit(puts)
            _acknowledge(puts)

    def _commit(self, puts: list[_Put]) -> None:
        """Writes, renames and syncs one round; each put's ``error`` says how it went."""
        replacing = []
        for put in puts:
            try:
                if not self._write(put):
                    replacing.append(put)
            except OSError as e:
                put.error = e
        written = [put for put in puts if put.error is None]
        try:
            if any(put.durable for put in replacing):
                self._sync(self._root_fd)  # the new data first, then it replaces the old
            for put in replacing:
                os.replace(put.temp, put.path)
            if any(put.durable for put in written):
                self._sync(self._root_fd)
        except OSError as e:
            for put in written:
                put.error = e
            for put in replacing:
                _unlink(put.temp)

    def _write(self, put: _Put) -> bool:
        """Writes the file under a temporary name and renames it into place if that is new
        (True); else leaves it under ``put.temp`` to replace the existing one (False)."""
        # Plain os calls: this runs once per render, and tempfile/pathlib helpers cost more
        # CPU than the syscalls they wrap.
        directory = os.path.dirname(put.path)
        if directory not in self._dirs:
            self._make_dirs(directory)
            if len(self._dirs) >= _KNOWN_DIRS:
                self._dirs.clear()
            self._dirs.add(directory)
        temp = f"{put.path}.{secrets.token_hex(6)}{_TEMP_SUFFIX}"
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
        try:
            try:
                view = memoryview(put.data)
                while view:
                    view = view[os.write(fd, view) :]
                os.fchmod(fd, 0o644)  # whatever the umask: a proxy may serve these files
            finally:
                os.close(fd)
            if _rename_new(temp, put.path):
                return True
        except BaseException:
            _unlink(temp)
            raise
        put.temp = temp
        return False

    def _make_dirs(self, directory: str) -> None:
        """Creates ``directory`` below the root (the round's sync makes the entries durable)."""
        os.makedirs(directory, exist_ok=True)  # another process may have just made it


def _acknowledge(puts: list[_Put]) -> None:
    """Resolves the round's futures, with one wake-up per event loop."""
    by_loop: dict[asyncio.AbstractEventLoop, list[_Put]] = {}
    for put in puts:
        by_loop.setdefault(put.loop, []).append(put)
    for loop, mine in by_loop.items():
        with contextlib.suppress(RuntimeError):  # a closed loop awaits nothing any more
            loop.call_soon_threadsafe(_resolve, mine)


def _resolve(puts: list[_Put]) -> None:
    for put in puts:
        if put.done.cancelled():
            continue
        if put.error is None:
            put.done.set_result(None)
        else:
            put.done.set_exception(put.error)


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return None


def _unlink(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
