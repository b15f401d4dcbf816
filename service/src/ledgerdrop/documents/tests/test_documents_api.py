"""The documents rows of API.md, driven as a client would."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from ledgerdrop.accounts.models import Organisation
from ledgerdrop.delivery.models import Delivery, Device
from ledgerdrop.documents.models import Document
from tests import builders

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("peppol_rules")]

INVOICE: dict[str, Any] = {
    "kind": "sales_invoice",
    "issue_date": "2026-11-02",
    "counterparty": {
        "name": "Brouwerij Noord NV",
        "vat_number": "BE0202239951",
        "address": {"street": "Kaai 3", "postal_code": "2000", "city": "Antwerpen"},
    },
    "lines": [
        {"description": "Réglage éclairage", "quantity": "7.5", "unit_price": "65", "vat_rate": 21},
        {"description": "Livre technique", "quantity": 1, "unit_price": "39.90", "vat_rate": "6"},
    ],
}


@pytest.fixture
def company() -> Organisation:
    return builders.invoicing_company()


@pytest.fixture
def client(company: Organisation) -> Client:
    client = Client()
    client.force_login(company.memberships.get().user)
    return client


def url(company: Organisation, path: str = "") -> str:
    return f"/api/v1/companies/{company.pk}/documents{path}"


def test_posting_an_invoice_issues_it_with_a_number_and_files(
    client: Client, company: Organisation
) -> None:
    response = client.post(url(company), INVOICE, content_type="application/json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "issued"
    assert body["number"] == "F2026-0001"
    assert body["total"] == "632.17"
    assert body["validation"]["status"] == "valid"
    assert body["accountant_transfer"] == {"state": "none", "delivered_at": None, "error": None}
    ubl = client.get(body["ubl"]["url"])
    assert ubl.status_code == 200 and ubl["Content-Type"] == "application/xml"
    assert b"EmbeddedDocumentBinaryObject" in ubl.getvalue()
    assert client.get(body["pdf"]["url"])["Content-Type"] == "application/pdf"


def test_a_draft_is_edited_then_issued(client: Client, company: Organisation) -> None:
    draft = client.post(url(company), {**INVOICE, "draft": True}, content_type="application/json")
    document_id = draft.json()["id"]

    edited = client.patch(
        url(company, f"/{document_id}"),
        {"lines": [{"description": "Forfait", "quantity": 1, "unit_price": "100", "vat_rate": 21}]},
        content_type="application/json",
    )
    issued = client.post(url(company, f"/{document_id}/issue"))

    assert draft.json()["status"] == "draft" and draft.json()["number"] == ""
    assert edited.json()["total"] == "121.00"
    assert issued.json()["status"] == "issued"
    again = client.patch(url(company, f"/{document_id}"), {"note": "x"}, "application/json")
    assert again.status_code == 409
    assert again["Content-Type"] == "application/problem+json"


def test_marking_sent_and_paid_and_listing_with_filters(
    client: Client, company: Organisation
) -> None:
    created = client.post(url(company), INVOICE, content_type="application/json").json()
    client.post(url(company), {**INVOICE, "draft": True}, content_type="application/json")

    sent = client.post(
        url(company, f"/{created['id']}/mark"), {"status": "sent"}, "application/json"
    )
    paid = client.post(
        url(company, f"/{created['id']}/mark"), {"status": "paid"}, "application/json"
    )

    assert sent.json()["status"] == "sent" and sent.json()["sent_at"]
    assert paid.json()["status"] == "paid"
    listed = client.get(url(company), {"status": "paid"}).json()
    assert [row["id"] for row in listed] == [created["id"]]
    assert len(client.get(url(company), {"kind": "sales_invoice"}).json()) == 2
    assert client.get(url(company), {"date_from": "2026-12-01"}).json() == []


def test_marking_a_draft_paid_is_a_conflict(client: Client, company: Organisation) -> None:
    draft = client.post(url(company), {**INVOICE, "draft": True}, "application/json").json()

    response = client.post(
        url(company, f"/{draft['id']}/mark"), {"status": "paid"}, "application/json"
    )

    assert response.status_code == 409


def test_a_credit_note_is_posted_against_an_invoice(client: Client, company: Organisation) -> None:
    invoice = client.post(url(company), INVOICE, content_type="application/json").json()

    note = client.post(
        url(company),
        {**INVOICE, "kind": "credit_note", "credited_document_id": invoice["id"]},
        content_type="application/json",
    )

    assert note.status_code == 201, note.content
    assert note.json()["credited_document_id"] == invoice["id"]
    assert note.json()["number"].startswith("NC2026-")


def test_an_invalid_vat_number_is_a_422_with_a_message(
    client: Client, company: Organisation
) -> None:
    body = {**INVOICE, "counterparty": {"name": "X", "vat_number": "BE0123456789"}}

    response = client.post(
        url(company), body, content_type="application/json", HTTP_ACCEPT_LANGUAGE="en"
    )

    assert response.status_code == 422
    assert "VAT number" in response.json()["detail"]
    assert not Document.objects.filter(company=company).exists()


def test_upload_takes_a_valid_ubl_and_refuses_an_invalid_one_with_its_errors(
    client: Client, company: Organisation
) -> None:
    good = SimpleUploadedFile("inv.xml", builders.received_ubl(company), "application/xml")
    bad = SimpleUploadedFile(
        "bad.xml", builders.received_ubl(company).replace(b"<cbc:ID>INV-77</cbc:ID>", b"")
    )

    accepted = client.post(url(company, "/upload"), {"file": good})
    refused = client.post(url(company, "/upload"), {"file": bad})

    assert accepted.status_code == 201, accepted.content
    assert (accepted.json()["kind"], accepted.json()["status"]) == ("incoming", "received")
    assert refused.status_code == 422
    assert refused.json()["errors"]
    approved = client.post(url(company, f"/{accepted.json()['id']}/approve"))
    assert (approved.json()["kind"], approved.json()["status"]) == ("purchase_invoice", "approved")


def test_an_upload_can_register_a_purchase_invoice_at_once(
    client: Client, company: Organisation
) -> None:
    file = SimpleUploadedFile("inv.xml", builders.received_ubl(company), "application/xml")

    response = client.post(url(company, "/upload"), {"file": file, "registered": "true"})

    assert response.status_code == 201, response.content
    assert (response.json()["kind"], response.json()["status"]) == ("purchase_invoice", "approved")


def test_the_transfer_state_is_the_latest_delivery(client: Client, company: Organisation) -> None:
    document = client.post(url(company), INVOICE, content_type="application/json").json()
    firm = builders.firm()
    device = Device.objects.create(firm=firm, name="PC Kevin", root_folder="c:\\bob-demat")
    source = {"source_type": "documents.document", "source_id": document["id"]}
    common = {"firm": firm, "device": device, **source, "size": 1}
    Delivery.objects.create(**common, relative_path="A/ventes/a.xml", sha256="a", state="failed")
    Delivery.objects.create(
        **common,
        relative_path="A/ventes/b.xml",
        sha256="b",
        state="delivered",
        delivered_at=timezone.now(),
    )

    [row] = client.get(url(company)).json()

    assert row["accountant_transfer"]["state"] == "delivered"
    assert row["accountant_transfer"]["delivered_at"]


def test_another_companys_documents_are_not_found(client: Client) -> None:
    stranger = builders.invoicing_company()
    document = builders.document(stranger)

    assert client.get(url(stranger)).status_code == 404
    assert client.get(url(stranger, f"/{document.pk}/ubl")).status_code == 404


def test_the_peppol_hand_off_needs_the_access_point_token(settings: Any) -> None:
    company = builders.invoicing_company(enterprise_number="0403170701")
    settings.LEDGERDROP_PEPPOL_AP_TOKEN = "ap-secret"
    data = builders.received_ubl(company)

    anonymous = Client().post("/api/v1/inbound/peppol", data, content_type="application/xml")
    handed = Client().post(
        "/api/v1/inbound/peppol",
        data,
        content_type="application/xml",
        headers={"Authorization": "Bearer ap-secret"},
    )

    assert anonymous.status_code == 401
    assert handed.status_code == 201, handed.content
    assert handed.json()["company_id"] == company.pk
