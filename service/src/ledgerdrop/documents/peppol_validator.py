"""The process's validator, built on first use: compiling the rules takes a second and about
270 MB, so a process pays it once, and only if it validates anything."""

from __future__ import annotations

import functools
import logging
import os
from pathlib import Path

from django.conf import settings

from ledgerdrop.documents.ubl import peppol_bis
from ledgerdrop.documents.ubl.report import ValidationReport
from ledgerdrop.documents.ubl.validate import Validator, default_validator

logger = logging.getLogger(__name__)


def peppol_rules_path() -> Path:
    """The release installed with `ledgerdrop rules install` (or named by
    LEDGERDROP_PEPPOL_RULES) when there is one, else the release shipped with Ledgerdrop: a
    fresh install checks every layer."""
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
