"""API: the OpenAPI document (the one the app serves) as a readable page, an example per call,
and try-it forms that make a call with one of the user's keys (``tryit``)."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import orjson
from sanic import Blueprint, HTTPResponse, Request

from ogmint.api.v2 import MAX_BODY_BYTES
from ogmint.dashboard import flash
from ogmint.dashboard.auth import Visitor, field, require
from ogmint.dashboard.tryit import TRIES, Inputs, Tried, attempt
from ogmint.errors import ValidationError
from ogmint.services import Services

bp = Blueprint("dashboard_reference")

METHODS = ("get", "head", "post", "put", "patch", "delete")


@cache
def _document() -> dict[str, Any]:
    text = resources.files("ogmint").joinpath("openapi.json").read_bytes()
    doc: dict[str, Any] = orjson.loads(text)
    return doc


def _resolve(doc: dict[str, Any], node: Any) -> Any:
    """``node`` with a top-level ``$ref`` followed (one level: enough for a summary)."""
    if isinstance(node, dict) and isinstance(node.get("$ref"), str):
        target: Any = doc
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target.get(part, {}) if isinstance(target, dict) else {}
        return target
    return node


#: Example bodies for the calls that take one (sample values a reader can run as they are).
EXAMPLE_BODIES: dict[str, dict[str, Any]] = {
    "/api/v2/render": {"template": "blog", "title": "Hello from ogmint", "palette": "midnight"},
    "/api/v2/validate": {"template": "blog", "title": "Hello from ogmint"},
    "/api/v2/render/batch": {"items": [{"template": "blog", "title": "One"}]},
    "/api/v2/templates": {"name": "Launch card", "svg": "<svg …>"},
    "/api/v2/templates/{id}": {"name": "Launch card", "svg": "<svg …>"},
    "/api/v2/templates/preview": {"svg": "<svg …>", "title": "A sample title"},
}
#: Sample query strings for GET calls that take parameters.
EXAMPLE_QUERIES = {"/api/og": "?template=blog&title=Hello+from+ogmint"}


def example(base_url: str, method: str, path: str, keyed: bool) -> str:
    """A curl command for the call, with sample values."""
    url = base_url + path + (EXAMPLE_QUERIES.get(path, "") if method == "GET" else "")
    parts = ["curl"] + ([] if method == "GET" else ["-X", method]) + [f"'{url}'"]
    if keyed:
        parts.append("-H 'x-api-key: YOUR_API_KEY'")
    body = EXAMPLE_BODIES.get(path) if method in ("POST", "PUT") else None
    if body is not None:
        parts += ["-H 'content-type: application/json'", f"-d '{orjson.dumps(body).decode()}'"]
    if path == "/api/og":
        parts.append("-o card.png")
    head, rest = " ".join(parts[:3]), parts[3:]
    return " \\\n  ".join([head, *rest])


def operations(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """Every operation with its parameters, request body schema and answers, in path order."""
    out = []
    for path, item in doc.get("paths", {}).items():
        for method in METHODS:
            op = item.get(method)
            if not isinstance(op, dict):
                continue
            params = [
                _resolve(doc, p) for p in [*item.get("parameters", []), *op.get("parameters", [])]
            ]
            body = _resolve(doc, op.get("requestBody", {}))
            schema = {}
            for media in body.get("content", {}).values() if isinstance(body, dict) else []:
                schema = _resolve(doc, media.get("schema", {}))
                break
            out.append(
                {
                    "id": (method + path).replace("/", "-").replace("{", "").replace("}", ""),
                    "method": method.upper(),
                    "path": path,
                    "summary": op.get("summary", ""),
                    "description": op.get("description", ""),
                    "parameters": params,
                    # Fields may share another schema's definition (a $ref): shown resolved.
                    "body": {
                        name: _resolve(doc, field)
                        for name, field in (
                            schema.get("properties", {}) if isinstance(schema, dict) else {}
                        ).items()
                    },
                    "required": set(schema.get("required", []))
                    if isinstance(schema, dict)
                    else set(),
                    "keyed": any(
                        isinstance(p, dict) and p.get("name", "").lower() == "x-api-key"
                        for p in params
                    )
                    or bool(op.get("security", doc.get("security"))),
                    "responses": {
                        code: _resolve(doc, r).get("description", "")
                        for code, r in op.get("responses", {}).items()
                    },
                }
            )
    return out


async def _page(
    request: Request, me: Visitor, tried: Tried | None = None, inputs: Inputs | None = None
) -> HTTPResponse:
    svc: Services = request.app.ctx.services
    doc = _document()
    ops = operations(doc)
    for op in ops:
        op["example"] = example(svc.settings.base_url, op["method"], op["path"], op["keyed"])
        op["try"] = TRIES.get((op["method"], op["path"]))
        sample = EXAMPLE_BODIES.get(op["path"])
        op["sample"] = orjson.dumps(sample, option=orjson.OPT_INDENT_2).decode() if sample else ""
    return await flash.page(
        request,
        me,
        "api.html",
        info=doc.get("info", {}),
        operations=ops,
        keys=await svc.keys.active(me.user),
        tried=tried,
        inputs=inputs or Inputs(),
    )


@bp.get("/dashboard/api")
async def api_reference(request: Request) -> HTTPResponse:
    return await _page(request, await require(request))


@bp.post("/dashboard/api/try")
async def try_call(request: Request) -> HTTPResponse:
    """Makes one call as one of the user's keys and shows its answer beside the call. The answer
    is this POST's page (no redirect: nothing to keep); a repeated render is a dedup hit."""
    svc: Services = request.app.ctx.services
    me = await require(request)
    method, _, path = field(request, "call", 200).partition(" ")
    if (method, path) not in TRIES:
        raise ValidationError.field("call", "not a call the API page can try")
    key_id = field(request, "key", 100)
    key = next((k for k in await svc.keys.active(me.user) if k.key_id == key_id), None)
    if key is None:
        raise ValidationError.field("key", "choose one of your active API keys")
    inputs = Inputs(
        body=field(request, "body", MAX_BODY_BYTES + 1),
        slug=field(request, "slug", 100).strip(),
        limit=field(request, "limit", 10).strip(),
    )
    return await _page(request, me, await attempt(svc, key, method, path, inputs), inputs)
