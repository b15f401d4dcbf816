"""Content-addressed file storage: a blob is named by its SHA-256, so it can never change under
the name a delivery or a document refers to, and the same bytes are stored once.

The storage is Django's default one: files under the data folder (the embedded default), or an
S3-compatible bucket when LEDGERDROP_S3_BUCKET is set (several nodes then share it). Readers
get the bytes as a stream of chunks, so that no answer holds a whole file in memory."""

from __future__ import annotations

import hashlib
import threading
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from django.core.files.storage import FileSystemStorage, Storage, default_storage, storages

from ledgerdrop.core.files import write_durably

# What one read takes from a stored file: the most of it an answer holds at once.
CHUNK_BYTES = 256 * 1024


@dataclass(frozen=True)
class Blob:
    sha256: str
    size: int

    @property
    def name(self) -> str:
        return blob_name(self.sha256)


def blob_name(sha256: str) -> str:
    return f"blobs/{sha256[:2]}/{sha256}"


def put(data: bytes) -> Blob:
    blob = Blob(sha256=hashlib.sha256(data).hexdigest(), size=len(data))
    bucket_object = _bucket_object(blob.name)
    if bucket_object is not None:
        # An object store shows an object whole or not at all. Two nodes storing the same
        # bytes at once write the same object: the name's content never changes.
        if not _in_bucket(bucket_object):
            bucket_object.client.put_object(
                Bucket=bucket_object.bucket,
                Key=bucket_object.key,
                Body=data,
                ContentType="application/octet-stream",
            )
    elif not default_storage.exists(blob.name):
        # A blob is trusted by its name: a crash must never leave part of it under that name.
        write_durably(Path(default_storage.path(blob.name)), data)
    return blob


def _in_bucket(bucket_object: _BucketObject) -> bool:
    from botocore.exceptions import ClientError

    try:
        bucket_object.client.head_object(Bucket=bucket_object.bucket, Key=bucket_object.key)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
            return False
        raise
    return True


# One S3 client per storage for the whole process. django-storages keeps a client per thread,
# and Django runs each request's synchronous code in a thread of its own: each request would
# build a client (and open a connection) anew. A botocore client is safe to share between
# threads, and its pool (sized in config/object_storage) keeps the connections between reads.
_clients: weakref.WeakKeyDictionary[Storage, Any] = weakref.WeakKeyDictionary()
_clients_lock = threading.Lock()


@dataclass(frozen=True)
class _BucketObject:
    client: Any
    bucket: str
    key: str


def _bucket_object(name: str) -> _BucketObject | None:
    """The bucket's object of that name when the storage is S3-compatible, else None."""
    if isinstance(default_storage, FileSystemStorage):
        # Without importing boto3, which costs about a second of CPU the first time a file is
        # read (the delivery benchmark's first bundle paid it).
        return None
    from storages.backends.s3 import S3Storage

    storage = storages["default"]
    if isinstance(storage, S3Storage):
        client = _clients.get(storage)
        if client is None:
            with _clients_lock:  # threads that find none at once build one between them
                client = _clients.get(storage)
                if client is None:
                    client = _clients[storage] = storage.connection.meta.client
        return _BucketObject(client, storage.bucket_name, name)
    return None


def open_blob(sha256: str, span: tuple[int, int] | None = None) -> IO[bytes]:
    """A stream of the blob's bytes (from the first to the last byte of `span` when given).
    A missing blob raises here, before anything is read. From a bucket, the bytes come off the
    connection as they are read: django-storages' own file would first copy the object whole.
    A stream read to its end hands its connection back to the client's pool."""
    name = blob_name(sha256)
    bucket_object = _bucket_object(name)
    if bucket_object is not None:
        ranged = {"Range": f"bytes={span[0]}-{span[1]}"} if span else {}
        body: IO[bytes] = bucket_object.client.get_object(
            Bucket=bucket_object.bucket, Key=bucket_object.key, **ranged
        )["Body"]
        return body
    # The file itself, unbuffered: reads of CHUNK_BYTES need no buffer of Python's, nor
    # Django's File wrapper around it.
    stream = open(default_storage.path(name), "rb", buffering=0)  # noqa: SIM115 (the caller closes it)
    if span:
        stream.seek(span[0])
    return stream


def chunks(sha256: str, span: tuple[int, int] | None = None) -> Iterator[bytes]:
    """The blob's bytes (or those of `span`, first and last byte), CHUNK_BYTES at most at a
    time. The blob is opened now, so a missing one raises here rather than mid-answer."""
    stream = open_blob(sha256, span)
    remaining = span[1] - span[0] + 1 if span else None
    return _read_chunks(stream, remaining)


def _read_chunks(stream: IO[bytes], remaining: int | None) -> Iterator[bytes]:
    with stream:
        while remaining is None or remaining > 0:
            chunk = stream.read(CHUNK_BYTES if remaining is None else min(CHUNK_BYTES, remaining))
            if not chunk:
                return
            if remaining is not None:
                remaining -= len(chunk)
            yield chunk


def read(sha256: str) -> bytes:
    return b"".join(chunks(sha256))
