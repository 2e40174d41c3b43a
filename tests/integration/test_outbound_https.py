"""GuardedClient and ImageFetcher against a real local HTTPS server (trustme CA).

Only loopback is ever contacted: names other than localhost go through a fake resolver.
"""

from __future__ import annotations

import asyncio
import io
import socket
import ssl
import struct
import time
import zlib
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import trustme
from aiohttp import web
from PIL import Image

from bombs import bombs, encoded
from ogmint.errors import FetchError, SaturatedError
from ogmint.net import (
    AddressPolicy,
    BadScheme,
    BlockedAddress,
    GuardedClient,
    TLSFailed,
    TooLarge,
)
from ogmint.rendering.images import ImageFetcher
from ogmint.rendering.native import Capacity

pytestmark = pytest.mark.asyncio(loop_scope="session")

MAX_BYTES = 64 * 1024
LOCAL = ("127.0.0.1", "localhost")


def png_claiming(width: int, height: int) -> bytes:
    """A small, valid-looking PNG whose header claims ``width`` x ``height`` 1-bit pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data)
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 4096)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


@dataclass
class Server:
    port: int
    ca_file: str
    hits: Counter[str]

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"https://{host}:{self.port}{path}"


def build_app(hits: Counter[str], stop: asyncio.Event) -> web.Application:
    png = encoded("PNG", (800, 400))
    bodies = {
        "/png": (png, "image/png"),
        "/jpeg": (encoded("JPEG", (640, 480)), "image/jpeg"),
        "/gif": (encoded("GIF", (300, 600), "P"), "image/gif"),
        "/webp": (encoded("WEBP", (500, 500), "RGBA"), "image/webp"),
        "/png-as-text": (png, "text/plain"),
        "/not-image": (b"<html>definitely not a png</html>", "image/png"),
        "/bomb": (png_claiming(30_000, 30_000), "image/png"),
        "/many-pixels": (png_claiming(2_000, 2_000), "image/png"),
        "/big": (b"\x00" * (MAX_BYTES * 3), "image/png"),
        **{path: (body, "image/png") for path, body in bombs().items()},
    }

    @web.middleware
    async def count(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        hits[request.path] += 1
        return await handler(request)

    async def static(request: web.Request) -> web.Response:
        body, content_type = bodies[request.path]
        return web.Response(body=body, content_type=content_type)

    async def redirect(request: web.Request) -> web.Response:
        raise web.HTTPFound("/png")

    async def missing(request: web.Request) -> web.Response:
        raise web.HTTPNotFound()

    async def big_chunked(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "image/png"})
        resp.enable_chunked_encoding()
        await resp.prepare(request)
        for _ in range(12):
            await resp.write(b"\x00" * 16 * 1024)
        await resp.write_eof()
        return resp

    async def slow(request: web.Request) -> web.Response:
        await asyncio.wait_for(stop.wait(), 10)
        return web.Response(body=png, content_type="image/png")

    async def slowish(request: web.Request) -> web.Response:
        await asyncio.sleep(0.2)
        return web.Response(body=png, content_type="image/png")

    async def echo(request: web.Request) -> web.Response:
        return web.json_response(
            {
                "body": (await request.read()).decode(),
                "signature": request.headers.get("x-signature"),
                "encoding": request.headers.get("Accept-Encoding"),
            },
            headers={"X-Multi": "a"},
        )

    app = web.Application(middlewares=[count])
    for path in bodies:
        app.router.add_get(path, static)
    app.router.add_get("/redirect", redirect)
    app.router.add_post("/redirect", redirect)
    app.router.add_get("/missing", missing)
    app.router.add_get("/big-chunked", big_chunked)
    app.router.add_get("/slow", slow)
    app.router.add_get("/slowish", slowish)
    app.router.add_post("/echo", echo)
    return app


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[Server]:
    ca = trustme.CA()
    cert = ca.issue_cert("localhost", "127.0.0.1")
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(tls)
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))

    hits: Counter[str] = Counter()
    stop = asyncio.Event()
    runner = web.AppRunner(build_app(hits, stop), shutdown_timeout=0.5)
    await runner.setup()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    site = web.SockSite(runner, sock, ssl_context=tls)
    await site.start()
    try:
        yield Server(sock.getsockname()[1], str(ca_file), hits)
    finally:
        stop.set()
        await runner.cleanup()


def make_client(
    server: Server,
    allow: tuple[str, ...] = LOCAL,
    *,
    timeout: float = 3.0,
    ca_file: str | None = None,
    max_bytes: int = MAX_BYTES,
) -> GuardedClient:
    ca = server.ca_file if ca_file is None else ca_file
    return GuardedClient(AddressPolicy(allow, ports=(443, server.port)), ca, timeout, max_bytes)


def make_fetcher(
    client: GuardedClient,
    *,
    max_pixels: int = 1_000_000,
    capacity: Capacity | None = None,
    cache_bytes: int = 1 << 20,
) -> ImageFetcher:
    return ImageFetcher(
        client,
        capacity=capacity or Capacity(8),
        threads=1,
        max_pixels=max_pixels,
        cache_bytes=cache_bytes,
    )


async def fetch_error(fetcher: ImageFetcher, url: str) -> FetchError:
    with pytest.raises(FetchError) as info:
        await fetcher.fetch_png("avatar", url, 256)
    error = info.value
    assert error.status == 400
    assert [d.field for d in error.details] == ["avatar"]
    assert error.message.startswith("avatar: ")
    return error


@pytest.mark.parametrize(
    ("path", "expected"),
    [("/png", (256, 128)), ("/jpeg", (256, 192)), ("/gif", (128, 256)), ("/webp", (256, 256))],
)
async def test_image_is_fetched_and_reencoded_as_bounded_png(
    server: Server, path: str, expected: tuple[int, int]
) -> None:
    png = await make_fetcher(make_client(server)).fetch_png("avatar", server.url(path), 256)
    with Image.open(io.BytesIO(png)) as img:
        assert img.format == "PNG"
        assert img.mode == "RGBA"
        assert img.size == expected


async def test_type_is_sniffed_from_bytes_not_content_type(server: Server) -> None:
    fetcher = make_fetcher(make_client(server))
    assert await fetcher.fetch_png("logo", server.url("/png-as-text"), 64)
    error = await fetch_error(fetcher, server.url("/not-image"))
    assert "not a PNG, JPEG, GIF or WebP" in error.message


async def test_allow_listed_name_connects_to_its_checked_address(server: Server) -> None:
    resp = await make_client(server).get(server.url("/png", host="localhost"))
    assert resp.status == 200
    assert resp.peer == "127.0.0.1"
    assert resp.headers["content-type"] == "image/png"


async def test_redirect_is_not_followed(server: Server) -> None:
    client = make_client(server)
    resp = await client.get(server.url("/redirect"))
    assert resp.status == 302
    assert resp.headers["location"] == "/png"
    error = await fetch_error(make_fetcher(client), server.url("/redirect"))
    assert "302" in error.message
    assert server.hits["/png"] == 0


async def test_post_returns_redirects_and_sends_exact_body(server: Server) -> None:
    client = make_client(server)
    body = b'{"event":"render.completed"}'
    resp = await client.post(server.url("/echo"), body, {"x-signature": "abc"}, timeout=2.0)
    assert resp.status == 200
    assert resp.peer == "127.0.0.1"
    assert resp.headers["x-multi"] == "a"
    assert resp.headers["content-type"].startswith("application/json")
    assert b'"body": "{\\"event\\":\\"render.completed\\"}"' in resp.body
    assert b'"signature": "abc"' in resp.body
    assert b'"encoding": "identity"' in resp.body
    redirected = await client.post(server.url("/redirect"), body, {})
    assert redirected.status == 302
    assert server.hits["/png"] == 0


async def test_non_200_is_a_fetch_error(server: Server) -> None:
    error = await fetch_error(make_fetcher(make_client(server)), server.url("/missing"))
    assert "404" in error.message


@pytest.mark.parametrize("path", ["/big", "/big-chunked"])
async def test_body_over_the_limit_is_refused(server: Server, path: str) -> None:
    client = make_client(server)
    with pytest.raises(TooLarge):
        await client.get(server.url(path))
    error = await fetch_error(make_fetcher(client), server.url(path))
    assert "larger than" in error.message


async def test_chunked_body_is_bounded_without_content_length(server: Server) -> None:
    resp = await make_client(server).get(server.url("/big-chunked"), max_bytes=MAX_BYTES * 4)
    assert "content-length" not in resp.headers
    assert resp.headers["transfer-encoding"] == "chunked"
    assert len(resp.body) == 12 * 16 * 1024


async def test_slow_server_times_out_quickly(server: Server) -> None:
    fetcher = make_fetcher(make_client(server, timeout=0.5))
    started = time.monotonic()
    error = await fetch_error(fetcher, server.url("/slow"))
    assert time.monotonic() - started < 2.0
    assert error.message == "avatar: the image could not be fetched"  # not which step failed


async def test_pixel_bomb_is_refused_before_decoding(server: Server) -> None:
    fetcher = make_fetcher(make_client(server))
    bomb = await fetch_error(fetcher, server.url("/bomb"))
    assert "too large to decode" in bomb.message
    many = await fetch_error(fetcher, server.url("/many-pixels"))
    assert "2000x2000" in many.message


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1/png", "ftp://127.0.0.1/png", "not a url", "https:///png"],
)
async def test_only_https_urls_with_a_host(server: Server, url: str) -> None:
    await fetch_error(make_fetcher(make_client(server)), url)


async def test_scheme_and_userinfo_refused_by_client(server: Server) -> None:
    client = make_client(server)
    with pytest.raises(BadScheme):
        await client.get(f"http://127.0.0.1:{server.port}/png")
    error = await fetch_error(make_fetcher(client), server.url("/png", host="u:p@127.0.0.1"))
    assert "user name or password" in error.message
    assert server.hits["/png"] == 0


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::ffff:127.0.0.1]", "127.1"])
async def test_loopback_is_blocked_without_allow_list(server: Server, host: str) -> None:
    client = make_client(server, allow=())
    with pytest.raises(BlockedAddress):
        await client.get(server.url("/png", host=host))
    error = await fetch_error(make_fetcher(client), server.url("/png", host=host))
    assert "non-public address" in error.message
    assert sum(server.hits.values()) == 0


async def test_name_resolving_to_private_address_is_blocked(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    loop = asyncio.get_running_loop()
    real_getaddrinfo = loop.getaddrinfo
    asked: list[str] = []

    async def fake_getaddrinfo(host: str, port: int, **kwargs: object) -> object:
        # A public-looking name whose DNS answer points at this machine.
        if host == "assets.example.com":
            asked.append(host)
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]
        return await real_getaddrinfo(host, port, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(loop, "getaddrinfo", fake_getaddrinfo)
    client = make_client(server, allow=())
    with pytest.raises(BlockedAddress) as info:
        await client.get(server.url("/png", host="assets.example.com"))
    assert info.value.reason == "loopback"
    assert asked == ["assets.example.com"]
    assert sum(server.hits.values()) == 0


async def test_socket_is_only_dialled_to_vetted_addresses(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def unvetted(self: object, host: str, port: int = 0, family: int = 0) -> object:
        # Simulates any path where aiohttp would connect without our resolver's vetting.
        return [
            {
                "hostname": host,
                "host": "127.0.0.1",
                "port": port,
                "family": socket.AF_INET,
                "proto": 0,
                "flags": 0,
            }
        ]

    monkeypatch.setattr("ogmint.net._VettingResolver.resolve", unvetted)
    with pytest.raises(BlockedAddress) as info:
        await make_client(server).get(server.url("/png", host="localhost"))
    assert info.value.reason == "address was not vetted"
    assert sum(server.hits.values()) == 0


async def test_second_fetch_is_served_from_cache(server: Server) -> None:
    fetcher = make_fetcher(make_client(server))
    first = await fetcher.fetch_png("avatar", server.url("/png"), 128)
    second = await fetcher.fetch_png("avatar", server.url("/png"), 128)
    assert first == second
    assert server.hits["/png"] == 1
    await fetcher.fetch_png("avatar", server.url("/png"), 64)  # another size is another entry
    assert server.hits["/png"] == 2


async def test_concurrent_fetches_share_one_request(server: Server) -> None:
    fetcher = make_fetcher(make_client(server))
    results = await asyncio.gather(
        *(fetcher.fetch_png(f"f{i}", server.url("/slowish"), 128) for i in range(5))
    )
    assert len(set(results)) == 1
    assert server.hits["/slowish"] == 1


async def test_failures_are_not_cached_and_name_each_callers_field(server: Server) -> None:
    fetcher = make_fetcher(make_client(server))
    results = await asyncio.gather(
        fetcher.fetch_png("avatar", server.url("/missing"), 64),
        fetcher.fetch_png("logo", server.url("/missing"), 64),
        return_exceptions=True,
    )
    fields = [r.details[0].field for r in results if isinstance(r, FetchError)]
    assert fields == ["avatar", "logo"]
    await fetch_error(fetcher, server.url("/missing"))
    assert server.hits["/missing"] == 2


async def test_untrusted_certificate_is_refused(server: Server, tmp_path: Path) -> None:
    other_ca = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(other_ca))
    for ca_file in (str(other_ca), ""):
        client = make_client(server, ca_file=ca_file)
        with pytest.raises(TLSFailed):
            await client.get(server.url("/png"))
        error = await fetch_error(make_fetcher(client), server.url("/png"))
        assert error.message == "avatar: the image could not be fetched"
    assert server.hits["/png"] == 0


@pytest.mark.parametrize(
    "path",
    [
        "/bomb-png",
        "/bomb-gif",
        "/bomb-webp",
        "/bomb-webp-lossless",
        "/bomb-webp-alpha",
        "/bomb-jpeg",
    ],
)
async def test_decompression_bombs_are_refused_by_the_pixel_budget(
    server: Server, path: str
) -> None:
    assert len(bombs()[path]) < 64 * 1024  # tiny on the wire
    error = await fetch_error(make_fetcher(make_client(server)), server.url(path))
    # Pillow itself refuses the 3.6 gigapixel JPEG; the others are refused by the budget.
    assert (
        "more than the limit of 1000000" in error.message or "too large to decode" in error.message
    )


@pytest.mark.parametrize("kind", ["png", "jpeg", "webp", "gif"])
async def test_truncated_images_are_refused(server: Server, kind: str) -> None:
    error = await fetch_error(make_fetcher(make_client(server)), server.url(f"/truncated-{kind}"))
    assert "corrupt or truncated" in error.message


async def test_large_jpeg_is_decoded_at_reduced_scale(server: Server) -> None:
    # 25 MP is over the budget, but libjpeg decodes it at 1/8 scale: 625 x 625.
    client = make_client(server, max_bytes=1 << 20)
    png = await make_fetcher(client).fetch_png("avatar", server.url("/big-jpeg"), 192)
    with Image.open(io.BytesIO(png)) as img:
        assert img.size == (192, 192)


async def test_webp_budget_is_checked_on_its_header(server: Server) -> None:
    for path in ("/webp",):  # 500 x 500
        fetcher = make_fetcher(make_client(server), max_pixels=500 * 500)
        assert await fetcher.fetch_png("logo", server.url(path), 64)
        error = await fetch_error(
            make_fetcher(make_client(server), max_pixels=500 * 500 - 1), server.url(path)
        )
        assert "500x500" in error.message


async def test_decoding_is_refused_when_the_worker_is_saturated(server: Server) -> None:
    capacity = Capacity(0)  # everything admitted is already in use
    with pytest.raises(SaturatedError):
        await make_fetcher(make_client(server), capacity=capacity).fetch_png(
            "avatar", server.url("/png"), 64
        )


async def test_cache_is_bounded_by_bytes(server: Server) -> None:
    fetcher = make_fetcher(make_client(server), cache_bytes=1)  # nothing fits
    await fetcher.fetch_png("avatar", server.url("/png"), 128)
    await fetcher.fetch_png("avatar", server.url("/png"), 128)
    assert server.hits["/png"] == 2
    small = make_fetcher(make_client(server))
    for side in (16, 32, 64, 128, 16):
        await small.fetch_png("avatar", server.url("/jpeg"), side)
    assert server.hits["/jpeg"] == 4  # the second 16 px one came from the cache


async def test_network_failures_look_alike_to_the_caller(server: Server) -> None:
    fetcher = make_fetcher(make_client(server, timeout=0.5))
    closed = free_port_url()
    slow = await fetch_error(fetcher, server.url("/slow"))
    refused = await fetch_error(fetcher, closed)
    assert slow.message == refused.message == "avatar: the image could not be fetched"


def free_port_url() -> str:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return f"https://127.0.0.1:{port}/png"
