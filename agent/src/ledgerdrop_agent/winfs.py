"""Where Windows file systems differ from POSIX ones, in one place.

- Files are opened in binary mode (`O_BINARY`): the C runtime's default text mode would turn
  every `\\n` of an invoice into `\\r\\n`.
- `FlushFileBuffers` (behind `os.fsync`) needs a handle opened for writing.
- Paths beyond 260 characters need the `\\\\?\\` prefix unless long paths are enabled machine-wide.
- A file held open by another program (the accounting software, an antivirus scanning what was
  just written, a backup) refuses links, renames and deletes with a *sharing violation* for a
  moment: such operations are retried, then fail with that reason.
- FAT/exFAT drives and many SMB shares have no hard links: the caller falls back to a rename,
  which on Windows never replaces an existing file.
- SQLite's WAL mode needs shared memory, which a network drive does not give.
"""

from __future__ import annotations

import ctypes
import errno
import os
import re
import time
from collections.abc import Callable
from pathlib import Path, PureWindowsPath
from typing import TypeVar

T = TypeVar("T")

O_BINARY: int = getattr(os, "O_BINARY", 0)
# Windows refuses paths of 260 characters or more (248 for a folder being created) unless they
# carry the extended-length prefix; shorter ones are left alone so that messages stay readable.
LONG_PATH = 248
EXTENDED_PREFIX = "\\\\?\\"

# Windows error codes (winerror.h) that Python maps to errno values too vague to act on.
ERROR_INVALID_FUNCTION = 1  # a file system without CreateHardLink (FAT, some SMB servers)
ERROR_NOT_SAME_DEVICE = 17
ERROR_SHARING_VIOLATION = 32
ERROR_LOCK_VIOLATION = 33
ERROR_NOT_SUPPORTED = 50
ERROR_INVALID_PARAMETER = 87
ERROR_TOO_MANY_LINKS = 1142
_SHARING = frozenset({ERROR_SHARING_VIOLATION, ERROR_LOCK_VIOLATION})
_NO_LINKS_WINERROR = frozenset(
    {
        ERROR_INVALID_FUNCTION,
        ERROR_NOT_SAME_DEVICE,
        ERROR_NOT_SUPPORTED,
        ERROR_INVALID_PARAMETER,
        ERROR_TOO_MANY_LINKS,
    }
)
# The errors with which a POSIX file system says it has no hard links (FAT, exFAT, SMB mounts).
_NO_LINKS_ERRNO = frozenset(
    {errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.ENOSYS, errno.EMLINK}
)
# An antivirus usually lets go within a second; the accounting software may hold a file for
# its whole import, in which case the next poll tries again.
SHARING_DELAYS = (0.05, 0.1, 0.2, 0.4, 0.8, 1.6)

DRIVE_REMOTE = 4  # GetDriveTypeW
_NETWORK_FILE_SYSTEMS = frozenset(
    {"nfs", "nfs4", "cifs", "smb3", "smbfs", "9p", "afs", "ceph", "glusterfs", "fuse.sshfs"}
)
_UNC = re.compile(r"^(\\\\|//)(?![?.][\\/])")


def is_sharing_violation(exc: OSError) -> bool:
    """The file is open in another program that did not allow sharing it."""
    return getattr(exc, "winerror", None) in _SHARING


def may_be_shared(exc: OSError) -> bool:
    """A sharing violation, or an error that may hide one: opening a file goes through the C
    runtime, which reports a sharing violation as a plain EACCES without the Windows code."""
    if is_sharing_violation(exc):
        return True
    return os.name == "nt" and exc.errno == errno.EACCES and getattr(exc, "winerror", None) is None


def links_unsupported(exc: OSError) -> bool:
    """The file system has no hard links (as opposed to: the name is taken, or access denied)."""
    winerror = getattr(exc, "winerror", None)
    if winerror is not None:
        return winerror in _NO_LINKS_WINERROR
    return exc.errno in _NO_LINKS_ERRNO


def retry_shared(
    operation: Callable[[], T],
    *,
    delays: tuple[float, ...] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Run `operation`, again after a pause while another program holds the file."""
    for delay in SHARING_DELAYS if delays is None else delays:
        try:
            return operation()
        except OSError as exc:
            if not may_be_shared(exc):
                raise
        sleep(delay)
    return operation()


def extended(path: Path) -> Path:
    """On Windows, the `\\\\?\\` form of a long absolute path; any other path unchanged."""
    if os.name != "nt":
        return path
    return Path(extended_windows_path(str(path)))


def extended_windows_path(path: str, *, limit: int = LONG_PATH) -> str:
    if len(path) < limit or path.startswith(EXTENDED_PREFIX):
        return path
    if not PureWindowsPath(path).is_absolute():
        return path  # the prefix is only valid before a full path
    if _UNC.match(path):
        return EXTENDED_PREFIX + "UNC\\" + path[2:].replace("/", "\\")
    return EXTENDED_PREFIX + path.replace("/", "\\")


def plain(path: Path) -> Path:
    """The path without the `\\\\?\\` prefix, as a person would type it (for messages)."""
    text = str(path)
    if text.startswith(EXTENDED_PREFIX + "UNC\\"):
        return Path("\\\\" + text[len(EXTENDED_PREFIX) + 4 :])
    if text.startswith(EXTENDED_PREFIX):
        return Path(text[len(EXTENDED_PREFIX) :])
    return path


def flush_file(path: str | Path) -> None:
    """Make a file's bytes durable. Windows flushes only through a handle open for writing."""
    flags = (os.O_RDWR | O_BINARY) if os.name == "nt" else os.O_RDONLY
    fd = retry_shared(lambda: os.open(path, flags))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def on_network_drive(path: Path) -> bool:
    """Whether `path` lies on a network file system (an SMB share, a mapped drive, NFS)."""
    text = str(path)
    if _UNC.match(text) or text.startswith(EXTENDED_PREFIX + "UNC\\"):
        return True
    if os.name == "nt":
        return _windows_drive_type(text) == DRIVE_REMOTE
    return _mount_type(path) in _NETWORK_FILE_SYSTEMS


def _windows_drive_type(path: str) -> int:
    drive = PureWindowsPath(plain(Path(path))).anchor
    if not drive:
        return 0
    kernel32 = ctypes.WinDLL("kernel32")  # type: ignore[attr-defined, unused-ignore]
    result: int = kernel32.GetDriveTypeW(ctypes.c_wchar_p(drive))
    return result


def _mount_type(path: Path) -> str:
    """The type of the file system holding `path`, from /proc/mounts (Linux); "" if unknown."""
    try:
        lines = Path("/proc/mounts").read_text(encoding="utf-8").splitlines()
    except OSError:
        return ""
    target = os.path.realpath(path)
    best, kind = "", ""
    for line in lines:
        fields = line.split()
        if len(fields) < 3:
            continue
        mount = fields[1].replace("\\040", " ")
        inside = target == mount or target.startswith(mount.rstrip("/") + "/")
        if inside and len(mount) >= len(best):
            best, kind = mount, fields[2]
    return kind
