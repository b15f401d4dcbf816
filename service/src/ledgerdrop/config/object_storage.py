"""The storage settings of an S3-compatible bucket, said once for the settings module
(LEDGERDROP_S3_BUCKET) and the tests that switch a storage to a bucket of their own."""

from __future__ import annotations

from typing import Any

from botocore.config import Config


def s3_storage(
    bucket: str, endpoint_url: str | None, region: str | None, connections: int
) -> dict[str, Any]:
    """`connections`: the threads that may read or write the bucket at once. The process shares
    one client (core/storage), whose pool keeps that many connections open between reads;
    past it, each read would open a connection and close it afterwards."""
    return {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": bucket,
            "endpoint_url": endpoint_url,
            "region_name": region,
            # Blobs are named by their content: the same name always holds the same bytes.
            "file_overwrite": True,
            "client_config": Config(
                # Other stores than AWS take the bucket in the path, not in the host name.
                s3={"addressing_style": "path" if endpoint_url else None},
                max_pool_connections=connections,
            ),
        },
    }
