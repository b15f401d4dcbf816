"""Invoicing on the company side: drafts, issue (numbers, files, validation), sent, paid, credit."""

from __future__ import annotations

import base64
import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.db import connection
from lxml import etree

from ledgerdrop.accounts.models import AuditEntry
from ledgerdrop.core import storage
from ledgerdrop.core.errors import ServiceError
from ledgerdrop.documents import services
from ledgerdrop.documents.models import Document
from ledgerdrop.documents.services import LineInput
from tests import builders

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("peppol_rules")]

NS = {
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
}


def issued_invoice(company: object = None) -> Document:
    client = company or builders.invoicing_company()
    return services.create_document(client, builders.invoice_input(), by=None, draft=False)  # type: ignore[arg-type]


def test_a_draft_has_totals_but_no_number_and_no_files() -> None:
    draft = services.create_document(
        builders.invoicing_company(), builders.invoice_input(), by=None
    )

    assert draft.status == Document.Status.DRAFT
    assert draft.number == ""
    assert draft.ubl_sha256 == "" and draft.pdf_sha256 == ""
    # 7.5 × 65 = 487.50 at 21 % (102.38) and 39.90 at 6 % (2.39).
    assert draft.net_total == Decimal("527.40")
    assert draft.vat_total == Decimal("104.77")
    assert draft.total == Decimal("632.17")


def test_issuing_numbers_builds_stores_and_validates_the_invoice() -> None:
    invoice = issued_invoice()

    assert invoice.status == Document.Status.ISSUED
    assert invoice.number == "F2026-0001"
    assert invoice.validation_status == "valid", invoice.validation["summary"]
    xml = storage.read(invoice.ubl_sha256)
    root = etree.fromstring(xml)
    assert root.findtext("cbc:ID", namespaces=NS) == "F2026-0001"
    embedded = root.find(
        "cac:AdditionalDocumentReference/cac:Attachment/cbc:EmbeddedDocumentBinaryObject", NS
    )
    assert embedded is not None and embedded.get("mimeCode") == "application/pdf"
    assert base64.b64decode(embedded.text or "") == storage.read(invoice.pdf_sha256)
    assert root.findtext("cac:PaymentMeans/cbc:PaymentID", namespaces=NS).startswith("+++")
    assert AuditEntry.objects.filter(action="document.issued", object_id=str(invoice.pk)).exists()


def test_numbers_follow_each_other_per_company_series_and_year() -> None:
    company = builders.invoicing_company()
    other = builders.invoicing_company()
    first, second = issued_invoice(company), issued_invoice(company)
    next_year = services.create_document(
        company, builders.invoice_input(issue_date=dt.date(2027, 1, 4)), by=None, draft=False
    )

    assert [first.number, second.number, next_year.number] == [
        "F2026-0001",
        "F2026-0002",
        "F2027-0001",
    ]
    assert issued_invoice(other).number == "F2026-0001"


def test_a_document_that_cannot_be_issued_leaves_no_gap_in_the_numbers() -> None:
    company = builders.invoicing_company()
    company.vat_number = ""
    company.save()
    draft = services.create_document(company, builders.invoice_input(), by=None)

    with pytest.raises(ServiceError, match="numéro de TVA"):
        services.issue(draft, by=None)

    company.vat_number = "BE0403019261"
    company.save()
    assert services.issue(draft, by=None).number == "F2026-0001"


@pytest.mark.django_db(transaction=True)
def test_concurrent_issues_never_share_a_number() -> None:
    company = builders.invoicing_company()
    drafts = [
        services.create_document(company, builders.invoice_input(), by=None) for _ in range(4)
    ]
    errors: list[BaseException] = []

    def issue(draft: Document) -> None:
        try:
            services.issue(draft, by=None)
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=issue, args=(draft,)) for draft in drafts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    numbers = sorted(Document.objects.filter(company=company).values_list("number", flat=True))
    assert numbers == ["F2026-0001", "F2026-0002", "F2026-0003", "F2026-0004"]


def test_an_issued_invoice_cannot_be_edited() -> None:
    invoice = issued_invoice()

    with pytest.raises(ServiceError, match="note de crédit"):
        services.update_draft(invoice, builders.invoice_input(), by=None)


def test_an_invoice_is_marked_sent_then_paid_with_dates() -> None:
    invoice = issued_invoice()
    files = (invoice.ubl_sha256, invoice.pdf_sha256)

    sent = services.mark(invoice, "sent", by=None)
    paid = services.mark(sent, "paid", by=None)

    assert sent.sent_at is not None
    assert paid.status == Document.Status.PAID and paid.paid_at is not None
    assert (paid.ubl_sha256, paid.pdf_sha256) == files
    with pytest.raises(ServiceError):
        services.mark(paid, "sent", by=None)


def test_a_draft_cannot_be_marked_sent() -> None:
    draft = services.create_document(
        builders.invoicing_company(), builders.invoice_input(), by=None
    )

    with pytest.raises(ServiceError):
        services.mark(draft, "sent", by=None)


def test_a_credit_note_credits_the_invoice_and_names_it() -> None:
    invoice = issued_invoice()

    note = services.issue(services.credit(invoice, by=None), by=None)

    assert note.kind == Document.Kind.CREDIT_NOTE
    assert note.number == "NC2026-0001" or note.number.startswith("NC")
    assert note.credited_document == invoice
    assert note.total == invoice.total
    assert note.validation_status == "valid", note.validation["summary"]
    root = etree.fromstring(storage.read(note.ubl_sha256))
    assert etree.QName(root).localname == "CreditNote"
    reference = root.findtext(
        "cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID", namespaces=NS
    )
    assert reference == invoice.number


def test_a_credit_note_must_credit_an_issued_invoice_of_the_same_company() -> None:
    invoice = issued_invoice()
    stranger = builders.invoicing_company()

    with pytest.raises(ServiceError, match="crédité"):
        services.create_document(
            stranger,
            builders.invoice_input(Document.Kind.CREDIT_NOTE, credited_document_id=invoice.pk),
            by=None,
        )


def test_a_purchase_slip_is_written_in_the_suppliers_name() -> None:
    company = builders.invoicing_company()

    slip = services.create_document(
        company, builders.invoice_input(Document.Kind.PURCHASE_SLIP), by=None, draft=False
    )

    assert slip.number.startswith("BA2026-")
    root = etree.fromstring(storage.read(slip.ubl_sha256))
    seller = root.findtext(
        "cac:AccountingSupplierParty/cac:Party/cac:PartyLegalEntity/cbc:RegistrationName",
        namespaces=NS,
    )
    assert seller == "Brouwerij Noord NV"
    assert slip.validation_status == "valid", slip.validation["summary"]


@pytest.mark.parametrize("rate", ["E", "AE", "0", "12"])
def test_every_belgian_vat_choice_issues_a_valid_document(rate: str) -> None:
    lines = [LineInput("Prestation", Decimal(2), Decimal("100.00"), rate)]

    invoice = services.create_document(
        builders.invoicing_company(), builders.invoice_input(lines=lines), by=None, draft=False
    )

    assert invoice.validation_status == "valid", invoice.validation["summary"]


def test_an_unknown_vat_rate_is_refused_with_the_line_it_is_on() -> None:
    lines = [LineInput("Prestation", Decimal(1), Decimal(10), "19")]

    with pytest.raises(ServiceError, match="Ligne 1"):
        services.create_document(
            builders.invoicing_company(), builders.invoice_input(lines=lines), by=None
        )


def test_a_fresh_install_checks_every_layer_with_the_peppol_rules_it_ships(
    settings: object, tmp_path: object
) -> None:
    # A fresh data folder: `ledgerdrop rules install` never ran.
    settings.LEDGERDROP_PEPPOL_RULES = tmp_path / "rules" / "PEPPOL-EN16931-UBL.sch"  # type: ignore[attr-defined,operator]

    invoice = issued_invoice()

    assert invoice.validation_status == "valid", invoice.validation["summary"]
    assert invoice.validation["layers_skipped"] == {}
    assert "peppol" in invoice.validation["layers_run"]
