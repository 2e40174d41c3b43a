"""ogmint client kit: V2 renders with bounded retries, signed V1 image URLs, custom templates,
brands, signing keys and webhook verification. Sync (:class:`Client`) and async (:class:`AsyncClient`).
"""

from ogmint_client.client import AsyncClient, Client
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
from ogmint_client.models import Brand, Render, SigningKeyInfo, Template
from ogmint_client.retries import RetryPolicy
from ogmint_client.signing import SigningKey, canonical_query, decode_query, image_url, signature
from ogmint_client.webhooks import verify_webhook

__all__ = [
    "AsyncClient",
    "AuthenticationError",
    "BadRequestError",
    "Brand",
    "Client",
    "ForbiddenError",
    "NotFoundError",
    "OgmintError",
    "RateLimitError",
    "Render",
    "RetryPolicy",
    "ServerError",
    "SigningKey",
    "SigningKeyInfo",
    "Template",
    "UnavailableError",
    "WebhookVerificationError",
    "canonical_query",
    "decode_query",
    "image_url",
    "signature",
    "verify_webhook",
]
