"""Which folders a device should keep, as connectors see it.

`delivery` knows nothing about any accounting package, yet each offer tells the device which
folders to create (so that an accountant sees `<code>/achats` appear as soon as a connection is
made). Connectors register a provider here from their AppConfig.ready()."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ledgerdrop.delivery.models import Device

FolderProvider = Callable[["Device"], Iterable[str]]

_providers: list[FolderProvider] = []


def register(provider: FolderProvider) -> None:
    if provider not in _providers:
        _providers.append(provider)


def folders_for(device: Device) -> list[str]:
    return sorted({folder for provider in _providers for folder in provider(device)})
