"""V1: ``GET /api/og`` returns the PNG directly (SPEC §2)."""

from __future__ import annotations

from functools import partial

from sanic import Blueprint, HTTPResponse, Request

from ogmint.api.responses import not_modified, png
from ogmint.errors import FetchError, OgmintError
from ogmint.limits import quota_refusal, refusal, take_burst
from ogmint.services import Services

bp = Blueprint("v1")

MAX_AGE = 86400
CACHE_CONTROL = f"public, max-age={MAX_AGE}, s-maxage={MAX_AGE}"


@bp.get("/api/og")
async def og_image(request: Request) -> HTTPResponse:
    svc: Services = request.app.ctx.services
    # A signed URL (SPEC §2.1) acts for its key's user, as an x-api-key would.
    signed = await svc.signing_keys.check(request, MAX_AGE)
    key = signed.key if signed else await svc.keys.authenticate(request)
    # Repeated names: the first wins; unknown names are ignored (caches append junk).
    raw = signed.params if signed else {name: values[0] for name, values in request.args.items()}
    spec = svc.pipeline.parse(raw, strict=False)
    # A custom template is its owner's: anonymous callers get the same 404 as for unknown ids.
    template = await svc.templates.resolve(key.user if key else None, spec.template)
    etag = svc.pipeline.etag(spec, template)
    cache = CACHE_CONTROL
    if signed and signed.max_age < MAX_AGE:  # never cached past exp
        cache = f"public, max-age={signed.max_age}, s-maxage={signed.max_age}"
    headers = {"Cache-Control": cache, "ETag": etag}
    if not_modified(request.headers.get("if-none-match", ""), etag):
        return HTTPResponse(status=304, headers=headers)

    tracked = None
    with svc.tracing.span("admit", {"ogmint.api": "v1", "ogmint.anonymous": key is None}):
        if key is None:
            subject = svc.proxies.limit_subject(request)
            status = await svc.state.limits.consume_daily(
                subject, svc.settings.anonymous_daily_limit
            )
            if not status.allowed:
                raise refusal(
                    "Daily limit for anonymous renders reached; send an x-api-key for more",
                    "daily",
                    status,
                )
            refund = partial(svc.state.limits.refund_daily, subject)
        else:
            if signed is None:  # crawler fan-out on a signed URL must not trip the burst limit
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
