"""A received invoice whose buyer is another company is flagged in the processing list and waits
for somebody of the company to confirm it is theirs; one addressed to the company is not."""

from __future__ import annotations

import dataclasses

import pytest
from django.test import Client

from ledgerdrop.accounts.models import AuditEntry, Organisation
from ledgerdrop.documents import addressee, queries, services
from ledgerdrop.documents.models import Document
from ledgerdrop.documents.ubl.parse import parse_ubl
from ledgerdrop.documents.ubl.received import read_fields
from tests import builders

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("peppol_rules")]


@pytest.fixture
def company() -> Organisation:
    return builders.invoicing_company(
        "Atelier Lumière SRL", owner=builders.user("gerant@atelier.be")
    )


@pytest.fixture
def neighbour() -> Organisation:
    return builders.invoicing_company("Garage Peeters BV", enterprise_number="0456789034")


def upload(client: Client, company: Organisation, data: bytes, *, register: bool = False) -> str:
    client.force_login(company.members.get())
    response = client.post(
        f"/companies/{company.pk}/purchases/",
        {"file": _file(data), "register": "1" if register else "0"},
        follow=True,
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200
    return response.content.decode()


def _file(data: bytes) -> object:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("INV-77.xml", data, content_type="application/xml")


def test_an_uploaded_invoice_for_another_company_is_flagged_in_the_processing_list(
    client: Client, company: Organisation, neighbour: Organisation
) -> None:
    page = upload(client, company, builders.received_ubl(neighbour))

    document = Document.objects.get(company=company)
    stated = f"{neighbour.name} (BE0456789034, 0456789034, 0208:0456789034)"
    assert document.addressed_to == stated
    assert f"This document names another company as its buyer: {stated}" in page
    assert f"addressed to {stated}" in page
    assert "Confirm it is ours" in page


def test_registering_it_at_once_still_keeps_it_flagged_in_the_processing_list(
    client: Client, company: Organisation, neighbour: Organisation
) -> None:
    upload(client, company, builders.received_ubl(neighbour), register=True)

    document = Document.objects.get(company=company)
    assert (document.kind, document.status) == ("purchase_invoice", "approved")
    assert document.awaits_addressee_confirmation
    assert list(queries.processing_list(company)) == [document]


@pytest.mark.parametrize("buyer_by_vat", [False, True])
def test_an_invoice_addressed_to_the_company_is_not_flagged(
    client: Client, company: Organisation, buyer_by_vat: bool
) -> None:
    page = upload(client, company, builders.received_ubl(company, buyer_by_vat=buyer_by_vat))

    document = Document.objects.get(company=company)
    assert document.addressed_to == ""
    assert not document.awaits_addressee_confirmation
    assert "another company" not in page


def test_a_buyer_with_a_vat_number_of_another_country_is_another_company(
    company: Organisation,
) -> None:
    ours = read_fields(parse_ubl(builders.received_ubl(company)))
    dutch = dataclasses.replace(
        ours,
        buyer_name="Bakkerij Noord BV",
        buyer_vat_number="NL0403019261B01",
        buyer_enterprise_number="",
        buyer_endpoint=("9944", "NL0403019261B01"),
    )

    assert addressee.addressed_elsewhere(company, dutch) == "Bakkerij Noord BV (NL0403019261B01)"


def test_a_buyer_named_only_by_an_address_that_says_nothing_comparable_is_not_flagged(
    company: Organisation,
) -> None:
    ours = read_fields(parse_ubl(builders.received_ubl(company)))
    by_gln = dataclasses.replace(
        ours,
        buyer_vat_number="",
        buyer_enterprise_number="",
        buyer_endpoint=("0088", "5400000000001"),
    )

    assert addressee.addressed_elsewhere(company, by_gln) == ""


def test_confirming_takes_it_off_the_processing_list_with_an_audit_row(
    client: Client, company: Organisation, neighbour: Organisation
) -> None:
    upload(client, company, builders.received_ubl(neighbour), register=True)
    document = Document.objects.get(company=company)

    response = client.post(
        f"/companies/{company.pk}/documents/{document.pk}/confirm-addressee/",
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 302
    document.refresh_from_db()
    assert document.addressee_confirmed_at is not None
    assert not document.awaits_addressee_confirmation
    assert list(queries.processing_list(company)) == []
    entry = AuditEntry.objects.get(action="document.addressee_confirmed")
    assert entry.actor == company.members.get()
    assert entry.data["addressed_to"].startswith("Garage Peeters BV")


def test_an_incoming_document_confirmed_but_not_approved_stays_in_the_processing_list(
    client: Client, company: Organisation, neighbour: Organisation
) -> None:
    upload(client, company, builders.received_ubl(neighbour))
    document = services.confirm_addressee(Document.objects.get(company=company), by=None)

    assert list(queries.processing_list(company)) == [document]
    assert document.awaits_decision


def test_the_api_shows_the_flag_and_confirms_once(
    client: Client, company: Organisation, neighbour: Organisation
) -> None:
    client.force_login(company.members.get())
    created = client.post(
        f"/api/v1/companies/{company.pk}/documents/upload",
        {"file": _file(builders.received_ubl(neighbour))},
    )
    assert created.status_code == 201, created.content
    assert created.json()["addressed_to"].startswith("Garage Peeters BV")
    assert created.json()["addressee_confirmed_at"] is None
    confirm = f"/api/v1/companies/{company.pk}/documents/{created.json()['id']}/confirm-addressee"

    first = client.post(confirm)
    again = client.post(confirm)

    assert first.status_code == again.status_code == 200
    assert first.json()["addressee_confirmed_at"] == again.json()["addressee_confirmed_at"]
    assert AuditEntry.objects.filter(action="document.addressee_confirmed").count() == 1


def test_confirming_a_document_addressed_to_the_company_is_refused(
    client: Client, company: Organisation
) -> None:
    client.force_login(company.members.get())
    document = services.receive(
        company, builders.received_ubl(company), source=Document.Source.UPLOAD
    )

    response = client.post(
        f"/api/v1/companies/{company.pk}/documents/{document.pk}/confirm-addressee"
    )

    assert response.status_code == 409
    assert response["Content-Type"] == "application/problem+json"
    assert not AuditEntry.objects.filter(action="document.addressee_confirmed").exists()
