"""The demo's documents are real: valid on every layer, with their PDF inside."""

from __future__ import annotations

import datetime as dt

import pytest
from lxml import etree

from ledgerdrop.config import demo_documents
from ledgerdrop.documents.models import Document
from ledgerdrop.documents.ubl.received import embedded_pdf
from ledgerdrop.documents.ubl.validate import Validator


@pytest.mark.parametrize("index", range(1, len(demo_documents.SAMPLES) + 1))
def test_every_demo_document_is_valid_peppol_with_its_pdf(validator: Validator, index: int) -> None:
    kind, counterparty, amount = demo_documents.SAMPLES[index - 1]
    sales = kind in Document.SALES_KINDS

    xml = demo_documents.ubl(
        kind=kind,
        number=f"2026-{index:04d}",
        issue_date=dt.date(2026, 11, 2),
        supplier="Boulangerie Dupont SRL" if sales else counterparty,
        customer=counterparty if sales else "Boulangerie Dupont SRL",
        amount=amount,
    )

    report = validator.validate(xml)
    assert report.valid, report.summary
    pdf = embedded_pdf(etree.fromstring(xml))
    assert pdf is not None and pdf.startswith(b"%PDF")
    payable = etree.fromstring(xml).findtext(".//{*}LegalMonetaryTotal/{*}PayableAmount")
    assert payable == f"{amount:.2f}"


def test_the_demo_credit_note_names_the_invoice_it_credits() -> None:
    xml = demo_documents.ubl(
        kind=Document.Kind.CREDIT_NOTE,
        number="2026-0004",
        issue_date=dt.date(2026, 11, 5),
        supplier="Boulangerie Dupont SRL",
        customer="Café du Parc SRL",
        amount=demo_documents.SAMPLES[3][2],
    )

    root = etree.fromstring(xml)
    assert root.findtext(".//{*}InvoiceDocumentReference/{*}ID") == "2026-0003"
    assert root.findtext(".//{*}InvoiceDocumentReference/{*}IssueDate") == "2026-11-02"
