"""The S3 store's own SigV4 signer against botocore's, on the same requests."""

from __future__ import annotations

from datetime import UTC, datetime
from unittest import mock

import pytest
from botocore.auth import S3SigV4Auth  # type: ignore[import-untyped]
from botocore.awsrequest import AWSRequest  # type: ignore[import-untyped]
from botocore.credentials import Credentials as BotoCredentials  # type: ignore[import-untyped]

from ogmint.storage.sigv4 import Credentials, Signer, uri_path

NOW = datetime(2026, 12, 7, 12, 34, 56, tzinfo=UTC)


def botocore_headers(
    url: str, headers: dict[str, str], body: bytes, creds: Credentials, region: str
) -> dict[str, str]:
    request = AWSRequest(method="PUT", url=url, data=body, headers=headers)
    request.context["payload_signing_enabled"] = True
    auth = S3SigV4Auth(
        BotoCredentials(creds.access_key, creds.secret_key, creds.token), "s3", region
    )
    with mock.patch("botocore.auth.get_current_datetime", return_value=NOW.replace(tzinfo=None)):
        auth.add_auth(request)
    return {k.lower(): v for k, v in request.headers.items()}


@pytest.mark.parametrize(
    ("host", "path", "token", "region"),
    [
        ("127.0.0.1:9000", "/bucket/images/2026-12-07/1234/abcdEFGH.png", None, "us-east-1"),
        (
            "bucket.s3.eu-west-3.amazonaws.com",
            "/repeats/2026-12-07/12/x-y_z.webp",
            None,
            "eu-west-3",
        ),
        ("minio:9000", "/ogmint/prefix/images/a.png", "session-token/+=", "garage"),
    ],
)
def test_the_signature_is_botocores(host: str, path: str, token: str | None, region: str) -> None:
    creds = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", token)
    body = bytes(range(256)) * 40
    given = {"Content-Type": "image/png", "x-amz-meta-xxh3": "0123456789abcdef" * 2}
    ours = Signer(region).headers("PUT", host, uri_path(path), given, body, creds, NOW)
    theirs = botocore_headers(f"http://{host}{path}", given, body, creds, region)
    assert ours.pop("host") == host  # botocore signs it from the URL: not among its headers
    assert {k.lower(): v for k, v in ours.items()} == {
        k: v for k, v in theirs.items() if k in {k.lower() for k in ours}
    }
    assert ours["Authorization"] == theirs["authorization"]
    assert "x-amz-security-token" in ours if token else "x-amz-security-token" not in theirs


def test_the_days_signing_key_is_remembered_and_renewed() -> None:
    signer = Signer("us-east-1")
    creds = Credentials("AKID", "secret")
    first = signer.headers("PUT", "h", "/b/k", {}, b"x", creds, NOW)
    again = signer.headers("PUT", "h", "/b/k", {}, b"x", creds, NOW)
    tomorrow = signer.headers("PUT", "h", "/b/k", {}, b"x", creds, NOW.replace(day=8))
    other = signer.headers("PUT", "h", "/b/k", {}, b"x", Credentials("AKID", "other"), NOW)
    assert first == again
    assert len({first["Authorization"], tomorrow["Authorization"], other["Authorization"]}) == 3
