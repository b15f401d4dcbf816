"""Where a downloader may write: the rules for a main folder and for what is placed below it.

One definition for both sides: the service refuses a bad main folder when a firm sets it, and
the downloader refuses it again, whatever its server says. Pure functions of the text, no I/O:
Windows forms (a drive letter, backslashes, a UNC path) are judged with Windows rules on any
platform, so a Linux server judges a Windows PC's folder as Windows would.
"""

from __future__ import annotations

import ntpath
import posixpath
import re
from dataclasses import dataclass
from enum import StrEnum

# What a connector delivers: UBL invoices (with the PDF inside) and, for some packages, the
# PDF beside them. Anything else (.bat, .lnk, .desktop, .exe…) is never a payload.
PAYLOAD_SUFFIXES = frozenset({".xml", ".pdf"})
# A folder connector writes `<dossier folder>/<sub-folder>/<file>` (`ACME01/achats/…xml`).
PAYLOAD_DEPTH = 3
FOLDER_DEPTHS = frozenset({1, 2})


class Refusal(StrEnum):
    NOT_ABSOLUTE = "not_absolute"
    NOT_PLAIN = "not_plain"
    ROOT = "root"
    SYSTEM = "system"
    PROGRAMS = "programs"
    STARTUP = "startup"
    PROFILE = "profile"
    NETWORK = "network"


@dataclass(frozen=True)
class FolderProblem:
    refusal: Refusal
    message: str  # English, for logs and the downloader; the service words it per language


_WINDOWS_FORM = re.compile(r"^(?:[A-Za-z]:|\\\\|//[^/])|\\")
_DEVICE_NAMESPACE = re.compile(r"^\\\\[?.]\\|^\\\?\?\\")
_SHORT_NAME = re.compile(r"~\d")  # PROGRA~1: an 8.3 alias could hide any of the names below
_WINDOWS_VARIABLE = re.compile(r"%[^%]*%")
# Names Windows keeps for devices (in any folder, with any extension) and characters it refuses
# in a name: such a main folder could never be made.
_WINDOWS_DEVICE_NAMES = frozenset(
    ["con", "prn", "aux", "nul", "conin$", "conout$"]
    + [f"{port}{n}" for port in ("com", "lpt") for n in [*"123456789", "¹", "²", "³"]]
)
_WINDOWS_FORBIDDEN = re.compile(r'[<>"|?*\x00-\x1f]')
_POSIX_VARIABLE = re.compile(r"\$")

_WINDOWS_SYSTEM = frozenset(
    {
        "windows",
        "winnt",
        "boot",
        "recovery",
        "system volume information",
        "$recycle.bin",
        "config.msi",
        "$windows.~bt",
        "$windows.~ws",
        "$sysreset",
        "$winreagent",
    }
)
_WINDOWS_PROGRAMS = frozenset(
    {"program files", "program files (x86)", "program files (arm)", "programdata", "msocache"}
)
_WINDOWS_PROFILES = frozenset({"users", "documents and settings"})
_WINDOWS_SHARED_PROFILES = frozenset({"default", "default user", "all users"})
_WINDOWS_PROFILE_CONFIG = frozenset({"appdata", "application data", "local settings"})
_STARTUP = frozenset(
    {
        "start menu",
        "startup",
        "autostart",
        "launchagents",
        "launchdaemons",
        "startupitems",
        "init.d",
        "profile.d",
        "systemd",
        "xdg",
    }
)
_POSIX_SYSTEM = frozenset(
    {
        "bin",
        "boot",
        "dev",
        "etc",
        "lib",
        "lib32",
        "lib64",
        "libx32",
        "proc",
        "run",
        "sbin",
        "sys",
        "usr",
        "system",
        "private",
        "cores",
        "lost+found",
    }
)
_POSIX_PROGRAMS = frozenset({"opt", "applications", "snap", "nix", "gnu", "library"})
_POSIX_VAR_SYSTEM = frozenset(
    {"lib", "run", "lock", "spool", "cache", "log", "db", "mail", "backups", "empty", "local"}
)
_POSIX_PROFILES = frozenset({"home", "users"})
_POSIX_PROFILE_CONFIG = frozenset({"library", "appdata"})


def is_windows_form(folder: str) -> bool:
    """`C:\\x`, `c:/x`, `\\\\server\\share` or anything with a backslash."""
    return bool(_WINDOWS_FORM.search(folder))


def main_folder_problem(folder: str, *, network_allowed: bool = False) -> FolderProblem | None:
    """Why `folder` may not be a main folder, or None when it may.

    Refused: relative paths, drive and file-system roots, system, program, start-up and profile
    configuration locations (and the profile folders themselves), and network paths unless
    `network_allowed` (the service: a device marked as the firm's shared server; the
    downloader: a folder allowed on the machine itself)."""
    if not folder or any(ord(char) < 32 for char in folder):
        return FolderProblem(
            Refusal.NOT_ABSOLUTE, "the main folder is empty or has control characters"
        )
    if is_windows_form(folder):
        return _windows_problem(folder, network_allowed=network_allowed)
    return _posix_problem(folder)


def is_network_form(folder: str) -> bool:
    """A UNC path (`\\\\server\\share`, `//server/share`) names a folder on another machine."""
    return folder.replace("/", "\\").startswith("\\\\") and not _DEVICE_NAMESPACE.match(
        folder.replace("/", "\\")
    )


def same_folder(first: str, second: str) -> bool:
    """Whether two spellings name one folder: Windows forms ignore case and the separator."""
    if is_windows_form(first) or is_windows_form(second):
        return _windows_key(first) == _windows_key(second)
    return posixpath.normpath(first) == posixpath.normpath(second)


def payload_problem(relative_path: str) -> str | None:
    """Why a file may not be placed at `relative_path` (below the main folder), or None.
    Only the shape and the type: the placer checks each name's characters besides."""
    segments = relative_path.replace("\\", "/").split("/")
    if len(segments) != PAYLOAD_DEPTH:
        return (
            f"a file goes in a dossier folder's sub-folder (dossier/sub-folder/file), "
            f"not {len(segments)} level(s) deep"
        )
    suffix = posixpath.splitext(segments[-1])[1].lower()
    if suffix not in PAYLOAD_SUFFIXES:
        allowed = ", ".join(sorted(PAYLOAD_SUFFIXES))
        return f"only {allowed} files are placed, not {suffix or 'a file without extension'!r}"
    return None


def folder_problem(relative_path: str) -> str | None:
    """Why the downloader may not create `relative_path` (a dossier folder or its sub-folder)."""
    depth = len(relative_path.replace("\\", "/").split("/"))
    if depth not in FOLDER_DEPTHS:
        return f"a folder is a dossier folder or its sub-folder, not {depth} levels deep"
    return None


# ---- Windows forms -----------------------------------------------------------------------


def _windows_problem(folder: str, *, network_allowed: bool) -> FolderProblem | None:
    text = folder.replace("/", "\\")
    if _DEVICE_NAMESPACE.match(text):
        return FolderProblem(
            Refusal.NOT_PLAIN, r"device paths (\\?\, \\.\) are not accepted: write C:\folder"
        )
    drive, rest = ntpath.splitdrive(text)
    segments = [segment for segment in rest.split("\\") if segment]
    unc = drive.startswith("\\\\")
    if not unc and (len(drive) != 2 or not rest.startswith("\\")):
        return FolderProblem(
            Refusal.NOT_ABSOLUTE, "the main folder must start with a drive, such as C:\\"
        )
    if problem := _plain_problem(segments, windows=True):
        return problem
    if unc:
        return _unc_problem(drive, segments, network_allowed=network_allowed)
    return _windows_local_problem(segments)


def _unc_problem(share: str, segments: list[str], *, network_allowed: bool) -> FolderProblem | None:
    host_and_share = [part for part in share.split("\\") if part]
    if len(host_and_share) != 2:
        return FolderProblem(Refusal.NOT_ABSOLUTE, "a network path is \\\\server\\share\\folder")
    name = host_and_share[1].casefold()
    # Administrative shares are whole drives (C$) or the system folder (ADMIN$, IPC$).
    if name.endswith("$") and not (len(name) == 2 and name[0].isalpha()):
        return FolderProblem(Refusal.SYSTEM, f"{share} is an administrative share")
    drive_share = name.endswith("$")
    if problem := (_windows_local_problem if drive_share else _anywhere_problem)(segments):
        return problem
    if not network_allowed:
        return FolderProblem(
            Refusal.NETWORK,
            f"{share} is a network folder: only a device serving a shared folder may use one",
        )
    return None


def _windows_local_problem(segments: list[str]) -> FolderProblem | None:
    names = [segment.casefold() for segment in segments]
    if not names:
        return FolderProblem(Refusal.ROOT, "the root of a drive is not a main folder")
    if names[0] in _WINDOWS_SYSTEM:
        return FolderProblem(Refusal.SYSTEM, f"{segments[0]} is a system folder")
    if names[0] in _WINDOWS_PROGRAMS:
        return FolderProblem(Refusal.PROGRAMS, f"{segments[0]} is where programs live")
    if names[0] in _WINDOWS_PROFILES:
        if len(names) <= 2 or names[1] in _WINDOWS_SHARED_PROFILES:
            return FolderProblem(
                Refusal.PROFILE, "a user profile folder itself is not a main folder"
            )
        if names[2] in _WINDOWS_PROFILE_CONFIG or names[2].startswith("."):
            return FolderProblem(Refusal.PROFILE, f"{segments[2]} holds a user's settings")
    return _anywhere_problem(segments)


def _windows_key(folder: str) -> str:
    return ntpath.normpath(folder.replace("/", "\\")).rstrip("\\").casefold()


# ---- POSIX forms -------------------------------------------------------------------------


def _posix_problem(folder: str) -> FolderProblem | None:
    # `//server/share` is a Windows form (UNC) and judged as one.
    segments = [segment for segment in folder.split("/") if segment]
    home = folder.startswith("~")
    if not (folder.startswith("/") or home):
        return FolderProblem(
            Refusal.NOT_ABSOLUTE, "the main folder must be absolute, such as /srv/bob-demat"
        )
    if home:  # `~` or `~user`: the profile folder, expanded on the device
        if problem := _plain_problem(segments[1:], windows=False):
            return problem
        return _profile_problem(segments[1:])
    if problem := _plain_problem(segments, windows=False):
        return problem
    return _posix_local_problem(segments)


def _posix_local_problem(segments: list[str]) -> FolderProblem | None:
    names = [segment.casefold() for segment in segments]
    if not names:
        return FolderProblem(Refusal.ROOT, "the root of the file system is not a main folder")
    if names[0] == "private" and len(names) > 1:  # macOS: /private/etc is /etc, and so on
        return _posix_local_problem(segments[1:])
    if names[0] in _POSIX_SYSTEM:
        return FolderProblem(Refusal.SYSTEM, f"/{segments[0]} is a system folder")
    if names[0] == "var" and (len(names) == 1 or names[1] in _POSIX_VAR_SYSTEM):
        return FolderProblem(Refusal.SYSTEM, f"{'/'.join(['', *segments[:2]])} is a system folder")
    if names[0] in _POSIX_PROGRAMS:
        return FolderProblem(Refusal.PROGRAMS, f"/{segments[0]} is where programs live")
    if names[0] == "root":  # the administrator's profile folder
        return _profile_problem(segments[1:])
    if names[0] in _POSIX_PROFILES:
        if len(names) == 1:
            return FolderProblem(Refusal.PROFILE, f"/{segments[0]} holds the user profiles")
        return _profile_problem(segments[2:])
    return _anywhere_problem(segments)


def _profile_problem(below_profile: list[str]) -> FolderProblem | None:
    """`below_profile`: the segments after a user's profile folder (`~`, `/home/kevin`)."""
    if not below_profile:
        return FolderProblem(Refusal.PROFILE, "a user profile folder itself is not a main folder")
    if below_profile[0].casefold() in _POSIX_PROFILE_CONFIG:
        return FolderProblem(Refusal.PROFILE, f"{below_profile[0]} holds a user's settings")
    return _anywhere_problem(below_profile)


# ---- both --------------------------------------------------------------------------------


def _plain_problem(segments: list[str], *, windows: bool) -> FolderProblem | None:
    for segment in segments:
        if segment in {".", ".."}:
            return FolderProblem(Refusal.NOT_PLAIN, "write the main folder without . or ..")
        if (_WINDOWS_VARIABLE if windows else _POSIX_VARIABLE).search(segment):
            return FolderProblem(
                Refusal.NOT_PLAIN, "variables ($HOME, %APPDATA%) are not expanded in a main folder"
            )
        if windows and (
            ":" in segment or segment[-1] in ". " or _SHORT_NAME.search(segment) is not None
        ):
            return FolderProblem(
                Refusal.NOT_PLAIN,
                f"{segment!r}: write each folder's full name (no ~1 short names, streams, "
                "or trailing dots and spaces)",
            )
        if windows and (
            _WINDOWS_FORBIDDEN.search(segment)
            or segment.split(".")[0].rstrip(" ").casefold() in _WINDOWS_DEVICE_NAMES
        ):
            return FolderProblem(
                Refusal.NOT_PLAIN,
                f"{segment!r} is a device name or has a character Windows refuses in a name",
            )
    return None


def _anywhere_problem(segments: list[str]) -> FolderProblem | None:
    for segment in segments:
        name = segment.casefold()
        if name in _STARTUP:
            return FolderProblem(Refusal.STARTUP, f"{segment} starts programs at log-in or boot")
        if name in _WINDOWS_PROFILE_CONFIG:
            return FolderProblem(Refusal.PROFILE, f"{segment} holds a user's settings")
        if name.startswith("."):
            return FolderProblem(Refusal.PROFILE, f"{segment} is a hidden settings folder")
    return None
