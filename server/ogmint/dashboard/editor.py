"""Custom templates in the dashboard: upload, edit (errors shown at their line), preview, delete.

The work is the templates domain's (``ogmint.domain.templates``), exactly as the API does it; these
pages only add forms. A template belongs to the signed-in user: anyone else's id is a 404.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from typing import Any

from sanic import Blueprint, HTTPResponse, Request
from sanic.response import redirect

from ogmint.api.responses import preview as image_response
from ogmint.dashboard import flash
from ogmint.dashboard.auth import Visitor, field, require
from ogmint.dashboard.flash import Flash
from ogmint.dashboard.pages import page
from ogmint.dashboard.playground import SIZES, accepts_output
from ogmint.domain.templates import MAX_NAME, SAMPLE, SIZE_PRESETS, TemplateSource
from ogmint.errors import (
    OgmintError,
    RateLimitError,
    TemplateInvalidError,
    TemplateTooLargeError,
)
from ogmint.rendering.formats import content_type_of
from ogmint.rendering.params import PRESETS
from ogmint.services import Services

bp = Blueprint("dashboard_editor")

LINE = re.compile(r"\bline (\d+)\b")
#: "line 4, <script>: …" → "<script>: …" (the page shows the line as a link of its own).
LEADING_LINE = re.compile(r"^line \d+(, |: )")
#: What a new template starts from: the smallest document the format accepts.
STARTER = """<svg xmlns="http://www.w3.org/2000/svg" xmlns:og="https://ogmint.dev/ns/template"
     width="1200" height="630" viewBox="0 0 1200 630" og:description="My card">
  <rect width="1200" height="630" fill="{{bg}}"/>
  <rect x="80" y="120" width="96" height="8" rx="4" fill="{{accent}}"/>
  <og:text field="title" x="80" y="170" width="1040" height="280" max-size="72" min-size="40"
           weight="700" max-lines="3" valign="middle"/>
</svg>
"""


@dataclass(frozen=True, slots=True)
class Problem:
    """A refused upload's message, the source line it names, if any, and the document it is
    in: ``svg`` (the main one) or ``sizes.square`` …"""

    message: str
    line: int | None
    document: str = "svg"


def problems(error: OgmintError) -> list[Problem]:
    messages = [(d.field, d.message) for d in error.details] or [("svg", error.message)]
    out = []
    for where, m in messages:
        found = LINE.search(m)
        line = int(found.group(1)) if found else None
        document = where if where.startswith("sizes.") else "svg"
        out.append(Problem(LEADING_LINE.sub("", m) if line else m, line, document))
    return out


#: The size documents the editor has a field for, with their canvas (SPEC §5.1).
SIZE_DOCUMENTS = {preset: PRESETS[preset] for preset in SIZE_PRESETS}


def _editor(
    request: Request,
    me: Visitor,
    *,
    template_id: str,
    name: str,
    source: TemplateSource,
    status: int = 200,
    errors: list[Problem] | None = None,
    preview: str = "",
) -> HTTPResponse:
    svc: Services = request.app.ctx.services
    svg = source.svg
    bad = {p.line for p in errors or [] if p.line and p.document == "svg"}
    sample = _sample(request) if request.method == "POST" else {}
    return page(
        request,
        "template_edit.html",
        status,
        visitor=me,
        template_id=template_id,
        name=name,
        svg=svg,
        size_svgs=source.sizes,
        size_documents=SIZE_DOCUMENTS,
        errors=errors or [],
        lines=list(enumerate(svg.splitlines(), start=1)) if bad else [],
        bad=bad,
        preview=preview,
        max_name=MAX_NAME,
        saved=request.args.get("saved") == "1" and not errors,
        sample=sample,
        palettes=list(svc.templates.palettes),
        sizes=SIZES if accepts_output(svc) else {},
    )


def _sample(request: Request) -> dict[str, str]:
    """The preview's sample parameters from the form: title, palette, size."""
    sample = {"title": field(request, "title", 200) or SAMPLE.title}
    for name in ("palette", "size"):
        value = field(request, name, 40)
        if value:
            sample[name] = value
    return sample


def _form(request: Request) -> tuple[TemplateSource, str | None]:
    """The upload in the form: the main document, one field per other size (an empty one is
    a size the template has no document for), the name."""
    sizes = {p: doc for p in SIZE_PRESETS if (doc := field(request, f"size_{p}")).strip()}
    name = field(request, "name", MAX_NAME).strip() or None
    return TemplateSource(field(request, "svg"), sizes), name


async def _preview_png(request: Request, svc: Services, user: str, source: TemplateSource) -> bytes:
    """The unsaved template drawn with the form's sample text (as the API's preview), from the
    user's preview allowance."""
    params: dict[str, Any] = _sample(request)
    if not accepts_output(svc):
        params.pop("size", None)
    return await svc.renders.preview_upload(user, source, params, api="preview")


@bp.get("/dashboard/templates/new")
async def new_template(request: Request) -> HTTPResponse:
    me = await require(request)
    return _editor(request, me, template_id="", name="", source=TemplateSource(STARTER))


@bp.get("/dashboard/templates/<template_id:str>")
async def edit_template(request: Request, template_id: str) -> HTTPResponse:
    svc: Services = request.app.ctx.services
    me = await require(request)
    meta, source = await svc.templates.get(me.user, template_id)  # another user's: 404
    return _editor(request, me, template_id=meta.id, name=meta.name, source=source)


@bp.post("/dashboard/templates/save")
async def save_template(request: Request) -> HTTPResponse:
    """Creates (no ``id``) or updates the user's template; a refusal shows the editor again."""
    svc: Services = request.app.ctx.services
    me = await require(request)
    source, name = _form(request)
    template_id = field(request, "id", 100)
    try:
        if field(request, "action", 20) == "preview":
            image = await _preview_png(request, svc, me.user, source)
            shown = f"data:{content_type_of(image)};base64," + base64.b64encode(image).decode()
            return _editor(
                request, me, template_id=template_id, name=name or "", source=source, preview=shown
            )
        if template_id:
            meta = await svc.templates.update(me.user, template_id, source, name)
        else:
            meta = await svc.templates.create(me.user, source, name)
    except (TemplateInvalidError, TemplateTooLargeError, RateLimitError) as e:
        page = _editor(
            request,
            me,
            template_id=template_id,
            name=name or "",
            source=source,
            status=e.status,
            errors=problems(e),
        )
        page.headers.update(e.headers)  # a used-up preview allowance: its Retry-After
        return page
    return redirect(f"/dashboard/templates/{meta.id}?saved=1", status=303)


@bp.post("/dashboard/templates/<template_id:str>/delete")
async def delete_template(request: Request, template_id: str) -> HTTPResponse:
    svc: Services = request.app.ctx.services
    me = await require(request)
    await svc.templates.delete(me.user, template_id)
    await flash.put(request, me, Flash(f"Template {template_id} deleted."))
    return redirect("/dashboard/templates", status=303)


@bp.post("/dashboard/templates/preview")
async def live_preview(request: Request) -> HTTPResponse:
    """The editor's live preview (JavaScript): a PNG, or the JSON error of the upload."""
    svc: Services = request.app.ctx.services
    me = await require(request)
    source, _ = _form(request)
    return image_response(
        await _preview_png(request, svc, me.user, source), {"Cache-Control": "no-store"}
    )
