"""The API page's try-it forms: a call made with one of the signed-in user's own keys.

Keys are stored hashed, so the dashboard never has a key to send. The user picks one of their
active keys by its id; the session already proves they own it, so the dashboard calls the domain
as that key — exactly what the API endpoint does after checking the header — and shows the JSON
the endpoint would have answered (its errors included), with the same burst token taken.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import orjson

from ogmint.api.brands import brands_answer
from ogmint.api.renders import detail_answer, list_answer
from ogmint.api.responses import Answer
from ogmint.api.templates import templates_answer
from ogmint.api.v2 import MAX_BODY_BYTES, render_answer, usage_answer, validate_answer
from ogmint.domain.keys import ApiKeyRecord
from ogmint.errors import OgmintError, PayloadTooLargeError
from ogmint.services import Services


@dataclass(frozen=True, slots=True)
class Inputs:
    """What a try-it form sends besides the key: a JSON body, a slug, a page size."""

    body: str = ""
    slug: str = ""
    limit: str = ""


Call = Callable[[Services, ApiKeyRecord, Inputs], Awaitable[Answer]]


@dataclass(frozen=True, slots=True)
class Try:
    """One call the API page can make: which inputs its form has, and whether the endpoint
    takes a burst token before its work (the ones that render take theirs inside)."""

    call: Call
    body: bool = False
    slug: bool = False
    limit: bool = False
    burst: bool = True


def _bytes(inputs: Inputs) -> bytes:
    body = inputs.body.encode()
    if len(body) > MAX_BODY_BYTES:
        raise PayloadTooLargeError(f"Request body larger than {MAX_BODY_BYTES} bytes")
    return body


async def _render(svc: Services, key: ApiKeyRecord, inputs: Inputs) -> Answer:
    return await render_answer(svc, key, _bytes(inputs))


async def _validate(svc: Services, key: ApiKeyRecord, inputs: Inputs) -> Answer:
    return await validate_answer(svc, key, _bytes(inputs))


async def _usage(svc: Services, key: ApiKeyRecord, inputs: Inputs) -> Answer:
    return await usage_answer(svc, key)


async def _renders(svc: Services, key: ApiKeyRecord, inputs: Inputs) -> Answer:
    return await list_answer(svc, key, inputs.limit or None, None)


async def _render_detail(svc: Services, key: ApiKeyRecord, inputs: Inputs) -> Answer:
    return await detail_answer(svc, key, inputs.slug)


async def _brands(svc: Services, key: ApiKeyRecord, inputs: Inputs) -> Answer:
    return await brands_answer(svc, key)


async def _templates(svc: Services, key: ApiKeyRecord, inputs: Inputs) -> Answer:
    return await templates_answer(svc, key)


#: The calls with a try-it form, by (method, path) as the OpenAPI document names them.
TRIES: dict[tuple[str, str], Try] = {
    ("POST", "/api/v2/render"): Try(_render, body=True, burst=False),
    ("POST", "/api/v2/validate"): Try(_validate, body=True, burst=False),
    ("GET", "/api/v2/usage"): Try(_usage),
    ("GET", "/api/v2/renders"): Try(_renders, limit=True),
    ("GET", "/api/v2/renders/{slug}"): Try(_render_detail, slug=True),
    ("GET", "/api/v2/brands"): Try(_brands),
    ("GET", "/api/v2/templates"): Try(_templates),
}


@dataclass(frozen=True, slots=True)
class Tried:
    """What a try-it call answered, for the page: the operation, status and JSON."""

    method: str
    path: str
    key_id: str
    status: int
    json: str
    image: str = ""  # the /i/ path of the render it made or found, if any


async def attempt(
    svc: Services, key: ApiKeyRecord, method: str, path: str, inputs: Inputs
) -> Tried:
    """Calls ``method path`` as ``key`` (one of the signed-in user's); its answer, errors too."""
    chosen = TRIES[(method, path)]
    try:
        if chosen.burst:
            await svc.limits.take_burst(key)
        answer = await chosen.call(svc, key, inputs)
    except OgmintError as e:
        answer = Answer(e.body(), e.status)
    text = orjson.dumps(answer.body, option=orjson.OPT_INDENT_2).decode()
    slug = answer.body.get("slug")
    image = f"/i/{slug}" if isinstance(slug, str) and answer.status < 300 else ""
    return Tried(method, path, key.key_id, answer.status, text, image)
