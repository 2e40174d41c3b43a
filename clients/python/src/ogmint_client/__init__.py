"""ogmint client kit: V2 renders with bounded retries, signed V1 image URLs, custom templates,
brands, signing keys and webhook verification. Sync (:class:`Client`) and async (:class:`AsyncClient`).
"""

from ogmint_client.client import AsyncClient, Client
from ogmint_client.core import VERSION as __version__
from ogmint_client.core import HttpRequest, HttpResponse
from ogmint_client.errors import (
    AuthenticationError,
    BadRequestError,
    ForbiddenError,
    NotFoundError,
    OgmintError,
    RateLimitError,
    ServerError,
    UnavailableError,
    WebhookVerificationError,
)
from ogmint_client.models import (
    BatchResult,
    Brand,
    FieldLayout,
    Render,
    RenderPage,
    SigningKeyInfo,
    StoredRender,
    Template,
    Usage,
    UsageDay,
    Validation,
)
from ogmint_client.retries import RetryPolicy
from ogmint_client.signing import SigningKey, canonical_query, decode_query, image_url, signature
from ogmint_client.transport import Transport
from ogmint_client.webhooks import verify_webhook

__all__ = [
    "AsyncClient",
    "AuthenticationError",
    "BadRequestError",
    "BatchResult",
    "Brand",
    "Client",
    "FieldLayout",
    "ForbiddenError",
    "HttpRequest",
    "HttpResponse",
    "NotFoundError",
    "OgmintError",
    "RateLimitError",
    "Render",
    "RenderPage",
    "RetryPolicy",
    "ServerError",
    "SigningKey",
    "SigningKeyInfo",
    "StoredRender",
    "Template",
    "Transport",
    "UnavailableError",
    "Usage",
    "UsageDay",
    "Validation",
    "WebhookVerificationError",
    "__version__",
    "canonical_query",
    "decode_query",
    "image_url",
    "signature",
    "verify_webhook",
]
