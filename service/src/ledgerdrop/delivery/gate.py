"""The device API's two busiest requests answered in front of Django: bundles
(`POST deliveries/contents`) and acknowledgements (`POST acks`).

A downloader working through a backlog asks for a bundle of a few hundred files at a time and
acknowledges them in batches. Through Django, each of those requests went through the handler,
the middleware, django-ninja and a few asgiref hand-overs between the event loop and a request
thread, and each piece of a bundle's answer cost another hand-over: together the larger part of
the server's CPU per delivered file. So the well-formed request — an active device's token, a
JSON body the protocol accepts, acks the service takes — is answered here, on the gate's own
threads (`gate_threads.py`), by the same services Django's endpoints call. Anything
else (no or an unknown token, a body the protocol refuses, acks the service refuses, a database
too busy to answer) goes on to Django untouched, which answers it as it always did, with
problem details: the endpoints in `api.py` remain the one place for those answers and for the
OpenAPI document. Acknowledging is one transaction, rolled back when refused, so Django doing
it again for its answer changes nothing twice."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import DatabaseError
from pydantic import ValidationError

from ledgerdrop.core.asgi import ASGIApp, Receive, Scope, Send, header
from ledgerdrop.core.errors import ServiceError
from ledgerdrop.delivery import longpoll, services
from ledgerdrop.delivery.bundles import Bundle, bundle
from ledgerdrop.delivery.gate_threads import on_gate_threads
from ledgerdrop.delivery.models import Device
from ledgerdrop_protocol import AckBatch, AckResult, routes
from ledgerdrop_protocol.models import BUNDLE_MEDIA_TYPE, ContentsRequest

# A well-formed request is at most MAX_BUNDLE_IDS ids or 1,000 acks: some 200 KB at most. A
# longer body is left to Django (which refuses it) rather than read into memory here.
_MAX_BODY_BYTES = 512 * 1024


def _device(token: str) -> Device | None:
    """The active device with this token, marked as seen (as Django's `DeviceBearer` does)."""
    device = services.authenticate_device(token)
    if device is not None:
        services.note_contact(device)
    return device


def _contents(token: str, body: bytes) -> Bundle | None:
    try:
        request = ContentsRequest.model_validate_json(body)
    except ValidationError:
        return None
    device = _device(token)
    return None if device is None else bundle(device, request.ids)


def _acks(token: str, body: bytes) -> bytes | None:
    try:
        batch = AckBatch.model_validate_json(body)
    except ValidationError:
        return None
    device = _device(token)
    if device is None:
        return None
    try:
        acknowledged = services.acknowledge(device, batch.acks)
    except ServiceError:
        return None  # refused, nothing changed: Django's endpoint refuses it with the problem
    return AckResult(acknowledged=acknowledged).model_dump_json().encode()


_SERVED = {routes.CONTENTS.url(): _contents, routes.ACKS.url(): _acks}


def _answer(handler: Any, token: str, body: bytes) -> Bundle | bytes | None:
    try:
        answer: Bundle | bytes | None = handler(token, body)
    except DatabaseError:
        return None  # busy (SQLite locked, no connection free): Django answers 503 as usual
    return answer


def _protective_headers() -> list[tuple[bytes, bytes]]:
    """What the middleware puts on every answer of Django's and that means something on an
    answer that is not a page: no sniffing of the type, no framing, no referrer, HSTS behind
    HTTPS."""
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
    return header(scope, b"content-type").partition(";")[0].strip().lower()


class DeviceGate:
    """Answers a well-formed bundle or acks request itself; everything else goes on to `app`
    untouched (a request whose body it read is replayed).

    It answers at most LEDGERDROP_GATE_ANSWERS at once: its few threads also serve the
    long-polls' checks, and a bundle read from a bucket waits on the network. When that many
    are under way, the next request goes on to Django as it did before the gate answered any:
    many request threads, and 503 + Retry-After once those are busy too."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.answering = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> Any:
        if (
            scope["type"] == "http"
            and scope["method"] == "POST"
            and (handler := _SERVED.get(scope["path"])) is not None
            and _content_type(scope) == "application/json"
            and (token := longpoll.bearer_token(scope))
            and self.answering < settings.LEDGERDROP_GATE_ANSWERS
        ):
            self.answering += 1
            try:
                messages = await longpoll.read_request(receive, _MAX_BODY_BYTES)
                if messages is None:
                    return None  # gone before it was even read
                body = b"".join(message.get("body", b"") for message in messages)
                if not messages[-1].get("more_body") and len(body) <= _MAX_BODY_BYTES:
                    answer = await on_gate_threads(_answer, handler, token, body)
                    if isinstance(answer, Bundle):
                        return await _send_bundle(answer, send)
                    if answer is not None:
                        return await _send_json(answer, send)
            finally:
                self.answering -= 1
            receive = longpoll.replay(messages, receive)
        return await self.app(scope, receive, send)


async def _send_json(body: bytes, send: Send) -> None:
    headers = [
        (b"content-type", b"application/json; charset=utf-8"),
        (b"content-length", str(len(body)).encode()),
        *_protective_headers(),
    ]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})


async def _send_bundle(served: Bundle, send: Send) -> None:
    headers = [
        (b"content-type", BUNDLE_MEDIA_TYPE.encode()),
        (b"content-length", str(served.length).encode()),
        *_protective_headers(),
    ]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    pieces = served.pieces
    # Each piece is read on the gate's threads (the disk or the bucket may make it wait), and
    # sent as one message.
    while (piece := await on_gate_threads(next, pieces, None)) is not None:
        await send({"type": "http.response.body", "body": piece, "more_body": True})
    await send({"type": "http.response.body", "body": b"", "more_body": False})
