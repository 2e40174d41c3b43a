"""Templates: the built-in gallery in every palette and the playground (SPEC §10)."""

from __future__ import annotations

from urllib.parse import urlencode

import orjson
from sanic import Blueprint, HTTPResponse, Request

from ogmint.api.responses import preview as image_response
from ogmint.dashboard.auth import require
from ogmint.errors import TemplateNotFoundError, ValidationError
from ogmint.services import Services
from ogmint.signed_urls import canonical_query, decode_query, signature

bp = Blueprint("dashboard_templates")

#: Playground fields, in form order (the render parameters a person types most).
FIELDS = ("template", "title", "description", "tag", "author", "palette", "font")
SAMPLE = {"template": "blog", "title": "Hello from ogmint", "palette": "midnight"}


def playground_params(args: dict[str, str]) -> dict[str, str]:
    """The playground's parameters: the form's non-empty fields, or the sample."""
    chosen = {f: args[f].strip() for f in FIELDS if args.get(f, "").strip()}
    return chosen if "title" in chosen else {**SAMPLE, **chosen}


def signed_query(params: dict[str, str], kid: str, secret: str) -> str:
    """``params`` as a signed V1 query (SPEC §2.1): ``kid`` added, ``sig`` last."""
    query = urlencode({**params, "kid": kid})
    return query + "&sig=" + signature(secret, canonical_query(decode_query(query)))


def snippets(
    base_url: str, params: dict[str, str], signer: tuple[str, str] | None = None
) -> dict[str, str]:
    """What the playground shows to paste: V1 URL (signed with ``signer``, a signing key's id
    and secret, when given), V2 curl and the meta tags."""
    query = urlencode(params) if signer is None else signed_query(params, *signer)
    v1 = f"{base_url}/api/og?{query}"
    body = orjson.dumps(params).decode()
    curl = (
        f"curl -X POST {base_url}/api/v2/render \\\n"
        "  -H 'x-api-key: YOUR_API_KEY' -H 'content-type: application/json' \\\n"
        f"  -d '{body.replace(chr(39), chr(39) + chr(92) + chr(39) + chr(39))}'"
    )
    meta = "\n".join(
        [
            f'<meta property="og:image" content="{_attr(v1)}">',
            '<meta property="og:image:width" content="1200">',
            '<meta property="og:image:height" content="630">',
            '<meta name="twitter:card" content="summary_large_image">',
            f'<meta name="twitter:image" content="{_attr(v1)}">',
        ]
    )
    return {"v1": v1, "curl": curl, "meta": meta}


def _attr(value: str) -> str:
    return value.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")


@bp.get("/dashboard/templates")
async def templates(request: Request) -> HTTPResponse:
    svc: Services = request.app.ctx.services
    me = await require(request)
    args = {k: str(v[0]) for k, v in request.args.items()}
    params = playground_params(args)
    error = ""
    try:
        spec = svc.renders.parse(params, strict=False)
        await svc.templates.resolve(me.user, spec.template)
    except (ValidationError, TemplateNotFoundError) as e:
        error = e.message
    signing = await svc.signing_keys.listed(me.user)
    signer = (signing[-1].kid, signing[-1].secret) if signing else None  # the newest
    return svc.pages.html(
        "templates.html",
        visitor=me,
        builtins=svc.templates.builtins,
        custom=await svc.templates.list(me.user),
        palettes=list(svc.templates.palettes),
        params=params,
        preview="/dashboard/preview.png?" + urlencode(params),
        snippets=snippets(svc.settings.base_url, params, signer),
        signed=signer is not None,
        error=error,
        fonts=[f.name for f in svc.templates.fonts],
    )


@bp.get("/dashboard/preview.png")
async def preview(request: Request) -> HTTPResponse:
    """A picture for the signed-in user's pages: not stored, no monthly quota; the user's
    preview allowance (shared with the API's previews) instead."""
    svc: Services = request.app.ctx.services
    me = await require(request)
    raw = {name: values[0] for name, values in request.args.items()}
    image = await svc.renders.preview(me.user, raw)  # another user's template: 404
    return image_response(image, {"Cache-Control": "private, max-age=3600"})
