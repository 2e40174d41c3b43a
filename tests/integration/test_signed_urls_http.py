"""Signed V1 URLs through real HTTP, on both backends: signing keys via the API and the CLI,
URLs signed by the CLI, by the Python kit, by the JS kit, by hand from the SPEC text and the
shared vectors, each rendering for the key's user from a client sending no headers; tampering,
expiry, revocation and repeated parameters refused."""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import hashlib
import hmac
import json
import time
import urllib.parse
from collections.abc import Callable
from datetime import timedelta

import pytest

from backends import RedisServer
from conftest import ROOT, Server
from jskit import run_node_tests
from ogmint.app import make_state
from ogmint.settings import Settings
from ogmint_client import AuthenticationError, Client, SigningKey, image_url
from support import Reply, assert_error, request, request_once

VECTORS = json.loads((ROOT / "clients" / "test-vectors.json").read_text())
#: Tiny monthly quota for the starter plan, so that counting for the key's user shows quickly.
QUOTAS = "free=100,starter=3,pro=10000,agency=50000"
KEY_CACHE_TTL = 0.5
#: How long caches may keep a signed image (OGMINT_SIGNED_MAX_AGE; 300 s by default).
SIGNED_MAX_AGE = 3600
#: Renders (not repeats) per minute of one signing key's URLs (OGMINT_SIGNING_KEY_RATE_LIMIT).
SIGNED_RENDERS = 40


@pytest.fixture(scope="module", params=["embedded", "redis"])
def srv(request: pytest.FixtureRequest, server_factory: Callable[..., Server]) -> Server:
    env = {
        "OGMINT_PLAN_QUOTAS": QUOTAS,
        "OGMINT_KEY_CACHE_TTL": str(KEY_CACHE_TTL),
        "OGMINT_SIGNED_MAX_AGE": str(SIGNED_MAX_AGE),
        "OGMINT_SIGNING_KEY_RATE_LIMIT": str(SIGNED_RENDERS),
    }
    if request.param == "redis":
        redis: RedisServer = request.getfixturevalue("redis_server")
        env["OGMINT_REDIS_URL"] = redis.url + "/13"
    # Anonymous callers get one render a day: anything more that renders is counted elsewhere.
    return server_factory(OGMINT_ANONYMOUS_DAILY_LIMIT="1", **env)


def api(server: Server, key: str, method: str, path: str) -> Reply:
    """One keyed call, waiting out the 5/s burst limit like a well-behaved client."""
    reply = request(server.url + path, method, {"x-api-key": key})
    if reply.status == 429 and reply.json()["error"].startswith("Burst"):
        time.sleep(float(reply.headers["retry-after"]))
        reply = request(server.url + path, method, {"x-api-key": key})
    return reply


def new_signing_key(server: Server, api_key: str) -> SigningKey:
    reply = api(server, api_key, "POST", "/api/v2/signing-keys")
    assert reply.status == 201, reply.body
    doc = reply.json()["signingKey"]
    return SigningKey(doc["id"], doc["secret"])


def user_with_key(server: Server, user: str, plan: str = "pro") -> tuple[str, SigningKey]:
    api_key = server.create_key(user, plan)
    return api_key, new_signing_key(server, api_key)


def by_hand(base: str, params: dict[str, str], kid: str, secret: str, exp: int | None) -> str:
    """Signing from SPEC §2.1's text alone, as a customer would in any language."""
    params = {**params, "kid": kid} | ({} if exp is None else {"exp": str(exp)})

    def enc(s: str) -> str:
        return "".join(
            chr(b) if chr(b).isascii() and (chr(b).isalnum() or chr(b) in "-._~") else f"%{b:02X}"
            for b in s.encode()
        )

    items = sorted((k.encode(), k, v) for k, v in params.items())
    canonical = "&".join(f"{enc(k)}={enc(v)}" for _, k, v in items)
    mac = hmac.new(secret.encode(), f"GET\n/api/og\n{canonical}".encode(), hashlib.sha256)
    sig = base64.urlsafe_b64encode(mac.digest()).decode().rstrip("=")
    return f"{base}/api/og?{canonical}&sig={sig}"


def signed_part(url: str) -> str:
    """``&sig=…``: base64url of 32 bytes, no padding, last."""
    sig = url.rsplit("&sig=", 1)[1]
    assert len(sig) == 43 and "=" not in sig and "+" not in sig and "/" not in sig
    return "&sig=" + sig


def max_age(reply: Reply) -> int:
    return int(reply.headers["cache-control"].split("max-age=")[1].split(",")[0])


def assert_png(reply: Reply) -> None:
    assert reply.status == 200, reply.body[:300]
    assert reply.headers["content-type"] == "image/png"
    assert reply.body.startswith(b"\x89PNG")


def test_signing_key_api(srv: Server) -> None:
    api_key = srv.create_key("sk-api")
    created = api(srv, api_key, "POST", "/api/v2/signing-keys")
    assert created.status == 201
    body = created.json()
    assert body["success"] is True
    key = body["signingKey"]
    assert set(key) == {"id", "secret", "createdAt"}
    assert key["id"].startswith("sk_") and len(key["id"]) == 15
    assert key["secret"].startswith("ogm_sign_") and len(key["secret"]) == 49
    second = new_signing_key(srv, api_key)
    listed = api(srv, api_key, "GET", "/api/v2/signing-keys")
    assert listed.status == 200
    assert listed.json() == {
        "success": True,
        "signingKeys": [
            {"id": key["id"], "createdAt": key["createdAt"]},
            {"id": second.kid, "createdAt": listed.json()["signingKeys"][1]["createdAt"]},
        ],
    }
    assert key["secret"].encode() not in listed.body
    other = srv.create_key("sk-api-other")
    assert_error(api(srv, other, "DELETE", f"/api/v2/signing-keys/{key['id']}"), 404)
    assert api(srv, other, "GET", "/api/v2/signing-keys").json()["signingKeys"] == []
    revoked = api(srv, api_key, "DELETE", f"/api/v2/signing-keys/{key['id']}")
    assert (revoked.status, revoked.json()) == (200, {"success": True})
    assert_error(api(srv, api_key, "DELETE", f"/api/v2/signing-keys/{key['id']}"), 404)
    assert [
        k["id"] for k in api(srv, api_key, "GET", "/api/v2/signing-keys").json()["signingKeys"]
    ] == [second.kid]
    assert_error(request(srv.url + "/api/v2/signing-keys", "POST"), 401)
    assert_error(api(srv, "ogm_live_nonsense", "GET", "/api/v2/signing-keys"), 401)


def test_cli_manages_keys_and_signs(srv: Server) -> None:
    srv.create_key("sk-cli")
    out = srv.cli("signing-keys", "create", "--user", "sk-cli").strip().splitlines()
    kid = out[0].split()[1]
    assert kid.startswith("sk_") and out[-1].startswith("ogm_sign_")
    assert kid in srv.cli("signing-keys", "list", "--user", "sk-cli")
    assert out[-1] not in srv.cli("signing-keys", "list", "--user", "sk-cli")
    url = srv.cli("sign-url", "--kid", kid, "template=blog&title=Signed+by+the+CLI").strip()
    assert url.startswith(srv.url + "/api/og?kid=sk_")
    assert url.endswith(signed_part(url))
    assert_png(request(url))
    timed = srv.cli("sign-url", "--kid", kid, "--expires-in", "600", "template=blog&title=T")
    assert "exp=" in timed
    reply = request(timed.strip())
    assert_png(reply)
    assert reply.headers["cache-control"] in {
        f"public, max-age={s}, s-maxage={s}" for s in range(500, 601)
    }
    assert srv.cli("signing-keys", "revoke", "--user", "sk-cli", kid).startswith("revoked")
    time.sleep(KEY_CACHE_TTL + 0.1)
    assert assert_error(request(url), 403)["code"] == "invalid_signature"


def test_urls_signed_every_way_render_for_the_keys_user(srv: Server) -> None:
    _, key = user_with_key(srv, "sk-ways", "starter")  # 3 renders a month
    exp = int(time.time()) + 3600
    kit = image_url(srv.url, {"template": "blog", "title": "Kit: C++ & ünï 🚀"}, key, exp)
    hand = by_hand(
        srv.url, {"template": "blog", "title": "By hand: 1+1=2"}, key.kid, key.secret, exp
    )
    for url in (kit, hand):
        reply = request(url)  # no headers at all, like a crawler
        assert_png(reply)
        # A public URL tells nobody the signer's plan or usage (issue 19, item 12).
        assert not any(h.startswith("x-ratelimit") for h in reply.headers), reply.headers
    third = request(image_url(srv.url, {"template": "blog", "title": "Third"}, key))
    assert_png(third)
    fourth = request(image_url(srv.url, {"template": "blog", "title": "Fourth"}, key))
    body = assert_error(fourth, 429)  # the key's user's monthly quota (starter: 3), not anonymous
    assert body["code"] == "rate_limited"
    assert "starter" not in body["error"] and "3" not in body["error"]
    assert set(fourth.headers) & {"x-ratelimit-limit", "x-ratelimit-remaining"} == set()
    assert int(fourth.headers["retry-after"]) > 0
    again = request(kit)  # a repeat of a rendered card is free (SPEC §2), even now
    assert_png(again)
    assert again.body == request(kit).body


def test_js_kit_signs_for_a_live_server(srv: Server) -> None:
    api_key, key = user_with_key(srv, "sk-js")
    out = run_node_tests(
        OGMINT_URL=srv.url, OGMINT_KID=key.kid, OGMINT_SECRET=key.secret, OGMINT_API_KEY=api_key
    )
    assert "# skipped 1" in out  # only the webhook capture (tested in test_kits_http.py)


def test_no_burst_limit_for_signed_urls(srv: Server) -> None:
    api_key, key = user_with_key(srv, "sk-burst")

    def fan_out(make: Callable[[int], tuple[str, dict[str, str]]]) -> list[int]:
        with concurrent.futures.ThreadPoolExecutor(12) as pool:

            def one(i: int) -> int:
                url, headers = make(i)
                return request(url, headers=headers).status

            return list(pool.map(one, range(12)))

    def signed(i: int) -> tuple[str, dict[str, str]]:
        return image_url(srv.url, {"template": "minimal", "title": f"Fan-out {i}"}, key), {}

    def keyed(i: int) -> tuple[str, dict[str, str]]:
        url = image_url(srv.url, {"template": "minimal", "title": f"Keyed fan-out {i}"})
        return url, {"x-api-key": api_key}

    # 12 at once: the burst bucket holds 5. A full render pool may answer 503; never 429.
    statuses = fan_out(signed)
    assert set(statuses) <= {200, 503} and 200 in statuses, statuses
    assert 429 in fan_out(keyed)  # the same user with its API key is burst-limited


def test_tampering_expiry_and_unknown_keys_are_refused(srv: Server) -> None:
    _, key = user_with_key(srv, "sk-refused")
    url = image_url(srv.url, {"template": "blog", "title": "Original"}, key)
    assert_png(request(url))
    cases = {
        url.replace("Original", "Changed"): "invalid_signature",
        url + "&palette=paper": "invalid_signature",
        url.replace(key.kid, "sk_000000000000"): "invalid_signature",
        image_url(srv.url, {"template": "blog", "title": "x"}, (key.kid, "ogm_sign_wrong")): (
            "invalid_signature"
        ),
        image_url(srv.url, {"template": "blog", "title": "Old"}, key, int(time.time()) - 1): (
            "signature_expired"
        ),
        url.split("&sig=")[0]: "invalid_signature",
    }
    for bad, code in cases.items():
        reply = request(bad)
        body = assert_error(reply, 403)  # JSON, never an image
        assert body["code"] == code, (bad, body)
        for hint in ("ogmint sign-url", "Embed in your pages"):  # how to sign one right
            assert hint in body["error"], body
    repeated = url.replace("title=Original", "title=Original&title=Original")
    assert assert_error(request(repeated), 400, "title")
    # With a valid signature an invalid x-api-key is beside the point: the URL is the credential.
    assert_png(request(url, headers={"x-api-key": "ogm_live_nonsense"}))


def test_revocation_applies_within_the_cache_ttl(srv: Server) -> None:
    api_key, key = user_with_key(srv, "sk-revoke")
    url = image_url(srv.url, {"template": "blog", "title": "Soon revoked"}, key)
    assert_png(request(url))
    assert api(srv, api_key, "DELETE", f"/api/v2/signing-keys/{key.kid}").status == 200
    time.sleep(KEY_CACHE_TTL + 0.1)
    assert assert_error(request(url), 403)["code"] == "invalid_signature"


def test_cache_control_is_bounded_by_exp(srv: Server) -> None:
    _, key = user_with_key(srv, "sk-cache")
    params = {"template": "blog", "title": "Short-lived"}
    soon = request(image_url(srv.url, params, key, int(time.time()) + 120))
    assert_png(soon)
    age = max_age(soon)
    assert 60 <= age <= 120  # the time left, never more
    assert soon.headers["cache-control"] == f"public, max-age={age}, s-maxage={age}"
    lasting = request(image_url(srv.url, params, key, int(time.time()) + 10 * 86400))
    age = SIGNED_MAX_AGE  # OGMINT_SIGNED_MAX_AGE bounds every signed image
    assert lasting.headers["cache-control"] == f"public, max-age={age}, s-maxage={age}"
    not_modified = request(
        image_url(srv.url, params, key, int(time.time()) + 60),
        headers={"if-none-match": soon.headers["etag"]},
    )
    assert not_modified.status == 304
    assert 0 < max_age(not_modified) <= 60  # a 304 is bounded by exp too


def test_shared_vectors_over_http(srv: Server) -> None:
    settings = Settings.from_env(srv.env)

    async def add_vector_key() -> None:
        state = make_state(settings)
        await state.open()
        try:
            await state.signing_keys.create_signing_key(
                "vectors", VECTORS["kid"], VECTORS["secret"]
            )
        finally:
            await state.close()

    srv.create_key("vectors")
    asyncio.run(add_vector_key())
    for vector in VECTORS["vectors"]:
        for query in (vector["query"], vector["signed_query"]):
            reply = request(f"{srv.url}/api/og?{query}")
            if vector["expect"]["status"] == 200:
                assert_png(reply)
            else:
                assert assert_error(reply, 403)["code"] == vector["expect"]["code"], vector["name"]
    for case in VECTORS["refused"]:
        expect = case["expect"]
        body = assert_error(request(f"{srv.url}/api/og?{case['query']}"), expect["status"])
        assert body["code"] == expect["code"], case["name"]
        if "field" in expect:
            assert [d["field"] for d in body["details"]] == [expect["field"]], case["name"]


def test_python_kit_manages_signing_keys(srv: Server) -> None:
    api_key = srv.create_key("sk-kit")
    with Client(srv.url, api_key) as client:
        key = client.signing_keys.create()
        assert [k.id for k in client.signing_keys.list()] == [key.kid]
        url = client.image_url(template="blog", title="Kit-managed", signing_key=key, expires=600)
        assert "exp=600" in url  # Unix seconds as given: long past
        assert assert_error(request(url), 403)["code"] == "signature_expired"
        fresh = client.image_url(
            template="blog", title="Kit-managed", signing_key=key, expires=timedelta(minutes=5)
        )
        assert_png(request(fresh))
        client.signing_keys.revoke(key.kid)
        assert client.signing_keys.list() == []
    with pytest.raises(AuthenticationError) as e, Client(srv.url, "ogm_live_bad") as bad:
        bad.signing_keys.list()
    assert (e.value.status, e.value.code) == (401, "unauthorized")
    assert urllib.parse.urlsplit(fresh).path == "/api/og"


def test_a_signed_url_renders_its_users_custom_template(srv: Server) -> None:
    svg = (ROOT / "templates" / "minimal.svg").read_text()
    owner_key, key = user_with_key(srv, "sk-custom")
    _, stranger = user_with_key(srv, "sk-custom-stranger")
    with Client(srv.url, owner_key) as client:
        template = client.templates.create(svg, name="Signed custom card")
    params = {"template": template.id, "title": "My own template, signed"}
    assert_png(request(image_url(srv.url, params, key)))  # no headers: the owner's, by signature
    unsigned = assert_error(request(image_url(srv.url, params)), 404)
    assert unsigned["code"] == "template_not_found"
    other = assert_error(request(image_url(srv.url, params, stranger)), 404)
    assert other["code"] == "template_not_found"  # never 403: ids cannot be probed


def test_every_other_spelling_redirects_to_the_one_canonical_url(srv: Server) -> None:
    """Issue 19 item 2: nginx caches by the raw URL, so each spelling that verified was a new
    render counted for the signer — 120 ``&``-variants used up a free plan in 0.4 s."""
    _, key = user_with_key(srv, "sk-spellings", "starter")  # 3 renders a month
    url = image_url(srv.url, {"template": "blog", "title": "One card, one URL"}, key)
    canonical = "/api/og?" + url.split("?", 1)[1]
    query = url.split("?", 1)[1]
    assert_png(request_once(url))  # the kits write the canonical spelling itself
    kid_part = f"kid={key.kid}"
    variants = [
        query.replace("&", "&&", 1),  # an extra &
        "&" + query,
        query + "&",  # after sig
        query.replace("One%20card", "One+card"),  # + for a space
        query.replace("%2C", "%2c"),  # lower-case hex
        query.replace("template=blog", "template=%62log"),  # a needless escape
        query.replace(kid_part + "&", "").replace("&sig=", f"&{kid_part}&sig="),  # order
        "sig=" + query.rsplit("&sig=", 1)[1] + "&" + query.rsplit("&sig=", 1)[0],  # sig first
    ]
    assert len(set(variants)) == len(variants) and query not in variants
    for variant in variants:
        reply = request_once(f"{srv.url}/api/og?{variant}")
        assert reply.status == 308, (variant, reply.status, reply.body[:200])
        assert reply.headers["location"] == canonical
        assert reply.headers["cache-control"] == "no-store"
        assert not reply.body.startswith(b"\x89PNG")
    # The flood of the review: every spelling is a redirect, nothing is rendered or counted.
    head, sig = query.rsplit("&sig=", 1)
    for n in range(120):
        assert request_once(f"{srv.url}/api/og?{head}{'&' * (n + 2)}sig={sig}").status == 308
    assert assert_error(request_once(url.replace("One%20card", "One+carb")), 403)
    for title in ("Second card", "Third card"):  # the quota is untouched: 2 renders left
        assert_png(request(image_url(srv.url, {"template": "blog", "title": title}, key)))
    followed = request(f"{srv.url}/api/og?{variants[0]}")  # crawlers follow the redirect
    assert_png(followed)


def test_renders_of_a_signing_keys_urls_are_rate_limited_repeats_are_not(srv: Server) -> None:
    """Signed URLs skip the burst limit (crawler fan-out); renders of new cards are bounded
    per signing key, in the shared state, so a leaked key cannot render without end."""
    api_key, key = user_with_key(srv, "sk-rate")
    second = new_signing_key(srv, api_key)
    first_card = image_url(srv.url, {"template": "minimal", "title": "Rate 0"}, key)
    assert_png(request(first_card))
    for n in range(1, SIGNED_RENDERS):
        assert_png(request(image_url(srv.url, {"template": "minimal", "title": f"Rate {n}"}, key)))
    refused = request(image_url(srv.url, {"template": "minimal", "title": "One too many"}, key))
    body = assert_error(refused, 429)
    assert body["code"] == "rate_limited" and "signing key" in body["error"]
    assert 0 < int(refused.headers["retry-after"]) <= 60 / SIGNED_RENDERS + 2  # whole seconds
    assert not any(h.startswith("x-ratelimit") for h in refused.headers)
    assert_png(request(first_card))  # a repeat is no render: never limited
    # The bucket is the key's: the user's other signing key still renders.
    assert_png(request(image_url(srv.url, {"template": "minimal", "title": "Other"}, second)))
