"""V1: ``GET /api/og`` returns the PNG directly (SPEC §2)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial

from sanic import Blueprint, HTTPResponse, Request
from sanic.response import redirect

from ogmint.api.responses import not_modified
from ogmint.errors import FetchError, OgmintError
from ogmint.limits import (
    charge_anonymous,
    quota_refusal,
    signed_quota_refusal,
    take_burst,
    take_signed_render,
)
from ogmint.services import Services
from ogmint.state.limits import LimitStatus

bp = Blueprint("v1")

MAX_AGE = 86400


def cache_control(max_age: int) -> str:
    return f"public, max-age={max_age}, s-maxage={max_age}"


async def _free() -> None:
    """Nothing to give back (an unlimited allowance)."""


@bp.get("/api/og")
async def og_image(request: Request) -> HTTPResponse:
    svc: Services = request.app.ctx.services
    settings = svc.settings
    # A signed URL (SPEC §2.1) acts for its key's user, as an x-api-key would.
    signed = await svc.signing_keys.check(request, settings.signed_max_age)
    if signed is not None and signed.canonical is not None:
        # One spelling per signed card, so that caches keyed on the URL hold one copy of it.
        headers = {"Cache-Control": "no-store"}
        return redirect(f"/api/og?{signed.canonical}", headers=headers, status=308)
    key = signed.key if signed else await svc.keys.authenticate(request)
    # Repeated names: the first wins; unknown names are ignored (caches append junk).
    raw = signed.params if signed else {name: values[0] for name, values in request.args.items()}
    spec = svc.pipeline.parse(raw, strict=False)
    # A custom template is its owner's: anonymous callers get the same 404 as for unknown ids.
    template = await svc.templates.resolve(key.user if key else None, spec.template)
    etag = svc.pipeline.etag(spec, template)
    # Signed images are cached briefly (never past exp): a revoked kid stops working soon.
    headers = {"Cache-Control": cache_control(signed.max_age if signed else MAX_AGE), "ETag": etag}
    if not_modified(request.headers.get("if-none-match", ""), etag):
        return HTTPResponse(status=304, headers=headers)
    repeat = await svc.repeats.find(etag)
    if repeat is not None:  # a repeat is free (SPEC §2)
        svc.metrics.repeat_hit()
        return HTTPResponse(repeat.data, headers=headers, content_type=repeat.content_type)

    tracked = None
    status: LimitStatus | None
    refund: Callable[[], Awaitable[None]]
    if key is None:
        subject = svc.proxies.limit_subject(request)
        per_day = settings.anonymous_daily_limit
        status = await charge_anonymous(svc.state.limits, subject, per_day)
        refund = _free if per_day is None else partial(svc.state.limits.refund_daily, subject)
        if per_day is None:
            status = None
    else:
        if signed is None:
            await take_burst(svc.state.limits, key, settings.plans)
        else:  # crawler fan-out must not trip the burst limit, but renders are bounded
            await take_signed_render(svc.state.limits, signed.kid, settings.signing_key_rate_limit)
        # Counted for the key's user and tracked for the dashboard in one step.
        tracked = svc.usage.tracking(key.user, "v1", spec.template, spec.title, 200)
        quota = settings.plans.quota(key.plan)
        status = await svc.state.atomic.charge_quota(key.user, quota, tracked)
        if not status.allowed:
            raise signed_quota_refusal(status) if signed else quota_refusal(key, status)
        refund = partial(svc.state.limits.refund_quota, key.user)
        if signed is not None:
            status = None  # a public URL: its headers would show the signer's plan and usage
    if status is not None:
        headers.update(status.headers())
    try:
        image = await svc.repeats.render(
            etag, spec.template, lambda: svc.pipeline.render(spec, template, api="v1")
        )
    except FetchError as e:
        # A fetch that fails still made the server work: anonymous callers pay for it, or
        # failing image bombs would be free (SPEC §7). Key holders' errors stay free.
        if tracked is not None:
            await refund()
            await svc.state.usage.fail(tracked, e.status)  # listed as the failure it was
        raise
    except BaseException as e:
        await refund()  # only a successful render is charged
        if tracked is not None:
            await svc.state.usage.fail(tracked, e.status if isinstance(e, OgmintError) else 500)
        raise
    return HTTPResponse(image, headers=headers, content_type="image/png")
