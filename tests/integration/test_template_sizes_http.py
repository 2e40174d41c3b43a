"""Custom templates with a document per size (SPEC §1.1, §5.1) through real HTTP, on both
backends: upload with ``sizes``, T listing them, every preset rendered from its own document
(told apart by colour) in V1, V2, signed URLs, batch, validate and previews; WIDTHxHEIGHT from
the nearest aspect's; a preset without its document, and bad ``sizes``, 400s naming the field;
the dashboard's editor saving them without JavaScript."""

from __future__ import annotations

import time
import urllib.parse
from collections.abc import Callable

import orjson
import pytest

from backends import AWS_ENV, RedisServer, S3Server
from conftest import Server
from console import Console, invite_path
from ogmint_client import SigningKey, image_url
from sized import CANVASES, COLOURS, corner, document, size_of, upload
from support import Reply, assert_error, request

PRESETS = ("twitter", "square", "story")
SUPPORTED = ["og", "twitter", "linkedin", "square", "story"]


@pytest.fixture(scope="module", params=["embedded", "redis-s3"])
def srv(request: pytest.FixtureRequest, server_factory: Callable[..., Server]) -> Server:
    env: dict[str, str] = {}
    if request.param == "redis-s3":
        redis: RedisServer = request.getfixturevalue("redis_server")
        s3: S3Server = request.getfixturevalue("s3_server")
        env |= {
            "OGMINT_REDIS_URL": redis.url + "/12",
            "OGMINT_S3_BUCKET": s3.bucket,
            "OGMINT_S3_ENDPOINT": s3.endpoint_url,
            "OGMINT_S3_REGION": s3.region,
            "OGMINT_S3_PREFIX": "sizestest",
            **AWS_ENV,
        }
    return server_factory(**env)


def call(server: Server, method: str, path: str, key: str, body: object | None = None) -> Reply:
    """One keyed API call, paced under the 5/s burst limit."""
    time.sleep(0.21)
    headers = {"content-type": "application/json", "x-api-key": key}
    data = None if body is None else orjson.dumps(body)
    return request(server.url + path, method, headers, data)


def v1(server: Server, key: str, **params: str) -> Reply:
    time.sleep(0.21)
    query = urllib.parse.urlencode(params)
    return request(f"{server.url}/api/og?{query}", "GET", {"x-api-key": key})


def create(server: Server, key: str, *presets: str) -> dict[str, object]:
    reply = call(server, "POST", "/api/v2/templates", key, upload(*presets))
    assert reply.status == 201, reply.body
    template: dict[str, object] = reply.json()["template"]
    return template


def test_upload_lists_and_keeps_its_sizes(srv: Server) -> None:
    key = srv.create_key("sizes-crud")
    t = create(srv, key, *PRESETS)
    assert t["sizes"] == SUPPORTED
    got = call(srv, "GET", f"/api/v2/templates/{t['id']}", key).json()["template"]
    assert got["svg"] == document("og")
    assert got["sizeSvgs"] == {p: document(p) for p in PRESETS}
    assert got["sizes"] == SUPPORTED and got["version"] == t["version"]
    (listed,) = call(srv, "GET", "/api/v2/templates", key).json()["templates"]
    assert listed["sizes"] == SUPPORTED and "sizeSvgs" not in listed
    # A PUT is a new version with exactly the sizes it carries.
    put = call(srv, "PUT", f"/api/v2/templates/{t['id']}", key, upload("portrait"))
    assert put.status == 200, put.body
    assert put.json()["template"]["sizes"] == ["og", "twitter", "linkedin", "portrait"]
    assert put.json()["template"]["version"] != t["version"]
    got = call(srv, "GET", f"/api/v2/templates/{t['id']}", key).json()["template"]
    assert got["sizeSvgs"] == {"portrait": document("portrait")}
    assert_error(v1(srv, key, template=str(t["id"]), title="Gone", size="square"), 400, "size")
    plain = call(srv, "PUT", f"/api/v2/templates/{t['id']}", key, {"svg": document("og")})
    assert plain.json()["template"]["sizes"] == ["og", "twitter", "linkedin"]


def test_every_preset_renders_its_own_document_in_v1_and_v2(srv: Server) -> None:
    key = srv.create_key("sizes-render", plan="agency")
    template_id = str(create(srv, key, *PRESETS)["id"])
    expected = {p: p for p in PRESETS} | {"og": "og", "linkedin": "og"}
    etags = set()
    for preset, drawn in expected.items():
        r = v1(srv, key, template=template_id, title="Sized", size=preset)
        assert r.status == 200, (preset, r.body)
        assert size_of(r.body) == CANVASES[preset]
        assert corner(r.body) == COLOURS[drawn], preset
        etags.add(r.headers["etag"])
        made = call(
            srv,
            "POST",
            "/api/v2/render",
            key,
            {"template": template_id, "title": "V2", "size": preset},
        )
        assert made.status == 201, made.body
        assert (made.json()["width"], made.json()["height"]) == CANVASES[preset]
        image = request(srv.url + f"/i/{made.json()['slug']}")
        assert size_of(image.body) == CANVASES[preset] and corner(image.body) == COLOURS[drawn]
    assert len(etags) == len(expected)  # the size is in the ETag
    # WIDTHxHEIGHT: the nearest aspect's document, cover-scaled; scale multiplies the pixels.
    for size, scale, drawn in (("900x900", "1", "square"), ("500x1000", "2", "story")):
        r = v1(srv, key, template=template_id, title="Any", size=size, scale=scale)
        assert r.status == 200, r.body
        w, h = (int(n) * int(scale) for n in size.split("x"))
        assert size_of(r.body) == (w, h) and corner(r.body) == COLOURS[drawn]
    # No portrait document: a 400 naming size, in V1 and V2.
    for reply in (
        v1(srv, key, template=template_id, title="No", size="portrait"),
        call(
            srv,
            "POST",
            "/api/v2/render",
            key,
            {"template": template_id, "title": "No", "size": "portrait"},
        ),
    ):
        body = assert_error(reply, 400, "size")
        assert "square, story" in body["details"][0]["message"]


def test_signed_urls_batch_validate_and_previews(srv: Server) -> None:
    key = srv.create_key("sizes-more", plan="agency")
    template_id = str(create(srv, key, "square")["id"])
    made = call(srv, "POST", "/api/v2/signing-keys", key).json()["signingKey"]
    signer = SigningKey(made["id"], made["secret"])
    url = image_url(srv.url, {"template": template_id, "title": "Signed", "size": "square"}, signer)
    signed = request(url)  # no headers: the owner's template by the signature
    assert signed.status == 200, signed.body
    assert size_of(signed.body) == (1080, 1080) and corner(signed.body) == COLOURS["square"]
    refused = image_url(srv.url, {"template": template_id, "title": "No", "size": "story"}, signer)
    assert_error(request(refused), 400, "size")

    items = [
        {"template": template_id, "title": "Batch", "size": "square"},
        {"template": template_id, "title": "Batch", "size": "story"},
        {"template": template_id, "title": "Batch", "size": "640x640"},
    ]
    batch = call(srv, "POST", "/api/v2/render/batch", key, {"items": items})
    assert batch.status == 200, batch.body
    results = batch.json()["results"]
    assert [r["status"] for r in results] == [201, 400, 201]
    assert results[1]["details"][0]["field"] == "size"
    assert (results[2]["width"], results[2]["height"]) == (640, 640)
    shown = request(srv.url + f"/i/{results[0]['slug']}")
    assert corner(shown.body) == COLOURS["square"]

    fit = call(srv, "POST", "/api/v2/validate", key, {**items[0], "title": "Fits?"})
    assert fit.status == 200, fit.body
    assert (fit.json()["width"], fit.json()["height"]) == (1080, 1080)
    assert_error(call(srv, "POST", "/api/v2/validate", key, items[1]), 400, "size")

    body = {**upload("story"), "title": "Unsaved", "size": "story"}
    preview = call(srv, "POST", "/api/v2/templates/preview", key, body)
    assert preview.status == 200, preview.body
    assert size_of(preview.body) == (1080, 1920) and corner(preview.body) == COLOURS["story"]
    body = {**upload("story"), "title": "Unsaved", "size": "square"}
    assert_error(call(srv, "POST", "/api/v2/templates/preview", key, body), 400, "size")


def test_bad_sizes_are_400s_naming_the_field(srv: Server) -> None:
    key = srv.create_key("sizes-bad")
    og = document("og")
    cases: list[tuple[object, str, str]] = [
        ({"svg": og, "sizes": ["square"]}, "sizes", "invalid_parameters"),
        ({"svg": og, "sizes": {"square": 42}}, "sizes.square", "invalid_parameters"),
        ({"svg": og, "sizes": {"square": ""}}, "sizes.square", "invalid_parameters"),
        ({"svg": og, "sizes": {"huge": document("square")}}, "sizes.huge", "invalid_template"),
        ({"svg": og, "sizes": {"og": og}}, "sizes.og", "invalid_template"),
        (
            {"svg": og, "sizes": {"square": document("square", canvas=(1080, 1350))}},
            "sizes.square",
            "invalid_template",
        ),
        (
            {"svg": og, "sizes": {"story": document("story", extra="<foreignObject/>")}},
            "sizes.story",
            "invalid_template",
        ),
    ]
    for body, field, code in cases:
        for method, path in (("POST", "/api/v2/templates"), ("POST", "/api/v2/templates/preview")):
            refused = assert_error(call(srv, method, path, key, body), 400, field)
            assert refused["code"] == code, (body, refused)
    wrong = assert_error(call(srv, "POST", "/api/v2/templates", key, cases[5][0]), 400)
    assert "line 1" in wrong["details"][0]["message"]
    assert "width=1080 height=1080" in wrong["details"][0]["message"]
    assert call(srv, "GET", "/api/v2/templates", key).json()["templates"] == []


def test_the_dashboard_editor_saves_size_documents(srv: Server) -> None:
    name = f"sizes-dash-{srv.url.rsplit(':', 1)[1]}"
    out = srv.cli("users", "create", name, "--email", f"{name}@example.com")
    c = Console(srv.url)
    link = invite_path(out)
    c.get(link)
    assert c.post(link, {"password": "correct horse battery"}).status == 303
    assert c.sign_in(f"{name}@example.com", "correct horse battery").status == 303
    page = c.get("/dashboard/templates/new").body.decode()
    assert 'name="size_square"' in page and 'name="size_story"' in page
    form = {"svg": document("og"), "name": "Sized", "size_square": document("square")}
    form["size_story"] = ""  # an empty field: no document for that size
    bad = c.post(
        "/dashboard/templates/save",
        {**form, "size_square": document("square", canvas=(1200, 630))},
    )
    assert bad.status == 400
    html = bad.body.decode()
    assert '<a href="#tpl-sizes-square"><code>sizes.square</code></a>, line 1:' in html
    saved = c.post("/dashboard/templates/save", form)
    assert saved.status == 303, saved.body[:500]
    template_id = saved.headers["location"].split("/")[-1].split("?")[0]
    edit = c.get(f"/dashboard/templates/{template_id}").body.decode()
    square = edit[edit.index('name="size_square"') :]
    assert "width=&#34;1080&#34;" in square[: square.index("</textarea>")]
    preview = c.post("/dashboard/templates/preview", {**form, "title": "Live", "size": "square"})
    assert preview.status == 200 and corner(preview.body) == COLOURS["square"]
    # The list shows the sizes each renders; the playground says which it cannot.
    listing = c.get("/dashboard/templates").body.decode()
    row = listing[listing.index(f'<td data-label="Id" class="mono">{template_id}</td>') :]
    assert row.startswith(
        f'<td data-label="Id" class="mono">{template_id}</td>'
        '<td data-label="Sizes">og, twitter, linkedin, square</td>'
    )
    query = urllib.parse.urlencode({"template": template_id, "title": "P", "size": "portrait"})
    playground = c.get(f"/dashboard/templates?{query}").body.decode()
    assert "this template has no document for &#39;portrait&#39;" in playground
