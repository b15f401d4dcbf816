"""Putting a delivered file in its folder: never outside the main folder, never half-written,
never over another file, never twice.

The order is fixed: download into `<main folder>/.ledgerdrop-staging/`, fsync, verify size and
SHA-256 of the file as it lies on disk, then move the staged file into place with an operation
that fails if the name is taken, so that nothing is ever overwritten (on Linux a rename with
RENAME_NOREPLACE, one metadata change; elsewhere, or where the file system lacks it, a hard link
then the staged name's removal), fsync the folder. Only then may the caller journal and ack.
Windows specifics (binary mode, long paths, files held open by another program, no hard links
on FAT or some shares) are in `winfs`.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import hashlib
import os
import platform
import re
import sys
import threading
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import BinaryIO

from ledgerdrop_agent.config import fsync_folder
from ledgerdrop_agent.winfs import (
    O_BINARY,
    extended,
    flush_file,
    is_sharing_violation,
    links_unsupported,
    may_be_shared,
    plain,
    retry_shared,
)
from ledgerdrop_protocol import FailReason

STAGING_FOLDER = ".ledgerdrop-staging"
MAX_SEGMENT = 120
MAX_PATH = 200
MAX_SUFFIX = 999
_CHUNK = 1 << 16
# Files staged from memory are at most a bundle part (1 MiB): read back in one or two calls.
_READ_BACK = 1 << 20

_RESERVED_NAMES = frozenset(
    ["CON", "PRN", "AUX", "NUL"]
    + [f"COM{n}" for n in range(1, 10)]
    + [f"LPT{n}" for n in range(1, 10)]
)
_PUNCTUATION = frozenset(" -_.()")
# Most names are plain ASCII: checked by one regular expression instead of char by char.
_PLAIN_SEGMENT = re.compile(r"[A-Za-z0-9 ._()-]*")
_WINDOWS_PATH = re.compile(r"^([A-Za-z]:|\\\\|//)|\\")
# Binary: in the C runtime's default text mode, Windows would write every \n as \r\n.
_CREATE = os.O_WRONLY | os.O_CREAT | O_BINARY
_CREATE_READABLE = os.O_RDWR | os.O_CREAT | O_BINARY


class PlacementError(Exception):
    """A delivery could not be placed. `permanent` problems are reported to the server at once;
    the others are retried, since a full disk or an unplugged drive usually heals."""

    def __init__(self, reason: FailReason, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.permanent = permanent


class UnsafePathError(PlacementError):
    def __init__(self, path: str, why: str) -> None:
        super().__init__(FailReason.UNSAFE_PATH, f"unsafe path {path!r}: {why}", permanent=True)


class ChecksumMismatchError(PlacementError):
    def __init__(self, message: str) -> None:
        super().__init__(FailReason.CHECKSUM_MISMATCH, message, permanent=False)


def check_relative_path(path: str) -> tuple[str, ...]:
    """Return the segments of a server-given path, or raise UnsafePathError.

    Checked on the device whatever the server says, with Windows rules everywhere: the same
    dossier folders may be opened from a Windows PC over a share.
    """
    if not path:
        raise UnsafePathError(path, "empty path")
    if len(path) > MAX_PATH:
        raise UnsafePathError(path, f"longer than {MAX_PATH} characters")
    if "\\" in path:
        raise UnsafePathError(path, "backslash")
    if path.startswith("/"):
        raise UnsafePathError(path, "absolute path")
    segments = tuple(path.split("/"))
    for segment in segments:
        _check_segment(path, segment)
    return segments


def _check_segment(path: str, segment: str) -> None:
    if not segment:
        raise UnsafePathError(path, "empty segment")
    if segment in {".", ".."}:
        raise UnsafePathError(path, f"{segment!r} segment")
    # A leading dot would hide the file, and could reach into the staging folder.
    if segment.startswith("."):
        raise UnsafePathError(path, f"segment {segment!r} starts with a dot")
    if len(segment) > MAX_SEGMENT:
        raise UnsafePathError(path, f"segment longer than {MAX_SEGMENT} characters")
    # Windows silently drops these, so two different names would land on one file.
    if segment[-1] in ". " or segment[0] == " ":
        raise UnsafePathError(
            path, f"segment {segment!r} starts with a space or ends with . or space"
        )
    if not _PLAIN_SEGMENT.fullmatch(segment):
        for char in segment:
            if not (
                char in _PUNCTUATION or (char.isascii() and char.isalnum()) or _is_letter(char)
            ):
                raise UnsafePathError(path, f"character {char!r} is not allowed")
    if segment.split(".")[0].rstrip(" ").upper() in _RESERVED_NAMES:
        raise UnsafePathError(path, f"{segment!r} is a reserved name on Windows")


def _is_letter(char: str) -> bool:
    # Letters of any script (é, ü, ø...); no combining marks, so a name has one spelling (NFC).
    return unicodedata.category(char).startswith("L")


def resolve_root(configured: str, override: Path | None = None) -> Path:
    """The main folder: `--root` if given, else the server's setting (`~` expanded)."""
    if override is not None:
        root = override.expanduser()
    else:
        if os.name != "nt" and _WINDOWS_PATH.search(configured):
            raise PlacementError(
                FailReason.FOLDER_MISSING,
                f"the main folder {configured!r} is a Windows path but this device runs "
                f"{platform.system()}: set a folder of this machine in the device settings "
                "or start the agent with --root",
                permanent=True,
            )
        root = Path(configured).expanduser()
    if not root.is_absolute():
        raise PlacementError(
            FailReason.FOLDER_MISSING,
            f"the main folder {str(root)!r} is not an absolute path",
            permanent=True,
        )
    return root


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with retry_shared(lambda: path.open("rb")) as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def local_problem(exc: OSError, what: str) -> PlacementError:
    """Name an operating system error in the words the server's UI uses."""
    if is_sharing_violation(exc):
        reason = FailReason.OTHER
        text = "the file is in use by another program (the accounting software, an antivirus?)"
    elif exc.errno in {errno.ENOSPC, errno.EDQUOT}:
        reason = FailReason.DISK_FULL
        text = "the disk is full"
    elif exc.errno in {errno.EACCES, errno.EPERM, errno.EROFS}:
        reason = FailReason.FOLDER_NOT_WRITABLE
        text = "permission denied"
        if may_be_shared(exc):
            text += ", or the file is in use by another program (the accounting software?)"
    elif exc.errno == errno.ENOENT:
        reason = FailReason.FOLDER_MISSING
        text = "folder missing"
    else:
        reason = FailReason.OTHER
        text = exc.strerror or str(exc)
    return PlacementError(reason, f"{what}: {text} ({exc})", permanent=False)


@dataclass(frozen=True)
class Placement:
    placed_path: str  # relative to the main folder, forward slashes
    already_there: bool  # the same bytes were found under that name: nothing was written


class Placer:
    """Places files under one main folder. Safe to use from several threads at once."""

    def __init__(
        self, root: Path, *, hard_links: bool = True, no_replace_rename: bool = True
    ) -> None:
        self.root = root
        # Every file operation goes through the long-path form on Windows; `root` stays as set.
        self._base = extended(root)
        self.staging = self._base / STAGING_FOLDER
        self._hard_links = hard_links
        self._no_replace_rename = no_replace_rename and _rename_no_replace is not None
        # Paths as strings on the per-file path: pathlib's parsing cost as much as the syscalls.
        self._base_name = str(self._base)
        self._staging_prefix = _child(str(self.staging), "delivery-")
        # Folders seen or made: not asked about again for every file placed into them. One
        # removed since (or a drive swapped) is noticed by the placement itself, and made again.
        self._folders: set[str] = set()

    def prepare(self) -> None:
        """Check the main folder and create the staging folder; never create the main folder:
        a missing one is usually an unmounted drive, and writing there would hide the files."""
        if not self.root.is_dir():
            what = "is not a folder" if self.root.exists() else "does not exist"
            raise PlacementError(
                FailReason.FOLDER_MISSING,
                f"the main folder {self.root} {what}",
                permanent=False,
            )
        try:
            self.staging.mkdir(exist_ok=True)
        except OSError as exc:
            raise local_problem(exc, f"cannot write in the main folder {self.root}") from exc
        if not os.access(self.root, os.W_OK):
            raise PlacementError(
                FailReason.FOLDER_NOT_WRITABLE,
                f"the main folder {self.root} is not writable by this user",
                permanent=False,
            )

    def clear_staging(self) -> int:
        """Remove what an interrupted run left in the staging folder; return how many files."""
        if not self.staging.is_dir():
            return 0
        removed = 0
        for marker in self.staging.glob("*.target"):
            self._undo_placeholder(marker)
        for leftover in self.staging.iterdir():
            if leftover.is_file() or leftover.is_symlink():
                retry_shared(leftover.unlink)
                removed += 1
        fsync_folder(self.staging)
        return removed

    def make_folders(self, folders: Iterable[str]) -> list[PlacementError]:
        problems: list[PlacementError] = []
        for folder in folders:
            try:
                # Asked every time: a listed folder someone removed is made again at once.
                self._ensure_folder(self._base.joinpath(*check_relative_path(folder)))
            except PlacementError as exc:
                problems.append(exc)
            except OSError as exc:
                problems.append(local_problem(exc, f"cannot create {folder}"))
        return problems

    def staging_file(self, delivery_id: int) -> Path:
        return Path(self._staging_name(delivery_id))

    def _staging_name(self, delivery_id: int) -> str:
        return f"{self._staging_prefix}{delivery_id}.part"

    def stage(
        self, delivery_id: int, size: int, sha256: str, fill: Callable[[BinaryIO], None]
    ) -> Path:
        """Let `fill` write the bytes into the staging file, make them durable and verify them.

        On any error the staging file is gone: nothing half-written stays behind.
        """
        path = self.staging_file(delivery_id)
        with _removed_on_error(path):
            with retry_shared(lambda: path.open("w+b")) as handle:
                fill(handle)
                handle.flush()
                os.fsync(handle.fileno())
            _verify_on_disk(path, size, sha256)
        return path

    def stage_bytes(
        self,
        delivery_id: int,
        size: int,
        sha256: str,
        data: bytes | memoryview,
        *,
        sync: bool = True,
    ) -> str:
        """Like `stage`, for bytes already in memory: written, then verified as read back from
        the disk through the same handle (one hash per file, one open). With `sync=False` the
        caller makes the file durable (`make_durable`) before placing. The staged file's path
        is returned as a string: a Path costs more to make than the file's syscalls."""
        if len(data) != size:
            raise ChecksumMismatchError(f"got {len(data)} bytes, expected {size}")
        path = self._staging_name(delivery_id)
        with _removed_on_error(path):
            fd = retry_shared(partial(os.open, path, _CREATE_READABLE | os.O_TRUNC, 0o644))
            try:
                written = os.write(fd, data)
                if written < size:  # a short write (a signal, a nearly full disk): the rest
                    view = memoryview(data)[written:]
                    while view:
                        view = view[os.write(fd, view) :]
                if sync:
                    os.fsync(fd)
                _verify_handle(fd, size, sha256)
            finally:
                os.close(fd)
        return path

    def place(self, staged: str | Path, relative_path: str, sha256: str) -> Placement:
        """Move a verified staged file to `relative_path`, or beside it as `name (2).ext` when a
        different file already holds the name. Never overwrites; the staged file is consumed."""
        [placement] = self.place_many([(staged, relative_path, sha256)])
        if isinstance(placement, PlacementError):
            raise placement
        return placement

    def place_many(
        self, files: Iterable[tuple[str | Path, str, str]]
    ) -> list[Placement | PlacementError]:
        """`place` for several staged files `(staged, relative_path, sha256)`, in order, with one
        fsync per folder instead of one per file: the placements are durable on return."""
        results: list[Placement | PlacementError] = []
        written: dict[str, list[int]] = {}
        for staged, relative_path, sha256 in files:
            try:
                placement, folder = self._place(os.fspath(staged), relative_path, sha256)
            except PlacementError as exc:
                results.append(exc)
                continue
            if folder is not None:
                written.setdefault(folder, []).append(len(results))
            results.append(placement)
        if written:
            try:
                self.make_durable(folders=written)
            except OSError as exc:
                # Linked but perhaps not durable: retried, and then found in place.
                problem = local_problem(exc, "cannot make the placed files durable")
                for indexes in written.values():
                    for index in indexes:
                        results[index] = problem
        return results

    def make_durable(
        self, files: Iterable[str | Path] = (), folders: Iterable[str | Path] = ()
    ) -> None:
        """fsync these files and folders. On Linux one syncfs() of the main folder's file
        system does it for a whole batch at once: a journal commit per batch, not per file."""
        if _syncfs is not None:
            fd = os.open(self.root, os.O_RDONLY)
            try:
                if _syncfs(fd) != 0:
                    error = ctypes.get_errno()
                    raise OSError(error, os.strerror(error), str(self.root))
            finally:
                os.close(fd)
            return
        for path in files:
            flush_file(path)
        for folder in folders:
            fsync_folder(Path(folder))

    def _place(self, staged: str, relative_path: str, sha256: str) -> tuple[Placement, str | None]:
        """Move into place; the folder returned (if any) still needs an fsync."""
        segments = check_relative_path(relative_path)
        name, parents = segments[-1], segments[:-1]
        try:
            folder = self._folder(parents)
            for number in range(1, MAX_SUFFIX + 1):
                candidate = name if number == 1 else _numbered(name, number)
                path = _child(folder, candidate)
                if self._claim_in(folder, parents, staged, path):
                    placement = Placement("/".join((*parents, candidate)), already_there=False)
                    return placement, folder
                if _same_file(path, sha256):
                    _remove(staged)
                    placement = Placement("/".join((*parents, candidate)), already_there=True)
                    return placement, None
        except OSError as exc:
            _remove(staged)
            raise local_problem(exc, f"cannot place {relative_path}") from exc
        _remove(staged)
        raise PlacementError(
            FailReason.OTHER,
            f"{MAX_SUFFIX} different files already named like {relative_path}",
            permanent=True,
        )

    def _claim_in(self, folder: str, parents: tuple[str, ...], staged: str, path: str) -> bool:
        """`_claim`, making the folder again if it went since it was last seen (someone tidied
        the dossiers up while files were being placed)."""
        try:
            return self._claim(staged, path)
        except FileNotFoundError:
            if folder not in self._folders:
                raise
        self._folders.discard(folder)
        self._folder(parents)
        return self._claim(staged, path)

    def _folder(self, segments: tuple[str, ...]) -> str:
        """The folder below the main folder at `segments`, made (as `mkdir -p`) if missing."""
        folder = self._base_name
        for segment in segments:
            folder = _child(folder, segment)
        if folder not in self._folders:
            self._ensure_folder(self._base.joinpath(*segments))
            self._folders.add(folder)
        return folder

    def _ensure_folder(self, folder: Path) -> None:
        """`mkdir -p` below the main folder, each new entry made durable: a file fsynced into a
        folder whose own entry was lost in a power cut would be lost with it."""
        missing: list[Path] = []
        while folder != self._base and not folder.is_dir():
            missing.append(folder)
            folder = folder.parent
        for path in reversed(missing):
            with contextlib.suppress(FileExistsError):  # another thread was quicker
                path.mkdir()
            fsync_folder(path.parent)

    def _claim(self, staged: str, candidate: str) -> bool:
        """Put `staged` at `candidate` if the name is free; False if it is taken."""
        if self._no_replace_rename and _rename_no_replace is not None:
            try:
                _rename_no_replace(staged, candidate)
            except FileExistsError:
                return False
            except OSError as exc:
                if exc.errno not in _NO_RENAME_NOREPLACE:
                    raise
                self._no_replace_rename = False  # this file system lacks it: links from now on
            else:
                return True
        if self._hard_links:
            try:
                retry_shared(partial(os.link, staged, candidate))
            except FileExistsError:
                return False
            except OSError as exc:
                if not links_unsupported(exc):
                    raise
                self._hard_links = False
            else:
                # Placed: a staged copy an antivirus still holds is cleared on the next start.
                with contextlib.suppress(OSError):
                    retry_shared(partial(os.unlink, staged))
                return True
        return self._claim_without_links(Path(staged), Path(candidate))

    def _claim_without_links(self, staged: Path, candidate: Path) -> bool:
        if os.name == "nt":  # On Windows a rename refuses to replace an existing file.
            try:
                retry_shared(lambda: staged.rename(candidate))
            except FileExistsError:
                return False
            return True
        # Reserve the name with O_EXCL, then rename over our own empty reservation. The marker
        # lets clear_staging() remove the reservation if we crash in between.
        marker = staged.with_suffix(".target")
        marker.write_text(self._relative(candidate), encoding="utf-8")
        try:
            fd = os.open(candidate, _CREATE | os.O_EXCL, 0o644)
        except FileExistsError:
            marker.unlink()
            return False
        os.close(fd)
        staged.replace(candidate)
        fsync_folder(self.staging)
        marker.unlink()
        return True

    def _undo_placeholder(self, marker: Path) -> None:
        staged = marker.with_suffix(".part")
        if staged.exists():  # the rename never happened: the reservation is still empty
            placeholder = self._base.joinpath(*marker.read_text(encoding="utf-8").split("/"))
            with contextlib.suppress(FileNotFoundError):
                if placeholder.stat().st_size == 0:
                    placeholder.unlink()
        marker.unlink()

    def _relative(self, path: Path) -> str:
        return path.relative_to(self._base).as_posix()


# How a Linux file system (or a kernel, or a container's seccomp filter) says it has no
# RENAME_NOREPLACE, as opposed to: the name is taken, or access is denied.
_NO_RENAME_NOREPLACE = frozenset({errno.EINVAL, errno.ENOSYS, errno.EPERM, errno.EOPNOTSUPP})
_AT_FDCWD = -100
_RENAME_NOREPLACE = 1


def _load_rename_no_replace() -> Callable[[str, str], None] | None:
    """renameat2(..., RENAME_NOREPLACE) (Linux 3.15, glibc 2.28): a rename that fails with
    EEXIST instead of replacing a file. Elsewhere None: Windows' rename never replaces, but
    is already what the fallback does there."""
    if sys.platform != "linux":
        return None
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return None
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p]
    renameat2.argtypes += [ctypes.c_uint]
    renameat2.restype = ctypes.c_int

    def rename_no_replace(source: str, target: str) -> None:
        encoded = os.fsencode(target)
        if renameat2(_AT_FDCWD, os.fsencode(source), _AT_FDCWD, encoded, _RENAME_NOREPLACE):
            error = ctypes.get_errno()
            raise OSError(error, os.strerror(error), source, None, target)

    return rename_no_replace


_rename_no_replace = _load_rename_no_replace()


def _load_syncfs() -> Callable[[int], int] | None:
    # Linux only; syncfs reports write-back errors since Linux 5.8.
    if sys.platform != "linux":
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        syncfs: Callable[[int], int] = libc.syncfs
    except (OSError, AttributeError):
        return None
    return syncfs


_syncfs = _load_syncfs()


def _numbered(name: str, number: int) -> str:
    """`f.xml` → `f (2).xml`, splitting the extension as pathlib does."""
    dot = name.rfind(".")
    if 0 < dot < len(name) - 1:
        return f"{name[:dot]} ({number}){name[dot:]}"
    return f"{name} ({number})"


def _verify_on_disk(path: Path, size: int, sha256: str) -> None:
    """Check the file as the disk gives it back, not the bytes that were meant to be written."""
    actual_size = path.stat().st_size
    if actual_size != size:
        raise ChecksumMismatchError(f"got {actual_size} bytes, expected {size}")
    actual = sha256_of(path)
    if actual != sha256:
        raise ChecksumMismatchError(f"SHA-256 {actual}, expected {sha256}")


_read_buffers = threading.local()
# Unix only (Linux, macOS 11+); Windows reads through a file object instead.
_preadv: Callable[[int, list[memoryview], int], int] | None = getattr(os, "preadv", None)


def _read_buffer() -> memoryview:
    """This thread's buffer for reading staged files back: one allocation per thread, not one
    per read (a fresh buffer of a few hundred kilobytes costs page faults every time)."""
    buffer: memoryview | None = getattr(_read_buffers, "buffer", None)
    if buffer is None:
        buffer = _read_buffers.buffer = memoryview(bytearray(_READ_BACK))
    return buffer


def _verify_handle(fd: int, size: int, sha256: str) -> None:
    """`_verify_on_disk` through a handle the file was just written with: read from its start."""
    actual_size = os.fstat(fd).st_size
    if actual_size != size:
        raise ChecksumMismatchError(f"got {actual_size} bytes, expected {size}")
    digest = hashlib.sha256()
    buffer = _read_buffer()
    remaining = size  # the size is checked already: no read to find the end
    if _preadv is not None:  # read at an offset, into the buffer: no seek, no file object
        offset = 0
        while remaining and (count := _preadv(fd, [buffer[: min(remaining, _READ_BACK)]], offset)):
            digest.update(buffer[:count])
            remaining -= count
            offset += count
    else:  # Windows
        os.lseek(fd, 0, os.SEEK_SET)
        with open(fd, "rb", buffering=0, closefd=False) as handle:
            while remaining and (count := handle.readinto(buffer[: min(remaining, _READ_BACK)])):
                digest.update(buffer[:count])
                remaining -= count
    if (actual := digest.hexdigest()) != sha256:
        raise ChecksumMismatchError(f"SHA-256 {actual}, expected {sha256}")


def _same_file(path: str, sha256: str) -> bool:
    try:
        return Path(path).is_file() and sha256_of(Path(path)) == sha256
    except FileNotFoundError:
        return False


@contextlib.contextmanager
def _removed_on_error(path: str | Path) -> Iterator[None]:
    """Staging `path`: on any error it is gone, so nothing half-written stays behind; a
    system error becomes the placement problem it is."""
    try:
        yield
    except OSError as exc:
        _remove(path)
        raise local_problem(exc, f"cannot write {plain(Path(path))}") from exc
    except BaseException:
        _remove(path)
        raise


def _remove(path: str | Path) -> None:
    Path(path).unlink(missing_ok=True)


def _child(folder: str, name: str) -> str:
    """`folder`/`name` as a string, for a name without separators (a checked segment)."""
    return folder + name if folder.endswith(os.sep) else folder + os.sep + name
