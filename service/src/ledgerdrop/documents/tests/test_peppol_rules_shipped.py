"""The PEPPOL BIS rules travel with Ledgerdrop: a fresh install validates every layer, a newer
release installed with `ledgerdrop rules install` takes their place, and no report shows a
client where the server keeps its files."""

from __future__ import annotations

import hashlib
from pathlib import Path

from pytest_django import Settings as SettingsWrapper

from ledgerdrop.documents import peppol_validator, rules_install
from ledgerdrop.documents.ubl import peppol_bis
from ledgerdrop.documents.ubl.validate import Validator


def test_the_shipped_rules_are_the_official_release_named_beside_them() -> None:
    notice = (peppol_bis.RULES.parent / "README.md").read_text()

    assert hashlib.sha256(peppol_bis.RULES.read_bytes()).hexdigest() == peppol_bis.RULES_SHA256
    assert peppol_bis.RULES_SHA256 in notice
    assert f"release {peppol_bis.RELEASE}" in notice
    assert f"release {peppol_bis.RELEASE}" in peppol_bis.RULES.read_text()[:600]


def test_with_nothing_installed_the_shipped_rules_are_used(
    settings: SettingsWrapper, tmp_path: Path
) -> None:
    settings.LEDGERDROP_PEPPOL_RULES = tmp_path / "rules" / "PEPPOL-EN16931-UBL.sch"

    assert peppol_validator.peppol_rules_path() == peppol_bis.RULES


def test_a_release_installed_with_rules_install_takes_the_place_of_the_shipped_one(
    settings: SettingsWrapper, tmp_path: Path
) -> None:
    target = tmp_path / "rules" / "PEPPOL-EN16931-UBL.sch"
    settings.LEDGERDROP_PEPPOL_RULES = target

    rules_install.install(str(peppol_bis.RULES), peppol_bis.RULES_SHA256, target)

    assert peppol_validator.peppol_rules_path() == target


def test_a_missing_rules_file_is_reported_without_the_servers_path(
    base_invoice: bytes, tmp_path: Path
) -> None:
    missing = tmp_path / "secret-location" / "PEPPOL-EN16931-UBL.sch"

    report = Validator(missing).validate(base_invoice)

    assert report.status == "incomplete"
    assert "peppol" in report.layers_skipped
    assert str(tmp_path) not in report.summary
    assert "secret-location" not in str(report.to_dict())
