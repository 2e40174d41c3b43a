"""The S3 store's uploads: signed by botocore's SigV4 signer on the request botocore would send."""

from __future__ import annotations

import hashlib

import pytest
from botocore.credentials import ReadOnlyCredentials  # type: ignore[import-untyped]

from ogmint.storage.s3 import signed_put_headers, uri_path


@pytest.mark.parametrize("token", [None, "session-token/+="])
def test_an_upload_is_signed_with_its_payload_hash(token: str | None) -> None:
    body = bytes(range(256)) * 40
    creds = ReadOnlyCredentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", token)
    headers = signed_put_headers(
        "http://127.0.0.1:9000/bucket/images/a%20b.png",
        body,
        {"Content-Type": "image/png", "x-amz-meta-xxh3": "0123456789abcdef"},
        creds,
        "eu-west-3",
    )
    # The payload is signed (S3 checks the body against it), with the metadata and type.
    assert headers["X-Amz-Content-SHA256"] == hashlib.sha256(body).hexdigest()
    auth = headers["Authorization"]
    assert auth.startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
    assert "/eu-west-3/s3/aws4_request" in auth
    signed = auth.split("SignedHeaders=")[1].split(",")[0].split(";")
    assert {"content-type", "host", "x-amz-meta-xxh3", "x-amz-content-sha256"} <= set(signed)
    assert ("x-amz-security-token" in signed) == (token is not None)
    assert headers.get("X-Amz-Security-Token") == token


def test_another_body_gets_another_signature() -> None:
    creds = ReadOnlyCredentials("AKID", "secret", None)
    url = "http://127.0.0.1:9000/bucket/k"
    one = signed_put_headers(url, b"one", {}, creds, "us-east-1")
    two = signed_put_headers(url, b"two", {}, creds, "us-east-1")
    assert one["Authorization"] != two["Authorization"]


def test_keys_are_uri_encoded_once() -> None:
    assert uri_path("images/2026-12-07/a b+c~d.png") == "images/2026-12-07/a%20b%2Bc~d.png"
    assert uri_path("x/%41") == "x/%2541"
