"""Hold downloaders' long-polls in front of Django, without a thread each.

Django's ASGI handler gives every request in flight a thread of its own (its request signals
and middleware run in one), so ten thousand idle downloaders waiting for offers would hold ten
thousand threads and database connections. This gate, wrapped around the ASGI application,
keeps a waiting `GET /api/device/v1/deliveries?wait=S` as nothing but an asyncio event. When
something is queued for the device (or its folders change), or the wait is over, it passes the
request on to Django with `wait=0`, which answers at once: the offers themselves are built in
one place only, the device API."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import parse_qsl, urlencode

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import close_old_connections

from ledgerdrop.delivery.wakeups import hub

Scope = dict[str, Any]
ASGIApp = Callable[..., Awaitable[Any]]

OFFERS_PATH = "/api/device/v1/deliveries"


def _idle_device(token: str, known_state: str | None) -> tuple[int, str] | None:
    """The id and current state of the active device with this token when it has nothing new
    to hear (no file queued, its folders as it last saw them), else None: then Django answers
    at once, with the offers or with 401."""
    from ledgerdrop.delivery.models import Delivery
    from ledgerdrop.delivery.services import authenticate_device, note_contact, told_to_device

    device = authenticate_device(token)
    if device is None:
        return None
    note_contact(device)  # a device waiting here is online, as one answered by Django is
    state = told_to_device(device).state
    if known_state is not None and known_state != state:
        return None
    queued = Delivery.objects.filter(device=device, state=Delivery.State.QUEUED).exists()
    return None if queued else (device.pk, state)


_executor: ThreadPoolExecutor | None = None


def _checks() -> ThreadPoolExecutor:
    global _executor
    if _executor is None:
        _executor = ThreadPoolExecutor(
            settings.LEDGERDROP_LONG_POLL_THREADS, thread_name_prefix="ledgerdrop-long-poll"
        )
    return _executor


def _checked(token: str, known_state: str | None) -> tuple[int, str] | None:
    try:
        return _idle_device(token, known_state)
    finally:
        # Hand the connection back (to the pool on PostgreSQL) as a request thread does.
        close_old_connections()


def _bearer(scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            return token.strip() if scheme.lower() == "bearer" else ""
    return ""


def _wait_seconds(params: list[tuple[str, str]]) -> float:
    try:
        wait = float(dict(params).get("wait", "0"))
    except ValueError:
        return 0.0  # Django answers with the validation problem
    return max(0.0, min(wait, float(settings.LEDGERDROP_LONG_POLL_MAX_SECONDS)))


class LongPollGate:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(
        self,
        scope: Scope,
        receive: Callable[[], Awaitable[Any]],
        send: Callable[[Any], Awaitable[None]],
    ) -> Any:
        if scope["type"] == "http" and scope["method"] == "GET" and scope["path"] == OFFERS_PATH:
            params = parse_qsl(
                scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True
            )
            wait, token = _wait_seconds(params), _bearer(scope)
            if wait > 0 and token:
                await self._hold(token, wait, dict(params).get("state"))
                answer_now = [(key, value) for key, value in params if key != "wait"]
                answer_now.append(("wait", "0"))
                scope = {**scope, "query_string": urlencode(answer_now).encode("latin-1")}
        return await self.app(scope, receive, send)

    @staticmethod
    async def _hold(token: str, wait: float, known_state: str | None) -> None:
        # A few threads of the gate's own, not one per request: nothing is held per request,
        # and their database connections are counted in the node's budget (settings).
        idle = sync_to_async(_checked, thread_sensitive=False, executor=_checks())
        deadline = time.monotonic() + wait
        first = await idle(token, known_state)
        if first is None:
            return
        device_id, state = first
        while True:
            woken = hub.register(device_id)
            try:
                # Look again once registered, so that a change made in between is not missed;
                # a wake-up with nothing new (a listener reconnecting) just goes on waiting.
                if await idle(token, known_state or state) is None:
                    return
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return
                try:
                    await asyncio.wait_for(woken.wait(), timeout=remaining)
                except TimeoutError:
                    return
            finally:
                hub.unregister(device_id, woken)
