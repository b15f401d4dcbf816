"""The process's validator, built on first use: compiling the rules takes a second and about
270 MB, so a process pays it once, and only if it validates anything."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings

from ledgerdrop.documents.ubl.report import ValidationReport
from ledgerdrop.documents.ubl.validate import Validator, default_validator


def peppol_rules_path() -> Path:
    return Path(settings.LEDGERDROP_PEPPOL_RULES)


def validator() -> Validator:
    path = peppol_rules_path()
    # An absent file is not an error here: the validator then reports, on every document, that
    # the PEPPOL layer did not run.
    return default_validator(path)


def validate(data: bytes) -> ValidationReport:
    return validator().validate(data)
