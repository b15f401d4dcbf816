"""The main folder, as a careful sync tool treats it: made the first time it is set (when its
parent exists), marked with a small hidden file, and never made again once it has been in use.

A main folder that was in use and is gone is nearly always a removed drive or an unmounted
share — and on Linux an unmounted share leaves its empty mount point behind. Writing there
would put the invoices on the wrong disk, out of the accounting software's sight. So a folder
this device has marked must still carry its marker; without it, nothing is placed and the
device reports the folder as vanished, until the drive is back or someone puts the marker back.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from ledgerdrop_agent.config import fsync_folder
from ledgerdrop_agent.i18n import _
from ledgerdrop_agent.journal import Journal
from ledgerdrop_agent.placer import PlacementError
from ledgerdrop_protocol import FailReason, MainFolderProblem

MARKER = ".ledgerdrop"
_MARKER_TEXT = (
    "This folder is the main folder of the Ledgerdrop downloader. Keep this file: without it\n"
    "the downloader takes the folder for a removed drive or an unmounted share and places\n"
    "nothing here.\n"
)
_FILE_ATTRIBUTE_HIDDEN = 0x2


class MainFolderError(PlacementError):
    """The main folder cannot take files now; retried at every poll, reported to the server."""

    def __init__(self, problem: MainFolderProblem, message: str) -> None:
        reason = (
            FailReason.FOLDER_NOT_WRITABLE
            if problem is MainFolderProblem.NOT_WRITABLE
            else FailReason.FOLDER_MISSING
        )
        super().__init__(reason, message, permanent=False)
        self.problem = problem


def open_main_folder(root: Path, journal: Journal) -> bool:
    """Make sure `root` may take files; return whether it was created now."""
    marker = root / MARKER
    if marker.is_file():
        return False
    if journal.was_marked(root):
        raise MainFolderError(
            MainFolderProblem.VANISHED,
            _(
                "the main folder {folder} has disappeared (a removed drive or a disconnected "
                "network share?): it is not created again, so that no document lands on the "
                "wrong disk. Reconnect it; if it was removed on purpose, create it again with "
                "an empty file named {marker} in it, or choose another main folder."
            ).format(folder=root, marker=MARKER),
        )
    created = False
    if not root.exists():
        if not root.parent.is_dir():
            raise MainFolderError(
                MainFolderProblem.MISSING,
                _(
                    "the main folder {folder} does not exist and cannot be created: its parent "
                    "folder {parent} does not exist either. Create it, or choose another main "
                    "folder."
                ).format(folder=root, parent=root.parent),
            )
        try:
            root.mkdir()
        except FileExistsError:
            pass  # made by someone else meanwhile: fine
        except OSError as exc:
            raise _not_writable(root, exc) from exc
        else:
            created = True
    elif not root.is_dir():
        raise MainFolderError(
            MainFolderProblem.MISSING,
            _("the main folder {folder} is a file, not a folder").format(folder=root),
        )
    try:
        _write_marker(marker)
        fsync_folder(root)
        if created:
            fsync_folder(root.parent)
    except OSError as exc:
        raise _not_writable(root, exc) from exc
    journal.note_marked(root)
    return created


def problem_of(exc: PlacementError) -> MainFolderProblem:
    """How a refusal of the main folder that is not ours (resolving it, checking it) shows."""
    if isinstance(exc, MainFolderError):
        return exc.problem
    if exc.reason is FailReason.FOLDER_NOT_WRITABLE:
        return MainFolderProblem.NOT_WRITABLE
    if exc.reason is FailReason.FOLDER_MISSING:
        # Permanent: the setting itself cannot work here (e.g. a Windows path on Linux).
        return MainFolderProblem.REFUSED if exc.permanent else MainFolderProblem.MISSING
    if exc.reason is FailReason.UNSAFE_PATH:  # the device's own policy refuses the folder
        return MainFolderProblem.REFUSED
    return MainFolderProblem.OTHER


def _write_marker(marker: Path) -> None:
    with contextlib.suppress(FileExistsError):
        fd = os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            os.write(fd, _MARKER_TEXT.encode())
            os.fsync(fd)
        finally:
            os.close(fd)
    if os.name == "nt":  # a dot does not hide a file on Windows; the attribute does
        import ctypes

        ctypes.windll.kernel32.SetFileAttributesW(str(marker), _FILE_ATTRIBUTE_HIDDEN)  # type: ignore[attr-defined]


def _not_writable(root: Path, exc: OSError) -> MainFolderError:
    return MainFolderError(
        MainFolderProblem.NOT_WRITABLE,
        _("cannot write in the main folder {folder}: {error}").format(
            folder=root, error=exc.strerror or exc
        ),
    )
