"""The admission gate: at most LEDGERDROP_REQUEST_THREADS requests inside Django at once.

Django's ASGI handler runs each request's synchronous code in a thread of the request's own,
so nothing else bounds the number of threads, nor the database connections they hold. Here,
in front of Django (and behind the long-poll gate, which holds waiting downloaders without a
thread), a request waits in arrival order for a free place; one still waiting after
LEDGERDROP_BUSY_WAIT_SECONDS is answered 503 with Retry-After, at no cost to the node."""

from __future__ import annotations

import asyncio
import io
import weakref
from collections import deque
from typing import Any

from django.conf import settings
from django.core.handlers.asgi import ASGIRequest

from ledgerdrop.core.asgi import ASGIApp, Receive, Scope, Send
from ledgerdrop.core.overload import busy_response


class Places:
    """A fixed number of places handed out strictly in arrival order. (asyncio's Semaphore lets
    a newcomer take a place freed before the longest waiter has woken up: a client that sends
    its next request as soon as it has its answer jumps the queue, and under load a few
    requests wait many times the median.)"""

    def __init__(self, count: int) -> None:
        self.free = count
        self.waiting: deque[asyncio.Future[None]] = deque()

    async def take(self, patience: float) -> bool:
        """Wait at most `patience` seconds for a place; False if none came."""
        if self.free and not self.waiting:
            self.free -= 1
            return True
        turn = asyncio.get_running_loop().create_future()
        self.waiting.append(turn)
        try:
            await asyncio.wait_for(asyncio.shield(turn), patience)
        except TimeoutError:
            if turn.done():  # handed over just as the wait ended: keep it
                return True
            self.waiting.remove(turn)
            return False
        except asyncio.CancelledError:
            if turn.done():
                self.give_back()
            else:
                self.waiting.remove(turn)
            raise
        return True

    def give_back(self) -> None:
        while self.waiting:
            turn = self.waiting.popleft()
            if not turn.done():
                turn.set_result(None)  # the place goes straight to the longest waiter
                return
        self.free += 1


class Admission:
    def __init__(self, app: ASGIApp, places: int | None = None) -> None:
        self.app = app
        self.places = places or settings.LEDGERDROP_REQUEST_THREADS
        # One set of places per event loop (tests and the benchmark run servers in several).
        self._places: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Places] = (
            weakref.WeakKeyDictionary()
        )

    def _places_here(self) -> Places:
        loop = asyncio.get_running_loop()
        places = self._places.get(loop)
        if places is None:
            places = self._places[loop] = Places(self.places)
        return places

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> Any:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        places = self._places_here()
        if not await places.take(settings.LEDGERDROP_BUSY_WAIT_SECONDS):
            return await _send_busy(scope, receive, send)
        try:
            return await self.app(scope, receive, send)
        finally:
            places.give_back()


# A client still sending its request when answered takes the closed connection for a network
# fault, not for the 503: what it sends is read (and dropped) first, up to this much.
_DRAIN_BYTES = 32 * 2**20


async def _send_busy(scope: Scope, receive: Receive, send: Send) -> None:
    drained = 0
    while drained <= _DRAIN_BYTES:
        message = await receive()
        drained += len(message.get("body", b""))
        if message["type"] != "http.request" or not message.get("more_body"):
            break
    response = busy_response(ASGIRequest(scope, io.BytesIO()))
    headers = [
        (name.encode("latin-1"), value.encode("latin-1")) for name, value in response.items()
    ]
    await send({"type": "http.response.start", "status": response.status_code,
                "headers": headers})  # fmt: skip
    await send({"type": "http.response.body", "body": response.content})
