"""The one error hierarchy. Each error knows its HTTP status, stable code and public message."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar, Literal

#: The limits a request can run into (SPEC §6): per-user burst bucket, monthly render quota,
#: anonymous V1 renders per day.
Limit = Literal["burst", "monthly", "daily"]


@dataclass(frozen=True, slots=True)
class FieldError:
    """A problem with one named input field."""

    field: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message}


class OgmintError(Exception):
    """Base of every error a client may see. Subclasses set status and code."""

    status: ClassVar[int] = 500
    code: ClassVar[str] = "internal_error"
    default_message: ClassVar[str] = "Internal server error"

    def __init__(
        self,
        message: str | None = None,
        details: list[FieldError] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.message = message or self.default_message
        self.details = details or []
        self.headers = headers or {}
        super().__init__(self.message)

    def body(self) -> dict[str, object]:
        return {
            "success": False,
            "error": self.message,
            "code": self.code,
            "details": [d.as_dict() for d in self.details],
        }


class ValidationError(OgmintError):
    status = 400
    code = "invalid_parameters"
    default_message = "Invalid parameters"

    @classmethod
    def field(cls, field: str, message: str) -> ValidationError:
        return cls(f"{field}: {message}", [FieldError(field, message)])


class BadJSONError(OgmintError):
    status = 400
    code = "invalid_json"
    default_message = "Request body is not valid JSON"


class FetchError(ValidationError):
    """An avatar/logo URL could not be fetched safely (blocked, failed, not an image)."""

    code = "fetch_failed"


class TemplateInvalidError(ValidationError):
    """An uploaded template was refused by the sanitiser or its test render."""

    code = "invalid_template"


class TemplateLimitError(OgmintError):
    """The user already has as many custom templates as allowed."""

    status = 400
    code = "template_limit_reached"


class RenderFailedError(OgmintError):
    """The renderer refused a document (a template it cannot draw)."""

    status = 400
    code = "render_failed"


class UnauthorizedError(OgmintError):
    status = 401
    code = "unauthorized"
    default_message = "Missing or invalid API key"


class NotFoundError(OgmintError):
    status = 404
    code = "not_found"
    default_message = "Not found"


class TemplateNotFoundError(NotFoundError):
    """Unknown, deleted or someone else's custom template: the same answer for all (SPEC §5.1)."""

    code = "template_not_found"
    default_message = "Custom template not found"


class TemplateTooLargeError(OgmintError):
    status = 413
    code = "template_too_large"
    default_message = "Template source too large"


class MethodNotAllowedError(OgmintError):
    status = 405
    code = "method_not_allowed"
    default_message = "Method not allowed"


class PayloadTooLargeError(OgmintError):
    status = 413
    code = "payload_too_large"
    default_message = "Request body too large"


class RateLimitError(OgmintError):
    status = 429
    code = "rate_limited"
    default_message = "Rate limit exceeded"

    def __init__(self, message: str, *, limit: Limit, headers: dict[str, str]) -> None:
        super().__init__(message, headers=headers)
        self.limit = limit


class UnavailableError(OgmintError):
    """A dependency is down or the server is saturated; the client should retry later."""

    status = 503
    code = "unavailable"
    default_message = "Service temporarily unavailable"

    def __init__(self, message: str | None = None, retry_after: int = 1) -> None:
        super().__init__(message, headers={"Retry-After": str(retry_after)})


class DependencyError(UnavailableError):
    """A dependency (state store, image storage) failed. The public message is fixed per kind;
    ``detail`` names hosts, ports, buckets, paths or keys, so it goes to the log only."""

    def __init__(self, detail: str = "", retry_after: int = 1) -> None:
        super().__init__(None, retry_after)
        self.detail = detail or self.message

    def __str__(self) -> str:
        return self.detail


class SaturatedError(UnavailableError):
    """This worker's render pool and its queue are full."""

    default_message = "Render capacity exhausted, retry shortly"


class InternalError(OgmintError):
    """A bug. The body's message is always generic; ``detail`` goes to the log only."""

    def __init__(self, detail: str = "") -> None:
        super().__init__(None)
        self.detail = detail or self.message

    def __str__(self) -> str:
        return self.detail


# ---------------------------------------------------------------------------------------------
# The one handler that writes every error body, Sanic's own errors included.

_SANIC_STATUS: dict[int, type[OgmintError]] = {
    400: ValidationError,
    401: UnauthorizedError,
    404: NotFoundError,
    405: MethodNotAllowedError,
    413: PayloadTooLargeError,
    503: UnavailableError,
}


def _as_ogmint(exception: BaseException) -> OgmintError:
    from sanic.exceptions import SanicException

    if isinstance(exception, OgmintError):
        return exception
    if isinstance(exception, SanicException) and exception.status_code in _SANIC_STATUS:
        cls = _SANIC_STATUS[exception.status_code]
        return cls() if cls is UnavailableError else cls(cls.default_message)
    if isinstance(exception, SanicException) and 400 <= exception.status_code < 500:
        err = ValidationError("Bad request")
        return err
    return InternalError()


def make_error_handler(observe: Callable[[OgmintError], None]) -> object:
    """Builds the Sanic error handler (imported lazily so this module stays framework-light).

    ``observe`` sees every error answered (metrics count rate limits and saturation there).
    """
    import logging

    import orjson
    from sanic import HTTPResponse, Request
    from sanic.handlers import ErrorHandler

    log = logging.getLogger("ogmint.errors")

    class JsonErrorHandler(ErrorHandler):
        def default(self, request: Request, exception: Exception) -> HTTPResponse:
            err = _as_ogmint(exception)
            observe(err)
            if isinstance(err, InternalError):
                log.error(
                    "unhandled error on %s %s", request.method, request.path, exc_info=exception
                )
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

    return JsonErrorHandler()
