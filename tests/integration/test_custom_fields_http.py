"""A template's own fields through real HTTP (issue 23 item 3, SPEC §1.2): declared at upload,
listed in ``T``, passed by name in V1, V2 and signed URLs, part of the ETag, dedup key and
signature, validated like built-in fields (image fields fetched through the guarded client
from a real local HTTPS server); mistakes in a template's fields are a 400 naming them."""

from __future__ import annotations

import io
import time
import urllib.parse
from collections.abc import Callable, Iterator

import numpy as np
import orjson
import pytest
import trustme
from PIL import Image

from conftest import Server
from ogmint_client import SigningKey, image_url
from receiver import Receiver, write_ca
from support import Reply, assert_error, request

CARD = """<svg xmlns="http://www.w3.org/2000/svg" xmlns:og="https://ogmint.dev/ns/template"
     width="1200" height="630" viewBox="0 0 1200 630">
  <rect width="1200" height="630" fill="#ffffff"/>
  <og:text field="title" x="72" y="72" width="600" height="200" max-size="48" fill="#111111"/>
  <rect og:if="date" x="72" y="400" width="300" height="60" fill="#00aa00"/>
  <og:text field="date" limit="20" x="90" y="410" width="260" height="40" max-size="24"
           fill="#ffffff"/>
  <og:image field="screenshot" x="800" y="100" width="300" height="300" shape="rect"/>
</svg>"""
#: A pixel inside the date badge (drawn only with a date) and one inside the screenshot box.
BADGE, SHOT = (430, 362), (250, 950)


@pytest.fixture(scope="module")
def origin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Receiver, str]]:
    ca = trustme.CA()
    r = Receiver(ca)
    red = io.BytesIO()
    Image.new("RGB", (200, 200), "#ff0000").save(red, "PNG")
    r.files = {"/red.png": red.getvalue(), "/text.png": b"not an image"}
    r.start()
    yield r, write_ca(ca, tmp_path_factory.mktemp("ca") / "ca.pem")
    r.stop()


@pytest.fixture(scope="module")
def srv(origin: tuple[Receiver, str], server_factory: Callable[..., Server]) -> Server:
    return server_factory(OGMINT_OUTBOUND_ALLOW="127.0.0.1", OGMINT_OUTBOUND_CA_FILE=origin[1])


def call(server: Server, method: str, path: str, key: str, body: object = None) -> Reply:
    time.sleep(0.21)  # under the 5/s burst limit
    headers = {"content-type": "application/json", "x-api-key": key}
    return request(server.url + path, method, headers, None if body is None else orjson.dumps(body))


def v1(server: Server, key: str | None, params: dict[str, str]) -> Reply:
    time.sleep(0.21)
    headers = {} if key is None else {"x-api-key": key}
    return request(server.url + "/api/og?" + urllib.parse.urlencode(params), "GET", headers)


def pixel(reply: Reply, at: tuple[int, int]) -> tuple[int, int, int]:
    assert reply.status == 200, reply.body[:300]
    px = np.asarray(reply.image().convert("RGB"))
    return tuple(int(v) for v in px[at])  # type: ignore[return-value]


@pytest.fixture(scope="module")
def owner(srv: Server) -> tuple[str, str]:
    key = srv.create_key("fields-owner")
    created = call(srv, "POST", "/api/v2/templates", key, {"svg": CARD, "name": "Fields"})
    assert created.status == 201, created.body
    return key, str(created.json()["template"]["id"])


def test_fields_are_listed_with_kind_and_limit(srv: Server, owner: tuple[str, str]) -> None:
    key, tid = owner
    t = call(srv, "GET", f"/api/v2/templates/{tid}", key).json()["template"]
    assert t["fields"] == [
        {"name": "title", "type": "text", "required": True, "maxLength": 200, "custom": False},
        {"name": "date", "type": "text", "required": False, "maxLength": 20, "custom": True},
        {
            "name": "screenshot",
            "type": "image",
            "required": False,
            "maxLength": None,
            "custom": True,
        },
    ]
    listed = request(srv.url + "/api/templates").json()["templates"]
    assert all(f["custom"] is False for t in listed for f in t["fields"])


def test_v1_renders_a_custom_field_and_it_is_in_the_etag(
    srv: Server, owner: tuple[str, str]
) -> None:
    key, tid = owner
    base = {"template": tid, "title": "Launch"}
    plain, dated = v1(srv, key, base), v1(srv, key, {**base, "date": "May 4"})
    assert pixel(plain, BADGE) == (255, 255, 255)  # og:if="date": no badge without it
    assert pixel(dated, BADGE)[1] > 150 and pixel(dated, BADGE)[0] < 60
    assert dated.headers["etag"] != plain.headers["etag"]
    assert v1(srv, key, {**base, "date": "May 5"}).headers["etag"] != dated.headers["etag"]
    # V1 ignores names the template does not declare (caches add junk).
    junk = v1(srv, key, {**base, "date": "May 4", "utm_source": "x", "other": "y"})
    assert junk.status == 200 and junk.headers["etag"] == dated.headers["etag"]
    assert_error(v1(srv, key, {**base, "date": "x" * 21}), 400, "date")


def test_v1_image_field_is_fetched_through_the_guarded_client(
    origin: tuple[Receiver, str], srv: Server, owner: tuple[str, str]
) -> None:
    r, _ = origin
    key, tid = owner
    shot = v1(srv, key, {"template": tid, "title": "Shot", "screenshot": r.url("/red.png")})
    red = pixel(shot, SHOT)
    assert red[0] > 200 and red[1] < 60, red
    bad = v1(srv, key, {"template": tid, "title": "Shot", "screenshot": r.url("/text.png")})
    assert assert_error(bad, 400, "screenshot")["code"] == "fetch_failed"
    plain = v1(srv, key, {"template": tid, "title": "Shot", "screenshot": "http://x.example/a"})
    assert_error(plain, 400, "screenshot")


def test_v2_dedups_on_custom_fields_and_rejects_undeclared_ones(
    srv: Server, owner: tuple[str, str]
) -> None:
    key, tid = owner
    body = {"template": tid, "title": "Launch", "date": "May 4"}
    first = call(srv, "POST", "/api/v2/render", key, body)
    assert first.status == 201, first.body
    again = call(srv, "POST", "/api/v2/render", key, body)
    assert again.status == 200 and again.json()["slug"] == first.json()["slug"]
    other = call(srv, "POST", "/api/v2/render", key, {**body, "date": "May 5"})
    assert other.status == 201 and other.json()["slug"] != first.json()["slug"]
    stored = request(f"{srv.url}/i/{first.json()['slug']}")
    assert pixel(stored, BADGE)[1] > 150  # the stored card shows the date badge
    assert_error(call(srv, "POST", "/api/v2/render", key, {**body, "price": "9"}), 400, "price")
    assert_error(call(srv, "POST", "/api/v2/render", key, {**body, "date": 4}), 400, "date")
    long = {**body, "date": "é" * 21}
    assert_error(call(srv, "POST", "/api/v2/render", key, long), 400, "date")
    # A built-in template declares no fields of its own: the name is unknown there.
    builtin = {"template": "blog", "title": "Hi", "date": "May 4"}
    assert_error(call(srv, "POST", "/api/v2/render", key, builtin), 400, "date")


def test_signed_url_signs_custom_fields(srv: Server, owner: tuple[str, str]) -> None:
    key, tid = owner
    doc = call(srv, "POST", "/api/v2/signing-keys", key).json()["signingKey"]
    signer = SigningKey(doc["id"], doc["secret"])
    url = image_url(srv.url, {"template": tid, "title": "Signed", "date": "May 4"}, signer)
    signed = request(url)
    assert pixel(signed, BADGE)[1] > 150  # anonymous, but signed by the owner
    assert "date=May%204" in url
    assert_error(request(url.replace("date=May%204", "date=May%205")), 403)


@pytest.mark.parametrize(
    ("body", "name", "line"),
    [
        (
            '<og:text field="date" x="0" y="0" width="9" height="9" max-size="9"/>\n'
            '<og:image field="date" x="0" y="0" width="9" height="9"/>',
            "date",
            3,
        ),
        ('<og:text field="size" x="0" y="0" width="9" height="9" max-size="9"/>', "size", 2),
        ('<rect og:if="price" width="1" height="1"/>', "price", 2),
        ('<rect width="1" height="1" fill="{{price}}"/>', "{{price}}", 2),
        ('<text font-family="Wingdings" x="0" y="9">a</text>', "Wingdings", 2),
    ],
    ids=["kind-conflict", "parameter-name", "condition", "placeholder", "font"],
)
def test_upload_mistakes_are_400_naming_them_and_their_line(
    srv: Server, owner: tuple[str, str], body: str, name: str, line: int
) -> None:
    key, _ = owner
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:og="https://ogmint.dev/ns/template" '
        'width="1200" height="630">\n'
        + body
        + '\n<og:text field="title" x="0" y="0" width="99" height="99" max-size="20"/></svg>'
    )
    reply = call(srv, "POST", "/api/v2/templates", key, {"svg": svg})
    error = assert_error(reply, 400, "svg")
    message = error["details"][0]["message"]
    assert name in message and message.startswith(f"line {line}, "), message
