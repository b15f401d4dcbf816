"""The device API (`ledgerdrop_protocol.routes`): pairing, long-poll offers, content, acks,
failures; and the firm's side of devices in the application API (`router`, under `/api/v1/`).

Handlers parse, authenticate, call a service and shape the answer; nothing else."""

from __future__ import annotations

import datetime as dt
import typing
from collections.abc import AsyncIterator, Iterator
from dataclasses import asdict
from typing import Annotated, Any, Literal

from asgiref.sync import sync_to_async
from django.conf import settings
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404
from ninja import Router, Schema
from ninja.responses import Status
from ninja.security import HttpBearer
from pydantic import Field

from ledgerdrop.accounts.models import Organisation
from ledgerdrop.accounts.tenancy import firm_for
from ledgerdrop.core import overload, problems, storage
from ledgerdrop.core.errors import Kind, ServiceError
from ledgerdrop.core.problems import errors
from ledgerdrop.delivery import bundles, downloads, longpoll, services
from ledgerdrop.delivery.models import Delivery, Device
from ledgerdrop_protocol import (
    PROTOCOL_VERSION,
    AckBatch,
    AckResult,
    DeviceSettings,
    DeviceStatus,
    FailReport,
    Offer,
    Offers,
    PairingRequest,
    PairingStarted,
    TokenError,
    TokenGranted,
    TokenRequest,
    routes,
)
from ledgerdrop_protocol.models import BUNDLE_MEDIA_TYPE, MAX_ID, ContentsRequest

MAX_OFFERS_PER_ANSWER = 500


class DeviceBearer(HttpBearer):
    async def authenticate(self, request: HttpRequest, token: str) -> Device | None:
        scope = getattr(request, "scope", {})
        if longpoll.DEVICE in scope:
            # A poll held by the gate in front of Django, which looked the token up already.
            device: Device | None = scope[longpoll.DEVICE]
        else:
            device = await sync_to_async(services.authenticate_device)(token)
        if device is not None:
            await sync_to_async(services.note_contact)(device)
        return device


device_api = problems.ProblemAPI(
    title="Ledgerdrop device API",
    version=PROTOCOL_VERSION,
    urls_namespace="device-api",
    auth=DeviceBearer(),
    docs_url=None,
)
overload.install(device_api)
# The token endpoint's refusals keep the shape RFC 8628 gives them (OAuth's `error`), which
# every device-flow client reads; all other refusals are problem details.
TOKEN_ERRORS = frozenset(typing.get_args(TokenError.model_fields["error"].annotation))


@device_api.exception_handler(ServiceError)
def refused(request: HttpRequest, exc: ServiceError) -> HttpResponse:
    if exc.code not in TOKEN_ERRORS:
        return problems.service_error_response(exc)
    body = TokenError(error=exc.code, error_description=exc.message)  # type: ignore[arg-type]
    return HttpResponse(body.model_dump_json(), status=400, content_type="application/json")


def _verification_uri(request: HttpRequest) -> str:
    return f"{server_url(request)}/devices/pair/"


@device_api.post(routes.PAIRINGS.path, response=PairingStarted, auth=None)
async def start_pairing(request: HttpRequest, body: PairingRequest) -> PairingStarted:
    pairing, device_code = await sync_to_async(services.start_pairing)(body)
    uri = _verification_uri(request)
    return PairingStarted(
        device_code=device_code,
        user_code=pairing.user_code,
        verification_uri=uri,
        verification_uri_complete=f"{uri}?code={pairing.user_code}",
        expires_in=int(services.PAIRING_LIFETIME.total_seconds()),
        interval=pairing.interval,
    )


@device_api.post(routes.TOKEN.path, response={200: TokenGranted, 400: TokenError}, auth=None)
async def token(request: HttpRequest, body: TokenRequest) -> TokenGranted:
    credential = await sync_to_async(services.exchange_for_token)(body)
    return TokenGranted(device_id=credential.device.pk, token=credential.token)


def _offers(device: Device, limit: int, after: int | None) -> HttpResponse:
    told = services.told_to_device(device)
    offers = Offers(
        settings=DeviceSettings(root_folder=told.root_folder),
        folders=told.folders,
        state=told.state,
        deliveries=[
            Offer(
                id=delivery.id,
                relative_path=delivery.relative_path,
                size=delivery.size,
                sha256=delivery.sha256,
                content_url=routes.CONTENT.url(delivery_id=delivery.id),
            )
            for delivery in services.pending_offers(device, limit, after)
        ],
    )
    # Serialised by pydantic at once: the model is already checked, and validating it again as
    # the declared response, then encoding a dict of it, costs more than building it.
    return HttpResponse(offers.model_dump_json(), content_type="application/json")


@device_api.get(routes.OFFERS.path, response=Offers)
async def offers(
    request: HttpRequest,
    wait: float = 0,
    limit: int = 100,
    state: str | None = None,
    after: int | None = None,
) -> HttpResponse:
    """What the device is to place, with its main folder and folders. A poll with a `wait` is
    held before it gets here, by the gate in front of Django (`longpoll.py`), until something is
    queued for the device, its settings or folders differ from the `state` it last saw, or the
    wait is over; here it is answered at once. `after`: only deliveries with a greater id, so
    that a downloader can ask for the next page while it still places the previous one."""
    device: Device = request.auth  # type: ignore[attr-defined]
    limit = max(1, min(limit, MAX_OFFERS_PER_ANSWER))
    return await sync_to_async(_offers)(device, limit, after)


def _bytes_answer(media_type: str) -> dict[str, Any]:
    """An answer of bytes, as the OpenAPI document describes it."""
    binary = {"schema": {"type": "string", "format": "binary"}}
    return {"description": "The bytes", "content": {media_type: binary}}


def _delivery_of(device: Device, delivery_id: int) -> Delivery:
    delivery = Delivery.objects.filter(device=device, pk=delivery_id).first()
    if delivery is None:
        raise ServiceError(
            "unknown_delivery",
            f"No delivery {delivery_id} for this device.",
            Kind.NOT_FOUND,
        )
    if delivery.state == Delivery.State.CANCELLED:
        raise ServiceError(
            "cancelled",
            f"Delivery {delivery_id} was cancelled: its content is gone.",
            Kind.GONE,
        )
    return delivery


@device_api.get(
    routes.CONTENT.path,
    response={200: None, 206: None, 304: None, **errors(410, 416)},
    openapi_extra={
        "responses": {
            200: _bytes_answer("application/octet-stream"),
            206: _bytes_answer("application/octet-stream"),
        }
    },
)
async def content(request: HttpRequest, delivery_id: int) -> HttpResponseBase:
    """The bytes of one delivery, or the part a resuming download asks for with `Range`."""
    device: Device = request.auth  # type: ignore[attr-defined]
    delivery = await sync_to_async(_delivery_of)(device, delivery_id)
    etag = f'"{delivery.sha256}"'
    if request.headers.get("If-None-Match") == etag:
        return HttpResponse(status=304, headers={"ETag": etag})
    headers = {"ETag": etag, "Accept-Ranges": "bytes"}
    size = delivery.size
    requested = request.headers.get("Range")
    # A Range with an If-Range naming other bytes must not splice two files: send them whole.
    if requested and request.headers.get("If-Range", etag) == etag:
        span = byte_range(requested, size)
        if span is None:
            return HttpResponse(status=416, headers={**headers, "Content-Range": f"bytes */{size}"})
        start, end = span
        headers["Content-Range"] = f"bytes {start}-{end}/{size}"
        parts = await sync_to_async(storage.chunks)(delivery.sha256, span)
        return await _answer(parts, end - start + 1, 206, "application/octet-stream", headers)
    parts = await sync_to_async(storage.chunks)(delivery.sha256)
    return await _answer(parts, size, 200, "application/octet-stream", headers)


async def _answer(
    parts: Iterator[bytes], length: int, status: int, content_type: str, headers: dict[str, str]
) -> HttpResponseBase:
    """Bytes that fit in one read are sent whole: an async server then sends them without
    tying a thread to an iterator. Anything larger is streamed a chunk at a time, from the
    disk or the bucket, so that no answer holds a whole file in memory."""
    if length <= storage.CHUNK_BYTES:
        data = await sync_to_async(b"".join)(parts)
        return HttpResponse(data, status=status, content_type=content_type, headers=headers)
    return StreamingHttpResponse(
        _async_chunks(parts),
        status=status,
        content_type=content_type,
        headers={**headers, "Content-Length": str(length)},
    )


async def _async_chunks(parts: Iterator[bytes]) -> AsyncIterator[bytes]:
    # Each read may wait on the disk or the network: off the event loop, in any thread.
    def next_chunk() -> bytes | None:
        return next(parts, None)

    read_next = sync_to_async(next_chunk, thread_sensitive=False)
    while (chunk := await read_next()) is not None:
        yield chunk


def byte_range(header: str, size: int) -> tuple[int, int] | None:
    """The first and last byte of a single-range `Range` header (RFC 9110 §14.1.2), or None
    when it cannot be satisfied. A downloader resumes with one range; several are not served."""
    unit, _, spec = header.partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None
    first, _, last = spec.strip().partition("-")
    try:
        if not first:  # "bytes=-N": the last N bytes
            length = int(last)
            return (max(0, size - length), size - 1) if length > 0 and size else None
        start = int(first)
        end = min(int(last), size - 1) if last else size - 1
    except ValueError:
        return None
    return (start, end) if 0 <= start <= end else None


@device_api.post(
    routes.CONTENTS.path,
    response={200: None},
    openapi_extra={"responses": {200: _bytes_answer(BUNDLE_MEDIA_TYPE)}},
)
async def contents(request: HttpRequest, body: ContentsRequest) -> HttpResponseBase:
    """The bytes of several deliveries in one answer (`BUNDLE_MEDIA_TYPE`): per-request cost,
    not bytes, is what limits a backlog of small invoices. A well-formed request is served
    by the gate in front of Django (`gate.py`) and does not get here; this is where the others
    are answered (401, problem details), and what the OpenAPI document describes."""
    device: Device = request.auth  # type: ignore[attr-defined]
    served = await sync_to_async(bundles.bundle)(device, body.ids)
    return await _answer(served.pieces, served.length, 200, BUNDLE_MEDIA_TYPE, {})


@device_api.post(routes.ACKS.path, response={200: AckResult, **errors(404, 409)})
async def acks(request: HttpRequest, body: AckBatch) -> AckResult:
    """Deliveries placed. Acks the service takes are answered by the gate in front of Django
    (`gate.py`); here, those it refuses (problem details) and whatever else reaches Django."""
    device: Device = request.auth  # type: ignore[attr-defined]
    acknowledged = await sync_to_async(services.acknowledge)(device, body.acks)
    return AckResult(acknowledged=acknowledged)


@device_api.post(routes.FAIL.path, response={204: None, **errors(409)})
async def fail(request: HttpRequest, delivery_id: int, body: FailReport) -> Status[None]:
    device: Device = request.auth  # type: ignore[attr-defined]
    await sync_to_async(services.report_failure)(device, delivery_id, body)
    return Status(204, None)


@device_api.post(routes.STATUS.path, response={204: None})
async def status(request: HttpRequest, body: DeviceStatus) -> Status[None]:
    """What the device found in its main folder; sent when it changes."""
    device: Device = request.auth  # type: ignore[attr-defined]
    await sync_to_async(services.report_status)(device, body)
    return Status(204, None)


# ---- application API: the firm's devices (`/api/v1/firms/{fid}/…`) -------------------------

router = Router(tags=["devices"])


class DeviceOut(Schema):
    id: int
    name: str
    hostname: str
    os: str
    os_user: str
    agent_version: str
    root_folder: str
    last_seen_at: dt.datetime | None
    status: Literal["online", "offline"]
    is_shared_server: bool
    backlog: int
    failed: int
    warnings: list[Literal["silent", "failed_deliveries"]]
    # Set while the device cannot place anything in its main folder, and why.
    main_folder_problem: MainFolderProblemOut | None = None


class MainFolderProblemOut(Schema):
    problem: str  # missing, vanished, not_writable, refused, other
    label: str
    message: str  # the device's own words
    main_folder: str  # as the device uses it
    since: dt.datetime | None


class ApproveIn(Schema):
    user_code: str
    name: str | None = None


class DenyIn(Schema):
    user_code: str


class DenyOut(Schema):
    user_code: str
    state: str


class InstallCommandsOut(Schema):
    linux: str
    windows: str


class EnrolmentKeyOut(Schema):
    key: str
    expires_at: dt.datetime
    command: str
    # One line per system that installs the downloader from this server and pairs it.
    install_commands: InstallCommandsOut


class DevicePatch(Schema):
    name: str | None = None
    root_folder: str | None = None
    is_shared_server: bool | None = None


# The public API names what a delivery carries by its document (`document_id`): this app knows
# it only as the reference a connector gave, of this type.
DOCUMENT_SOURCE = "documents.document"


class DeliveryOut(Schema):
    id: int
    device_id: int
    device_name: str
    document_id: int | None
    relative_path: str
    size: int
    sha256: str
    state: str
    queued_at: dt.datetime
    delivered_at: dt.datetime | None
    placed_path: str
    failed_at: dt.datetime | None
    cancelled_at: dt.datetime | None
    failure_reason: str  # why it failed or, when cancelled, why (e.g. `company_unlinked`)
    failure_message: str


def _device_out(health: services.DeviceHealth) -> DeviceOut:
    device = health.device
    warnings: list[Literal["silent", "failed_deliveries"]] = []
    if health.silent:
        warnings.append("silent")
    if health.failed:
        warnings.append("failed_deliveries")
    return DeviceOut(
        id=device.pk,
        name=device.name,
        hostname=device.hostname,
        os=device.os,
        os_user=device.os_user,
        agent_version=device.agent_version,
        root_folder=device.root_folder,
        last_seen_at=device.last_seen_at,
        status="online" if device.is_online else "offline",
        is_shared_server=device.is_shared_server,
        backlog=health.backlog,
        failed=health.failed,
        warnings=warnings,
        main_folder_problem=_main_folder_problem(device),
    )


def _main_folder_problem(device: Device) -> MainFolderProblemOut | None:
    if not device.folder_problem:
        return None
    return MainFolderProblemOut(
        problem=device.folder_problem,
        label=device.folder_problem_label,
        message=device.folder_problem_message,
        main_folder=device.reported_main_folder,
        since=device.folder_problem_since,
    )


def _one_device_out(firm: Organisation, device_id: int) -> DeviceOut:
    [health] = [h for h in services.device_health(firm) if h.device.pk == device_id]
    return _device_out(health)


def _active_device(firm: Organisation, device_id: int) -> Device:
    return get_object_or_404(
        Device.objects.active().select_related("firm"), firm=firm, pk=device_id
    )


@router.get("/firms/{firm_id}/devices", response=list[DeviceOut])
def list_devices(request: HttpRequest, firm_id: int) -> list[DeviceOut]:
    firm = firm_for(request.auth, firm_id)  # type: ignore[attr-defined]
    return [_device_out(health) for health in services.device_health(firm)]


@router.post("/firms/{firm_id}/devices/approve", response={201: DeviceOut, **errors(429)})
def approve_device(request: HttpRequest, firm_id: int, body: ApproveIn) -> Status[DeviceOut]:
    firm = firm_for(request.auth, firm_id)  # type: ignore[attr-defined]
    device = services.approve_pairing(firm, body.user_code, name=body.name, by=request.auth)  # type: ignore[attr-defined]
    return Status(201, _one_device_out(firm, device.pk))


@router.post("/firms/{firm_id}/devices/deny", response={200: DenyOut, **errors(429)})
def deny_device(request: HttpRequest, firm_id: int, body: DenyIn) -> DenyOut:
    firm = firm_for(request.auth, firm_id)  # type: ignore[attr-defined]
    pairing = services.deny_pairing(firm, body.user_code, by=request.auth)  # type: ignore[attr-defined]
    return DenyOut(user_code=pairing.user_code, state=pairing.state)


@router.post("/firms/{firm_id}/devices/enrolment-keys", response={201: EnrolmentKeyOut})
def mint_enrolment_key(request: HttpRequest, firm_id: int) -> Status[EnrolmentKeyOut]:
    firm = firm_for(request.auth, firm_id)  # type: ignore[attr-defined]
    enrolment_key, key = services.mint_enrolment_key(firm, by=request.auth)  # type: ignore[attr-defined]
    return Status(
        201,
        EnrolmentKeyOut(
            key=key,
            expires_at=enrolment_key.expires_at,
            command=pair_command(request, enrolment_key=key),
            install_commands=InstallCommandsOut(
                **asdict(downloads.install_commands(server_url(request), key))
            ),
        ),
    )


@router.patch("/firms/{firm_id}/devices/{device_id}", response={200: DeviceOut, **errors(409)})
def update_device(
    request: HttpRequest, firm_id: int, device_id: int, body: DevicePatch
) -> DeviceOut:
    firm = firm_for(request.auth, firm_id)  # type: ignore[attr-defined]
    device = _active_device(firm, device_id)
    by = request.auth  # type: ignore[attr-defined]
    services.update_device(
        device,
        name=body.name,
        root_folder=body.root_folder,
        is_shared_server=body.is_shared_server,
        by=by,
    )
    return _one_device_out(firm, device.pk)


@router.delete("/firms/{firm_id}/devices/{device_id}", response={204: None})
def revoke_device(request: HttpRequest, firm_id: int, device_id: int) -> Status[None]:
    firm = firm_for(request.auth, firm_id)  # type: ignore[attr-defined]
    device = _active_device(firm, device_id)
    services.revoke_device(device, by=request.auth)  # type: ignore[attr-defined]
    return Status(204, None)


@router.get("/firms/{firm_id}/deliveries", response=list[DeliveryOut])
def list_deliveries(
    request: HttpRequest,
    firm_id: int,
    state: Literal["queued", "delivered", "failed", "cancelled"] | None = None,
    document_id: Annotated[int, Field(ge=1, le=MAX_ID)] | None = None,
    limit: int = 500,
) -> list[DeliveryOut]:
    firm = firm_for(request.auth, firm_id)  # type: ignore[attr-defined]
    source = (DOCUMENT_SOURCE, document_id) if document_id is not None else None
    deliveries = services.deliveries_of(firm, state=state, source=source)
    deliveries = deliveries[: max(1, min(limit, 5000))]
    return [
        DeliveryOut(
            id=delivery.pk,
            device_id=delivery.device_id,
            device_name=delivery.device.name,
            document_id=delivery.source_id if delivery.source_type == DOCUMENT_SOURCE else None,
            relative_path=delivery.relative_path,
            size=delivery.size,
            sha256=delivery.sha256,
            state=delivery.state,
            queued_at=delivery.queued_at,
            delivered_at=delivery.delivered_at,
            placed_path=delivery.placed_path,
            failed_at=delivery.failed_at,
            cancelled_at=delivery.cancelled_at,
            failure_reason=delivery.failure_reason,
            failure_message=delivery.failure_text,
        )
        for delivery in deliveries
    ]


def server_url(request: HttpRequest) -> str:
    return settings.PUBLIC_URL or request.build_absolute_uri("/").rstrip("/")


def pair_command(request: HttpRequest, *, enrolment_key: str | None = None) -> str:
    """The exact command a person pastes on the device."""
    command = f"ledgerdrop-agent pair --server {server_url(request)}"
    return f"{command} --enrolment-key {enrolment_key}" if enrolment_key else command
