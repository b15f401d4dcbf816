"""`ledgerdrop rules install`: put a checked copy of the official PEPPOL rules where the
service looks for them: the `LEDGERDROP_PEPPOL_RULES` file, or the shared bucket when the
service runs on object storage (every node then validates with the same rules)."""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path

import httpx
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from ledgerdrop.core import storage
from ledgerdrop.core.files import write_durably
from ledgerdrop.documents.ubl.schematron import SchematronError
from ledgerdrop.documents.ubl.validate import RuleSet

MAX_RULES_BYTES = 20 * 1024 * 1024
# In the shared storage: the SHA-256 of the installed PEPPOL rules, whose blob holds them.
RULES_POINTER = "rules/peppol-en16931-ubl.sha256"


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


def _checked(source: str, sha256: str) -> bytes:
    """The bytes of `source` (a path or URL), once their SHA-256 is the one the operator
    expects and they compile."""
    data = _fetch(source)
    actual = hashlib.sha256(data).hexdigest()
    if actual != sha256.strip().lower():
        raise RulesInstallError(
            f"The SHA-256 of {source} is {actual}, not the expected {sha256}; not installed."
        )
    # A file that does not compile would make every later validation fail: refuse it now.
    with tempfile.TemporaryDirectory() as folder:
        candidate = Path(folder) / "candidate.sch"
        candidate.write_bytes(data)
        try:
            RuleSet.from_schematron("peppol", candidate)
        except SchematronError as exc:
            raise RulesInstallError(f"{source} is not a usable Schematron file: {exc}") from exc
    return data


def install(source: str, sha256: str, target: Path) -> Path:
    """Fetch `source`, check it, and move it into place at `target` atomically. Returns the
    installed path."""
    write_durably(target, _checked(source, sha256))
    return target


def install_in_storage(source: str, sha256: str) -> str:
    """Fetch `source`, check it, and store it in the shared file storage (the bucket), where
    every node finds it (`peppol_validator.peppol_rules_path`). Returns its SHA-256."""
    blob = storage.put(_checked(source, sha256))
    # The pointer is the one stored file that changes: written after the rules themselves, so
    # that a node never reads a pointer to rules that are not there yet.
    default_storage.save(RULES_POINTER, ContentFile(blob.sha256.encode()))
    return blob.sha256
