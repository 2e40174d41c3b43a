"""The sans-IO core shared by ``Client`` and ``AsyncClient``: every API call as an ``Op``
(method, path, JSON body, and how to read the answer), the HTTP request it becomes, and how an
HTTP answer becomes a value or an :class:`~ogmint_client.errors.OgmintError`. No I/O here."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar
from urllib.parse import quote, urlencode

from ogmint_client.errors import error_for
from ogmint_client.models import (
    BatchResult,
    Brand,
    Render,
    RenderPage,
    SigningKeyInfo,
    StoredRender,
    Template,
    Usage,
    Validation,
)
from ogmint_client.signing import SigningKey

VERSION = "0.2.0"
USER_AGENT = f"ogmint-client/{VERSION}"
API_KEY_HEADER = "x-api-key"
MAX_BATCH = 100

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class HttpRequest:
    method: str
    url: str
    headers: dict[str, str]
    body: bytes | None = None


@dataclass(frozen=True, slots=True)
class HttpResponse:
    status: int
    headers: dict[str, str]  # names lower-cased
    body: bytes = field(repr=False)


@dataclass(frozen=True, slots=True)
class Op(Generic[T]):
    """One API call, independent of the transport: what to send and how to read the answer."""

    method: str
    path: str
    parse: Callable[[Any], T]
    json: Any = None


def build(base_url: str, headers: Mapping[str, str], op: Op[Any]) -> HttpRequest:
    """The HTTP request of an op."""
    all_headers = {"user-agent": USER_AGENT, "accept": "application/json", **headers}
    body = None
    if op.json is not None:
        body = json.dumps(op.json, separators=(",", ":")).encode()
        all_headers["content-type"] = "application/json"
    return HttpRequest(op.method, base_url + op.path, all_headers, body)


def answer(response: HttpResponse) -> Any:
    """The JSON of a success (the bytes of an image), or the error answer as an exception."""
    is_json = response.headers.get("content-type", "").startswith("application/json")
    if 200 <= response.status < 300:
        return json.loads(response.body) if is_json else response.body
    try:
        body = json.loads(response.body) if is_json else None
    except ValueError:
        body = None
    raise error_for(response.status, body, response.headers)


def _seg(value: str) -> str:
    return quote(value, safe="")


def _none(_: Any) -> None:
    return None


# --- renders (SPEC §3, §3.1) ----------------------------------------------------------------


def render(params: Mapping[str, Any]) -> Op[Render]:
    return Op("POST", "/api/v2/render", Render.from_json, dict(params))


def list_renders(limit: int | None, cursor: str | None) -> Op[RenderPage]:
    query = {k: v for k, v in (("limit", limit), ("cursor", cursor)) if v is not None}
    path = "/api/v2/renders" + ("?" + urlencode(query) if query else "")

    def parse(doc: Any) -> RenderPage:
        renders = [StoredRender.from_json(r) for r in doc["renders"]]
        return RenderPage(renders, doc.get("nextCursor"))

    return Op("GET", path, parse)


def get_render(slug: str) -> Op[StoredRender]:
    return Op("GET", f"/api/v2/renders/{_seg(slug)}", lambda d: StoredRender.from_json(d["render"]))


def delete_render(slug: str) -> Op[None]:
    return Op("DELETE", f"/api/v2/renders/{_seg(slug)}", _none)


def _batch_result(doc: dict[str, Any]) -> BatchResult:
    status = int(doc["status"])
    if 200 <= status < 300:
        return BatchResult(status, Render.from_json(doc), None)
    return BatchResult(status, None, error_for(status, doc, {}))


def batch(items: list[Mapping[str, Any]]) -> Op[list[BatchResult]]:
    """1–100 V2 bodies; one result per item, in order (a bad item fails alone)."""
    if not 1 <= len(items) <= MAX_BATCH:
        raise ValueError(f"a batch has 1 to {MAX_BATCH} items")
    body = {"items": [dict(i) for i in items]}
    return Op(
        "POST", "/api/v2/render/batch", lambda d: [_batch_result(r) for r in d["results"]], body
    )


def validate(params: Mapping[str, Any]) -> Op[Validation]:
    return Op("POST", "/api/v2/validate", Validation.from_json, dict(params))


def usage() -> Op[Usage]:
    return Op("GET", "/api/v2/usage", Usage.from_json)


# --- templates (SPEC §5.1) ------------------------------------------------------------------


def _template_body(svg: str, name: str | None, sizes: Mapping[str, str] | None) -> dict[str, Any]:
    body: dict[str, Any] = {"svg": svg}
    if name is not None:
        body["name"] = name
    if sizes:
        body["sizes"] = dict(sizes)
    return body


def _template(doc: Any) -> Template:
    return Template.from_json(doc["template"])


def create_template(svg: str, name: str | None, sizes: Mapping[str, str] | None) -> Op[Template]:
    return Op("POST", "/api/v2/templates", _template, _template_body(svg, name, sizes))


def list_templates() -> Op[list[Template]]:
    return Op("GET", "/api/v2/templates", lambda d: [Template.from_json(t) for t in d["templates"]])


def get_template(template_id: str) -> Op[Template]:
    return Op("GET", f"/api/v2/templates/{_seg(template_id)}", _template)


def update_template(
    template_id: str, svg: str, name: str | None, sizes: Mapping[str, str] | None
) -> Op[Template]:
    body = _template_body(svg, name, sizes)
    return Op("PUT", f"/api/v2/templates/{_seg(template_id)}", _template, body)


def delete_template(template_id: str) -> Op[None]:
    return Op("DELETE", f"/api/v2/templates/{_seg(template_id)}", _none)


def _png(doc: Any) -> bytes:
    if not isinstance(doc, bytes):
        raise TypeError("expected an image")
    return doc


def preview_template(
    svg: str, params: Mapping[str, Any], sizes: Mapping[str, str] | None = None
) -> Op[bytes]:
    body = {**params, **_template_body(svg, None, sizes)}
    return Op("POST", "/api/v2/templates/preview", _png, body)


# --- brands (SPEC §6.1) ---------------------------------------------------------------------


def _brand_body(name: str, look: Mapping[str, str | None]) -> dict[str, Any]:
    return {**{k: v for k, v in look.items() if v is not None}, "name": name}


def _brand(doc: Any) -> Brand:
    return Brand.from_json(doc["brand"])


def create_brand(name: str, look: Mapping[str, str | None]) -> Op[Brand]:
    return Op("POST", "/api/v2/brands", _brand, _brand_body(name, look))


def list_brands() -> Op[list[Brand]]:
    return Op("GET", "/api/v2/brands", lambda d: [Brand.from_json(b) for b in d["brands"]])


def get_brand(brand_id: str) -> Op[Brand]:
    return Op("GET", f"/api/v2/brands/{_seg(brand_id)}", _brand)


def update_brand(brand_id: str, name: str, look: Mapping[str, str | None]) -> Op[Brand]:
    return Op("PUT", f"/api/v2/brands/{_seg(brand_id)}", _brand, _brand_body(name, look))


def delete_brand(brand_id: str) -> Op[None]:
    return Op("DELETE", f"/api/v2/brands/{_seg(brand_id)}", _none)


# --- signing keys (SPEC §2.1) ---------------------------------------------------------------


def create_signing_key() -> Op[SigningKey]:
    def parse(doc: Any) -> SigningKey:
        return SigningKey(doc["signingKey"]["id"], doc["signingKey"]["secret"])

    return Op("POST", "/api/v2/signing-keys", parse)


def list_signing_keys() -> Op[list[SigningKeyInfo]]:
    def parse(doc: Any) -> list[SigningKeyInfo]:
        return [SigningKeyInfo(k["id"], k["createdAt"]) for k in doc["signingKeys"]]

    return Op("GET", "/api/v2/signing-keys", parse)


def revoke_signing_key(kid: str) -> Op[None]:
    return Op("DELETE", f"/api/v2/signing-keys/{_seg(kid)}", _none)
