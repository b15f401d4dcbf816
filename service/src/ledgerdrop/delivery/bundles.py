"""Bundles (`POST deliveries/contents`, `BUNDLE_MEDIA_TYPE`): the bytes of many deliveries in
one answer. Served by the gate in front of Django (`gate.py`) when the request is well-formed,
else by Django's endpoint (`api.contents`); both build it here, the one place for what a bundle
holds."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from ledgerdrop.core import storage
from ledgerdrop.delivery import services
from ledgerdrop.delivery.models import Device
from ledgerdrop_protocol.models import BundlePart

# What one message of a bundle's answer carries, gathered from its files: each piece costs a
# hand-over to a gate thread to read it and a send, whatever its size; a bundle is at most a few
# megabytes (the downloader asks for BUNDLE_BYTES at most), so an answer holds a few pieces.
PIECE_BYTES = 4 * storage.CHUNK_BYTES


@dataclass(frozen=True, slots=True)
class Bundle:
    pieces: Iterator[bytes]
    length: int


def bundle(device: Device, ids: list[int]) -> Bundle:
    """The bundle of the device's deliveries among `ids` (the others are left out): its bytes
    as a stream and their number. Each file is opened when the stream reaches it; the small
    ones are gathered into pieces of about PIECE_BYTES, so that the answer holds about one
    piece at a time and costs one hand-over per piece, not a few per file."""
    files = services.bundle_files(device, ids)
    headers = [
        BundlePart(id=file.id, size=file.size, sha256=file.sha256).model_dump_json().encode()
        + b"\n"
        for file in files
    ]

    def pieces() -> Iterator[bytes]:
        piece: list[bytes] = []
        gathered = 0
        for file, header in zip(files, headers, strict=True):
            piece.append(header)
            gathered += len(header)
            for chunk in storage.chunks(file.sha256):
                piece.append(chunk)
                gathered += len(chunk)
                if gathered >= PIECE_BYTES:
                    yield b"".join(piece)
                    piece, gathered = [], 0
        if piece:
            yield b"".join(piece)

    return Bundle(pieces(), sum(len(header) for header in headers) + sum(f.size for f in files))
