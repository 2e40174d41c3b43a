"""The one error hierarchy. Each error knows its HTTP status, stable code and public message."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

#: The limits a request can run into (SPEC §6): per-user burst bucket, monthly render quota,
#: anonymous V1 renders per day; /i/ requests reaching the app per client address (§8); renders
#: of one signing key's URLs (§2.1); and the budgets of work the dashboard and API do without a
#: render quota (previews, webhook redeliveries, sign-in and change-password attempts).
Limit = Literal[
    "burst",
    "monthly",
    "daily",
    "image",
    "signing_key",
    "preview",
    "redeliver",
    "sign_in",
    "password",
]


#: Bounds of what an error body echoes (SPEC §7: "at most a short excerpt of the input").
MAX_MESSAGE = 300
MAX_FIELD = 64
MAX_DETAILS = 20


def excerpt(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, marked with an ellipsis when cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


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
        """The JSON error body. Input echoed in messages is cut to a short excerpt and
        ``details`` to the first few, so a huge or hostile request gets a small answer."""
        return {
            "success": False,
            "error": excerpt(self.message, MAX_MESSAGE),
            "code": self.code,
            "details": [
                {"field": excerpt(d.field, MAX_FIELD), "message": excerpt(d.message, MAX_MESSAGE)}
                for d in self.details[:MAX_DETAILS]
            ],
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


class BrandLimitError(OgmintError):
    """The user already has as many brands as allowed."""

    status = 400
    code = "brand_limit_reached"


class RenderFailedError(OgmintError):
    """The renderer refused a document (a template it cannot draw)."""

    status = 400
    code = "render_failed"


class UnauthorizedError(OgmintError):
    status = 401
    code = "unauthorized"
    default_message = "Missing or invalid API key"


class ForbiddenError(OgmintError):
    status = 403
    code = "forbidden"
    default_message = "Forbidden"


class SignatureInvalidError(ForbiddenError):
    """A signed V1 URL whose key is unknown or revoked, or whose ``sig`` does not match."""

    code = "invalid_signature"
    default_message = (
        "Invalid URL signature (unknown or revoked kid, or wrong sig). Sign the URL again with "
        "an active signing key: `ogmint sign-url`, a client kit, or the README section "
        "'Embed in your pages'"
    )


class SignatureExpiredError(ForbiddenError):
    """A correctly signed V1 URL past its ``exp``."""

    code = "signature_expired"
    default_message = (
        "The signed URL has expired (exp is in the past). Sign it again with a later exp, or "
        "none: `ogmint sign-url`, a client kit, or the README section 'Embed in your pages'"
    )


class NotFoundError(OgmintError):
    status = 404
    code = "not_found"
    default_message = "Not found"


class TemplateNotFoundError(NotFoundError):
    """Unknown, deleted or someone else's custom template: the same answer for all (SPEC §5.1)."""

    code = "template_not_found"
    default_message = "Custom template not found"


class RenderNotFoundError(NotFoundError):
    """Unknown, deleted or someone else's render: the same answer for all (SPEC §3.1)."""

    code = "render_not_found"
    default_message = "Render not found"


class BrandNotFoundError(NotFoundError):
    """Unknown, deleted or someone else's brand: the same answer for all (SPEC §6.1)."""

    code = "brand_not_found"
    default_message = "Brand not found"


class TemplateTooLargeError(OgmintError):
    status = 413
    code = "template_too_large"
    default_message = "Template source too large"


class MethodNotAllowedError(OgmintError):
    status = 405
    code = "method_not_allowed"
    default_message = "Method not allowed"


class TooManyError(OgmintError):
    """Creating one more of something would pass its per-user bound."""

    status = 409
    code = "limit_reached"
    default_message = "Limit reached"


class RequestTimeoutError(OgmintError):
    status = 408
    code = "request_timeout"
    default_message = "The request did not arrive in time"


class PayloadTooLargeError(OgmintError):
    status = 413
    code = "payload_too_large"
    default_message = "Request body too large"


class URITooLongError(OgmintError):
    status = 414
    code = "uri_too_long"
    default_message = "Request URI too long"


class HeadersTooLargeError(OgmintError):
    status = 431
    code = "headers_too_large"
    default_message = "Request header fields too large"


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


class RenderTimedOutError(UnavailableError):
    """The renderer abandoned a render that ran past its timeout (a busy server, or a
    template at the edge of its budget); nothing was charged."""

    code = "render_timeout"
    default_message = "The render took longer than allowed, retry shortly"


class InternalError(OgmintError):
    """A bug. The message is generic; ``detail`` goes to the log only."""

    def __init__(self, detail: str = "") -> None:
        super().__init__(None)
        self.detail = detail or self.message

    def __str__(self) -> str:
        return self.detail
