"""Brands: ``/api/v2/brands`` create, list, get, update, delete (SPEC §6.1).

Every call needs an API key and takes a burst token; a brand belongs to the key's user, and
anyone else's id is a 404 like an unknown one.
"""

from __future__ import annotations

from sanic import Blueprint, HTTPResponse, Request

from ogmint.api.requests import json_object, key_holder
from ogmint.api.responses import Answer, deleted, listed, one, resource_json
from ogmint.domain.brands import BrandMeta, look_of
from ogmint.domain.keys import ApiKeyRecord
from ogmint.services import Services

bp = Blueprint("brands")


def _as_json(meta: BrandMeta) -> dict[str, object]:
    return resource_json(meta, **look_of(meta))


@bp.post("/api/v2/brands")
async def create_brand(request: Request) -> HTTPResponse:
    svc, key = await key_holder(request)
    meta = await svc.brands.create(key.user, json_object(request))
    return one("brand", _as_json(meta), status=201)


async def brands_answer(svc: Services, key: ApiKeyRecord) -> Answer:
    """``GET /api/v2/brands`` for ``key`` (its burst token already taken)."""
    return listed("brands", [_as_json(m) for m in await svc.brands.list(key.user)])


@bp.get("/api/v2/brands")
async def list_brands(request: Request) -> HTTPResponse:
    svc, key = await key_holder(request)
    return (await brands_answer(svc, key)).response()


@bp.get("/api/v2/brands/<brand_id:str>")
async def get_brand(request: Request, brand_id: str) -> HTTPResponse:
    svc, key = await key_holder(request)
    return one("brand", _as_json(await svc.brands.get(key.user, brand_id)))


@bp.put("/api/v2/brands/<brand_id:str>")
async def update_brand(request: Request, brand_id: str) -> HTTPResponse:
    svc, key = await key_holder(request)
    meta = await svc.brands.update(key.user, brand_id, json_object(request))
    return one("brand", _as_json(meta))


@bp.delete("/api/v2/brands/<brand_id:str>")
async def delete_brand(request: Request, brand_id: str) -> HTTPResponse:
    svc, key = await key_holder(request)
    await svc.brands.delete(key.user, brand_id)
    return deleted()
