"""Stored images behind the ``BlobStorage`` protocol: a local directory or an S3 bucket."""

from ogmint.storage.base import (
    BlobStorage,
    StorageUnavailable,
    StoredObject,
    check_key,
    content_etag,
)

__all__ = ["BlobStorage", "StorageUnavailable", "StoredObject", "check_key", "content_etag"]
