"""The bare uvicorn app the idle long-poll memory is compared with: it holds every request
until the client goes away, and does nothing else."""

from __future__ import annotations

from typing import Any


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    while (await receive())["type"] != "http.disconnect":
        pass
