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


def _begin_hold(device_id: int, known_state: str | None, until: dt.datetime) -> Held | Handover:
    """The one look at the device's state when its poll starts (the poll already registered
    for wake-ups): handed over at once when it has news (or was revoked meanwhile), else held
    (online till `until`, written in the same hand-over to the gate's threads)."""
    from ledgerdrop.delivery.services import note_poll_held

    device = _device_now(device_id)
    state = None if device is None else _quiet_state(device, known_state)
    if device is None or state is None:
        return Handover(device)
    return Held(state=state, mark=note_poll_held(device, until))


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
        # The token first, alone: it is cheap, and the device's id is what the poll registers
        # under. The device's state (its folders from every connector) is what costs, so it is
        # looked at once, after registering: news committed before that look is seen by it,
        # news committed after it wakes the poll. Looking before registering would need a
        # second look afterwards to cover the moment in between.
        device = await on_gate_threads(services.authenticate_device, token)
        if device is None:
            return None  # no active device has this token: Django answers 401
        device_id = device.pk
        # Nothing but the id is kept while the poll waits; the look reads the device afresh, as
        # it may have been revoked or moved to another main folder since its token was read.
        del device
        task = asyncio.current_task()
        assert task is not None
        wake = _Wake(task)
        hub.register(device_id, wake)
        timer = asyncio.get_running_loop().call_later(deadline - time.monotonic(), wake.end)
        try:
            held = await on_gate_threads(_begin_hold, device_id, known_state, until)
            if isinstance(held, Handover):
                return held.device  # news already, or revoked meanwhile (401)
            while not wake.over:
                if wake.woken:
                    # Woken while looking, or while waiting: look again. A wake-up with nothing
                    # new (a listener reconnecting) just goes on waiting.
                    wake.woken = False
                    handover = await on_gate_threads(_news, device_id, held.state)
                    if handover is not None:
                        await on_gate_threads(services.note_poll_answered, device_id, held.mark)
                        return handover.device
                    continue
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
                await on_gate_threads(services.note_poll_dropped, device_id, held.mark)
                raise HungUp
        finally:
            timer.cancel()
            hub.unregister(device_id, wake)
        return await on_gate_threads(_device_now, device_id)


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
