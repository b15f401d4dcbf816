"""The ASGI shapes shared by the gates that stand in front of Django (admission, long-poll)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Any]]
Send = Callable[[Any], Awaitable[None]]
ASGIApp = Callable[..., Awaitable[Any]]  # Django's handler types its arguments its own way


def header(scope: Scope, name: bytes) -> str:
    """The first value of the request header `name` (lower case, as ASGI gives names), or ""."""
    for key, value in scope.get("headers", []):
        if key == name:
            return str(value.decode("latin-1"))
    return ""
