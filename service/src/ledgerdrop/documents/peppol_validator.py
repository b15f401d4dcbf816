"""The process's validator, built on first use: compiling the rules takes a second and about
270 MB, so a process pays it once, and only if it validates anything."""

from __future__ import annotations

import functools
import logging
import os
import threading
import time
from pathlib import Path

from django.conf import settings
from django.core.files.storage import default_storage

from ledgerdrop.core import storage
from ledgerdrop.core.files import write_durably
from ledgerdrop.documents import rules_install
from ledgerdrop.documents.ubl import peppol_bis
from ledgerdrop.documents.ubl.report import ValidationReport
from ledgerdrop.documents.ubl.validate import Validator, default_validator

logger = logging.getLogger(__name__)


def rules_in_storage() -> bool:
    """Whether `rules install` puts the rules in the shared bucket: on object storage, unless
    LEDGERDROP_PEPPOL_RULES names a file of the operator's own."""
    return bool(settings.LEDGERDROP_S3_BUCKET) and "LEDGERDROP_PEPPOL_RULES" not in os.environ


def peppol_rules_path() -> Path:
    """The release installed with `ledgerdrop rules install` (or named by
    LEDGERDROP_PEPPOL_RULES) when there is one, else the release shipped with Ledgerdrop: a
    fresh install checks every layer."""
    if rules_in_storage():
        return _rules_from_storage() or peppol_bis.RULES
    configured = Path(settings.LEDGERDROP_PEPPOL_RULES)
    if configured.is_file():
        return configured
    if "LEDGERDROP_PEPPOL_RULES" in os.environ:
        _warn_missing_rules(configured)
    return peppol_bis.RULES


@functools.cache
def _warn_missing_rules(configured: Path) -> None:
    # Once per process: an operator's typo must be seen in the log, not on every document.
    logger.warning(
        "LEDGERDROP_PEPPOL_RULES names %s, which does not exist: using the PEPPOL BIS %s rules "
        "shipped with Ledgerdrop",
        configured,
        peppol_bis.RELEASE,
    )


def validator() -> Validator:
    return default_validator(peppol_rules_path())


def validate(data: bytes) -> ValidationReport:
    return validator().validate(data)


# How long a node trusts what it last read of the bucket's rules pointer: a validation must not
# cost a request to the bucket, and an installed release reaches every node within this time.
RULES_RECHECK_SECONDS = 60.0
_rules_checked: tuple[float, Path | None] | None = None
_rules_lock = threading.Lock()


def _rules_from_storage() -> Path | None:
    """The installed rules, copied from the bucket once into this node's cache folder (the
    compiler reads a file), or None when none were installed."""
    global _rules_checked
    with _rules_lock:
        now = time.monotonic()
        if _rules_checked is None or now - _rules_checked[0] > RULES_RECHECK_SECONDS:
            _rules_checked = (now, _fetch_installed_rules())
        return _rules_checked[1]


def _fetch_installed_rules() -> Path | None:
    if not default_storage.exists(rules_install.RULES_POINTER):
        return None
    with default_storage.open(rules_install.RULES_POINTER, "rb") as pointer:
        sha256 = pointer.read().decode().strip()
    cached = Path(settings.DATA_DIR) / "cache" / f"peppol-{sha256}.sch"
    if not cached.is_file():
        write_durably(cached, storage.read(sha256))
    return cached
