"""V1: ``GET /api/og`` returns the PNG directly (SPEC §2)."""

from __future__ import annotations

from functools import partial

from sanic import Blueprint, HTTPResponse, Request

from ogmint.api.responses import not_modified, png
from ogmint.errors import FetchError, OgmintError
from ogmint.limits import quota_refusal, refusal, take_burst
from ogmint.services import Services

bp = Blueprint("v1")

CACHE_CONTROL = "public, max-age=86400, s-maxage=86400"


@bp.get("/api/og")
async def og_image(request: Request) -> HTTPResponse:
    svc: Services = request.app.ctx.services
    key = await svc.keys.authenticate(request)
    # Repeated names: the first wins; unknown names are ignored (caches append junk).
    raw = {name: values[0] for name, values in request.args.items()}
    spec = svc.pipeline.parse(raw, strict=False)
    # A custom template is its owner's: anonymous callers get the same 404 as for unknown ids.
    template = await svc.templates.resolve(key.user if key else None, spec.template)
    etag = svc.pipeline.etag(spec, template)
    headers = {"Cache-Control": CACHE_CONTROL, "ETag": etag}
    if not_modified(request.headers.get("if-none-match", ""), etag):
        return HTTPResponse(status=304, headers=headers)

    tracked = None
    if key is None:
        subject = svc.proxies.limit_subject(request)
        status = await svc.state.limits.consume_daily(subject, svc.settings.anonymous_daily_limit)
        if not status.allowed:
            raise refusal(
                "Daily limit for anonymous renders reached; send an x-api-key for more",
                "daily",
                status,
            )
        refund = partial(svc.state.limits.refund_daily, subject)
    else:
        await take_burst(svc.state.limits, key)
        # Counted for the key's user and tracked for the dashboard in one step.
        tracked = svc.usage.tracking(key.user, "v1", spec.template, spec.title, 200)
        quota = dict(svc.settings.plan_quotas).get(key.plan, 0)
        status = await svc.state.atomic.charge_quota(key.user, quota, tracked)
        if not status.allowed:
            raise quota_refusal(key, status)
        refund = partial(svc.state.limits.refund_quota, key.user)
    headers.update(status.headers())
    try:
        image = await svc.pipeline.render(spec, template, api="v1")
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
    return png(image, headers)
