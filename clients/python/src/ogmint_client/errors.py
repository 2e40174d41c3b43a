"""Errors raised by the client: one per kind of answer, each with status, code and details."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ogmint_client.retries import parse_retry_after


class OgmintError(Exception):
    """An error answer from ogmint (SPEC §7): ``status``, stable ``code``, ``details``.

    ``details`` is the list of ``{"field", "message"}`` objects naming the bad inputs.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int,
        code: str,
        details: list[dict[str, Any]] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.details = details or []
        self.headers = dict(headers or {})

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status={self.status}, code={self.code!r}, {self.message!r})"


class BadRequestError(OgmintError):
    """400: invalid parameters or JSON; ``details`` name the fields."""


class AuthenticationError(OgmintError):
    """401: missing, unknown or revoked API key."""


class ForbiddenError(OgmintError):
    """403: e.g. ``invalid_signature`` or ``signature_expired`` on a signed V1 URL."""


class NotFoundError(OgmintError):
    """404: unknown template, slug or key."""


class RateLimitError(OgmintError):
    """429: a limit was hit; ``retry_after`` is the server's ``Retry-After`` in seconds."""

    @property
    def retry_after(self) -> float | None:
        return parse_retry_after(self.headers.get("retry-after"))


class UnavailableError(OgmintError):
    """503: a dependency is down or the server is saturated; retry later."""


class ServerError(OgmintError):
    """Any other 5xx (a bug on the server)."""


class WebhookVerificationError(Exception):
    """A webhook delivery whose signatures or timestamp do not check out."""


_BY_STATUS: dict[int, type[OgmintError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: ForbiddenError,
    404: NotFoundError,
    413: BadRequestError,
    429: RateLimitError,
    503: UnavailableError,
}


def error_for(status: int, body: Any, headers: Mapping[str, str]) -> OgmintError:
    """The exception for an error answer (its JSON body, or whatever came back)."""
    cls = _BY_STATUS.get(status, ServerError if status >= 500 else OgmintError)
    if isinstance(body, dict):
        details = body.get("details")
        return cls(
            str(body.get("error") or f"HTTP {status}"),
            status=status,
            code=str(body.get("code") or "unknown"),
            details=details if isinstance(details, list) else [],
            headers=headers,
        )
    return cls(f"HTTP {status}", status=status, code="unknown", headers=headers)
