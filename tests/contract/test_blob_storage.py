"""The BlobStorage contract, run against every implementation (local directory and S3)."""

from __future__ import annotations

import asyncio
import errno
import os
import socket
import sys
import threading
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest
import xxhash

from backends import S3Server
from ogmint.storage import BlobStorage, StorageUnavailable, StoredObject
from ogmint.storage.local import LocalStorage, syncfs
from ogmint.storage.s3 import S3Storage

pytestmark = pytest.mark.asyncio(loop_scope="session")

KEY = "images/ab/abcdEFGH.png"


@pytest.fixture(params=["local", "s3"])
async def storage(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[BlobStorage]:
    """An open, empty storage of each kind (S3 tests get a fresh prefix on the shared server)."""
    store: BlobStorage
    if request.param == "local":
        store = LocalStorage(tmp_path / "images")
    else:
        server: S3Server = request.getfixturevalue("s3_server")
        store = s3_storage(server.endpoint_url, prefix=f"t-{uuid.uuid4().hex}/")
    await store.open()
    yield store
    await store.close()


def s3_storage(endpoint_url: str, *, prefix: str = "", timeout: float = 3.0) -> S3Storage:
    return S3Storage(
        "ogmint-test", endpoint_url=endpoint_url, region="us-east-1", prefix=prefix, timeout=timeout
    )


def xxh3(data: bytes) -> str:
    return xxhash.xxh3_128_hexdigest(data)


# --- the contract ------------------------------------------------------------------------------


async def test_put_then_get_returns_the_exact_bytes(storage: BlobStorage) -> None:
    data = b"\x89PNG\r\n\x1a\n" + os.urandom(1000)
    stored = await storage.put(KEY, data)
    assert stored == StoredObject(KEY, len(data), xxh3(data))
    assert await storage.get(KEY) == data


async def test_a_put_that_need_not_be_durable_is_readable_at_once(storage: BlobStorage) -> None:
    data = os.urandom(3000)
    stored = await storage.put(KEY, data, durable=False)
    assert stored == StoredObject(KEY, len(data), xxh3(data))
    assert await storage.get(KEY) == data
    await storage.put(KEY, b"replaced", durable=False)
    assert await storage.get(KEY) == b"replaced"


async def test_head_reports_size_and_content_etag(storage: BlobStorage) -> None:
    data = os.urandom(3000)
    stored = await storage.put(KEY, data)
    assert await storage.head(KEY) == stored == StoredObject(KEY, 3000, xxh3(data))


async def test_etag_depends_only_on_the_bytes(storage: BlobStorage) -> None:
    a = await storage.put("images/aa/one.png", b"same bytes")
    b = await storage.put("images/bb/two.png", b"same bytes")
    c = await storage.put("images/cc/three.png", b"other bytes")
    assert a.etag == b.etag
    assert a.etag != c.etag
    heads = [await storage.head(k) for k in ("images/aa/one.png", "images/cc/three.png")]
    assert [h.etag for h in heads if h] == [a.etag, c.etag]


async def test_missing_object_is_none(storage: BlobStorage) -> None:
    assert await storage.get("images/zz/missing.png") is None
    assert await storage.head("images/zz/missing.png") is None


async def test_put_overwrites_and_is_idempotent(storage: BlobStorage) -> None:
    await storage.put(KEY, b"first version")
    second = await storage.put(KEY, b"second, longer version")
    assert await storage.get(KEY) == b"second, longer version"
    assert await storage.head(KEY) == second
    assert await storage.put(KEY, b"second, longer version") == second
    assert await storage.get(KEY) == b"second, longer version"


async def test_delete_removes_and_tolerates_missing(storage: BlobStorage) -> None:
    await storage.put(KEY, b"x")
    await storage.delete(KEY)
    assert await storage.get(KEY) is None
    assert await storage.head(KEY) is None
    await storage.delete(KEY)
    await storage.delete("images/zz/never-existed.png")


async def test_delete_leaves_other_keys(storage: BlobStorage) -> None:
    await storage.put("images/ab/a.png", b"a")
    await storage.put("images/ab/b.png", b"b")
    await storage.delete("images/ab/a.png")
    assert await storage.get("images/ab/b.png") == b"b"


BAD_KEYS = [
    "",
    "/images/ab/a.png",
    "images/ab/a.png/",
    "images//a.png",
    "images/../etc/passwd",
    "..",
    "images/a..png",
    ".",
    "images/./a.png",
    "images/a b.png",
    "images\\a.png",
    "images/a%2F.png",
    "images/é.png",
    "images/a.png\n",
    "images/a.png\x00",
    "images/a~tmp",
    "a" * 129,
    "images/" + "a" * 129,
    "/".join(["a" * 128] * 3),
]


@pytest.mark.parametrize("key", BAD_KEYS)
async def test_invalid_keys_are_refused(storage: BlobStorage, key: str) -> None:
    operations: list[Callable[[], Awaitable[object]]] = [
        lambda: storage.put(key, b"x"),
        lambda: storage.get(key),
        lambda: storage.head(key),
        lambda: storage.delete(key),
        lambda: storage.edge_location(key),
    ]
    for operation in operations:
        with pytest.raises(ValueError, match="invalid storage key"):
            await operation()


@pytest.mark.parametrize(
    "key", ["a", "a" * 128, "b" * 127 + "/" + "c" * 128, "images/ab/abcdEFGH.png", "x/y_z-1.2/w.v"]
)
async def test_valid_keys_are_accepted(storage: BlobStorage, key: str) -> None:
    await storage.put(key, b"ok")
    assert await storage.get(key) == b"ok"


async def test_concurrent_puts_of_different_keys(storage: BlobStorage) -> None:
    blobs = {f"images/{i % 7:02d}/obj{i}.png": os.urandom(100 + i) for i in range(50)}
    stored = await asyncio.gather(*(storage.put(k, v) for k, v in blobs.items()))
    assert [s.key for s in stored] == list(blobs)
    fetched = await asyncio.gather(*(storage.get(k) for k in blobs))
    assert fetched == list(blobs.values())


async def test_concurrent_puts_of_one_key_leave_one_whole_version(storage: BlobStorage) -> None:
    versions = [bytes([i]) * (10_000 + i) for i in range(20)]
    results = await asyncio.gather(*(storage.put(KEY, v) for v in versions), return_exceptions=True)
    # A store may refuse some of the racing puts as unavailable (moto's server answers a few
    # of them 500 on a loaded machine, as S3 may): what must never happen is a torn object.
    assert all(isinstance(r, StoredObject | StorageUnavailable) for r in results), results
    assert any(isinstance(r, StoredObject) for r in results)
    final = await storage.get(KEY)
    assert final in versions
    assert await storage.head(KEY) == StoredObject(KEY, len(final or b""), xxh3(final or b""))


async def test_large_object(storage: BlobStorage) -> None:
    data = os.urandom(5 * 1024 * 1024)
    stored = await storage.put(KEY, data)
    assert stored.size == len(data)
    assert await storage.get(KEY) == data


async def test_every_byte_value_survives(storage: BlobStorage) -> None:
    data = bytes(range(256)) * 64 + bytes(reversed(range(256)))
    await storage.put(KEY, data, content_type="application/octet-stream")
    assert await storage.get(KEY) == data


async def test_empty_object(storage: BlobStorage) -> None:
    stored = await storage.put(KEY, b"")
    assert stored == StoredObject(KEY, 0, xxh3(b""))
    assert await storage.get(KEY) == b""
    assert await storage.head(KEY) == stored


async def test_edge_location_names_the_object_under_an_internal_prefix(
    storage: BlobStorage,
) -> None:
    # Where nginx fetches the object for X-Accel-Redirect (followed end to end, through real
    # nginx, in tests/integration/test_nginx.py).
    location = await storage.edge_location("images/ab/abcdEFGH.png")
    assert location.startswith(("/_ogmint/local/", "/_ogmint/s3/"))
    path, _, _query = location.partition("?")
    assert path.endswith("/images/ab/abcdEFGH.png")
    assert await storage.edge_location("images/ab/abcdEFGH.png") != await storage.edge_location(
        "images/ab/abcdEFGI.png"
    )


async def test_ping_when_reachable(storage: BlobStorage) -> None:
    await storage.ping()


# --- local only --------------------------------------------------------------------------------


async def test_local_writes_leave_no_temporary_files(tmp_path: Path) -> None:
    store = LocalStorage(tmp_path / "root")
    await store.open()
    await asyncio.gather(*(store.put(KEY, os.urandom(5000)) for _ in range(30)))
    files = [p for p in (tmp_path / "root").rglob("*") if p.is_file()]
    assert files == [tmp_path / "root" / KEY]


WRITER = """
import asyncio, sys
from pathlib import Path
from ogmint.storage.local import LocalStorage, syncfs

async def main() -> None:
    store = LocalStorage(Path(sys.argv[1]))
    await store.open()
    for i in range(25):
        await store.put("images/ab/shared.png", bytes([int(sys.argv[2])]) * (50_000 + i))

asyncio.run(main())
"""


async def test_local_is_safe_with_several_processes(tmp_path: Path) -> None:
    root = tmp_path / "root"
    writers = [
        await asyncio.create_subprocess_exec(sys.executable, "-c", WRITER, str(root), str(n))
        for n in range(4)
    ]
    assert [await w.wait() for w in writers] == [0, 0, 0, 0]
    data = (root / "images/ab/shared.png").read_bytes()
    assert len(set(data)) == 1 and data[0] in range(4)
    assert 50_000 <= len(data) < 50_025
    assert [p.name for p in (root / "images/ab").iterdir()] == ["shared.png"]


class WatchedSync:
    """Wraps the storage's ``syncfs``: records what each successful call made durable (every
    file and entry under the root when it was called), and can slow or fail the calls."""

    def __init__(self, root: Path, delay: float = 0.0, fail: bool = False) -> None:
        self.root = root
        self.delay = delay
        self.fail = fail
        self.lock = threading.Lock()
        self.files: set[int] = set()  # inodes whose data a sync made durable
        self.entries: set[str] = set()  # paths a sync made durable
        self.snapshots: list[dict[str, int]] = []  # path → inode, as each successful sync saw it
        self.calls = 0

    def __call__(self, fd: int) -> None:
        listed = {  # before the sync: a file written later is not covered by it
            os.path.join(d, name): os.stat(os.path.join(d, name)).st_ino
            for d, _, names in os.walk(self.root)
            for name in names
        }
        with self.lock:
            self.calls += 1
        time.sleep(self.delay)
        if self.fail:
            raise OSError(errno.EIO, "Input/output error")
        syncfs(fd)
        with self.lock:
            self.files.update(listed.values())
            self.entries.update(listed)
            self.snapshots.append(listed)


async def test_local_acknowledges_a_put_only_once_its_file_and_entry_are_durable(
    tmp_path: Path,
) -> None:
    root = tmp_path / "root"
    sync = WatchedSync(root, delay=0.02)
    store = LocalStorage(root, sync=sync)
    await store.open()
    await store.put("images/2026-12-02/0130/first.png", b"x")
    calls = sync.calls
    keys = [f"images/2026-12-02/0130/obj{i}.png" for i in range(24)]
    keys += ["images/other/one.png", "images/2026-12-02/0131/new-directory.png"]

    async def put(i: int, key: str) -> tuple[bool, bool]:
        await asyncio.sleep(i % 5 * 0.007)  # some arrive while a round's sync is running
        await store.put(key, os.urandom(20_000))
        path = str(root / key)
        # Checked the moment the put returns, before any later sync could cover it.
        with sync.lock:
            return os.stat(path).st_ino in sync.files, path in sync.entries

    results = await asyncio.gather(*(put(i, k) for i, k in enumerate(keys)))
    await store.close()
    assert all(data and entry for data, entry in results), results
    # New directories' entries too: their parents' listings were covered by the syncs.
    assert str(root / "images/2026-12-02/0131/new-directory.png") in sync.entries
    # Concurrent puts shared syncs: far fewer than one per put.
    assert sync.calls - calls <= len(keys) // 2


async def test_local_replaces_an_object_only_once_the_new_data_is_durable(
    tmp_path: Path,
) -> None:
    root = tmp_path / "root"
    sync = WatchedSync(root)
    store = LocalStorage(root, sync=sync)
    await store.open()
    await store.put(KEY, b"old" * 1000)
    path = str(root / KEY)
    old = os.stat(path).st_ino
    await store.put(KEY, b"new" * 1000)
    new = os.stat(path).st_ino
    assert new != old and await store.get(KEY) == b"new" * 1000
    await store.close()
    # A sync covered the new file while the key still named the old one: a crash at any point
    # leaves the old or the new object, never a file whose data was not yet written.
    assert any(seen.get(path) == old and new in seen.values() for seen in sync.snapshots)


async def test_local_puts_that_need_not_be_durable_wait_for_no_sync(tmp_path: Path) -> None:
    root = tmp_path / "root"
    sync = WatchedSync(root)
    store = LocalStorage(root, sync=sync)
    await store.open()
    await store.put("repeats/a.png", b"a" * 100, durable=False)
    await store.put("repeats/a.png", b"b" * 100, durable=False)  # a replacement too
    assert sync.calls == 0
    await store.put("images/durable.png", b"c" * 100)
    assert sync.calls >= 1
    await store.close()


async def test_local_failed_sync_fails_every_put_of_its_round(tmp_path: Path) -> None:
    root = tmp_path / "root"
    sync = WatchedSync(root, delay=0.02)
    store = LocalStorage(root, sync=sync)
    await store.open()
    await store.put("images/d/first.png", b"made the directories")
    await store.put(KEY, b"kept")
    sync.fail = True
    calls = sync.calls
    outcomes = await asyncio.gather(
        *(store.put(f"images/d/obj{i}.png", b"x" * 1000) for i in range(12)),
        store.put(KEY, b"never acknowledged"),
        return_exceptions=True,
    )
    assert all(isinstance(o, StorageUnavailable) for o in outcomes), outcomes
    # Puts that waited for another's sync failed with it, without a sync of their own.
    assert sync.calls - calls < len(outcomes)
    # A replacement whose data was never synced did not replace anything.
    assert await store.get(KEY) == b"kept"
    assert not [p for p in root.rglob("*") if p.name.endswith("~tmp")]
    sync.fail = False
    await store.put("images/d/after.png", b"recovered")
    assert await store.get("images/d/after.png") == b"recovered"
    await store.close()


async def test_local_put_after_close_is_unavailable(tmp_path: Path) -> None:
    store = LocalStorage(tmp_path / "root")
    await store.open()
    await store.close()
    with pytest.raises(StorageUnavailable):
        await store.put(KEY, b"late")


async def test_local_ping_fails_without_directory(tmp_path: Path) -> None:
    store = LocalStorage(tmp_path / "gone")
    with pytest.raises(StorageUnavailable):
        await store.ping()


# --- S3 failures: an outage is reported quickly and the same instance recovers -----------------


def all_operations(store: S3Storage) -> dict[str, Callable[[], Awaitable[object]]]:
    return {
        "put": lambda: store.put(KEY, b"data"),
        "get": lambda: store.get(KEY),
        "head": lambda: store.head(KEY),
        "delete": lambda: store.delete(KEY),
        "ping": store.ping,
    }


async def assert_all_unavailable(store: S3Storage, within: float) -> None:
    for name, operation in all_operations(store).items():
        started = time.monotonic()
        with pytest.raises(StorageUnavailable):
            await operation()
        elapsed = time.monotonic() - started
        assert elapsed < within, f"{name} took {elapsed:.1f} s"


async def test_s3_outage_is_unavailable_then_recovers(
    s3_server_factory: Callable[[], S3Server],
) -> None:
    server = s3_server_factory()
    store = s3_storage(server.endpoint_url)
    await store.open()
    try:
        await store.put(KEY, b"before")  # the pool now holds a live connection
        server.stop()
        await assert_all_unavailable(store, within=10)
        server.start()  # an empty server on the same port
        await store.ping()
        await store.put(KEY, b"after")
        assert await store.get(KEY) == b"after"
        assert await store.head(KEY) == StoredObject(KEY, 5, xxh3(b"after"))
    finally:
        await store.close()


async def test_s3_closed_port_is_unavailable() -> None:
    from backends import free_port

    store = s3_storage(f"http://127.0.0.1:{free_port()}")
    await store.open()  # opening does not connect: the app can start while S3 is down
    try:
        await assert_all_unavailable(store, within=10)
    finally:
        await store.close()


@pytest.fixture
def silent_endpoint() -> Iterator[str]:
    """A loopback port that completes TCP handshakes but never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)  # never accepted: connections sit in the backlog
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"


async def test_s3_silent_server_times_out(silent_endpoint: str) -> None:
    store = s3_storage(silent_endpoint, timeout=0.5)
    await store.open()
    try:
        await assert_all_unavailable(store, within=3 * 0.5 + 2)
    finally:
        await store.close()


async def test_s3_missing_bucket_is_unavailable(s3_server: S3Server) -> None:
    store = S3Storage(
        "no-such-bucket", endpoint_url=s3_server.endpoint_url, region=s3_server.region
    )
    await store.open()
    try:
        with pytest.raises(StorageUnavailable):
            await store.ping()
        with pytest.raises(StorageUnavailable):
            await store.get(KEY)
        with pytest.raises(StorageUnavailable):
            await store.put(KEY, b"x")
    finally:
        await store.close()
