"""Sizes, scale and formats (SPEC §1.1) through real HTTP, on both backends: V1, signed V1 and
V2 renders decoded with Pillow (right size, right type), ``/i/`` serving the stored type, and
ETags and dedup keys that differ per variant."""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable

import orjson
import pytest

from backends import RedisServer, S3Server
from conftest import Server
from ogmint_client import SigningKey, image_url
from support import Reply, assert_error, request

PIL_FORMATS = {"png": "PNG", "webp": "WEBP", "jpeg": "JPEG"}
BASE = {"template": "blog", "title": "Every size, every format", "palette": "ocean"}


@pytest.fixture(scope="module", params=["embedded", "redis-s3"])
def srv(request: pytest.FixtureRequest, server_factory: Callable[..., Server]) -> Server:
    # A generous burst for the pro plan: these tests send many keyed requests quickly.
    env = {"OGMINT_ANONYMOUS_DAILY_LIMIT": "1000000", "OGMINT_PLAN_BURSTS": "pro=1000"}
    if request.param == "redis-s3":
        redis: RedisServer = request.getfixturevalue("redis_server")
        s3: S3Server = request.getfixturevalue("s3_server")
        env |= {
            **redis.namespace(),
            **s3.env(),
            "OGMINT_S3_PREFIX": "formats",
        }
    return server_factory(**env)


def og(server: Server, headers: dict[str, str] | None = None, **params: str) -> Reply:
    query = urllib.parse.urlencode({**BASE, **params})
    return request(f"{server.url}/api/og?{query}", headers=headers)


def v2(server: Server, key: str, **params: object) -> Reply:
    headers = {"content-type": "application/json", "x-api-key": key}
    return request(server.url + "/api/v2/render", "POST", headers, orjson.dumps({**BASE, **params}))


@pytest.mark.parametrize("fmt", ["png", "webp", "jpeg"])
def test_v1_renders_each_format(srv: Server, fmt: str) -> None:
    r = og(srv, format=fmt)
    assert r.status == 200, r.body
    assert r.headers["content-type"] == f"image/{fmt}"
    image = r.image()
    assert (image.format, image.size) == (PIL_FORMATS[fmt], (1200, 630))
    if fmt == "jpeg":
        assert image.mode == "RGB"
        assert "progressive" not in image.info  # baseline


@pytest.mark.parametrize(
    ("params", "size"),
    [
        ({"size": "twitter"}, (1200, 600)),
        ({"size": "square", "format": "webp"}, (1080, 1080)),
        ({"size": "story", "format": "jpeg"}, (1080, 1920)),
        ({"scale": "2"}, (2400, 1260)),
        ({"size": "640x480", "scale": "3", "format": "webp"}, (1920, 1440)),
    ],
)
def test_v1_renders_size_times_scale_pixels(
    srv: Server, params: dict[str, str], size: tuple[int, int]
) -> None:
    r = og(srv, **params)
    assert r.status == 200, r.body
    assert r.image().size == size


def test_v1_etag_differs_per_variant(srv: Server) -> None:
    variants = [{}, {"format": "webp"}, {"format": "webp", "quality": "50"}, {"format": "jpeg"}]
    variants += [{"size": "square"}, {"scale": "2"}]
    etags = [og(srv, **v).headers["etag"] for v in variants]
    assert len(set(etags)) == len(etags)
    # Defaults spelled out are the same card, the same ETag; PNG ignores quality.
    assert og(srv, size="og", scale="1", format="png", quality="10").headers["etag"] == etags[0]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"format": "gif"}, "format"),
        ({"quality": "0"}, "quality"),
        ({"quality": "101"}, "quality"),
        ({"size": "huge"}, "size"),
        ({"size": "99x630"}, "size"),
        ({"scale": "4"}, "scale"),
        ({"size": "2400x2000", "scale": "2"}, "scale"),
    ],
)
def test_bad_output_parameters_are_400_naming_them(
    srv: Server, params: dict[str, str], field: str
) -> None:
    assert_error(og(srv, **params), 400, field)
    assert_error(v2(srv, srv.create_key("bad-output"), **params), 400, field)


@pytest.mark.parametrize("fmt", ["png", "webp", "jpeg"])
def test_v2_stores_and_serves_each_format(srv: Server, fmt: str) -> None:
    key = srv.create_key(f"formats-{fmt}")
    made = v2(srv, key, format=fmt, size="portrait", title=f"Stored as {fmt}")
    assert made.status == 201, made.body
    body = made.json()
    assert (body["width"], body["height"], body["format"]) == (1080, 1350, fmt)
    got = request(f"{srv.url}/i/{body['slug']}")
    assert got.status == 200
    assert got.headers["content-type"] == f"image/{fmt}"
    assert (got.image().format, got.image().size) == (PIL_FORMATS[fmt], (1080, 1350))
    head = request(f"{srv.url}/i/{body['slug']}", "HEAD")
    assert head.headers["content-type"] == f"image/{fmt}"
    # The same render through V1 draws the same image: the same pixels, and the same bytes for
    # the lossy formats (a PNG's bytes depend on whether its background was already cached: the
    # first render over a background compresses in one pass, later ones reuse its bands).
    v1 = og(srv, format=fmt, size="portrait", title=f"Stored as {fmt}")
    assert v1.image().convert("RGBA").tobytes() == got.image().convert("RGBA").tobytes()
    if fmt != "png":
        assert v1.body == got.body
    # A dedup hit answers with the same keys.
    again = v2(srv, key, format=fmt, size="portrait", title=f"Stored as {fmt}")
    assert again.json() == {**body, "cached": True}


def test_v2_dedup_differs_per_variant(srv: Server) -> None:
    key = srv.create_key("variants")
    variants: list[dict[str, object]] = [
        {},
        {"format": "webp"},
        {"format": "webp", "quality": 40},
        {"format": "jpeg"},
        {"size": "square"},
        {"scale": 2},
    ]
    slugs = []
    for v in variants:
        r = v2(srv, key, title="Variants", **v)
        assert r.status == 201, r.body
        slugs.append(r.json()["slug"])
    assert len(set(slugs)) == len(slugs)
    # Defaults spelled out (JSON numbers or strings): the first render again.
    same = v2(srv, key, title="Variants", size="og", scale=1, format="png")
    assert (same.status, same.json()["slug"]) == (200, slugs[0])


def test_jpeg_is_flattened_on_the_card_background(srv: Server) -> None:
    # A template corner pixel is the background colour; a JPEG has no alpha to lose it in.
    r = og(srv, format="jpeg", bg="ff0000", title="Red", quality="100")
    pixel = r.image().convert("RGB").getpixel((2, 2))
    assert isinstance(pixel, tuple)
    red, green, blue = pixel
    assert red > 200 and green < 60 and blue < 60


def test_signed_urls_sign_output_parameters(srv: Server) -> None:
    api_key = srv.create_key("signer")
    reply = request(srv.url + "/api/v2/signing-keys", "POST", {"x-api-key": api_key})
    assert reply.status == 201, reply.body
    doc = reply.json()["signingKey"]
    key = SigningKey(doc["id"], doc["secret"])
    params = {"template": "blog", "title": "Signed webp", "format": "webp", "size": "square"}
    url = image_url(srv.url, params, key)
    r = request(url)
    assert r.status == 200, r.body
    assert r.headers["content-type"] == "image/webp"
    assert r.image().size == (1080, 1080)
    # The format is signed: changing it breaks the signature.
    assert_error(request(url.replace("format=webp", "format=jpeg")), 403)
    assert_error(request(url.replace("size=square", "size=story")), 403)
