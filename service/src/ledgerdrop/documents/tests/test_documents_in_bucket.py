"""Documents and PEPPOL rules on object storage (LEDGERDROP_S3_BUCKET, moto's server): an
issued document's files go to the bucket, are downloaded from it, and the rules installed
with `rules install` are found by every node there."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from django.test import Client
from pytest_django import Settings as SettingsWrapper

from ledgerdrop.documents import peppol_validator, rules_install
from ledgerdrop.documents.ubl import peppol_bis
from tests import builders
from tests.object_storage import Bucket

pytestmark = pytest.mark.django_db

INVOICE = {
    "kind": "sales_invoice",
    "issue_date": "2026-11-02",
    "counterparty": {
        "name": "Brouwerij Noord NV",
        "vat_number": "BE0202239951",
        "address": {"street": "Kaai 3", "postal_code": "2000", "city": "Antwerpen"},
    },
    "lines": [{"description": "Forfait", "quantity": 1, "unit_price": "100", "vat_rate": 21}],
}


def test_an_issued_documents_files_are_in_the_bucket_and_downloaded_from_it(
    s3_bucket: Bucket, isolated_files: Path, peppol_rules: Path
) -> None:
    company = builders.invoicing_company()
    client = Client()
    client.force_login(company.memberships.get().user)

    issued = client.post(
        f"/api/v1/companies/{company.pk}/documents", INVOICE, content_type="application/json"
    ).json()
    ubl = client.get(issued["ubl"]["url"])
    pdf = client.get(issued["pdf"]["url"])

    ubl_bytes, pdf_bytes = ubl.getvalue(), pdf.getvalue()
    assert ubl["ETag"] == f'"{hashlib.sha256(ubl_bytes).hexdigest()}"'
    assert pdf_bytes.startswith(b"%PDF")
    listing = s3_bucket.client().list_objects_v2(Bucket=s3_bucket.name)["Contents"]
    names = {entry["Key"].rsplit("/", 1)[-1] for entry in listing}
    assert {hashlib.sha256(ubl_bytes).hexdigest(), hashlib.sha256(pdf_bytes).hexdigest()} <= names
    assert not isolated_files.exists()


def test_rules_installed_in_the_bucket_are_what_every_node_validates_with(
    s3_bucket: Bucket,
    settings: SettingsWrapper,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("LEDGERDROP_PEPPOL_RULES", raising=False)
    settings.DATA_DIR = tmp_path / "node-a"
    # What this node last read of the bucket is forgotten, as after the recheck interval.
    monkeypatch.setattr(peppol_validator, "_rules_checked", None)
    assert peppol_validator.peppol_rules_path() == peppol_bis.RULES

    sha256 = rules_install.install_in_storage(str(peppol_bis.RULES), peppol_bis.RULES_SHA256)
    monkeypatch.setattr(peppol_validator, "_rules_checked", None)
    settings.DATA_DIR = tmp_path / "node-b"

    installed = peppol_validator.peppol_rules_path()
    assert sha256 == peppol_bis.RULES_SHA256
    assert installed == tmp_path / "node-b" / "cache" / f"peppol-{sha256}.sch"
    assert installed.read_bytes() == peppol_bis.RULES.read_bytes()


def test_rules_that_do_not_match_their_checksum_are_not_put_in_the_bucket(
    s3_bucket: Bucket,
) -> None:
    with pytest.raises(rules_install.RulesInstallError, match="not the expected"):
        rules_install.install_in_storage(str(peppol_bis.RULES), "0" * 64)

    assert "Contents" not in s3_bucket.client().list_objects_v2(Bucket=s3_bucket.name)
