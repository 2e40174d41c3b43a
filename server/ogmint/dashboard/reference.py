"""API: the OpenAPI document (the one the app serves) as a readable page."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import orjson
from sanic import Blueprint, HTTPResponse, Request

from ogmint.dashboard.auth import require
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
                    "id": f"{method}-{path}".replace("/", "-").replace("{", "").replace("}", ""),
                    "method": method.upper(),
                    "path": path,
                    "summary": op.get("summary", ""),
                    "description": op.get("description", ""),
                    "parameters": params,
                    "body": schema.get("properties", {}) if isinstance(schema, dict) else {},
                    "required": set(schema.get("required", []))
                    if isinstance(schema, dict)
                    else set(),
                    "responses": {
                        code: _resolve(doc, r).get("description", "")
                        for code, r in op.get("responses", {}).items()
                    },
                }
            )
    return out


@bp.get("/dashboard/api")
async def api_reference(request: Request) -> HTTPResponse:
    svc: Services = request.app.ctx.services
    me = await require(request)
    doc = _document()
    return svc.pages.html(
        "api.html", visitor=me, info=doc.get("info", {}), operations=operations(doc)
    )
