"""The device API (`/api/device/v1/`): pairing, long-poll offers, content, acks, failures;
and the firm's side of devices in the application API (`router`, under `/api/v1/`).

Handlers parse, authenticate, call a service and shape the answer; nothing else."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import time
from collections.abc import Callable
from dataclasses import asdict
from typing import Annotated, Any, Literal, TypeVar

from asgiref.sync import sync_to_async
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from ninja import NinjaAPI, Router, Schema
from ninja.errors import AuthenticationError
from ninja.responses import Status
from ninja.security import HttpBearer
from pydantic import Field

from ledgerdrop.accounts.models import Organisation
from ledgerdrop.core import overload, problems, storage
from ledgerdrop.core.tenancy import organisation_for
from ledgerdrop.delivery import downloads, services
from ledgerdrop.delivery.models import Delivery, Device
from ledgerdrop.delivery.wakeups import hub
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
)
from ledgerdrop_protocol.models import BUNDLE_MEDIA_TYPE, MAX_ID, BundlePart, ContentsRequest

MAX_OFFERS_PER_ANSWER = 500


class DeviceBearer(HttpBearer):
    async def authenticate(self, request: HttpRequest, token: str) -> Device | None:
        device = await sync_to_async(services.authenticate_device)(token)
        if device is not None:
            await sync_to_async(services.note_contact)(device)
        return device


device_api = NinjaAPI(
    title="Ledgerdrop device API",
    version=PROTOCOL_VERSION,
    urls_namespace="device-api",
    auth=DeviceBearer(),
    docs_url=None,
)
problems.install(device_api)
overload.install(device_api)


@device_api.exception_handler(services.DeliveryError)
def delivery_error(request: HttpRequest, exc: services.DeliveryError) -> HttpResponse:
    return problems.problem_response(exc.status, exc.message, code=exc.code)


@device_api.exception_handler(services.PairingError)
def pairing_error(request: HttpRequest, exc: services.PairingError) -> HttpResponse:
    body = TokenError(error=exc.error, error_description=exc.description)  # type: ignore[arg-type]
    return HttpResponse(body.model_dump_json(), status=400, content_type="application/json")


def _verification_uri(request: HttpRequest) -> str:
    return f"{server_url(request)}/devices/pair/"


@device_api.post("/pairings", response=PairingStarted, auth=None)
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


@device_api.post("/token", response=TokenGranted, auth=None)
async def token(request: HttpRequest, body: TokenRequest) -> TokenGranted:
    credential = await sync_to_async(services.exchange_for_token)(body)
    return TokenGranted(device_id=credential.device.pk, token=credential.token)


def _offers(device: Device, limit: int) -> Offers:
    told = services.told_to_device(device)
    return Offers(
        settings=DeviceSettings(root_folder=told.root_folder),
        folders=told.folders,
        state=told.state,
        deliveries=[
            Offer(
                id=delivery.pk,
                relative_path=delivery.relative_path,
                size=delivery.size,
                sha256=delivery.sha256,
                content_url=f"/api/device/v1/deliveries/{delivery.pk}/content",
            )
            for delivery in services.pending_offers(device, limit)
        ],
    )


@device_api.get("/deliveries", response=Offers)
async def offers(
    request: HttpRequest, wait: float = 0, limit: int = 100, state: str | None = None
) -> Offers:
    """Answer at once when something is queued, or when the device's settings or folders
    differ from the `state` it last saw; else hold the request up to `wait` seconds."""
    device: Device = request.auth  # type: ignore[attr-defined]
    limit = max(1, min(limit, MAX_OFFERS_PER_ANSWER))
    deadline = time.monotonic() + max(0.0, min(wait, settings.LEDGERDROP_LONG_POLL_MAX_SECONDS))
    first: Offers | None = None
    while True:
        # Register before looking, so that a delivery queued between the look and the wait
        # still wakes us.
        woken = hub.register(device.pk)
        try:
            answer = await sync_to_async(_offers)(device, limit)
            first = first or answer
            # New folders or a new main folder are news too: a new connection's achats and
            # ventes must appear on the device at once (S5), not at the end of the wait.
            changed = answer.state != first.state or (state is not None and state != answer.state)
            remaining = deadline - time.monotonic()
            if answer.deliveries or changed or remaining <= 0:
                return answer
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(woken.wait(), timeout=remaining)
            if not await sync_to_async(_still_active)(device):
                raise AuthenticationError  # revoked while it waited
        finally:
            hub.unregister(device.pk, woken)


def _still_active(device: Device) -> bool:
    return Device.objects.active().filter(pk=device.pk).exists()


def _delivery_of(device: Device, delivery_id: int) -> Delivery:
    delivery = Delivery.objects.filter(device=device, pk=delivery_id).first()
    if delivery is None:
        raise services.DeliveryError(
            "unknown_delivery", f"No delivery {delivery_id} for this device.", status=404
        )
    if delivery.state == Delivery.State.CANCELLED:
        raise services.DeliveryError(
            "cancelled", f"Delivery {delivery_id} was cancelled: its content is gone.", status=410
        )
    return delivery


@device_api.get("/deliveries/{delivery_id}/content", response={200: None})
async def content(request: HttpRequest, delivery_id: int) -> HttpResponse:
    """The bytes of one delivery, or the part a resuming download asks for with `Range`.
    Invoices are small, so they are read whole: an async server then sends them without
    tying a thread to a file iterator."""
    device: Device = request.auth  # type: ignore[attr-defined]
    delivery = await sync_to_async(_delivery_of)(device, delivery_id)
    etag = f'"{delivery.sha256}"'
    if request.headers.get("If-None-Match") == etag:
        return HttpResponse(status=304, headers={"ETag": etag})
    data = await sync_to_async(storage.read)(delivery.sha256)
    headers = {"ETag": etag, "Accept-Ranges": "bytes"}
    requested = request.headers.get("Range")
    # A Range with an If-Range naming other bytes must not splice two files: send them whole.
    if requested and request.headers.get("If-Range", etag) == etag:
        span = byte_range(requested, len(data))
        if span is None:
            return HttpResponse(
                status=416, headers={**headers, "Content-Range": f"bytes */{len(data)}"}
            )
        start, end = span
        return HttpResponse(
            data[start : end + 1],
            status=206,
            content_type="application/octet-stream",
            headers={**headers, "Content-Range": f"bytes {start}-{end}/{len(data)}"},
        )
    return HttpResponse(data, content_type="application/octet-stream", headers=headers)


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


def _bundle(device: Device, ids: list[int]) -> bytes:
    parts = []
    deliveries = Delivery.objects.filter(device=device, pk__in=ids).exclude(
        state=Delivery.State.CANCELLED
    )
    for delivery in deliveries.order_by("id"):
        data = storage.read(delivery.sha256)
        header = BundlePart(id=delivery.pk, size=len(data), sha256=delivery.sha256)
        parts += [header.model_dump_json().encode(), b"\n", data]
    return b"".join(parts)


@device_api.post("/deliveries/contents", response={200: None})
async def contents(request: HttpRequest, body: ContentsRequest) -> HttpResponse:
    """The bytes of several deliveries in one answer (`BUNDLE_MEDIA_TYPE`): per-request cost,
    not bytes, is what limits a backlog of small invoices."""
    device: Device = request.auth  # type: ignore[attr-defined]
    data = await sync_to_async(_bundle)(device, body.ids)
    return HttpResponse(data, content_type=BUNDLE_MEDIA_TYPE)


@device_api.post("/acks", response=AckResult)
async def acks(request: HttpRequest, body: AckBatch) -> AckResult:
    device: Device = request.auth  # type: ignore[attr-defined]
    acknowledged = await sync_to_async(services.acknowledge)(device, body.acks)
    return AckResult(acknowledged=acknowledged)


@device_api.post("/deliveries/{delivery_id}/fail", response={204: None})
async def fail(request: HttpRequest, delivery_id: int, body: FailReport) -> Status[None]:
    device: Device = request.auth  # type: ignore[attr-defined]
    await sync_to_async(services.report_failure)(device, delivery_id, body)
    return Status(204, None)


@device_api.post("/status", response={204: None})
async def status(request: HttpRequest, body: DeviceStatus) -> Status[None]:
    """What the device found in its main folder; sent when it changes."""
    device: Device = request.auth  # type: ignore[attr-defined]
    await sync_to_async(services.report_status)(device, body)
    return Status(204, None)


# ---- application API: the firm's devices (`/api/v1/firms/{fid}/…`) -------------------------

router = Router(tags=["devices"])
Handler = TypeVar("Handler", bound=Callable[..., Any])


def refusals_as_problems(handler: Handler) -> Handler:
    """A refused change answers as problem details; the application API's own handlers do
    not know this app's exception."""

    @functools.wraps(handler)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return handler(*args, **kwargs)
        except services.DeliveryError as exc:
            return problems.problem_response(exc.status, exc.message, code=exc.code)

    return wrapper  # type: ignore[return-value]


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


def _firm(request: HttpRequest, firm_id: int) -> Organisation:
    return organisation_for(request.auth, firm_id, Organisation.Kind.FIRM)  # type: ignore[attr-defined]


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
    return [_device_out(health) for health in services.device_health(_firm(request, firm_id))]


@router.post("/firms/{firm_id}/devices/approve", response={201: DeviceOut})
@refusals_as_problems
def approve_device(request: HttpRequest, firm_id: int, body: ApproveIn) -> Status[DeviceOut]:
    firm = _firm(request, firm_id)
    device = services.approve_pairing(firm, body.user_code, name=body.name, by=request.auth)  # type: ignore[attr-defined]
    return Status(201, _one_device_out(firm, device.pk))


@router.post("/firms/{firm_id}/devices/deny", response=DenyOut)
@refusals_as_problems
def deny_device(request: HttpRequest, firm_id: int, body: DenyIn) -> DenyOut:
    firm = _firm(request, firm_id)
    pairing = services.deny_pairing(firm, body.user_code, by=request.auth)  # type: ignore[attr-defined]
    return DenyOut(user_code=pairing.user_code, state=pairing.state)


@router.post("/firms/{firm_id}/devices/enrolment-keys", response={201: EnrolmentKeyOut})
def mint_enrolment_key(request: HttpRequest, firm_id: int) -> Status[EnrolmentKeyOut]:
    firm = _firm(request, firm_id)
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


@router.patch("/firms/{firm_id}/devices/{device_id}", response=DeviceOut)
@refusals_as_problems
def update_device(
    request: HttpRequest, firm_id: int, device_id: int, body: DevicePatch
) -> DeviceOut:
    firm = _firm(request, firm_id)
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
    device = _active_device(_firm(request, firm_id), device_id)
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
    source = (DOCUMENT_SOURCE, document_id) if document_id is not None else None
    deliveries = services.deliveries_of(_firm(request, firm_id), state=state, source=source)[
        : max(1, min(limit, 5000))
    ]
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
