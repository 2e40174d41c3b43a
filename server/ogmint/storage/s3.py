"""Images as objects in an S3 bucket (any S3-protocol server), for running many app servers.

Calls are bounded in time: each attempt by ``timeout`` (connect and read), at most two attempts,
and the whole call by ``3 × timeout``, so an outage surfaces as ``StorageUnavailable`` within a few
``timeout``s instead of hanging a request. The client is kept open across outages and recovers
by itself once the endpoint answers again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from typing import Any, TypeVar
from urllib.parse import urlsplit

import aioboto3  # type: ignore[import-untyped]
import aiohttp
from aiobotocore.config import AioConfig  # type: ignore[import-untyped]
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
        self._client = await stack.enter_async_context(
            aioboto3.Session().client(
                "s3", endpoint_url=self._endpoint_url, region_name=self._region, config=config
            )
        )
        self._stack = stack

    async def close(self) -> None:
        """Closes the client and its connections."""
        if self._stack is not None:
            stack, self._stack, self._client = self._stack, None, None
            await stack.aclose()

    async def put(
        self, key: str, data: bytes, content_type: str = "image/png", *, durable: bool = True
    ) -> StoredObject:
        """Uploads ``data`` (S3 has it durably once the PUT succeeds, whatever ``durable``)."""
        name = self._name(key)
        etag = content_etag(data)

        async def upload() -> None:
            await self._client.put_object(
                Bucket=self._bucket,
                Key=name,
                Body=data,
                ContentType=content_type,
                Metadata={ETAG_METADATA: etag},
            )

        await self._call(f"put {key}", upload)
        return StoredObject(key, len(data), etag)

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
