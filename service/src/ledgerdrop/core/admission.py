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
from collections.abc import Awaitable, Callable
from typing import Any

from django.conf import settings
from django.core.handlers.asgi import ASGIRequest

from ledgerdrop.core.overload import busy_response

Scope = dict[str, Any]
ASGIApp = Callable[..., Awaitable[Any]]


class Admission:
    def __init__(self, app: ASGIApp, places: int | None = None) -> None:
        self.app = app
        self.places = places or settings.LEDGERDROP_REQUEST_THREADS
        # One semaphore per event loop (tests and the benchmark run servers in several).
        self._semaphores: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, asyncio.Semaphore
        ] = weakref.WeakKeyDictionary()

    def _semaphore(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        semaphore = self._semaphores.get(loop)
        if semaphore is None:
            semaphore = self._semaphores[loop] = asyncio.Semaphore(self.places)
        return semaphore

    async def __call__(
        self,
        scope: Scope,
        receive: Callable[[], Awaitable[Any]],
        send: Callable[[Any], Awaitable[None]],
    ) -> Any:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        semaphore = self._semaphore()
        try:
            await asyncio.wait_for(semaphore.acquire(), settings.LEDGERDROP_BUSY_WAIT_SECONDS)
        except TimeoutError:
            return await _send_busy(scope, send)
        try:
            return await self.app(scope, receive, send)
        finally:
            semaphore.release()


async def _send_busy(scope: Scope, send: Callable[[Any], Awaitable[None]]) -> None:
    response = busy_response(ASGIRequest(scope, io.BytesIO()))
    headers = [
        (name.encode("latin-1"), value.encode("latin-1")) for name, value in response.items()
    ]
    await send({"type": "http.response.start", "status": response.status_code,
                "headers": headers})  # fmt: skip
    await send({"type": "http.response.body", "body": response.content})
