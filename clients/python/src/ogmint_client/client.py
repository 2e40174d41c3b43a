"""``Client`` and ``AsyncClient``: every V2 call, V1 image URLs, templates, brands and signing
keys.

Both run the same ops from :mod:`ogmint_client.core` (request building and answer parsing live
there, once); only the waiting differs. Every call is retried on 429/503 as the
:class:`RetryPolicy` allows (``Retry-After`` honoured, bounded).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from datetime import timedelta
from typing import Any, TypeVar

from ogmint_client import core
from ogmint_client.core import Op
from ogmint_client.models import (
    BatchResult,
    Brand,
    Render,
    RenderPage,
    SigningKeyInfo,
    StoredRender,
    Template,
    Usage,
    Validation,
)
from ogmint_client.retries import RetryPolicy
from ogmint_client.signing import Expires, ParamValue, SigningKey, image_url
from ogmint_client.transport import Transport, urllib_transport

T = TypeVar("T")


class _Base:
    def __init__(
        self,
        base_url: str,
        api_key: str | None,
        signing_key: SigningKey | tuple[str, str] | None,
        retries: RetryPolicy | None,
        transport: Transport | None,
        timeout: float,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._headers = {} if api_key is None else {core.API_KEY_HEADER: api_key}
        self._signing_key = signing_key
        self.retries = retries or RetryPolicy()
        self._transport = transport or urllib_transport(timeout)

    def image_url(
        self,
        *,
        signing_key: SigningKey | tuple[str, str] | None = None,
        expires: Expires = None,
        bucket: int | timedelta | None = None,
        **params: ParamValue,
    ) -> str:
        """A V1 image URL for the parameters; signed when a signing key is given here or to
        the client. No ``exp`` unless ``expires`` is given (a datetime, a timedelta from now or
        Unix seconds); ``bucket`` rounds it up so the URL stays the same within the bucket."""
        key = signing_key if signing_key is not None else self._signing_key
        return image_url(self.base_url, params, key, expires, bucket=bucket)

    def _wait(self, response: core.HttpResponse, attempt: int) -> float | None:
        return self.retries.delay(response.status, response.headers.get("retry-after"), attempt)


class Client(_Base):
    """A synchronous ogmint client (``with Client(...) as c:``)."""

    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        *,
        signing_key: SigningKey | tuple[str, str] | None = None,
        retries: RetryPolicy | None = None,
        timeout: float = 30.0,
        transport: Transport | None = None,
    ) -> None:
        super().__init__(base_url, api_key, signing_key, retries, transport, timeout)
        self.renders = Renders(self)
        self.templates = Templates(self)
        self.brands = Brands(self)
        self.signing_keys = SigningKeys(self)

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Nothing to release: each call opens and closes its own connection."""

    def _run(self, op: Op[T]) -> T:
        request = core.build(self.base_url, self._headers, op)
        attempt = 0
        while True:
            response = self._transport(request)
            wait = self._wait(response, attempt)
            if wait is None:
                return op.parse(core.answer(response))
            time.sleep(wait)
            attempt += 1

    def render(self, **params: Any) -> Render:
        """``POST /api/v2/render``: render parameters plus ``webhookUrl``, ``webhookSecret``,
        ``metadata``. Retries 429/503 honouring ``Retry-After`` (bounded)."""
        return self._run(core.render(params))

    def batch(self, items: list[Mapping[str, Any]]) -> list[BatchResult]:
        """``POST /api/v2/render/batch``: 1–100 render bodies, one result per item in order."""
        return self._run(core.batch(items))

    def validate(self, **params: Any) -> Validation:
        """``POST /api/v2/validate``: the layout without the raster (free)."""
        return self._run(core.validate(params))

    def usage(self) -> Usage:
        """``GET /api/v2/usage``: this month's plan, quota, used, remaining and per-day counts."""
        return self._run(core.usage())


class Renders:
    """Stored renders of the client's user (SPEC §3.1)."""

    def __init__(self, client: Client) -> None:
        self._c = client

    def list(self, limit: int | None = None, cursor: str | None = None) -> RenderPage:
        """One page, newest first (``limit`` 1–100)."""
        return self._c._run(core.list_renders(limit, cursor))

    def iter(self, limit: int = 100) -> Iterator[StoredRender]:
        """Every stored render, newest first, following the cursor page by page."""
        cursor: str | None = None
        while True:
            page = self.list(limit, cursor)
            yield from page.renders
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    def get(self, slug: str) -> StoredRender:
        """One render with its canonical ``params`` and webhook ``deliveries``."""
        return self._c._run(core.get_render(slug))

    def delete(self, slug: str) -> None:
        """Removes the image (``/i/{slug}`` becomes a 404) and its dedup entry."""
        self._c._run(core.delete_render(slug))


class Templates:
    """Custom templates (SPEC §5.1) of the client's user."""

    def __init__(self, client: Client) -> None:
        self._c = client

    def create(
        self, svg: str, name: str | None = None, sizes: Mapping[str, str] | None = None
    ) -> Template:
        return self._c._run(core.create_template(svg, name, sizes))

    def list(self) -> list[Template]:
        return self._c._run(core.list_templates())

    def get(self, template_id: str) -> Template:
        return self._c._run(core.get_template(template_id))

    def update(
        self,
        template_id: str,
        svg: str,
        name: str | None = None,
        sizes: Mapping[str, str] | None = None,
    ) -> Template:
        return self._c._run(core.update_template(template_id, svg, name, sizes))

    def delete(self, template_id: str) -> None:
        self._c._run(core.delete_template(template_id))

    def preview(
        self, svg: str, sizes: Mapping[str, str] | None = None, **params: ParamValue
    ) -> bytes:
        """The PNG of an unsaved template (nothing stored, no monthly quota); ``sizes`` its
        documents for other presets (``size`` picks the one drawn)."""
        return self._c._run(core.preview_template(svg, params, sizes))


class Brands:
    """Brands (SPEC §6.1) of the client's user. ``look`` takes the API's names: ``bgColor``,
    ``textColor``, ``accentColor``, ``surfaceColor``, ``palette``, ``font``, ``logo`` (an
    ``https://`` URL the server fetches once, when the brand is saved)."""

    def __init__(self, client: Client) -> None:
        self._c = client

    def create(self, name: str, **look: str | None) -> Brand:
        return self._c._run(core.create_brand(name, look))

    def list(self) -> list[Brand]:
        """The user's brands, newest first."""
        return self._c._run(core.list_brands())

    def get(self, brand_id: str) -> Brand:
        return self._c._run(core.get_brand(brand_id))

    def update(self, brand_id: str, name: str, **look: str | None) -> Brand:
        """Replaces the brand's name and whole look (what ``look`` leaves out is unset)."""
        return self._c._run(core.update_brand(brand_id, name, look))

    def delete(self, brand_id: str) -> None:
        self._c._run(core.delete_brand(brand_id))


class SigningKeys:
    """Signing keys for V1 URLs (SPEC §2.1) of the client's user."""

    def __init__(self, client: Client) -> None:
        self._c = client

    def create(self) -> SigningKey:
        """A new key; its secret is shown only now."""
        return self._c._run(core.create_signing_key())

    def list(self) -> list[SigningKeyInfo]:
        return self._c._run(core.list_signing_keys())

    def revoke(self, kid: str) -> None:
        self._c._run(core.revoke_signing_key(kid))


class AsyncClient(_Base):
    """The asynchronous client (``async with AsyncClient(...) as c:``): the same calls as
    :class:`Client`, as coroutines; the transport runs in a worker thread."""

    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        *,
        signing_key: SigningKey | tuple[str, str] | None = None,
        retries: RetryPolicy | None = None,
        timeout: float = 30.0,
        transport: Transport | None = None,
    ) -> None:
        super().__init__(base_url, api_key, signing_key, retries, transport, timeout)
        self.renders = AsyncRenders(self)
        self.templates = AsyncTemplates(self)
        self.brands = AsyncBrands(self)
        self.signing_keys = AsyncSigningKeys(self)

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Nothing to release: each call opens and closes its own connection."""

    async def _run(self, op: Op[T]) -> T:
        request = core.build(self.base_url, self._headers, op)
        attempt = 0
        while True:
            response = await asyncio.to_thread(self._transport, request)
            wait = self._wait(response, attempt)
            if wait is None:
                return op.parse(core.answer(response))
            await asyncio.sleep(wait)
            attempt += 1

    async def render(self, **params: Any) -> Render:
        """``POST /api/v2/render`` (see :meth:`Client.render`)."""
        return await self._run(core.render(params))

    async def batch(self, items: list[Mapping[str, Any]]) -> list[BatchResult]:
        return await self._run(core.batch(items))

    async def validate(self, **params: Any) -> Validation:
        return await self._run(core.validate(params))

    async def usage(self) -> Usage:
        return await self._run(core.usage())


class AsyncRenders:
    """Stored renders (SPEC §3.1), asynchronously (see :class:`Renders`)."""

    def __init__(self, client: AsyncClient) -> None:
        self._c = client

    async def list(self, limit: int | None = None, cursor: str | None = None) -> RenderPage:
        return await self._c._run(core.list_renders(limit, cursor))

    async def iter(self, limit: int = 100) -> AsyncIterator[StoredRender]:
        cursor: str | None = None
        while True:
            page = await self.list(limit, cursor)
            for item in page.renders:
                yield item
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    async def get(self, slug: str) -> StoredRender:
        return await self._c._run(core.get_render(slug))

    async def delete(self, slug: str) -> None:
        await self._c._run(core.delete_render(slug))


class AsyncTemplates:
    """Custom templates (SPEC §5.1), asynchronously."""

    def __init__(self, client: AsyncClient) -> None:
        self._c = client

    async def create(
        self, svg: str, name: str | None = None, sizes: Mapping[str, str] | None = None
    ) -> Template:
        return await self._c._run(core.create_template(svg, name, sizes))

    async def list(self) -> list[Template]:
        return await self._c._run(core.list_templates())

    async def get(self, template_id: str) -> Template:
        return await self._c._run(core.get_template(template_id))

    async def update(
        self,
        template_id: str,
        svg: str,
        name: str | None = None,
        sizes: Mapping[str, str] | None = None,
    ) -> Template:
        return await self._c._run(core.update_template(template_id, svg, name, sizes))

    async def delete(self, template_id: str) -> None:
        await self._c._run(core.delete_template(template_id))

    async def preview(
        self, svg: str, sizes: Mapping[str, str] | None = None, **params: ParamValue
    ) -> bytes:
        return await self._c._run(core.preview_template(svg, params, sizes))


class AsyncBrands:
    """Brands (SPEC §6.1), asynchronously (see :class:`Brands`)."""

    def __init__(self, client: AsyncClient) -> None:
        self._c = client

    async def create(self, name: str, **look: str | None) -> Brand:
        return await self._c._run(core.create_brand(name, look))

    async def list(self) -> list[Brand]:
        return await self._c._run(core.list_brands())

    async def get(self, brand_id: str) -> Brand:
        return await self._c._run(core.get_brand(brand_id))

    async def update(self, brand_id: str, name: str, **look: str | None) -> Brand:
        return await self._c._run(core.update_brand(brand_id, name, look))

    async def delete(self, brand_id: str) -> None:
        await self._c._run(core.delete_brand(brand_id))


class AsyncSigningKeys:
    """Signing keys (SPEC §2.1), asynchronously."""

    def __init__(self, client: AsyncClient) -> None:
        self._c = client

    async def create(self) -> SigningKey:
        return await self._c._run(core.create_signing_key())

    async def list(self) -> list[SigningKeyInfo]:
        return await self._c._run(core.list_signing_keys())

    async def revoke(self, kid: str) -> None:
        await self._c._run(core.revoke_signing_key(kid))
