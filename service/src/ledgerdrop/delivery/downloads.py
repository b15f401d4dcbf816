"""The downloader this server hands out (`/downloads/agent/`): the wheels of `ledgerdrop-agent`
and `ledgerdrop-protocol` of the versions this server runs with, the install scripts that fetch
them, and the self-contained Windows zip (made by its own build script).

The wheels live in `LEDGERDROP_DOWNLOADS_DIR`. `ledgerdrop downloads build` makes them from the
project's sources; a request makes them too when they are missing or older than the sources
at hand, so a fresh or updated checkout serves its own downloader with no extra step."""

from __future__ import annotations

import hashlib
import json
import re
import shlex
import sys
import tempfile
import threading
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.conf import settings

AGENT = "ledgerdrop-agent"
PROTOCOL = "ledgerdrop-protocol"
# Each distribution and the folder of the project that holds its sources.
DISTRIBUTIONS = {AGENT: "agent", PROTOCOL: "protocol"}
WINDOWS_ZIP = "ledgerdrop-agent-windows.zip"
# What an administrator runs, in the project's checkout, to make the Windows zip.
WINDOWS_ZIP_COMMAND = "make windows-zip"
BUILD_COMMAND = "ledgerdrop downloads build"

_build_lock = threading.Lock()


class DownloadsUnavailable(Exception):
    """A download cannot be served; the message says what an administrator does about it."""


@dataclass(frozen=True)
class Wheel:
    path: Path
    sha256: str

    @property
    def name(self) -> str:
        return self.path.name


@dataclass(frozen=True)
class InstallCommands:
    """What a person pastes on a machine to install, pair and start the downloader."""

    linux: str
    windows: str


def downloads_dir() -> Path:
    return Path(settings.LEDGERDROP_DOWNLOADS_DIR)


def windows_zip() -> Path:
    return downloads_dir() / WINDOWS_ZIP


def version_of(distribution: str) -> str:
    """The version this server ships: the one installed beside it, else the service's own
    (the three distributions are released together)."""
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return metadata.version("ledgerdrop")


def install_commands(server: str, enrolment_key: str | None = None) -> InstallCommands:
    """One line per system, with the key in it when there is one (without, pairing shows a
    code). The key travels in the command only: the scripts the server hands out are the same
    for everybody and hold no secret."""
    base = f"{server}/downloads/agent"
    linux_script = shell_quoted(f"{base}/install.sh")
    windows_script = _powershell_word(f"{base}/install.ps1")
    if enrolment_key is None:
        return InstallCommands(
            linux=f"curl -fsSL {linux_script} | sh", windows=f"irm {windows_script} | iex"
        )
    return InstallCommands(
        linux=f"curl -fsSL {linux_script} | LEDGERDROP_ENROLMENT_KEY={enrolment_key} sh",
        windows=f"$env:LEDGERDROP_ENROLMENT_KEY='{enrolment_key}'; irm {windows_script} | iex",
    )


def wheels() -> list[Wheel]:
    """The agent's and the protocol's wheels; one that is missing, or older than its sources,
    is built first when the sources are at hand."""
    found = {name: _current_wheel(name) for name in DISTRIBUTIONS}
    if None not in found.values():
        return [_described(path) for path in found.values() if path is not None]
    with _build_lock:
        # Another request may have built them while this one waited for the lock.
        return [_described(_current_wheel(name) or _build_wheel(name)) for name in DISTRIBUTIONS]


def build() -> list[Wheel]:
    """(Re)build both wheels from the sources, replacing those of the same version."""
    with _build_lock:
        return [_described(_build_wheel(name)) for name in DISTRIBUTIONS]


def wheel_named(filename: str) -> Wheel | None:
    """One of the served wheels by its file name; any other name is not served."""
    return next((wheel for wheel in wheels() if wheel.name == filename), None)


def shell_quoted(value: str) -> str:
    return shlex.quote(value)


def powershell_quoted(value: str) -> str:
    # A single-quoted PowerShell string expands nothing; a quote inside is written twice.
    return "'" + value.replace("'", "''") + "'"


def _powershell_word(value: str) -> str:
    """A usual address as it is (easier to read); anything else quoted."""
    return value if re.fullmatch(r"[\w:/.~%-]+", value) else powershell_quoted(value)


def _wheel_prefix(distribution: str) -> str:
    # Wheel file names use the normalised name with underscores (PEP 427 / 491).
    return f"{distribution.replace('-', '_')}-{version_of(distribution)}-"


def _find_wheel(distribution: str) -> Path | None:
    prefix = _wheel_prefix(distribution)
    folder = downloads_dir()
    if not folder.is_dir():
        return None
    return next(iter(sorted(folder.glob(f"{prefix}*.whl"))), None)


def _current_wheel(distribution: str) -> Path | None:
    """The wheel of this version, unless its sources changed after it was built: the version
    does not change with every commit, and a server updated from git serves its new code."""
    path = _find_wheel(distribution)
    source = _source_dir(distribution)
    if path is None or source is None:
        return path
    return path if path.stat().st_mtime >= _last_change(source) else None


def _last_change(source: Path) -> float:
    files = [source / "pyproject.toml", *(source / "src").rglob("*")]
    return max(
        path.stat().st_mtime for path in files if path.is_file() and "__pycache__" not in path.parts
    )


def _described(path: Path) -> Wheel:
    return Wheel(path=path, sha256=hashlib.sha256(path.read_bytes()).hexdigest())


def _build_wheel(distribution: str) -> Path:
    """Build one wheel into a private folder, then move it into place: a request never sees a
    half-written file, and two processes building at once only replace equal files."""
    source = _source_dir(distribution)
    if source is None:
        raise _unavailable([distribution])
    folder = downloads_dir()
    try:
        return _build_into(folder, distribution, source)
    except OSError as exc:
        raise DownloadsUnavailable(
            f"Cannot build the {distribution} wheel into {folder}: {exc}. Check that the "
            "service may write there, or set LEDGERDROP_DOWNLOADS_DIR."
        ) from exc


def _build_into(folder: Path, distribution: str, source: Path) -> Path:
    from build import BuildBackendException, ProjectBuilder

    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder, prefix=".build-") as scratch:
        try:
            # The build backend already installed beside the service (hatchling) builds
            # offline, in about half a second.
            built = Path(ProjectBuilder(source, python_executable=sys.executable).build(
                "wheel", scratch
            ))  # fmt: skip
        except BuildBackendException as exc:
            raise DownloadsUnavailable(
                f"Building the {distribution} wheel from {source} failed: {exc}"
            ) from exc
        if not built.name.startswith(_wheel_prefix(distribution)):
            raise DownloadsUnavailable(
                f"The sources in {source} built {built.name}, but this server runs "
                f"{distribution} {version_of(distribution)}: install the matching sources."
            )
        target = folder / built.name
        built.replace(target)
    return target


def _source_dir(distribution: str) -> Path | None:
    """Where the sources of a distribution are: where it was installed from (a checkout,
    editable or not), else the folder of that name beside the service's own sources."""
    candidates = [_installed_from(distribution)]
    service_source = _installed_from("ledgerdrop")
    if service_source is not None:
        candidates.append(service_source.parent / DISTRIBUTIONS[distribution])
    for candidate in candidates:
        if candidate is not None and (candidate / "pyproject.toml").is_file():
            return candidate
    return None


def _installed_from(distribution: str) -> Path | None:
    """The local folder a distribution was installed from (PEP 610 `direct_url.json`)."""
    try:
        raw = metadata.distribution(distribution).read_text("direct_url.json")
    except metadata.PackageNotFoundError:
        return None
    if not raw:
        return None
    url = urlsplit(str(json.loads(raw).get("url", "")))
    return Path(unquote(url.path)) if url.scheme == "file" else None


def _unavailable(distributions: list[str]) -> DownloadsUnavailable:
    names = ", ".join(f"{_wheel_prefix(name)}py3-none-any.whl" for name in distributions)
    return DownloadsUnavailable(
        f"The downloader's wheels are not in {downloads_dir()} ({names}) and their sources "
        f"are not beside this server to build them. Run `{BUILD_COMMAND}` in the project's "
        "checkout, or copy those wheels into that folder."
    )
