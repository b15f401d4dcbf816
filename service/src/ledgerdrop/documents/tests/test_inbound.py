"""Received purchase documents: kept as they came, validated, flagged, approved or rejected."""

from __future__ import annotations

from decimal import Decimal
from email.message import EmailMessage
from pathlib import Path

import pytest
from django.core import mail
from lxml import etree

from ledgerdrop.core import storage
from ledgerdrop.core.errors import ServiceError
from ledgerdrop.documents import inbound, services
from ledgerdrop.documents.models import Document
from ledgerdrop.documents.ubl.received import embedded_pdf
from tests import builders

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("peppol_rules")]


def receive(company: object, data: bytes) -> Document:
    return services.receive(company, data, source=Document.Source.UPLOAD)  # type: ignore[arg-type]


def test_a_received_document_is_kept_byte_for_byte_and_read_into_fields() -> None:
    company = builders.invoicing_company()
    data = builders.received_ubl(company, with_pdf=True)

    document = receive(company, data)

    assert document.kind == Document.Kind.INCOMING
    assert document.status == Document.Status.RECEIVED
    assert storage.read(document.source_sha256) == data
    assert document.ubl_sha256 == document.source_sha256
    assert document.number == "INV-77"
    assert document.counterparty_name == "Moulins de Ciney SA"
    assert str(document.total) == "392.20"
    assert document.validation_status == "valid"
    assert not document.pdf_rendered_here


def test_a_document_without_pdf_gets_one_rendered_and_embedded_for_the_accountant() -> None:
    company = builders.invoicing_company()
    data = builders.received_ubl(company)

    document = receive(company, data)

    assert document.pdf_rendered_here
    assert storage.read(document.source_sha256) == data
    accountant_copy = storage.read(document.ubl_sha256)
    pdf = embedded_pdf(etree.fromstring(accountant_copy))
    assert pdf is not None and pdf.startswith(b"%PDF")
    assert storage.read(document.pdf_sha256) == pdf


def test_an_invalid_document_is_refused_with_the_rules_it_breaks() -> None:
    company = builders.invoicing_company()
    data = builders.received_ubl(company).replace(b"<cbc:ID>INV-77</cbc:ID>", b"")

    with pytest.raises(ServiceError) as refused:
        receive(company, data)

    assert refused.value.code == "invalid_document" and refused.value.errors
    assert not Document.objects.filter(company=company).exists()


def test_hostile_xml_is_refused_before_anything_reads_it() -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>'
        b"<Invoice>&b;</Invoice>"
    )

    with pytest.raises(ServiceError, match="DOCTYPE"):
        receive(builders.invoicing_company(), bomb)


def test_amounts_beyond_any_real_invoice_are_refused() -> None:
    company = builders.invoicing_company()
    data = builders.received_ubl(company, unit_price=Decimal("100000000000"))

    with pytest.raises(ServiceError, match="sortent des limites"):
        receive(company, data)


def test_the_same_supplier_and_number_again_is_flagged_as_a_likely_duplicate() -> None:
    company = builders.invoicing_company()
    first = receive(company, builders.received_ubl(company))

    again = receive(company, builders.received_ubl(company, with_pdf=True))
    other_supplier = receive(company, builders.received_ubl(company, supplier_vat="BE0403170701"))

    assert again.duplicate_of == first
    assert other_supplier.duplicate_of is None


def test_approving_registers_a_purchase_invoice_and_rejecting_keeps_the_reason() -> None:
    company = builders.invoicing_company()
    kept = receive(company, builders.received_ubl(company, number="A-1"))
    refused = receive(company, builders.received_ubl(company, number="A-2"))

    approved = services.approve(kept, by=None)
    rejected = services.reject(refused, "Commande annulée", by=None)

    assert (approved.kind, approved.status) == ("purchase_invoice", "approved")
    assert approved.approved_at is not None
    assert (rejected.kind, rejected.status) == ("incoming", "rejected")
    assert rejected.rejection_reason == "Commande annulée"
    with pytest.raises(ServiceError):
        services.approve(rejected, by=None)


def test_a_purchase_invoice_entered_by_hand_is_registered_at_once() -> None:
    company = builders.invoicing_company()

    document = services.receive(
        company, builders.received_ubl(company), source=Document.Source.MANUAL, register=True
    )

    assert (document.kind, document.status) == ("purchase_invoice", "approved")


@pytest.mark.parametrize("by_vat", [False, True], ids=["0208", "9925"])
def test_the_peppol_hand_off_is_routed_by_the_receivers_endpoint(by_vat: bool) -> None:
    company = builders.invoicing_company(enterprise_number="0403170701")
    builders.invoicing_company("Autre SRL", enterprise_number="0403019261")

    document = inbound.receive_from_peppol(builders.received_ubl(company, buyer_by_vat=by_vat))

    assert document.company == company
    assert document.source == Document.Source.PEPPOL


def test_a_vat_number_typed_with_dots_still_routes_the_hand_off() -> None:
    company = builders.invoicing_company(enterprise_number="0403170701")
    company.vat_number = "BE 0403.170.701"
    company.save()
    company.invoicing_profile.enterprise_number = ""
    company.invoicing_profile.save()
    data = builders.received_ubl(company, buyer_by_vat=True)

    assert inbound.receive_from_peppol(data).company == company


def test_a_peppol_document_for_nobody_here_is_refused() -> None:
    company = builders.invoicing_company()
    data = builders.received_ubl(company).replace(b"0403019261", b"0202239951")

    with pytest.raises(ServiceError) as refused:
        inbound.receive_from_peppol(data)
    assert refused.value.code == "unknown_receiver"


def mail_with(company: object, *attachments: tuple[str, str, bytes]) -> bytes:
    message = EmailMessage()
    message["From"] = "factures@moulins.be"
    message["To"] = inbound.inbox_address(company)  # type: ignore[arg-type]
    message["Subject"] = "Facture INV-77"
    message.set_content("Veuillez trouver notre facture en annexe.")
    for filename, subtype, data in attachments:
        maintype, _, sub = subtype.partition("/")
        message.add_attachment(data, maintype=maintype, subtype=sub, filename=filename)
    return message.as_bytes()


def test_an_email_attachment_in_ubl_is_taken_and_the_rest_reported_to_the_sender(
    tmp_path: Path,
) -> None:
    company = builders.invoicing_company()
    raw = mail_with(
        company,
        ("INV-77.xml", "application/xml", builders.received_ubl(company)),
        ("conditions.pdf", "application/pdf", b"%PDF-1.4 not an invoice"),
    )

    assert inbound.company_for_address(inbound.inbox_address(company)) == company
    outcome = inbound.receive_mail(company, raw, "factures@moulins.be")

    assert [d.number for d in outcome.received] == ["INV-77"]
    assert outcome.received[0].source == Document.Source.EMAIL
    assert [name for name, _ in outcome.refused] == ["conditions.pdf"]
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["factures@moulins.be"]
    assert "conditions.pdf" in mail.outbox[0].body


def test_an_email_with_only_ubl_gets_no_reply() -> None:
    company = builders.invoicing_company()
    raw = mail_with(company, ("INV-77.xml", "text/xml", builders.received_ubl(company)))

    outcome = inbound.receive_mail(company, raw, "factures@moulins.be")

    assert len(outcome.received) == 1 and outcome.refused == []
    assert mail.outbox == []
