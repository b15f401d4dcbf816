"""What this machine lets a server make it write, whatever the server says.

The server decides *what* to place; this module bounds *where* and *which*: only connector
payloads (`.xml`, `.pdf`) in the shape a folder connector produces (dossier folder, sub-folder,
file), only below a main folder that passes the shared rules (`ledgerdrop_protocol.paths`)
here too — no root, system, program, start-up or profile location — and a network folder only
when it is allowed on this machine (`ledgerdrop-agent allow-network-folder`, or `run --root`).
A refusal is a permanent PlacementError: reported to the server as failed, never placed.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import json
import os
import re
import sys
from collections.abc import Iterable
from pathlib import Path

from ledgerdrop_agent import i18n
from ledgerdrop_agent.config import ensure_home, fsync_folder
from ledgerdrop_agent.i18n import _
from ledgerdrop_agent.placer import (
    PlacementError,
    Placer,
    UnsafePathError,
    check_relative_path,
    resolve_root,
)
from ledgerdrop_protocol import FailReason
from ledgerdrop_protocol.paths import (
    FolderProblem,
    Refusal,
    folder_problem,
    is_network_form,
    main_folder_problem,
    payload_problem,
    same_folder,
)

POLICY_FILE = "policy.json"
# File systems that live on another machine (Linux `/proc/self/mountinfo` types).
NETWORK_FILE_SYSTEMS = frozenset(
    {
        "nfs",
        "nfs4",
        "cifs",
        "smb3",
        "smbfs",
        "ncpfs",
        "afs",
        "9p",
        "ceph",
        "glusterfs",
        "lustre",
        "davfs",
        "fuse.sshfs",
        "fuse.rclone",
        "fuse.davfs2",
        "fuse.s3fs",
        "fuse.glusterfs",
    }
)
_OCTAL_ESCAPE = re.compile(r"\\([0-7]{3})")
_DRIVE_REMOTE = 4  # GetDriveTypeW: a network drive (a mapped letter too)


class RefusedMainFolderError(PlacementError):
    def __init__(self, folder: str, why: str) -> None:
        super().__init__(
            FailReason.UNSAFE_MAIN_FOLDER,
            _("the main folder {folder} was refused by this device: {why}").format(
                folder=repr(folder), why=why
            ),
            permanent=True,
        )


# ---- the main folder ---------------------------------------------------------------------


def main_folder(configured: str, override: Path | None, home: Path | None) -> Path:
    """The main folder to write under: the server's setting (or `--root`), checked here."""
    allowed = allowed_network_folders(home) if home is not None else []
    # `--root` is typed on this machine: a network folder there is the machine's own choice.
    network_allowed = override is not None or any(same_folder(configured, f) for f in allowed)
    if override is None:
        problem = main_folder_problem(configured, network_allowed=network_allowed)
        if problem is not None:
            raise RefusedMainFolderError(
                configured, _advice(problem.refusal, _why(problem), configured)
            )
    root = resolve_root(configured, override)
    local = str(root)
    real = os.path.realpath(root)
    network_allowed = network_allowed or any(
        same_folder(local, f) or same_folder(real, f) for f in allowed
    )
    for candidate in dict.fromkeys([local, real]):  # where a link or junction really leads too
        if problem := main_folder_problem(candidate, network_allowed=network_allowed):
            raise RefusedMainFolderError(local, _advice(problem.refusal, _why(problem), local))
    if not network_allowed and (network := network_location(Path(real))):
        why = _(
            "it is on the network ({where}); only a folder allowed on this machine may be"
        ).format(where=network)
        raise RefusedMainFolderError(local, _advice(Refusal.NETWORK, why, local))
    return root


def _why(problem: FolderProblem) -> str:
    """The refusal in the user's language. The shared rules name the exact folder at fault in
    English only (ledgerdrop_protocol has no catalogue); another language says which kind of
    folder it is."""
    if i18n.language() == i18n.SOURCE_LANGUAGE:
        return problem.message
    kinds = {
        Refusal.NOT_ABSOLUTE: _("the main folder must be an absolute path"),
        Refusal.NOT_PLAIN: _(
            "write the main folder in full: no . or .., variables, short names such as "
            "PROGRA~1, streams, device paths or names (CON, NUL), nor the characters "
            '< > " | ? *'
        ),
        Refusal.ROOT: _("the root of a drive or of the file system is not a main folder"),
        Refusal.SYSTEM: _("it is a system folder"),
        Refusal.PROGRAMS: _("programs are installed there"),
        Refusal.STARTUP: _("files there start at sign-in or start-up"),
        Refusal.PROFILE: _("it is a user profile folder or a folder of a user's settings"),
        Refusal.NETWORK: _("it is a network folder"),
    }
    return kinds[problem.refusal]


def _advice(refusal: Refusal, why: str, folder: str) -> str:
    if refusal is Refusal.NETWORK:
        return _(
            "{why}. If this machine should write to that shared folder, allow it here: "
            "ledgerdrop-agent allow-network-folder {folder}"
        ).format(why=why, folder=_quoted(folder))
    return _("{why}. Choose a dedicated folder, such as c:\\bob-demat or /srv/bob-demat").format(
        why=why
    )


def _quoted(folder: str) -> str:
    return f'"{folder}"' if " " in folder else folder


def network_location(path: Path) -> str | None:
    """What makes `path` a network folder on this machine (a UNC path, a network drive, a
    network file system's mount), or None when it is local."""
    if is_network_form(str(path)):
        return _("a UNC path")
    if sys.platform == "win32":
        drive = os.path.splitdrive(path)[0]
        if drive and ctypes.windll.kernel32.GetDriveTypeW(drive + "\\") == _DRIVE_REMOTE:
            return _("{drive} is a network drive").format(drive=drive)
        return None
    try:
        mountinfo = Path("/proc/self/mountinfo").read_text(encoding="utf-8")
    except OSError:
        return None
    kind = mount_type(str(path), mountinfo)
    return _("a {kind} mount").format(kind=kind) if kind in NETWORK_FILE_SYSTEMS else None


def mount_type(path: str, mountinfo: str) -> str | None:
    """The file-system type of the mount holding `path`, from `/proc/self/mountinfo` text."""
    best, kind = "", None
    for line in mountinfo.splitlines():
        fields, _, after = line.partition(" - ")
        parts = fields.split()
        if len(parts) < 5 or not after:
            continue
        point = _OCTAL_ESCAPE.sub(lambda match: chr(int(match[1], 8)), parts[4])  # \040: space
        inside = path == point or path.startswith(point.rstrip("/") + "/")
        if inside and len(point) >= len(best):
            best, kind = point, after.split()[0]
    return kind


# ---- what is placed ----------------------------------------------------------------------


def check_offer(relative_path: str) -> tuple[str, ...]:
    """The segments of an offered file's path, or UnsafePathError: a safe name, a payload
    type, at the depth a folder connector writes."""
    segments = check_relative_path(relative_path)
    if problem := payload_problem(relative_path):
        raise UnsafePathError(relative_path, problem)
    return segments


def make_folders(placer: Placer, folders: Iterable[str]) -> list[PlacementError]:
    """Create the dossier folders the server lists, refusing any other shape."""
    problems: list[PlacementError] = []
    allowed: list[str] = []
    for folder in folders:
        if problem := folder_problem(folder):
            problems.append(UnsafePathError(folder, problem))
        else:
            allowed.append(folder)
    return problems + placer.make_folders(allowed)


# ---- network folders allowed on this machine ---------------------------------------------


def allowed_network_folders(home: Path) -> list[str]:
    try:
        data = json.loads((home / POLICY_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    folders = data.get("network_folders", []) if isinstance(data, dict) else []
    return [str(folder) for folder in folders if isinstance(folder, str)]


def set_network_folder(home: Path, folder: str, *, allowed: bool) -> list[str]:
    """Allow (or no longer allow) one network main folder; return the allowed ones."""
    folders = [f for f in allowed_network_folders(home) if not same_folder(f, folder)]
    if allowed:
        folders.append(folder)
    ensure_home(home)
    path = home / POLICY_FILE
    temporary = home / f".{POLICY_FILE}.{os.getpid()}.tmp"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump({"network_folders": folders}, handle, indent=2)
            handle.flush()
            os.fsync(handle.fileno())
        temporary.replace(path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
        raise
    fsync_folder(home)
    return folders


def add_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    command = commands.add_parser(
        "allow-network-folder",
        help=_(
            "let the server's main folder be this network folder (UNC path, network drive or mount)"
        ),
    )
    command.add_argument(
        "folder",
        help=_("exactly as set on the server, e.g. {example}").format(example=r"\\nas\compta\bob"),
    )
    command.add_argument("--remove", action="store_true", help=_("no longer allow it"))
    command.set_defaults(handler=_allow_network_folder)


def _allow_network_folder(args: argparse.Namespace, home: Path) -> int:
    folder: str = args.folder
    if not args.remove and (problem := main_folder_problem(folder, network_allowed=True)):
        print(
            _("{folder} cannot be a main folder: {why}.").format(folder=folder, why=_why(problem)),
            file=sys.stderr,
        )
        return 2
    folders = set_network_folder(home, folder, allowed=not args.remove)
    print(
        (_("No longer allowed: {folder}") if args.remove else _("Allowed: {folder}")).format(
            folder=folder
        )
    )
    print(
        _("Network main folders allowed on this machine: {folders}").format(
            folders=", ".join(folders) or _("none")
        )
    )
    return 0
