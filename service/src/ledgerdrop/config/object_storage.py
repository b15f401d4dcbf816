"""The storage settings of an S3-compatible bucket, said once for the settings module
(LEDGERDROP_S3_BUCKET) and the tests that switch a storage to a bucket of their own."""

from __future__ import annotations

from typing import Any


def s3_storage(bucket: str, endpoint_url: str | None, region: str | None) -> dict[str, Any]:
    return {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": bucket,
            "endpoint_url": endpoint_url,
            "region_name": region,
            # Blobs are named by their content: the same name always holds the same bytes.
            "file_overwrite": True,
            # Other stores than AWS take the bucket in the path, not in the host name.
            "addressing_style": "path" if endpoint_url else None,
        },
    }
