"""Issuing builds and validates the files before the write transaction opens (SQLite has one
write lock for everybody): outside any caller's transaction, as a request issues."""

from __future__ import annotations

import re
import threading

import pytest
from django.db import connection
from django.utils import translation
from lxml import etree

from ledgerdrop.accounts.models import AuditEntry
from ledgerdrop.core import storage
from ledgerdrop.core.errors import ServiceError
from ledgerdrop.documents import services
from ledgerdrop.documents.models import Document, NumberSequence
from tests import builders

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("peppol_rules")]

CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"


def test_invoices_issued_at_once_get_consecutive_numbers_and_files_that_carry_them() -> None:
    company = builders.invoicing_company()
    drafts = [
        services.create_document(company, builders.invoice_input(), by=None) for _ in range(3)
    ]
    errors: list[BaseException] = []

    def run(work: object) -> None:
        try:
            work()  # type: ignore[operator]
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    works = [lambda d=draft: services.issue(d, by=None) for draft in drafts] + [
        lambda: services.create_document(company, builders.invoice_input(), by=None, draft=False)
        for _ in range(5)
    ]
    threads = [threading.Thread(target=run, args=(work,)) for work in works]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    issued = Document.objects.filter(company=company).order_by("sequence")
    assert [d.number for d in issued] == [f"F2026-{n:04d}" for n in range(1, 9)]
    for document in issued:
        ubl = etree.fromstring(storage.read(document.ubl_sha256))
        assert ubl.findtext(f"{{{CBC}}}ID") == document.number
        payment_id = ubl.findtext(f".//{{{CBC}}}PaymentID") or ""  # +++202/6000/00192+++
        assert re.sub(r"\D", "", payment_id) == document.payment_reference


def test_an_invoice_that_cannot_be_issued_at_once_leaves_nothing_behind() -> None:
    company = builders.invoicing_company()
    company.vat_number = ""
    company.save()
    audit_rows = AuditEntry.objects.count()

    # The reason is told in the user's language; French is the default outside a request.
    with translation.override("en"), pytest.raises(ServiceError, match="VAT number"):
        services.create_document(company, builders.invoice_input(), by=None, draft=False)

    assert not Document.objects.filter(company=company).exists()
    assert not NumberSequence.objects.filter(company=company).exists()
    assert AuditEntry.objects.count() == audit_rows
