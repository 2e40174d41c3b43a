"""Images as objects in an S3 bucket (any S3-protocol server), for running many app servers.

Calls are bounded in time: each attempt by ``timeout`` (connect and read), at most two attempts,
and the whole call by ``3 × timeout``, so an outage surfaces as ``StorageUnavailable`` within a few
``timeout``s instead of hanging a request. The client is kept open across outages and recovers
by itself once the endpoint answers again.

Uploads skip botocore's request pipeline (parameter validation, endpoint rules, event hooks),
which cost more CPU per image than rendering it: they are signed by botocore's own SigV4 signer
(``S3SigV4Auth``, never a signer of ours) and sent on a connection pool of their own, to the URL
botocore resolves for the bucket. Everything else goes through the aioboto3 client.
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import ssl
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit
from urllib.request import getproxies, proxy_bypass

import aioboto3  # type: ignore[import-untyped]
import aiohttp
from aiobotocore.config import AioConfig  # type: ignore[import-untyped]
from botocore.auth import S3SigV4Auth  # type: ignore[import-untyped]
from botocore.awsrequest import AWSRequest  # type: ignore[import-untyped]
from botocore.exceptions import (  # type: ignore[import-untyped]
    BotoCoreError,
    ClientError,
    ParamValidationError,
)

from ogmint.storage.base import StorageUnavailable, StoredObject, check_key, content_etag

T = TypeVar("T")

MAX_ATTEMPTS = 2  # the first request and one retry
# Our own ETag travels as user metadata (x-amz-meta-xxh3): S3's ETag is MD5 or multipart-shaped.
ETAG_METADATA = "xxh3"
#: Lifetime of the presigned URLs handed to nginx: it uses them at once.
EDGE_URL_SECONDS = 60
#: Answers to a PUT worth one more attempt (botocore's standard retry mode retries these too).
RETRIED_STATUSES = frozenset({429, 500, 502, 503, 504})
_ERROR_CODE = re.compile(rb"<Code>([^<]{1,64})</Code>")


class S3Storage:
    """``BlobStorage`` on an S3 bucket; keys are stored under ``prefix`` (prepended verbatim).

    Credentials come from the usual AWS chain (environment variables, shared files, roles).
    """

    def __init__(
        self,
        bucket: str,
        *,
        endpoint_url: str | None,
        region: str,
        prefix: str = "",
        timeout: float = 3.0,
    ) -> None:
        if prefix:
            check_key(prefix.rstrip("/"))
        self._bucket = bucket
        self._endpoint_url = endpoint_url
        self._region = region
        self._prefix = prefix
        self._timeout = timeout
        # Two timed-out attempts plus the first retry's back-off (under 1 s) fit in it.
        self._deadline = 3 * timeout
        self._stack: AsyncExitStack | None = None
        self._client: Any = None
        # Uploads: signed here and sent on a connection pool of their own (see ``put``).
        self._http: aiohttp.ClientSession | None = None
        # Where an upload goes, as botocore resolves it: scheme://host, and the path before the
        # key ("/bucket" path-style, "" virtual-host style).
        self._put_origin = ""
        self._put_path = ""
        self._put_host = ""
        self._put_proxy: str | None = None
        self._credentials: Any = None

    async def open(self) -> None:
        """Opens the one client (a connection pool) used by every call."""
        if self._stack is not None:
            return
        config = AioConfig(
            connect_timeout=self._timeout,
            read_timeout=self._timeout,
            retries={"total_max_attempts": MAX_ATTEMPTS, "mode": "standard"},
        )
        stack = AsyncExitStack()
        session = aioboto3.Session()
        self._client = await stack.enter_async_context(
            session.client(
                "s3", endpoint_url=self._endpoint_url, region_name=self._region, config=config
            )
        )
        # Where botocore would send a PUT (path- or virtual-host style, as its endpoint rules
        # decide): read off a presigned URL, which connects nowhere.
        probe: str = await self._client.generate_presigned_url(
            "put_object", Params={"Bucket": self._bucket, "Key": "k"}
        )
        parts = urlsplit(probe)
        self._put_origin = f"{parts.scheme}://{parts.netloc}"
        self._put_path = parts.path.removesuffix("/k")
        self._put_host = parts.netloc
        self._credentials = await session.get_credentials()
        timeout = aiohttp.ClientTimeout(sock_connect=self._timeout, sock_read=self._timeout)
        # As botocore: a proxy from the environment (looked up once here, not per request),
        # and AWS_CA_BUNDLE when it names a CA file.
        proxies = getproxies()
        if parts.scheme in proxies and not proxy_bypass(parts.hostname or ""):
            self._put_proxy = proxies[parts.scheme]
        ca_bundle = os.environ.get("AWS_CA_BUNDLE")
        connector = aiohttp.TCPConnector(
            ssl=ssl.create_default_context(cafile=ca_bundle) if ca_bundle else True
        )
        self._http = await stack.enter_async_context(
            aiohttp.ClientSession(connector=connector, timeout=timeout)
        )
        self._stack = stack

    async def close(self) -> None:
        """Closes the client and its connections."""
        if self._stack is not None:
            stack, self._stack, self._client, self._http = self._stack, None, None, None
            await stack.aclose()

    async def put(
        self, key: str, data: bytes, content_type: str = "image/png", *, durable: bool = True
    ) -> StoredObject:
        """Uploads ``data`` (S3 has it durably once the PUT succeeds, whatever ``durable``)."""
        name = self._name(key)
        etag = content_etag(data)
        if self._credentials is not None:
            action = f"put {key}"
            await self._call(
                action, lambda: self._signed_put(action, name, data, content_type, etag)
            )
            return StoredObject(key, len(data), etag)

        async def upload() -> None:  # no credentials: botocore's path says so
            await self._client.put_object(
                Bucket=self._bucket,
                Key=name,
                Body=data,
                ContentType=content_type,
                Metadata={ETAG_METADATA: etag},
            )

        await self._call(f"put {key}", upload)
        return StoredObject(key, len(data), etag)

    async def _signed_put(
        self, action: str, name: str, data: bytes, content_type: str, etag: str
    ) -> None:
        """The PUT botocore would send (same URL, headers and signature), without botocore's
        request pipeline, which costs more CPU than the render: at most ``MAX_ATTEMPTS``
        attempts, a retry after a lost connection, a timeout or a 429/5xx answer."""
        assert self._http is not None
        path = f"{self._put_path}/{uri_path(name)}"
        url = self._put_origin + path
        frozen = await self._credentials.get_frozen_credentials()
        for attempt in range(1, MAX_ATTEMPTS + 1):
            headers = signed_put_headers(
                url,
                data,
                {"Content-Type": content_type, f"x-amz-meta-{ETAG_METADATA}": etag},
                frozen,
                self._region,
            )
            try:
                async with self._http.put(
                    url, data=data, headers=headers, proxy=self._put_proxy
                ) as reply:
                    body = await reply.read()
                    status = reply.status
            except (aiohttp.ClientError, OSError, TimeoutError):
                if attempt == MAX_ATTEMPTS:
                    raise
            else:
                if 200 <= status < 300:
                    return
                if status not in RETRIED_STATUSES or attempt == MAX_ATTEMPTS:
                    found = _ERROR_CODE.search(body)
                    code = found.group(1).decode(errors="replace") if found else "error"
                    raise StorageUnavailable(f"S3 {action}: {code} (HTTP {status})")
            await asyncio.sleep(random.uniform(0, 0.2))  # jitter, as botocore backs off

    async def get(self, key: str) -> bytes | None:
        """Downloads the object, or None when there is none."""
        name = self._name(key)

        async def download() -> bytes | None:
            try:
                reply = await self._client.get_object(Bucket=self._bucket, Key=name)
            except ClientError as e:
                if _is_missing(e):
                    return None
                raise
            async with reply["Body"] as body:
                data: bytes = await body.read()
            return data

        return await self._call(f"get {key}", download)

    async def head(self, key: str) -> StoredObject | None:
        """Size and ETag from the object's headers, or None when there is none."""
        name = self._name(key)

        async def fetch() -> dict[str, Any] | None:
            try:
                reply: dict[str, Any] = await self._client.head_object(
                    Bucket=self._bucket, Key=name
                )
            except ClientError as e:
                if _is_missing(e):
                    return None
                raise
            return reply

        reply = await self._call(f"head {key}", fetch)
        if reply is None:
            return None
        etag = reply.get("Metadata", {}).get(ETAG_METADATA)
        if etag is None:  # written by another tool: hash it once here
            data = await self.get(key)
            return None if data is None else StoredObject(key, len(data), content_etag(data))
        return StoredObject(key, int(reply["ContentLength"]), str(etag))

    async def delete(self, key: str) -> None:
        """Deletes the object (S3 accepts deleting a missing key)."""
        name = self._name(key)

        async def remove() -> None:
            await self._client.delete_object(Bucket=self._bucket, Key=name)

        await self._call(f"delete {key}", remove)

    async def ping(self) -> None:
        """Checks that the bucket exists and is reachable with these credentials."""

        async def check() -> None:
            await self._client.head_bucket(Bucket=self._bucket)

        await self._call("ping", check)

    async def edge_location(self, key: str) -> str:
        """``/_ogmint/s3`` + the path and query of a presigned GET of the object (valid
        ``EDGE_URL_SECONDS``): nginx sends it on to the S3 endpoint, needing no credentials."""
        if self._client is None:
            raise RuntimeError("S3Storage used before open()")
        url: str = await self._client.generate_presigned_url(
            "get_object",
            Params={"Bucket": self._bucket, "Key": self._name(key)},
            ExpiresIn=EDGE_URL_SECONDS,
        )
        parts = urlsplit(url)
        return f"/_ogmint/s3{parts.path}?{parts.query}"

    def _name(self, key: str) -> str:
        return self._prefix + check_key(key)

    async def _call(self, action: str, request: Callable[[], Awaitable[T]]) -> T:
        """Runs one S3 request under the deadline, turning every failure but a bug into
        ``StorageUnavailable``."""
        if self._client is None:
            raise RuntimeError("S3Storage used before open()")
        try:
            async with asyncio.timeout(self._deadline):
                return await request()
        except ClientError as e:
            error = e.response.get("Error", {})
            status = e.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            raise StorageUnavailable(
                f"S3 {action}: {error.get('Code', 'error')} (HTTP {status})"
            ) from e
        except ParamValidationError:
            raise
        except TimeoutError as e:  # before OSError, its base class
            raise StorageUnavailable(f"S3 {action}: timed out") from e
        except (BotoCoreError, aiohttp.ClientError, OSError) as e:
            raise StorageUnavailable(f"S3 {action}: {type(e).__name__}: {e}") from e


def _is_missing(error: ClientError) -> bool:
    """Whether the error says the object (not the bucket) does not exist."""
    code = error.response.get("Error", {}).get("Code")
    if code == "NoSuchBucket":
        return False
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return code in ("NoSuchKey", "NotFound", "404") or status == 404


def uri_path(path: str) -> str:
    """An object key URI-encoded as S3 (and SigV4's canonical request) want it: every byte but
    unreserved characters and ``/`` percent-encoded, once."""
    return quote(path, safe="/~")


def signed_put_headers(
    url: str, data: bytes, headers: dict[str, str], credentials: Any, region: str
) -> dict[str, str]:
    """``headers`` plus what botocore's SigV4 signer adds for a PUT of ``data`` to ``url`` (a
    signed payload, as botocore signs uploads over plain HTTP): ``X-Amz-Date``,
    ``X-Amz-Content-SHA256``, the session token if any, and ``Authorization``."""
    request = AWSRequest(method="PUT", url=url, data=data, headers=headers)
    request.context["payload_signing_enabled"] = True
    S3SigV4Auth(credentials, "s3", region).add_auth(request)
    return dict(request.headers.items())
