"""The one handler that writes every error body (SPEC §7), Sanic's own errors included."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import orjson
from sanic import HTTPResponse, Request
from sanic.exceptions import PayloadTooLarge, SanicException
from sanic.handlers import ErrorHandler

from ogmint.errors import (
    DependencyError,
    HeadersTooLargeError,
    InternalError,
    MethodNotAllowedError,
    NotFoundError,
    OgmintError,
    PayloadTooLargeError,
    RequestTimeoutError,
    UnauthorizedError,
    UnavailableError,
    URITooLongError,
    ValidationError,
)

log = logging.getLogger("ogmint.errors")


_SANIC_STATUS: dict[int, type[OgmintError]] = {
    400: ValidationError,
    401: UnauthorizedError,
    404: NotFoundError,
    405: MethodNotAllowedError,
    408: RequestTimeoutError,
    413: PayloadTooLargeError,
    503: UnavailableError,
}
#: Sanic's message when the request line and headers outgrow its header buffer.
_HEADER_OVERFLOW = "Request header exceeds the size limit"


def _header_overflow(buffered: bytes, limit: int) -> OgmintError:
    """414 when the request line alone outgrew the header buffer, else 431 (Sanic says 413
    for both)."""
    line_end = buffered.find(b"\r\n")
    return URITooLongError() if line_end < 0 or line_end >= limit else HeadersTooLargeError()


def _as_ogmint(exception: BaseException) -> OgmintError:
    if isinstance(exception, OgmintError):
        return exception
    if isinstance(exception, SanicException) and exception.status_code in _SANIC_STATUS:
        cls = _SANIC_STATUS[exception.status_code]
        return cls() if cls is UnavailableError else cls(cls.default_message)
    if isinstance(exception, SanicException) and 400 <= exception.status_code < 500:
        return ValidationError("Bad request")
    return InternalError()


class JsonErrorHandler(ErrorHandler):
    """Answers every error with the JSON error body; ``observe`` sees each error answered
    (metrics count rate limits and saturation there)."""

    def __init__(self, observe: Callable[[OgmintError], None]) -> None:
        super().__init__()
        self._observe = observe

    def default(self, request: Request, exception: Exception) -> HTTPResponse:
        if isinstance(exception, asyncio.CancelledError):
            # The client went away (Sanic's RequestCancelled): nobody reads this answer,
            # and it is no server error.
            log.info("client disconnected during %s %s", request.method, request.path)
            return HTTPResponse(status=503)
        if isinstance(exception, PayloadTooLarge) and str(exception) == _HEADER_OVERFLOW:
            stream = request.stream
            buffered = bytes(getattr(stream, "recv_buffer", b""))
            err = _header_overflow(buffered, getattr(stream, "HEADER_MAX_SIZE", 8192))
        else:
            err = _as_ogmint(exception)
        self._observe(err)
        if isinstance(err, InternalError) and err is not exception:
            log.error("unhandled error on %s %s", request.method, request.path, exc_info=exception)
        elif isinstance(err, DependencyError):
            log.warning("%s %s: %s", request.method, request.path, err.detail)
        headers = dict(err.headers)
        extra = getattr(exception, "headers", None)
        if err is not exception and isinstance(extra, dict):
            headers.update({k: str(v) for k, v in extra.items() if k.lower() == "allow"})
        return HTTPResponse(
            orjson.dumps(err.body()),
            status=err.status,
            headers=headers,
            content_type="application/json",
        )


def make_error_handler(observe: Callable[[OgmintError], None]) -> JsonErrorHandler:
    """The app's error handler; ``observe`` sees every error answered."""
    return JsonErrorHandler(observe)
