"""Brands through real HTTP (SPEC §6.1), on both backends: create, list, get, update, delete;
``brand=`` in V1 (keyed and signed) and V2 with SPEC §1's precedence; the logo fetched once,
at save, from a real HTTPS origin; ETags and dedup keys after an edit; another user's brand;
the per-user bound (filled through the CLI, which has no burst limit)."""

from __future__ import annotations

import io
import re
import time
import urllib.parse
from collections.abc import Callable, Iterator

import numpy as np
import orjson
import pytest
import trustme
from PIL import Image

from backends import RedisServer
from conftest import Server
from ogmint_client import Client, SigningKey, image_url
from receiver import Receiver, write_ca
from support import Reply, assert_error, request

ID = re.compile(r"^brand_[0-9A-Za-z]{12}$")
ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
MAX_BRANDS = 50  # the default of OGMINT_MAX_BRANDS_PER_USER


def png(color: str, size: tuple[int, int] = (200, 200)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "PNG")
    return out.getvalue()


@pytest.fixture(scope="module")
def origin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Receiver, str]]:
    ca = trustme.CA()
    r = Receiver(ca)
    r.files = {"/red.png": png("#ff0000"), "/text.png": b"not an image"}
    r.start()
    yield r, write_ca(ca, tmp_path_factory.mktemp("ca") / "ca.pem")
    r.stop()


@pytest.fixture(scope="module", params=["embedded", "redis"])
def srv(
    request: pytest.FixtureRequest,
    origin: tuple[Receiver, str],
    server_factory: Callable[..., Server],
) -> Server:
    env = {
        "OGMINT_OUTBOUND_ALLOW": "127.0.0.1",
        "OGMINT_OUTBOUND_CA_FILE": origin[1],
        "OGMINT_ANONYMOUS_DAILY_LIMIT": "1000",
    }
    if request.param == "redis":
        redis: RedisServer = request.getfixturevalue("redis_server")
        env["OGMINT_REDIS_URL"] = redis.url + "/12"
    return server_factory(**env)


def call(server: Server, method: str, path: str, key: str, body: object | None = None) -> Reply:
    """One API call; paced under the 5/s burst limit so tests can make many."""
    time.sleep(0.21)
    headers = {"content-type": "application/json", "x-api-key": key}
    data = None if body is None else body if isinstance(body, bytes) else orjson.dumps(body)
    return request(server.url + path, method, headers, data)


def create(server: Server, key: str, **look: object) -> dict:  # type: ignore[type-arg]
    reply = call(server, "POST", "/api/v2/brands", key, {"name": "Acme", **look})
    assert reply.status == 201, reply.body
    return reply.json()["brand"]  # type: ignore[no-any-return]


def v1(server: Server, key: str | None, **params: str) -> Reply:
    headers = {} if key is None else {"x-api-key": key}
    if key is not None:
        time.sleep(0.21)  # under the burst limit
    return request(server.url + "/api/og?" + urllib.parse.urlencode(params), "GET", headers)


def same(a: Reply, b: Reply) -> bool:
    """Whether two answers are the same image (pixel for pixel)."""
    assert a.status == 200, a.body[:300]
    assert b.status == 200, b.body[:300]
    return np.array_equal(np.asarray(a.image()), np.asarray(b.image()))


def red_pixels(image: Image.Image) -> int:
    px = np.asarray(image.convert("RGB"), dtype=np.int16)
    return int(((px[..., 0] > 200) & (px[..., 1] < 60) & (px[..., 2] < 60)).sum())


def test_create_list_get_update_delete(srv: Server) -> None:
    key = srv.create_key("brand-crud")
    first = create(srv, key, bgColor="#FFF", textColor="111111", palette="paper", font="inter")
    assert ID.match(first["id"]) and ISO_MS.match(first["createdAt"])
    assert first == {
        "id": first["id"],
        "name": "Acme",
        "bgColor": "ffffff",
        "textColor": "111111",
        "accentColor": None,
        "surfaceColor": None,
        "palette": "paper",
        "font": "Inter",
        "logo": None,
        "version": first["version"],
        "createdAt": first["createdAt"],
        "updatedAt": first["createdAt"],
    }
    second = create(srv, key, accentColor="%23ff5a3c".replace("%23", "#"))
    listed = call(srv, "GET", "/api/v2/brands", key).json()
    assert [b["id"] for b in listed["brands"]] == [second["id"], first["id"]]  # newest first
    got = call(srv, "GET", f"/api/v2/brands/{first['id']}", key)
    assert got.status == 200 and got.json()["brand"] == first
    put = call(srv, "PUT", f"/api/v2/brands/{first['id']}", key, {"name": "Acme 2", "bg": "000"})
    assert_error(put, 400, "bg")  # the body takes the field names, not render aliases
    put = call(
        srv, "PUT", f"/api/v2/brands/{first['id']}", key, {"name": "Acme 2", "bgColor": "0" * 6}
    )
    assert put.status == 200, put.body
    updated = put.json()["brand"]
    assert (updated["name"], updated["bgColor"], updated["palette"]) == ("Acme 2", "000000", None)
    assert updated["createdAt"] == first["createdAt"] and updated["version"] != first["version"]
    assert call(srv, "DELETE", f"/api/v2/brands/{first['id']}", key).json() == {"success": True}
    for method in ("GET", "PUT", "DELETE"):
        gone = call(srv, method, f"/api/v2/brands/{first['id']}", key, {"name": "x"})
        assert assert_error(gone, 404)["code"] == "brand_not_found"


def test_bad_bodies_name_their_fields(srv: Server) -> None:
    key = srv.create_key("brand-bad")
    bad = {"bgColor": "#12", "palette": "neon", "font": "Nope Sans", "logo": "http://x/y.png"}
    body = assert_error(call(srv, "POST", "/api/v2/brands", key, {**bad, "extra": 1}), 400)
    fields = {d["field"] for d in body["details"]}
    assert fields == {"name", "bgColor", "palette", "font", "logo", "extra"}
    assert_error(call(srv, "POST", "/api/v2/brands", key, b"{not json"), 400)
    assert_error(call(srv, "POST", "/api/v2/brands", key, [1, 2]), 400)
    assert_error(call(srv, "POST", "/api/v2/brands", key, {"name": "x" * 101}), 400, "name")
    assert call(srv, "GET", "/api/v2/brands", key).json()["brands"] == []
    assert_error(request(srv.url + "/api/v2/brands"), 401)


def test_the_logo_is_fetched_once_at_save_and_never_by_renders(
    srv: Server, origin: tuple[Receiver, str]
) -> None:
    r, _ = origin
    key = srv.create_key("brand-logo")
    path = f"/logo-{srv.url.rsplit(':', 1)[1]}.png"  # one path per server
    r.files[path] = png("#ff0000", (400, 100))  # a wordmark
    brand = create(srv, key, logo=r.url(path), bgColor="ffffff", textColor="111111")
    assert brand["logo"] == r.url(path) and len(r.hits_for(path)) == 1
    del r.files[path]  # from now on the origin has no logo: a fetch would fail
    for template in ("blog", "minimal"):
        card = v1(srv, key, template=template, title="Logo", brand=brand["id"])
        assert card.status == 200, card.body[:300]
        assert red_pixels(card.image()) > 500
    made = call(
        srv, "POST", "/api/v2/render", key, {"template": "blog", "title": "L", "brand": brand["id"]}
    )
    assert made.status == 201, made.body
    assert len(r.hits_for(path)) == 1  # renders never fetched it
    # A logo that cannot be had is a 400 naming logo, and nothing is saved.
    for url in (r.url(path), r.url("/text.png"), "https://127.0.0.2:1/x.png"):
        failed = call(srv, "POST", "/api/v2/brands", key, {"name": "B", "logo": url})
        assert_error(failed, 400, "logo")
    assert len(call(srv, "GET", "/api/v2/brands", key).json()["brands"]) == 1


def test_precedence_in_v1_and_v2(srv: Server) -> None:
    key = srv.create_key("brand-precedence")
    brand = create(srv, key, bgColor="ffffff", textColor="111111", palette="forest")
    card = {"template": "minimal", "title": "Precedence"}
    base = {**card, "brand": brand["id"]}
    look = {"bgColor": "ffffff", "textColor": "111111", "palette": "forest"}
    # Each branded card is the card of the parameters the precedence gives.
    assert same(v1(srv, key, **base), v1(srv, key, **card, **look))  # brand over its palette
    assert same(  # the request wins, under any spelling or alias
        v1(srv, key, **base, bgColor="#00f"), v1(srv, key, **card, **{**look, "bgColor": "0000ff"})
    )
    assert same(v1(srv, key, **base, bg="0f0"), v1(srv, key, **card, **{**look, "bgColor": "0f0"}))
    assert same(  # a request's palette comes under the brand's colours
        v1(srv, key, **base, palette="ocean"), v1(srv, key, **card, **{**look, "palette": "ocean"})
    )
    assert not same(v1(srv, key, **base), v1(srv, key, **card))
    only_palette = create(srv, key, palette="paper")
    branded = v1(srv, key, **card, brand=only_palette["id"])
    assert same(branded, v1(srv, key, **card, palette="paper"))
    made = call(srv, "POST", "/api/v2/render", key, {**base, "bgColor": "0000ff"})
    assert made.status == 201, made.body
    stored = request(made.json()["url"])
    assert same(stored, v1(srv, key, **card, **{**look, "bgColor": "0000ff"}))


def test_an_edit_changes_the_etag_and_the_dedup_key(srv: Server) -> None:
    key = srv.create_key("brand-edit")
    brand = create(srv, key, bgColor="ffffff")
    params = {"template": "blog", "title": "Edit", "brand": brand["id"]}
    before = v1(srv, key, **params)
    etag = before.headers["etag"]
    again = request(
        srv.url + "/api/og?" + urllib.parse.urlencode(params),
        headers={"x-api-key": key, "if-none-match": etag},
    )
    assert again.status == 304
    first = call(srv, "POST", "/api/v2/render", key, params).json()
    hit = call(srv, "POST", "/api/v2/render", key, params).json()
    assert hit["cached"] is True and hit["slug"] == first["slug"]
    put = call(srv, "PUT", f"/api/v2/brands/{brand['id']}", key, {"name": "A", "bgColor": "ff0"})
    assert put.status == 200, put.body
    after = v1(srv, key, **params)
    assert after.headers["etag"] != etag
    assert same(after, v1(srv, key, template="blog", title="Edit", bgColor="ff0"))
    fresh = call(srv, "POST", "/api/v2/render", key, params)
    assert fresh.status == 201 and fresh.json()["slug"] != first["slug"]


def test_another_users_or_an_anonymous_callers_brand_is_a_404(srv: Server) -> None:
    alice, bob = srv.create_key("brand-alice"), srv.create_key("brand-bob")
    brand = create(srv, alice, bgColor="ffffff")
    for method in ("GET", "PUT", "DELETE"):
        reply = call(srv, method, f"/api/v2/brands/{brand['id']}", bob, {"name": "mine"})
        assert assert_error(reply, 404)["code"] == "brand_not_found"
    params = {"template": "blog", "title": "Not yours", "brand": brand["id"]}
    assert assert_error(v1(srv, bob, **params), 404, "brand")["code"] == "brand_not_found"
    assert assert_error(v1(srv, None, **params), 404, "brand")["code"] == "brand_not_found"
    v2 = call(srv, "POST", "/api/v2/render", bob, params)
    assert assert_error(v2, 404, "brand")["code"] == "brand_not_found"
    assert call(srv, "GET", "/api/v2/brands", bob).json()["brands"] == []
    assert v1(srv, alice, **params).status == 200


def test_a_signed_url_uses_its_signers_brand(srv: Server) -> None:
    key = srv.create_key("brand-signed")
    brand = create(srv, key, bgColor="ff0000")
    made = call(srv, "POST", "/api/v2/signing-keys", key).json()["signingKey"]
    signing = SigningKey(made["id"], made["secret"])
    url = image_url(
        srv.url, {"template": "minimal", "title": "Signed", "brand": brand["id"]}, signing
    )
    plain = {"template": "minimal", "title": "Signed", "bgColor": "ff0000"}
    assert same(request(url), v1(srv, key, **plain))  # no headers: the signer's brand
    other = srv.create_key("brand-signed-other")
    theirs = create(srv, other, bgColor="00ff00")
    url = image_url(
        srv.url, {"template": "minimal", "title": "Signed", "brand": theirs["id"]}, signing
    )
    assert assert_error(request(url), 404, "brand")["code"] == "brand_not_found"


def test_at_most_fifty_per_user_and_the_cli(srv: Server) -> None:
    key = srv.create_key("brand-limit")
    out = srv.cli(
        "brands", "create", "--user", "brand-limit", "--name", "CLI", "--bg-color", "#ABC"
    )
    made = out.strip().splitlines()[-1]
    assert ID.match(made)
    for i in range(MAX_BRANDS - 1):
        srv.cli("brands", "create", "--user", "brand-limit", "--name", f"B{i}")
    listed = srv.cli("brands", "list", "--user", "brand-limit").strip().splitlines()
    assert len(listed) == MAX_BRANDS and listed[-1].startswith(made)
    assert "bgColor=aabbcc" in listed[-1]
    refused = call(srv, "POST", "/api/v2/brands", key, {"name": "one too many"})
    assert assert_error(refused, 400)["code"] == "brand_limit_reached"
    assert "deleted" in srv.cli("brands", "delete", "--user", "brand-limit", made)
    assert call(srv, "POST", "/api/v2/brands", key, {"name": "room again"}).status == 201
    bad = srv.cli_process(
        "brands", "create", "--user", "brand-limit", "--name", "x", "--palette", "neon"
    )
    assert bad.returncode == 2 and "palette" in bad.stderr


def test_the_python_kit(srv: Server) -> None:
    with Client(srv.url, srv.create_key("brand-kit")) as client:
        made = client.brands.create("Kit", bgColor="#fff", palette="paper")
        assert (made.bg_color, made.palette, made.logo) == ("ffffff", "paper", None)
        assert [b.id for b in client.brands.list()] == [made.id]
        assert client.brands.get(made.id) == made
        time.sleep(1)  # under the burst limit
        updated = client.brands.update(made.id, "Kit 2", textColor="222")
        assert (updated.name, updated.text_color, updated.bg_color) == ("Kit 2", "222222", None)
        rendered = client.render(template="blog", title="Kit brand", brand=made.id)
        assert not rendered.cached
        client.brands.delete(made.id)
        assert client.brands.list() == []
