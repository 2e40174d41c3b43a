"""Custom templates: ``/api/v2/templates`` create, list, get, update, delete, preview (SPEC §5.1).

Every call needs an API key and takes a burst token; a template belongs to the key's user, and
anyone else's id is a 404 like an unknown one.
"""

from __future__ import annotations

from typing import Any

import orjson
from sanic import Blueprint, HTTPResponse, Request

from ogmint.api.requests import json_object, key_holder
from ogmint.api.responses import Answer, deleted, listed, one, preview, resource_json
from ogmint.domain.keys import ApiKeyRecord
from ogmint.domain.templates import MAX_NAME, TemplateMeta, TemplateSource, template_sizes
from ogmint.errors import FieldError, ValidationError
from ogmint.services import Services

bp = Blueprint("templates")

TEMPLATE_FIELDS = ("svg", "sizes", "name")


def _upload(body: dict[str, Any], *, strict: bool) -> tuple[TemplateSource, str | None]:
    """The ``svg``, ``sizes`` and ``name`` fields (``strict``: nothing else is allowed)."""
    errors = []
    if strict:
        errors += [FieldError(k, "unknown field") for k in body if k not in TEMPLATE_FIELDS]
    svg = body.get("svg")
    if not isinstance(svg, str) or not svg:
        errors.append(FieldError("svg", "is required: the template's SVG source as a string"))
    sizes = body.get("sizes")
    if sizes is None:
        sizes = {}
    elif not isinstance(sizes, dict):
        errors.append(FieldError("sizes", "must be an object: a preset's name → its SVG source"))
        sizes = {}
    errors += [
        FieldError(f"sizes.{preset}", "must be the SVG source of that size as a string")
        for preset, doc in sizes.items()
        if not isinstance(doc, str) or not doc
    ]
    name = body.get("name")
    if name is not None and (not isinstance(name, str) or not 0 < len(name) <= MAX_NAME):
        errors.append(FieldError("name", f"must be a string of 1-{MAX_NAME} characters"))
    if errors:
        raise ValidationError("; ".join(f"{e.field}: {e.message}" for e in errors), errors)
    assert isinstance(svg, str)
    return TemplateSource(svg, sizes), name


def _as_json(meta: TemplateMeta) -> dict[str, object]:
    return resource_json(meta, fields=orjson.loads(meta.fields), sizes=template_sizes(meta))


@bp.post("/api/v2/templates")
async def create_template(request: Request) -> HTTPResponse:
    svc, key = await key_holder(request)
    source, name = _upload(json_object(request), strict=True)
    meta = await svc.templates.create(key.user, source, name)
    return one("template", _as_json(meta), status=201)


async def templates_answer(svc: Services, key: ApiKeyRecord) -> Answer:
    """``GET /api/v2/templates`` for ``key`` (its burst token already taken)."""
    return listed("templates", [_as_json(m) for m in await svc.templates.list(key.user)])


@bp.get("/api/v2/templates")
async def list_templates(request: Request) -> HTTPResponse:
    svc, key = await key_holder(request)
    return (await templates_answer(svc, key)).response()


@bp.get("/api/v2/templates/<template_id:str>")
async def get_template(request: Request, template_id: str) -> HTTPResponse:
    svc, key = await key_holder(request)
    meta, source = await svc.templates.get(key.user, template_id)
    stored = {"svg": source.svg, "sizeSvgs": dict(source.sizes)}
    return one("template", {**_as_json(meta), **stored})


@bp.put("/api/v2/templates/<template_id:str>")
async def update_template(request: Request, template_id: str) -> HTTPResponse:
    svc, key = await key_holder(request)
    source, name = _upload(json_object(request), strict=True)
    meta = await svc.templates.update(key.user, template_id, source, name)
    return one("template", _as_json(meta))


@bp.delete("/api/v2/templates/<template_id:str>")
async def delete_template(request: Request, template_id: str) -> HTTPResponse:
    svc, key = await key_holder(request)
    await svc.templates.delete(key.user, template_id)
    return deleted()


@bp.post("/api/v2/templates/preview")
async def preview_template(request: Request) -> HTTPResponse:
    """The unsaved template rendered with the body's parameters: nothing stored, no monthly
    quota; one of the user's previews (an allowance shared with the dashboard) instead."""
    svc, key = await key_holder(request)
    body = json_object(request)
    source, _name = _upload(body, strict=False)
    params = {k: v for k, v in body.items() if k not in TEMPLATE_FIELDS}
    image = await svc.renders.preview_upload(key.user, source, params, api="v2")
    return preview(image, {"Cache-Control": "no-store"})
