"""Stored files in an S3-compatible bucket (LEDGERDROP_S3_BUCKET), against moto's server: the
same content-addressed blobs as on disk, written once, read as a stream."""

from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from ledgerdrop.core import storage
from tests.object_storage import Bucket

pytestmark = pytest.mark.django_db


def _keys(bucket: Bucket) -> list[str]:
    listing = bucket.client().list_objects_v2(Bucket=bucket.name)
    return [entry["Key"] for entry in listing.get("Contents", [])]


def test_a_blob_is_stored_in_the_bucket_under_its_checksum_and_nothing_on_disk(
    s3_bucket: Bucket, isolated_files: Path
) -> None:
    data = b"<Invoice>bucket</Invoice>"

    blob = storage.put(data)

    assert blob.sha256 == hashlib.sha256(data).hexdigest()
    assert _keys(s3_bucket) == [f"blobs/{blob.sha256[:2]}/{blob.sha256}"]
    assert storage.read(blob.sha256) == data
    assert not isolated_files.exists()


def test_the_same_bytes_are_written_once(s3_bucket: Bucket) -> None:
    first = storage.put(b"<Invoice>once</Invoice>")
    written = s3_bucket.client().head_object(Bucket=s3_bucket.name, Key=first.name)

    again = storage.put(b"<Invoice>once</Invoice>")

    assert again == first
    assert _keys(s3_bucket) == [first.name]
    kept = s3_bucket.client().head_object(Bucket=s3_bucket.name, Key=first.name)
    assert kept["LastModified"] == written["LastModified"]
    assert kept["ETag"] == written["ETag"]


def test_a_span_is_read_from_the_bucket_in_chunks_of_bounded_size(s3_bucket: Bucket) -> None:
    data = bytes(range(256)) * (3 * storage.CHUNK_BYTES // 256 + 7)
    blob = storage.put(data)

    whole = list(storage.chunks(blob.sha256))
    part = list(storage.chunks(blob.sha256, (storage.CHUNK_BYTES - 5, 2 * storage.CHUNK_BYTES + 9)))

    assert b"".join(whole) == data
    assert max(len(chunk) for chunk in whole) <= storage.CHUNK_BYTES
    assert b"".join(part) == data[storage.CHUNK_BYTES - 5 : 2 * storage.CHUNK_BYTES + 10]


def test_a_missing_blob_fails_when_opened_not_mid_answer(s3_bucket: Bucket) -> None:
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError):
        storage.chunks("0" * 64)


def test_blobs_read_from_many_threads_at_once_each_come_whole(s3_bucket: Bucket) -> None:
    # The request threads share one client and its connections: no read may get another's bytes.
    stored = [f"<Invoice>{n}</Invoice>".encode() * (n + 1) for n in range(24)]
    names = [storage.put(data).sha256 for data in stored]

    with ThreadPoolExecutor(max_workers=8) as threads:
        read = list(threads.map(storage.read, names))

    assert read == stored


def test_blobs_stored_from_many_threads_at_once_each_land_whole(s3_bucket: Bucket) -> None:
    # Requests issuing documents store through the same shared client as the readers.
    stored = [f"<CreditNote>{n}</CreditNote>".encode() * (n + 3) for n in range(24)]

    with ThreadPoolExecutor(max_workers=8) as threads:
        blobs = list(threads.map(storage.put, stored))

    assert sorted(_keys(s3_bucket)) == sorted(blob.name for blob in blobs)
    assert [storage.read(blob.sha256) for blob in blobs] == stored
