"""One-time messages for the page after a redirect (post/redirect/get), kept in the
server-side session: a reload neither repeats the action nor shows the message again, and a new
key's secret never appears in a URL or the browser's history."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import orjson
from sanic import HTTPResponse, Request

from ogmint.dashboard import pages
from ogmint.dashboard.auth import Visitor
from ogmint.services import Services

#: Seconds a message waits for its page: the redirect follows at once.
TTL = 300


@dataclass(frozen=True, slots=True)
class Flash:
    """What the next page says; ``secret`` (a new key) is shown once in a field ``label``."""

    message: str
    secret: str = ""
    label: str = ""


async def put(request: Request, me: Visitor, flash: Flash) -> None:
    svc: Services = request.app.ctx.services
    await svc.accounts.put_flash(me.token, orjson.dumps(asdict(flash)).decode(), TTL)


async def take(request: Request, me: Visitor) -> Flash | None:
    """The session's message, if any (removed: it is shown once)."""
    svc: Services = request.app.ctx.services
    text = await svc.accounts.take_flash(me.token)
    if text is None:
        return None
    try:
        return Flash(**orjson.loads(text))
    except (orjson.JSONDecodeError, TypeError):
        return None


async def page(
    request: Request, me: Visitor, name: str, status: int = 200, **context: object
) -> HTTPResponse:
    """The signed-in page ``name``, saying the session's message if there is one."""
    return pages.page(request, name, status, visitor=me, flash=await take(request, me), **context)
