"""The device API (`/api/device/v1/`): pairing, long-poll offers, content, acks, failures.

Handlers parse, authenticate, call a service and shape the answer; nothing else."""

from __future__ import annotations

import asyncio
import contextlib
import time

from asgiref.sync import sync_to_async
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError
from ninja.responses import Status
from ninja.security import HttpBearer

from ledgerdrop.core import problems, storage
from ledgerdrop.delivery import folders, services
from ledgerdrop.delivery.models import Delivery, Device
from ledgerdrop.delivery.wakeups import hub
from ledgerdrop_protocol import (
    PROTOCOL_VERSION,
    AckBatch,
    AckResult,
    DeviceSettings,
    FailReport,
    Offer,
    Offers,
    PairingRequest,
    PairingStarted,
    TokenError,
    TokenGranted,
    TokenRequest,
)

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


@device_api.exception_handler(services.DeliveryError)
def delivery_error(request: HttpRequest, exc: services.DeliveryError) -> HttpResponse:
    return problems.problem_response(exc.status, exc.message, code=exc.code)


@device_api.exception_handler(services.PairingError)
def pairing_error(request: HttpRequest, exc: services.PairingError) -> HttpResponse:
    body = TokenError(error=exc.error, error_description=exc.description)  # type: ignore[arg-type]
    return HttpResponse(body.model_dump_json(), status=400, content_type="application/json")


def _verification_uri(request: HttpRequest) -> str:
    base = settings.PUBLIC_URL or request.build_absolute_uri("/").rstrip("/")
    return f"{base}/devices/pair/"


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
    return Offers(
        settings=DeviceSettings(root_folder=device.root_folder),
        folders=folders.folders_for(device),
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
async def offers(request: HttpRequest, wait: float = 0, limit: int = 100) -> Offers:
    """Answer at once when something is queued, else hold the request up to `wait` seconds."""
    device: Device = request.auth  # type: ignore[attr-defined]
    limit = max(1, min(limit, MAX_OFFERS_PER_ANSWER))
    deadline = time.monotonic() + max(0.0, min(wait, settings.LEDGERDROP_LONG_POLL_MAX_SECONDS))
    while True:
        # Register before looking, so that a delivery queued between the look and the wait
        # still wakes us.
        woken = hub.register(device.pk)
        try:
            answer = await sync_to_async(_offers)(device, limit)
            remaining = deadline - time.monotonic()
            if answer.deliveries or remaining <= 0:
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
    return delivery


@device_api.get("/deliveries/{delivery_id}/content", response={200: None})
async def content(request: HttpRequest, delivery_id: int) -> HttpResponse:
    """The bytes of one delivery. Invoices are small, so they are read whole: an async server
    then sends them without tying a thread to a file iterator."""
    device: Device = request.auth  # type: ignore[attr-defined]
    delivery = await sync_to_async(_delivery_of)(device, delivery_id)
    etag = f'"{delivery.sha256}"'
    if request.headers.get("If-None-Match") == etag:
        return HttpResponse(status=304, headers={"ETag": etag})
    data = await sync_to_async(storage.read)(delivery.sha256)
    return HttpResponse(data, content_type="application/octet-stream", headers={"ETag": etag})


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
