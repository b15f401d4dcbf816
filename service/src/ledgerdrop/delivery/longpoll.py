"""The one long-poll: downloaders' waits for offers are held here, in front of Django, without
a thread each.

Django's ASGI handler gives every request in flight a thread of its own (its request signals
and middleware run in one), so ten thousand idle downloaders waiting for offers would hold ten
thousand threads and database connections. This gate, wrapped around the ASGI application,
keeps a waiting `GET deliveries?wait=S` (`ledgerdrop_protocol.routes.OFFERS`) as nothing but an
asyncio event. It looks the device's token up once; when something is queued for the device
(or its folders change, or it is revoked), or the wait is over, it passes the request on to
Django with the device it found in the ASGI scope (`DEVICE`): the device API answers at once,
without waiting or authenticating again, and the offers are built in one place only."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from django.conf import settings
from django.utils import timezone

from ledgerdrop.core.asgi import ASGIApp, Receive, Scope, Send, header
from ledgerdrop.delivery.gate_threads import on_gate_threads
from ledgerdrop.delivery.wakeups import hub
from ledgerdrop_protocol import routes

if TYPE_CHECKING:
    from ledgerdrop.delivery.models import Device

OFFERS_PATH = routes.OFFERS.url()
# The scope key under which a held poll reaches Django with the gate's verdict on its token:
# the active device it belongs to, or None (then the answer is 401). Only the gate sets it; a
# client cannot, since an ASGI scope is built by the server, not from the request.
DEVICE = "ledgerdrop.device"


class HungUp(Exception):
    """The downloader hung up while its poll was held: there is nobody to answer."""


def _quiet_state(device: Device, known_state: str | None) -> str | None:
    """The device's current state when it has nothing new to hear (no file queued, its folders
    as it last saw them), else None: then Django answers at once."""
    from ledgerdrop.delivery.models import Delivery
    from ledgerdrop.delivery.services import told_to_device

    state = told_to_device(device).state
    if known_state is not None and known_state != state:
        return None
    queued = Delivery.objects.filter(device=device, state=Delivery.State.QUEUED).exists()
    return None if queued else state


def _begin_hold(token: str, known_state: str | None, until: dt.datetime) -> Held | Handover:
    """The active device with this token, looked up this once for the whole poll: handed over
    at once when it has news (or is unknown), else held (online till `until`)."""
    from ledgerdrop.delivery.services import authenticate_device, note_poll_held

    device = authenticate_device(token)
    state = None if device is None else _quiet_state(device, known_state)
    if device is None or state is None:
        return Handover(device)
    return Held(device_id=device.pk, state=state, mark=note_poll_held(device, until))


def _device_now(device_id: int) -> Device | None:
    """The held device as it is now, None once revoked. By its id: the token was checked when
    the poll came in."""
    from ledgerdrop.delivery.models import Device

    return Device.objects.active().select_related("firm").filter(pk=device_id).first()


def _news(device_id: int, known_state: str) -> Handover | None:
    """The hand-over when the held device has news (revocation is news too: 401 at once),
    else None: it goes on waiting."""
    device = _device_now(device_id)
    if device is not None and _quiet_state(device, known_state) is not None:
        return None
    return Handover(device)


# While a poll waits, the gate keeps only these few fields, never a model instance: ten
# thousand idle downloaders must cost little memory (bench/idle.py).
@dataclass(frozen=True, slots=True)
class Held:
    device_id: int
    state: str
    mark: dt.datetime  # the device's `online_until` as this hold wrote it


@dataclass(frozen=True, slots=True)
class Handover:
    """What the gate passes on to Django: the active device with the poll's token, or None."""

    device: Device | None


class _Wake:
    """How a held poll is woken (news, or the end of its wait) while it waits for the
    downloader to hang up: the poll's own task waits in the connection's `receive` and nothing
    else, like a bare ASGI app holding a request, and a wake-up cancels that wait (as
    `asyncio.timeout` does). No task, event or future of its own per held poll."""

    __slots__ = ("over", "parked", "task", "woken")

    def __init__(self, task: asyncio.Task[Any]) -> None:
        self.task = task
        self.parked = False  # waiting in `receive`: a wake-up must interrupt it
        self.woken = False
        self.over = False  # the wait is over

    def set(self) -> None:
        self.woken = True
        if self.parked:
            self.parked = False
            self.task.cancel()

    def end(self) -> None:
        self.over = True
        self.set()


def bearer_token(scope: Scope) -> str:
    scheme, _, token = header(scope, b"authorization").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _wait_seconds(params: dict[str, str]) -> float:
    try:
        wait = float(params.get("wait", "0"))
    except ValueError:
        return 0.0  # Django answers with the validation problem
    return max(0.0, min(wait, float(settings.LEDGERDROP_LONG_POLL_MAX_SECONDS)))


class LongPollGate:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> Any:
        if scope["type"] == "http" and scope["method"] == "GET" and scope["path"] == OFFERS_PATH:
            params = dict(
                parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
            )
            wait, known_state = _wait_seconds(params), params.get("state")
            token = bearer_token(scope)
            del params  # nothing per held poll but what it needs
            if wait > 0 and token:
                request = await read_request(receive)
                if request is None:
                    return None  # gone before it was even read
                try:
                    device = await self._hold(token, wait, known_state, receive)
                except HungUp:
                    return None
                receive = replay(request, receive)
                scope = {**scope, DEVICE: device}
        return await self.app(scope, receive, send)

    @staticmethod
    async def _hold(
        token: str, wait: float, known_state: str | None, receive: Receive
    ) -> Device | None:
        """Wait until there is news for the device or the wait is over; then the device as it
        is (None: no active device has this token, or it was revoked meanwhile). Raises
        `HungUp` when the downloader hangs up meanwhile: waiting for the disconnect is how a
        stopped downloader shows offline at once (Device.online_until)."""
        from ledgerdrop.delivery import services

        deadline = time.monotonic() + wait
        until = timezone.now() + dt.timedelta(seconds=wait)
        held = await on_gate_threads(_begin_hold, token, known_state, until)
        if isinstance(held, Handover):
            return held.device  # an unknown token (401), or news already
        task = asyncio.current_task()
        assert task is not None
        wake = _Wake(task)
        hub.register(held.device_id, wake)
        timer = asyncio.get_running_loop().call_later(deadline - time.monotonic(), wake.end)
        try:
            while not wake.over:
                wake.woken = False
                # Look again once registered (and after every wake-up), so that a change made
                # in between is not missed; a wake-up with nothing new (a listener
                # reconnecting) just goes on waiting.
                handover = await on_gate_threads(_news, held.device_id, known_state or held.state)
                if handover is not None:
                    await on_gate_threads(services.note_poll_answered, held.device_id, held.mark)
                    return handover.device
                if wake.woken:
                    continue  # woken while looking: look again
                wake.parked = True
                try:
                    # After the request, the disconnect is the only message a server sends;
                    # anything else is not a reason to stop waiting for it.
                    while (await receive())["type"] != "http.disconnect":
                        pass
                except asyncio.CancelledError:
                    # Cancelled by someone else (the server shutting down), or by them too.
                    if wake.parked or task.uncancel() > 0:
                        raise
                    continue  # woken
                wake.parked = False
                await on_gate_threads(services.note_poll_dropped, held.device_id, held.mark)
                raise HungUp
        finally:
            timer.cancel()
            hub.unregister(held.device_id, wake)
        return await on_gate_threads(_device_now, held.device_id)


# What a GET's request nearly always is: one message with no body. Such a request is replayed
# from this one list rather than kept per held poll.
_NO_BODY: list[Any] = [{"type": "http.request", "body": b"", "more_body": False}]


async def read_request(receive: Receive, limit: int | None = None) -> list[Any] | None:
    """The request's messages (a GET has one, with an empty body), or None if it hung up. With
    a `limit`, reading stops once the body is longer: the last message then has `more_body`."""
    messages = []
    length = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        messages.append(message)
        length += len(message.get("body", b""))
        if not message.get("more_body"):
            return _NO_BODY if messages == _NO_BODY else messages
        if limit is not None and length > limit:
            return messages


def replay(messages: list[Any], receive: Receive) -> Receive:
    """`receive` for Django: the request read while holding, then the connection's own."""
    pending = list(messages)

    async def replayed() -> Any:
        return pending.pop(0) if pending else await receive()

    return replayed
