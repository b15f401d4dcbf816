"""`ledgerdrop rules install`: put a checked copy of the official PEPPOL rules where the
service looks for them (the `LEDGERDROP_PEPPOL_RULES` setting)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import httpx

from ledgerdrop.core.files import write_durably
from ledgerdrop.documents.ubl.schematron import SchematronError
from ledgerdrop.documents.ubl.validate import RuleSet

MAX_RULES_BYTES = 20 * 1024 * 1024


class RulesInstallError(Exception):
    """The rules were not installed; the message says why and what to do."""


def _fetch(source: str) -> bytes:
    if source.startswith(("https://", "http://")):
        try:
            response = httpx.get(source, follow_redirects=True, timeout=60)
            response.raise_for_status()
        except httpx.HTTPError as exc:
            raise RulesInstallError(f"Could not download {source}: {exc}") from exc
        data = response.content
    else:
        path = Path(source).expanduser()
        if not path.is_file():
            raise RulesInstallError(f"There is no file {path}.")
        data = path.read_bytes()
    if len(data) > MAX_RULES_BYTES:
        raise RulesInstallError(f"{source} is larger than any PEPPOL rules file; not installed.")
    return data


def install(source: str, sha256: str, target: Path) -> Path:
    """Fetch `source` (a path or URL), check its SHA-256 against the one the operator expects,
    check that it compiles, and move it into place atomically. Returns the installed path."""
    data = _fetch(source)
    actual = hashlib.sha256(data).hexdigest()
    if actual != sha256.strip().lower():
        raise RulesInstallError(
            f"The SHA-256 of {source} is {actual}, not the expected {sha256}; not installed."
        )

    def compiles(candidate: Path) -> None:
        # A file that does not compile would make every later validation fail: refuse it now.
        try:
            RuleSet.from_schematron("peppol", candidate)
        except SchematronError as exc:
            raise RulesInstallError(f"{source} is not a usable Schematron file: {exc}") from exc

    write_durably(target, data, check=compiles)
    return target
