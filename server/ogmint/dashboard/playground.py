"""Templates: the built-in gallery in every palette and the playground (SPEC §10).

The playground shows the chosen template's own fields only (a custom template's too), the
colours as pickers paired with hex fields, the picture beside the form with how X, LinkedIn and
Slack crop it, and what to paste: the V1 URL (signed with the newest signing key), the V2 curl
and the meta tags.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlencode

import orjson
from sanic import Blueprint, HTTPResponse, Request

from ogmint.api.responses import preview as image_response
from ogmint.dashboard import flash
from ogmint.dashboard.auth import require
from ogmint.domain.templates import template_sizes
from ogmint.errors import BrandNotFoundError, TemplateNotFoundError, ValidationError
from ogmint.rendering.palettes import DEFAULT, Colors
from ogmint.rendering.params import output_pixels
from ogmint.rendering.template import FieldInfo
from ogmint.services import Services
from ogmint.signed_urls import canonical_query, decode_query, signature

bp = Blueprint("dashboard_templates")

SAMPLE = {"template": "blog", "title": "Hello from ogmint", "palette": "midnight"}
#: The look: (parameter, label, the palette colour it overrides).
COLOURS = (
    ("bgColor", "Background", "bg"),
    ("textColor", "Text", "text"),
    ("accentColor", "Accent", "accent"),
    ("surfaceColor", "Surface", "surface"),
)
STYLE = ("brand", "palette", "font", *(c[0] for c in COLOURS))
#: Output parameters (SPEC §1.1), offered once the render pipeline accepts them.
SIZES = {
    "og": (1200, 630),
    "twitter": (1200, 600),
    "linkedin": (1200, 627),
    "square": (1080, 1080),
    "portrait": (1080, 1350),
    "story": (1080, 1920),
}
OUTPUT = ("size", "format", "scale")
FORMATS = ("png", "webp", "jpeg")
SCALES = ("1", "2", "3")
#: Long text gets a text area; the rest one line.
LONG = 300


@dataclass(frozen=True, slots=True)
class Field:
    """One input of the chosen template's form."""

    name: str
    label: str
    kind: str  # "text", "long" or "image"
    limit: int | None


def _words(name: str) -> str:
    """A field's name as a label: ``readingTime`` → "Reading time"."""
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r" \1", name).lower().capitalize()


def form_fields(fields: tuple[FieldInfo, ...]) -> list[Field]:
    """The template's fields as inputs, in its order (title first)."""
    out = []
    for f in sorted(fields, key=lambda f: f.name != "title"):
        kind = "image" if f.kind == "image" else "long" if (f.max_length or 0) > LONG else "text"
        label = _words(f.name)
        out.append(Field(f.name, f"{label} URL" if kind == "image" else label, kind, f.max_length))
    return out


def playground_params(args: dict[str, str], fields: list[str]) -> dict[str, str]:
    """The playground's parameters: the template, its ``fields`` and the look, non-empty ones
    only; the sample card when there is no title."""
    allowed = ("template", *fields, *STYLE, *OUTPUT)
    chosen = {f: args[f].strip() for f in allowed if args.get(f, "").strip()}
    chosen = {k: v.removeprefix("#") if k.endswith("Color") else v for k, v in chosen.items()}
    if "title" in chosen:
        return chosen
    sample = {k: v for k, v in SAMPLE.items() if k != "palette" or "brand" not in chosen}
    return {**sample, **chosen}  # a brand's own palette is not overridden by the sample's


def signed_query(params: dict[str, str], kid: str, secret: str) -> str:
    """``params`` as a signed V1 query (SPEC §2.1): ``kid`` added, ``sig`` last."""
    query = urlencode({**params, "kid": kid})
    return query + "&sig=" + signature(secret, canonical_query(decode_query(query)))


def pixels(params: dict[str, str]) -> tuple[int, int]:
    """The picture's width and height for these parameters (SPEC §1.1), as a render reads
    them (``og`` at scale 1 for what it would refuse)."""
    return output_pixels(params)


def snippets(
    base_url: str,
    params: dict[str, str],
    signer: tuple[str, str] | None = None,
    api_key: str = "YOUR_API_KEY",
) -> dict[str, str]:
    """What the playground shows to paste: V1 URL (signed with ``signer``, a signing key's id
    and secret, when given), V2 curl (with ``api_key``) and the meta tags."""
    query = urlencode(params) if signer is None else signed_query(params, *signer)
    v1 = f"{base_url}/api/og?{query}"
    body = orjson.dumps(params).decode()
    curl = (
        f"curl -X POST {base_url}/api/v2/render \\\n"
        f"  -H 'x-api-key: {api_key}' -H 'content-type: application/json' \\\n"
        f"  -d '{body.replace(chr(39), chr(39) + chr(92) + chr(39) + chr(39))}'"
    )
    width, height = pixels(params)
    alt = _attr(params.get("title", ""))
    meta = "\n".join(
        [
            f'<meta property="og:image" content="{_attr(v1)}">',
            f'<meta property="og:image:width" content="{width}">',
            f'<meta property="og:image:height" content="{height}">',
            f'<meta property="og:image:alt" content="{alt}">',
            '<meta name="twitter:card" content="summary_large_image">',
            f'<meta name="twitter:image" content="{_attr(v1)}">',
            f'<meta name="twitter:image:alt" content="{alt}">',
        ]
    )
    return {"v1": v1, "curl": curl, "meta": meta}


def _attr(value: str) -> str:
    return (
        value.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")
    )


def accepts_output(svc: Services) -> bool:
    """Whether this build's render parameters include ``size`` and ``format`` (SPEC §1.1)."""
    try:
        svc.renders.parse({"template": "blog", "title": "x", "size": "og"}, strict=True)
    except ValidationError:
        return False
    return True


@dataclass(frozen=True, slots=True)
class Playground:
    """What the playground shows for a request's parameters."""

    fields: list[Field]
    params: dict[str, str]
    snippets: dict[str, str]
    signed: bool
    error: str


async def playground(request: Request, svc: Services, user: str) -> Playground:
    """The chosen template's fields, the parameters kept for it, and what to paste."""
    args = {k: str(v[0]) for k, v in request.args.items()}
    name = args.get("template", "").strip() or SAMPLE["template"]
    error = ""
    fields: list[Field] = []
    try:
        fields = form_fields((await svc.templates.resolve(user, name)).fields)
    except (ValidationError, TemplateNotFoundError) as e:
        error = e.message
    params = playground_params(args, [f.name for f in fields] or ["title"])
    if not accepts_output(svc):
        params = {k: v for k, v in params.items() if k not in OUTPUT}
    if not error:
        try:
            # As a render resolves them: a brand of theirs, and a size the template has.
            await svc.renders.resolve(user, params, strict=False)
        except ValidationError as e:
            error = e.message + "".join(f" {d.field}: {d.message}." for d in e.details)
        except BrandNotFoundError as e:
            error = e.message
    signing = await svc.signing_keys.listed(user)
    signer = (signing[-1].kid, signing[-1].secret) if signing else None  # the newest
    shown = snippets(svc.settings.base_url, params, signer)
    return Playground(fields, params, shown, signer is not None, error)


@bp.get("/dashboard/templates")
async def templates(request: Request) -> HTTPResponse:
    svc: Services = request.app.ctx.services
    me = await require(request)
    found = await playground(request, svc, me.user)
    custom = await svc.templates.list(me.user)
    params = found.params
    palette: Colors = svc.templates.palettes.get(params.get("palette", ""), DEFAULT)
    width, height = pixels(params)
    return await flash.page(
        request,
        me,
        "templates.html",
        builtins=svc.templates.builtins,
        custom=custom,
        custom_sizes={t.id: template_sizes(t) for t in custom},
        brands=await svc.brands.list(me.user),
        palettes=list(svc.templates.palettes),
        params=params,
        fields=found.fields,
        colours=[(p, label, getattr(palette, c)) for p, label, c in COLOURS],
        output=accepts_output(svc),
        sizes=SIZES,
        formats=FORMATS,
        scales=SCALES,
        width=width,
        height=height,
        preview="/dashboard/preview.png?" + urlencode(params),
        snippets=found.snippets,
        signed=found.signed,
        error=found.error,
        fonts=[f.name for f in svc.templates.fonts],
    )


@bp.get("/dashboard/playground.json")
async def playground_json(request: Request) -> HTTPResponse:
    """What to paste for the form as it is now (the live playground keeps them current)."""
    svc: Services = request.app.ctx.services
    me = await require(request)
    found = await playground(request, svc, me.user)
    width, height = pixels(found.params)
    body = {**found.snippets, "width": width, "height": height, "error": found.error}
    return HTTPResponse(
        orjson.dumps(body),
        content_type="application/json",
        headers={"Cache-Control": "no-store"},
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
