"""``Client`` and ``AsyncClient``: V2 renders, V1 image URLs, templates, brands and signing
keys.

Both build the same requests (``_Call``) and read the same answers; only the transport
differs. Every call is retried on 429/503 as the :class:`RetryPolicy` allows.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

import httpx

from ogmint_client.errors import error_for
from ogmint_client.models import Brand, Render, SigningKeyInfo, Template
from ogmint_client.retries import RetryPolicy
from ogmint_client.signing import Expires, ParamValue, SigningKey, image_url

USER_AGENT = "ogmint-client/0.1.0"
API_KEY_HEADER = "x-api-key"


@dataclass(frozen=True, slots=True)
class _Call:
    """One API request, independent of the transport."""

    method: str
    path: str
    json: Any = None


def _answer(response: httpx.Response) -> Any:
    """The JSON of a success, or the error as an exception."""
    is_json = response.headers.get("content-type", "").startswith("application/json")
    if response.is_success:
        return response.json() if is_json else response.content
    try:
        body = response.json() if is_json else None
    except ValueError:
        body = None
    raise error_for(response.status_code, body, response.headers)


def _template_body(svg: str, name: str | None) -> dict[str, Any]:
    return {"svg": svg} if name is None else {"svg": svg, "name": name}


def _brand_body(name: str, look: dict[str, str | None]) -> dict[str, Any]:
    return {**{k: v for k, v in look.items() if v is not None}, "name": name}


class _Base:
    def __init__(
        self,
        base_url: str,
        api_key: str | None,
        signing_key: SigningKey | tuple[str, str] | None,
        retries: RetryPolicy,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._headers = {"user-agent": USER_AGENT}
        if api_key is not None:
            self._headers[API_KEY_HEADER] = api_key
        self._signing_key = signing_key
        self.retries = retries

    def image_url(
        self,
        *,
        signing_key: SigningKey | tuple[str, str] | None = None,
        expires: Expires = None,
        **params: ParamValue,
    ) -> str:
        """A V1 image URL for the parameters; signed when a signing key is given here or to
        the client (``expires``: a datetime, a timedelta from now or Unix seconds)."""
        key = signing_key if signing_key is not None else self._signing_key
        return image_url(self.base_url, params, key, expires)

    def _request(self, http: httpx.Client | httpx.AsyncClient, call: _Call) -> httpx.Request:
        return http.build_request(
            call.method, self.base_url + call.path, json=call.json, headers=self._headers
        )


class Client(_Base):
    """A synchronous ogmint client (``with Client(...) as c:`` closes its connections)."""

    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        *,
        signing_key: SigningKey | tuple[str, str] | None = None,
        retries: RetryPolicy | None = None,
        timeout: float = 30.0,
        http: httpx.Client | None = None,
    ) -> None:
        super().__init__(base_url, api_key, signing_key, retries or RetryPolicy())
        self._http = http or httpx.Client(timeout=timeout)
        self.templates = Templates(self)
        self.brands = Brands(self)
        self.signing_keys = SigningKeys(self)

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def _send(self, call: _Call) -> Any:
        attempt = 0
        while True:
            response = self._http.send(self._request(self._http, call))
            wait = self.retries.delay(
                response.status_code, response.headers.get("retry-after"), attempt
            )
            if wait is None:
                return _answer(response)
            response.close()
            time.sleep(wait)
            attempt += 1

    def render(self, **params: Any) -> Render:
        """``POST /api/v2/render``: render parameters plus ``webhookUrl``, ``webhookSecret``,
        ``metadata``. Retries 429/503 honouring ``Retry-After`` (bounded)."""
        return Render.from_json(self._send(_Call("POST", "/api/v2/render", params)))


class Templates:
    """Custom templates (SPEC §5.1) of the client's user."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def create(self, svg: str, name: str | None = None) -> Template:
        doc = self._client._send(_Call("POST", "/api/v2/templates", _template_body(svg, name)))
        return Template.from_json(doc["template"])

    def list(self) -> list[Template]:
        doc = self._client._send(_Call("GET", "/api/v2/templates"))
        return [Template.from_json(t) for t in doc["templates"]]

    def get(self, template_id: str) -> Template:
        doc = self._client._send(_Call("GET", f"/api/v2/templates/{template_id}"))
        return Template.from_json(doc["template"])

    def update(self, template_id: str, svg: str, name: str | None = None) -> Template:
        call = _Call("PUT", f"/api/v2/templates/{template_id}", _template_body(svg, name))
        return Template.from_json(self._client._send(call)["template"])

    def delete(self, template_id: str) -> None:
        self._client._send(_Call("DELETE", f"/api/v2/templates/{template_id}"))

    def preview(self, svg: str, **params: ParamValue) -> bytes:
        """The PNG of an unsaved template (nothing stored, no monthly quota; one of the user's
        previews per hour, a 429 ``RateLimitError`` past them)."""
        body = {**params, "svg": svg}
        png: bytes = self._client._send(_Call("POST", "/api/v2/templates/preview", body))
        return png


class Brands:
    """Brands (SPEC §6.1) of the client's user. ``look`` takes the API's names: ``bgColor``,
    ``textColor``, ``accentColor``, ``surfaceColor``, ``palette``, ``font``, ``logo`` (an
    ``https://`` URL the server fetches once, when the brand is saved)."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def create(self, name: str, **look: str | None) -> Brand:
        doc = self._client._send(_Call("POST", "/api/v2/brands", _brand_body(name, look)))
        return Brand.from_json(doc["brand"])

    def list(self) -> list[Brand]:
        """The user's brands, newest first."""
        doc = self._client._send(_Call("GET", "/api/v2/brands"))
        return [Brand.from_json(b) for b in doc["brands"]]

    def get(self, brand_id: str) -> Brand:
        doc = self._client._send(_Call("GET", f"/api/v2/brands/{brand_id}"))
        return Brand.from_json(doc["brand"])

    def update(self, brand_id: str, name: str, **look: str | None) -> Brand:
        """Replaces the brand's name and whole look (what ``look`` leaves out is unset)."""
        call = _Call("PUT", f"/api/v2/brands/{brand_id}", _brand_body(name, look))
        return Brand.from_json(self._client._send(call)["brand"])

    def delete(self, brand_id: str) -> None:
        self._client._send(_Call("DELETE", f"/api/v2/brands/{brand_id}"))


class SigningKeys:
    """Signing keys for V1 URLs (SPEC §2.1) of the client's user."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def create(self) -> SigningKey:
        """A new key; its secret is shown only now."""
        doc = self._client._send(_Call("POST", "/api/v2/signing-keys"))["signingKey"]
        return SigningKey(doc["id"], doc["secret"])

    def list(self) -> list[SigningKeyInfo]:
        doc = self._client._send(_Call("GET", "/api/v2/signing-keys"))
        return [SigningKeyInfo(k["id"], k["createdAt"]) for k in doc["signingKeys"]]

    def revoke(self, kid: str) -> None:
        self._client._send(_Call("DELETE", f"/api/v2/signing-keys/{kid}"))


class AsyncClient(_Base):
    """The asynchronous client (``async with AsyncClient(...) as c:``)."""

    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        *,
        signing_key: SigningKey | tuple[str, str] | None = None,
        retries: RetryPolicy | None = None,
        timeout: float = 30.0,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        super().__init__(base_url, api_key, signing_key, retries or RetryPolicy())
        self._http = http or httpx.AsyncClient(timeout=timeout)
        self.templates = AsyncTemplates(self)
        self.brands = AsyncBrands(self)
        self.signing_keys = AsyncSigningKeys(self)

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _send(self, call: _Call) -> Any:
        attempt = 0
        while True:
            response = await self._http.send(self._request(self._http, call))
            wait = self.retries.delay(
                response.status_code, response.headers.get("retry-after"), attempt
            )
            if wait is None:
                return _answer(response)
            await response.aclose()
            await asyncio.sleep(wait)
            attempt += 1

    async def render(self, **params: Any) -> Render:
        """``POST /api/v2/render`` (see :meth:`Client.render`)."""
        return Render.from_json(await self._send(_Call("POST", "/api/v2/render", params)))


class AsyncTemplates:
    """Custom templates (SPEC §5.1), asynchronously."""

    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    async def create(self, svg: str, name: str | None = None) -> Template:
        call = _Call("POST", "/api/v2/templates", _template_body(svg, name))
        return Template.from_json((await self._client._send(call))["template"])

    async def list(self) -> list[Template]:
        doc = await self._client._send(_Call("GET", "/api/v2/templates"))
        return [Template.from_json(t) for t in doc["templates"]]

    async def get(self, template_id: str) -> Template:
        doc = await self._client._send(_Call("GET", f"/api/v2/templates/{template_id}"))
        return Template.from_json(doc["template"])

    async def update(self, template_id: str, svg: str, name: str | None = None) -> Template:
        call = _Call("PUT", f"/api/v2/templates/{template_id}", _template_body(svg, name))
        return Template.from_json((await self._client._send(call))["template"])

    async def delete(self, template_id: str) -> None:
        await self._client._send(_Call("DELETE", f"/api/v2/templates/{template_id}"))

    async def preview(self, svg: str, **params: ParamValue) -> bytes:
        body = {**params, "svg": svg}
        png: bytes = await self._client._send(_Call("POST", "/api/v2/templates/preview", body))
        return png


class AsyncBrands:
    """Brands (SPEC §6.1), asynchronously (see :class:`Brands`)."""

    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    async def create(self, name: str, **look: str | None) -> Brand:
        call = _Call("POST", "/api/v2/brands", _brand_body(name, look))
        return Brand.from_json((await self._client._send(call))["brand"])

    async def list(self) -> list[Brand]:
        doc = await self._client._send(_Call("GET", "/api/v2/brands"))
        return [Brand.from_json(b) for b in doc["brands"]]

    async def get(self, brand_id: str) -> Brand:
        doc = await self._client._send(_Call("GET", f"/api/v2/brands/{brand_id}"))
        return Brand.from_json(doc["brand"])

    async def update(self, brand_id: str, name: str, **look: str | None) -> Brand:
        call = _Call("PUT", f"/api/v2/brands/{brand_id}", _brand_body(name, look))
        return Brand.from_json((await self._client._send(call))["brand"])

    async def delete(self, brand_id: str) -> None:
        await self._client._send(_Call("DELETE", f"/api/v2/brands/{brand_id}"))


class AsyncSigningKeys:
    """Signing keys (SPEC §2.1), asynchronously."""

    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    async def create(self) -> SigningKey:
        doc = (await self._client._send(_Call("POST", "/api/v2/signing-keys")))["signingKey"]
        return SigningKey(doc["id"], doc["secret"])

    async def list(self) -> list[SigningKeyInfo]:
        doc = await self._client._send(_Call("GET", "/api/v2/signing-keys"))
        return [SigningKeyInfo(k["id"], k["createdAt"]) for k in doc["signingKeys"]]

    async def revoke(self, kid: str) -> None:
        await self._client._send(_Call("DELETE", f"/api/v2/signing-keys/{kid}"))
