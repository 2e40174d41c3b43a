"""Real traffic against any ogmint base URL: ``locust -f bench/drill/locustfile.py --host URL``.

API keys come from ``OGMINT_LOAD_API_KEYS`` (comma-separated; required). Optional:
``OGMINT_LOAD_SIGNING_KEYS`` (``kid:secret`` pairs, comma-separated) for signed V1 URLs — when
unset, each crawler asks the server for a signing key (``POST /api/v2/signing-keys``) and goes
without signed URLs if the server has none; ``OGMINT_LOAD_WEBHOOK_URL`` for the integrators'
webhooks; ``OGMINT_LOAD_ACKS`` a file to which every acknowledged new V2 render is appended
(``key<TAB>body<TAB>slug``), so the drills can check that none was lost or made twice.

Who visits an OG image service, and how often (the ``weight``s, relative numbers of users):

- ``Crawler`` (6): link-preview fetchers and social crawlers. They are most of the requests:
  every share of a page makes several of them fetch its ``og:image`` — a stored ``/i/`` image
  or a signed V1 URL — and they fetch the same popular images over and over, so nearly all of
  it should be nginx cache hits.
- ``AnonymousEmbed`` (3): blogs whose ``og:image`` is a plain V1 URL, without a key. Few
  distinct cards (a site's posts), fetched repeatedly, so again mostly cache hits. Without
  nginx the anonymous daily limit (10 per address) answers most of them with 429, which is the
  limit working: a 429 with ``Retry-After`` counts as a correct answer (named ``… (429)``).
- ``Integrator`` (1): back ends calling the API with a key: V2 renders, about a third of them
  repeats of an earlier render (dedup hits: 200, ``cached: true``), some with a webhook, and
  the image fetched once. Few users, but each request may render. Each stays under the 5/s
  burst limit of its key (keys are dealt out round robin); a 429 with ``Retry-After`` is
  honoured and counted as ``… (429)``.

Zero failures are expected against a healthy server: a failure is any other non-2xx/304
answer, a wrong content type, or an error without the JSON error shape.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import os
import random
import threading
import time
from typing import Any
from urllib.parse import quote, urlencode

from locust import HttpUser, between, events, task

TEMPLATES = ("blog", "minimal", "docs", "quote")
PALETTES = ("midnight", "paper", "forest", "sunset", "ocean")
#: The popular images crawlers keep fetching, and the posts of the anonymous embeds.
POPULAR_CARDS = 24
EMBED_TITLES = 8
DEDUP_SHARE = 0.35
WEBHOOK_SHARE = 0.3


def _keys(name: str) -> list[str]:
    return [k.strip() for k in os.environ.get(name, "").split(",") if k.strip()]


API_KEYS = _keys("OGMINT_LOAD_API_KEYS")
_next_key = itertools.cycle(range(max(len(API_KEYS), 1)))
_lock = threading.Lock()
#: Slugs known to exist (rendered at the start and by integrators).
SLUGS: list[str] = []


def _quote(text: str) -> str:
    """SPEC §2.1 encoding: only A-Z a-z 0-9 - . _ ~ kept, every other byte as %XX."""
    return quote(text, safe="-._~")


def signed_query(params: dict[str, str], kid: str, secret: str, ttl: int | None = None) -> str:
    """A V1 query string signed per SPEC §2.1 (``kid``, optional ``exp``, ``sig`` last)."""
    full = {**params, "kid": kid}
    if ttl is not None:
        full["exp"] = str(int(time.time()) + ttl)
    canonical = "&".join(
        f"{_quote(k)}={_quote(v)}" for k, v in sorted(full.items(), key=lambda kv: kv[0].encode())
    )
    digest = hmac.new(secret.encode(), f"GET\n/api/og\n{canonical}".encode(), hashlib.sha256)
    sig = base64.urlsafe_b64encode(digest.digest()).rstrip(b"=").decode()
    return f"{canonical}&sig={sig}"


def card(i: int, prefix: str) -> dict[str, str]:
    return {
        "template": TEMPLATES[i % len(TEMPLATES)],
        "palette": PALETTES[i % len(PALETTES)],
        "title": f"{prefix} {i}",
    }


def _take_key() -> str:
    with _lock:
        return API_KEYS[next(_next_key)]


@events.test_start.add_listener
def seed(environment: Any, **_: Any) -> None:
    """Renders the popular cards once (V2, with the first key), so crawlers have slugs."""
    if not API_KEYS:
        raise SystemExit("set OGMINT_LOAD_API_KEYS to one or more API keys (comma-separated)")
    import requests

    host = (environment.host or "").rstrip("/")
    for i in range(POPULAR_CARDS):
        for _attempt in range(20):
            r = requests.post(
                f"{host}/api/v2/render",
                json=card(i, "Popular card"),
                headers={"x-api-key": API_KEYS[i % len(API_KEYS)]},
                timeout=30,
            )
            if r.status_code != 429:
                break
            time.sleep(float(r.headers.get("retry-after", "1")))
        if r.status_code not in (200, 201):
            raise SystemExit(f"seeding a card answered {r.status_code}: {r.text[:200]}")
        SLUGS.append(r.json()["slug"])


def _check(response: Any, expected: tuple[int, ...], content_type: str) -> None:
    """Marks the response failed unless it is one of ``expected`` with the right type, or a
    well-formed 429 with ``Retry-After`` (then renamed ``… (429)``)."""
    status = response.status_code
    if status == 429 and response.headers.get("retry-after"):
        response.request_meta["name"] += " (429)"
        response.success()
    elif status not in expected:
        response.failure(f"HTTP {status}: {response.text[:120]}")
    elif status == 200 and not response.headers.get("content-type", "").startswith(content_type):
        response.failure(f"content type {response.headers.get('content-type')}")
    else:
        response.success()


class Crawler(HttpUser):
    """Link-preview fetchers: /i/ images and signed V1 URLs, mostly the popular ones."""

    weight = 6
    wait_time = between(0.5, 2)

    def on_start(self) -> None:
        self.signing: tuple[str, str] | None = None
        pairs = _keys("OGMINT_LOAD_SIGNING_KEYS")
        if pairs:
            kid, _, secret = random.choice(pairs).partition(":")
            self.signing = (kid, secret)
            return
        r = self.client.post(
            "/api/v2/signing-keys",
            headers={"x-api-key": _take_key()},
            name="POST /api/v2/signing-keys",
            catch_response=True,
        )
        with r as response:
            if response.status_code == 201:
                key = response.json()["signingKey"]
                self.signing = (key["id"], key["secret"])
            response.success()  # a server without signed URLs (404) gets no signed traffic

    @task(5)
    def image(self) -> None:
        if not SLUGS:
            return
        # Popularity is skewed: the first cards are shared the most.
        slug = SLUGS[min(int(random.expovariate(0.25)), len(SLUGS) - 1)]
        with self.client.get(f"/i/{slug}", name="GET /i/{slug}", catch_response=True) as r:
            _check(r, (200,), "image/png")

    @task(3)
    def signed_v1(self) -> None:
        if self.signing is None:
            return
        i = min(int(random.expovariate(0.25)), POPULAR_CARDS - 1)
        query = signed_query(card(i, "Signed card"), *self.signing)
        url = f"/api/og?{query}"
        with self.client.get(url, name="GET /api/og (signed)", catch_response=True) as r:
            _check(r, (200,), "image/png")


class AnonymousEmbed(HttpUser):
    """A blog's og:image: a plain V1 URL, no key, a handful of posts."""

    weight = 3
    wait_time = between(1, 3)

    @task
    def embed(self) -> None:
        i = random.randrange(EMBED_TITLES)
        url = "/api/og?" + urlencode(card(i, "Embedded post"))
        with self.client.get(url, name="GET /api/og (anonymous)", catch_response=True) as r:
            _check(r, (200,), "image/png")


class Integrator(HttpUser):
    """An API client: V2 renders (some repeats, some with a webhook), then the image."""

    weight = 1
    wait_time = between(1, 2)

    def on_start(self) -> None:
        self.key = _take_key()
        self.mine: list[dict[str, Any]] = []
        self.webhook = os.environ.get("OGMINT_LOAD_WEBHOOK_URL", "")
        self.acks = os.environ.get("OGMINT_LOAD_ACKS", "")
        self.tag = f"{random.getrandbits(40):010x}"

    @task
    def render(self) -> None:
        repeat = bool(self.mine) and random.random() < DEDUP_SHARE
        if repeat:
            body = random.choice(self.mine)
        else:
            body = card(len(self.mine), f"Integration {self.tag}")
            if self.webhook and random.random() < WEBHOOK_SHARE:
                body = {**body, "webhookUrl": self.webhook, "metadata": {"n": len(self.mine)}}
        name = "POST /api/v2/render (repeat)" if repeat else "POST /api/v2/render (new)"
        with self.client.post(
            "/api/v2/render",
            json=body,
            headers={"x-api-key": self.key},
            name=name,
            catch_response=True,
        ) as r:
            _check(r, (200,) if repeat else (201, 200), "application/json")
            if r.status_code == 429:
                time.sleep(float(r.headers["retry-after"]))
                return
            if r.status_code not in (200, 201):
                return
            reply = r.json()
            if repeat and not reply.get("cached"):
                r.failure("a repeated render was made again")
                return
            if r.status_code == 201:
                self.mine.append(body)
                self._ack(body, reply["slug"])
            slug = reply["slug"]
        with self.client.get(f"/i/{slug}", name="GET /i/{slug}", catch_response=True) as r:
            _check(r, (200,), "image/png")

    def _ack(self, body: dict[str, Any], slug: str) -> None:
        with _lock:
            SLUGS.append(slug)
            if self.acks:
                with open(self.acks, "a") as f:
                    f.write(f"{self.key}\t{json.dumps(body)}\t{slug}\n")
