"""How a floor learns of the floors above it without importing them.

An app defines a registry for what it wants to be told (the applications a firm can switch on,
the slots of the documents pages); connectors fill it from their `AppConfig.ready()`. The app
that reads the registry names no connector, so adding one changes nothing below it — the way
pretix plugins answer the signals of its core."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Generic, TypeVar

from django.core.exceptions import ImproperlyConfigured

T = TypeVar("T")


class Registry(Generic[T]):
    """Entries by key, in the order they were registered."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._entries: dict[str, T] = {}

    def register(self, key: str, entry: T) -> None:
        # `ready()` may run twice for one entry (a test that reloads apps): that is harmless.
        # Two apps claiming one key is a mistake to hear of at start-up, not a silent overwrite.
        if key in self._entries and self._entries[key] != entry:
            raise ImproperlyConfigured(f"{self.name}: {key!r} is registered twice.")
        self._entries[key] = entry

    def unregister(self, key: str) -> None:
        self._entries.pop(key, None)

    def get(self, key: str) -> T | None:
        return self._entries.get(key)

    def __iter__(self) -> Iterator[T]:
        return iter(list(self._entries.values()))

    def __repr__(self) -> str:
        return f"<Registry {self.name}: {', '.join(self._entries)}>"
