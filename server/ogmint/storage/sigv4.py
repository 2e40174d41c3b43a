"""AWS Signature Version 4 for one S3 request with a signed payload, in a few hashes.

botocore's request pipeline (parameter validation, endpoint rules, event hooks, its signer)
costs more CPU per PUT than rendering the image did; the S3 store signs its uploads here and
sends them itself. The result is byte-for-byte what botocore's ``S3SigV4Auth`` produces for
the same request (``tests/unit/test_sigv4.py`` checks it).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

ALGORITHM = "AWS4-HMAC-SHA256"


@dataclass(frozen=True, slots=True)
class Credentials:
    access_key: str
    secret_key: str
    token: str | None = None


class Signer:
    """Signs requests to one service in one region; the day's signing key is remembered."""

    def __init__(self, region: str, service: str = "s3") -> None:
        self._region = region
        self._service = service
        self._key: tuple[str, str, bytes] | None = None  # (secret, day, key)

    def headers(
        self,
        method: str,
        host: str,
        path: str,
        headers: dict[str, str],
        payload: bytes,
        credentials: Credentials,
        now: datetime,
    ) -> dict[str, str]:
        """``headers`` plus the ones the signature covers and ``Authorization``. ``path`` is
        the URL path as sent (already URI-encoded); ``now`` is a UTC time. Every header given
        is signed (names lower-cased, values trimmed)."""
        stamp = now.strftime("%Y%m%dT%H%M%SZ")
        day = stamp[:8]
        digest = hashlib.sha256(payload).hexdigest()
        signed = {k.lower(): " ".join(v.split()) for k, v in headers.items()}
        signed["host"] = host
        signed["x-amz-date"] = stamp
        signed["x-amz-content-sha256"] = digest
        if credentials.token:
            signed["x-amz-security-token"] = credentials.token
        names = sorted(signed)
        canonical = "\n".join(
            [
                method,
                path,
                "",  # no query
                "".join(f"{n}:{signed[n]}\n" for n in names),
                ";".join(names),
                digest,
            ]
        )
        scope = f"{day}/{self._region}/{self._service}/aws4_request"
        to_sign = "\n".join(
            [ALGORITHM, stamp, scope, hashlib.sha256(canonical.encode()).hexdigest()]
        )
        key = self._signing_key(credentials.secret_key, day)
        signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
        out = dict(signed)  # Host too: as signed, whatever an HTTP client would write
        out["Authorization"] = (
            f"{ALGORITHM} Credential={credentials.access_key}/{scope}, "
            f"SignedHeaders={';'.join(names)}, Signature={signature}"
        )
        return out

    def _signing_key(self, secret: str, day: str) -> bytes:
        if self._key is not None and self._key[:2] == (secret, day):
            return self._key[2]
        key = ("AWS4" + secret).encode()
        for part in (day, self._region, self._service, "aws4_request"):
            key = hmac.new(key, part.encode(), hashlib.sha256).digest()
        self._key = (secret, day, key)
        return key


def uri_path(path: str) -> str:
    """An S3 object path URI-encoded as SigV4 (and S3) want it: every byte but unreserved
    characters and ``/`` percent-encoded, once."""
    return quote(path, safe="/~")
