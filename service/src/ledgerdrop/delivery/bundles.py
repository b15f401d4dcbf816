"""Bundles (`POST deliveries/contents`, `BUNDLE_MEDIA_TYPE`): the bytes of many deliveries in
one answer, and the gate that serves them in front of Django.

A downloader working through a backlog asks for a bundle of a few hundred files at a time, each
a few megabytes long. Through Django, every piece of the answer was a hand-over between the
event loop and a request thread (asgiref's), and the request itself went through the handler,
the middleware and django-ninja: together the larger part of the server's CPU per file. So the
well-formed request — a device's valid token, a JSON body the protocol accepts — is served here,
on the gate's own threads (`longpoll.on_gate_threads`), with the same services Django's handler
calls; anything else (no or an unknown token, a body the protocol refuses, a database too busy
to answer) goes on to Django's `contents` endpoint, which answers it as it always did, with
problem details. Both build the bundle's bytes with `bundle()`: one place for what a bundle
holds."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import DatabaseError
from pydantic import ValidationError

from ledgerdrop.core import storage
from ledgerdrop.core.asgi import ASGIApp, Receive, Scope, Send
from ledgerdrop.delivery import longpoll, services
from ledgerdrop.delivery.models import Device
from ledgerdrop_protocol import routes
from ledgerdrop_protocol.models import BUNDLE_MEDIA_TYPE, BundlePart, ContentsRequest

CONTENTS_PATH = routes.CONTENTS.url()
# What one message of a bundle's answer carries, gathered from its files: each piece costs a
# hand-over to a gate thread to read it and a send, whatever its size; a bundle is at most a few
# megabytes (the downloader asks for BUNDLE_BYTES at most), so an answer holds a few pieces.
PIECE_BYTES = 4 * storage.CHUNK_BYTES
# A well-formed request names at most MAX_BUNDLE_IDS ids: a few kilobytes. A longer body is
# left to Django (which refuses it) rather than read into memory here.
_MAX_BODY_BYTES = 64 * 1024


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


def _served_here(token: str, body: bytes) -> Bundle | None:
    """The bundle for a well-formed request with an active device's token; None for anything
    Django is to answer (with the same services, and problem details where it refuses)."""
    try:
        request = ContentsRequest.model_validate_json(body)
    except ValidationError:
        return None
    try:
        device = services.authenticate_device(token)
        if device is None:
            return None
        services.note_contact(device)
        return bundle(device, request.ids)
    except DatabaseError:
        return None  # busy (SQLite locked, no connection free): Django answers 503 as usual


def _protective_headers() -> list[tuple[bytes, bytes]]:
    """What the middleware puts on every answer of Django's and that means something on bytes
    that are not a page: no sniffing of the type, no framing, no referrer, HSTS behind HTTPS."""
    headers = [
        (b"x-frame-options", settings.X_FRAME_OPTIONS.encode()),
        (b"referrer-policy", settings.SECURE_REFERRER_POLICY.encode()),
        (b"cross-origin-opener-policy", settings.SECURE_CROSS_ORIGIN_OPENER_POLICY.encode()),
    ]
    if settings.SECURE_CONTENT_TYPE_NOSNIFF:
        headers.append((b"x-content-type-options", b"nosniff"))
    if settings.LEDGERDROP_HSTS_SECONDS:
        hsts = f"max-age={settings.LEDGERDROP_HSTS_SECONDS}".encode()
        headers.append((b"strict-transport-security", hsts))
    return headers


def _content_type(scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name == b"content-type":
            return str(value.decode("latin-1")).partition(";")[0].strip().lower()
    return ""


class BundleGate:
    """Serves a well-formed `POST deliveries/contents` itself; everything else goes on to
    `app` untouched (a request whose body it read is replayed)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> Any:
        if (
            scope["type"] == "http"
            and scope["method"] == "POST"
            and scope["path"] == CONTENTS_PATH
            and _content_type(scope) == "application/json"
            and (token := longpoll.bearer_token(scope))
        ):
            messages = await longpoll.read_request(receive, _MAX_BODY_BYTES)
            if messages is None:
                return None  # gone before it was even read
            body = b"".join(message.get("body", b"") for message in messages)
            if not messages[-1].get("more_body"):
                served = await longpoll.on_gate_threads(_served_here, token, body)
                if served is not None:
                    return await _send(served, send)
            receive = longpoll.replay(messages, receive)
        return await self.app(scope, receive, send)


async def _send(served: Bundle, send: Send) -> None:
    headers = [
        (b"content-type", BUNDLE_MEDIA_TYPE.encode()),
        (b"content-length", str(served.length).encode()),
        *_protective_headers(),
    ]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    pieces = served.pieces
    # Each piece is read on the gate's threads (the disk or the bucket may make it wait), and
    # sent as one message.
    while (piece := await longpoll.on_gate_threads(next, pieces, None)) is not None:
        await send({"type": "http.response.body", "body": piece, "more_body": True})
    await send({"type": "http.response.body", "body": b"", "more_body": False})
