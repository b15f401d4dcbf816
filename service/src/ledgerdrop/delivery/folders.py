"""Which folders a device should keep, and which main folders they still fit in, as connectors
see it.

`delivery` knows nothing about any accounting package, yet each offer tells the device which
folders to create (so that an accountant sees `<code>/achats` appear as soon as a connection is
made), and a device's main folder may not move where a connection's files could no longer be
opened. Connectors register a provider and a check here from their AppConfig.ready()."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from django.utils.translation import gettext as _

from ledgerdrop.core.errors import Kind, ServiceError
from ledgerdrop.core.registries import Registry
from ledgerdrop_protocol import paths

if TYPE_CHECKING:
    from ledgerdrop.delivery.models import Device

FolderProvider = Callable[["Device"], Iterable[str]]
# Raises `main_folder_too_long(...)` when a file the connector places on the device would not
# fit below the main folder given.
MainFolderCheck = Callable[["Device", str], None]

# Windows' MAX_PATH is 260 characters with the terminating NUL. The downloader places longer
# paths (with the extended-length prefix), but Explorer and the accounting packages cannot open
# them.
WINDOWS_MAX_PATH = 259

_providers: list[FolderProvider] = []
MAIN_FOLDER_CHECKS: Registry[MainFolderCheck] = Registry("main folder checks")


def register(provider: FolderProvider) -> None:
    if provider not in _providers:
        _providers.append(provider)


def folders_for(device: Device) -> list[str]:
    return sorted({folder for provider in _providers for folder in provider(device)})


def check_main_folder(device: Device, main_folder: str) -> None:
    """Refuses `main_folder` for `device` when a connection's files would not fit below it."""
    for check in MAIN_FOLDER_CHECKS:
        check(device, main_folder)


def on_device(main_folder: str, relative: str) -> str:
    """The path of a file below the main folder, with the device's own separator."""
    separator = "\\" if paths.is_windows_form(main_folder) else "/"
    return main_folder.rstrip("\\/") + separator + relative.replace("/", separator)


def too_long_for_windows(main_folder: str, full: str) -> bool:
    return paths.is_windows_form(main_folder) and len(full) > WINDOWS_MAX_PATH


def main_folder_too_long(dossier: str, package: str, full: str) -> ServiceError:
    """The refusal of a main folder below which a file a connection places (of `dossier`, for
    the accounting `package`) would be longer than Windows allows."""
    return ServiceError(
        "main_folder_too_long",
        _(
            "With this main folder, the files of the dossier %(dossier)s for %(package)s could "
            "not be opened on Windows: %(path)s is longer than %(max)s characters. Choose a "
            "shorter main folder."
        )
        % {"dossier": dossier, "package": package, "path": full, "max": WINDOWS_MAX_PATH},
        Kind.CONFLICT,
    )
