"""Content-addressed file storage: a blob is named by its SHA-256, so it can never change under
the name a delivery or a document refers to, and the same bytes are stored once."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, default_storage

from ledgerdrop.core.files import write_durably


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
    if default_storage.exists(blob.name):
        return blob
    if isinstance(default_storage, FileSystemStorage):
        # A blob is trusted by its name: a crash must never leave part of it under that name.
        write_durably(Path(default_storage.path(blob.name)), data)
    else:
        default_storage.save(blob.name, ContentFile(data))
    return blob


def open_blob(sha256: str) -> IO[bytes]:
    return default_storage.open(blob_name(sha256), "rb")


def read(sha256: str) -> bytes:
    with open_blob(sha256) as stream:
        return stream.read()
