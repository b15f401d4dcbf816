"""The company's document pages, through the Django test client."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from ledgerdrop.accounts.models import Organisation
from ledgerdrop.documents import services
from ledgerdrop.documents.models import Document
from tests import builders

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("peppol_rules")]


@pytest.fixture
def company() -> Organisation:
    return builders.invoicing_company()


@pytest.fixture
def client(company: Organisation) -> Client:
    client = Client()
    client.force_login(company.memberships.get().user)
    return client


def editor_post(**extra: str) -> dict[str, Any]:
    return {
        "issue_date": "2026-11-02",
        "name": "Brouwerij Noord NV",
        "vat_number": "BE0202239951",
        "country": "BE",
        "lines-TOTAL_FORMS": "2",
        "lines-INITIAL_FORMS": "0",
        "lines-0-description": "Forfait réglage",
        "lines-0-quantity": "2",
        "lines-0-unit_price": "100",
        "lines-0-vat_rate": "21",
        "lines-1-description": "",
        "lines-1-quantity": "1",
        "lines-1-unit_price": "",
        "lines-1-vat_rate": "21",
        **extra,
    }


def test_the_editor_issues_an_invoice_and_shows_its_page(
    client: Client, company: Organisation
) -> None:
    response = client.post(
        reverse("document-new", args=[company.pk, "sales_invoice"]), editor_post(issue="1")
    )

    document = Document.objects.get(company=company)
    assert response.status_code == 302
    assert document.status == "issued" and document.total == 242
    page = client.get(response["Location"]).content.decode()
    assert document.number in page
    assert "validation" in page.lower() or "Validation" in page


def test_a_new_document_that_cannot_be_issued_leaves_no_draft_and_keeps_what_was_typed(
    client: Client, company: Organisation
) -> None:
    company.vat_number = ""
    company.save()
    new = reverse("document-new", args=[company.pk, "sales_invoice"])

    response = client.post(new, editor_post(issue="1"), HTTP_ACCEPT_LANGUAGE="en")

    page = response.content.decode()
    assert response.status_code == 200
    assert not Document.objects.filter(company=company).exists()
    assert "VAT number" in page
    assert 'value="Brouwerij Noord NV"' in page


def test_the_live_totals_follow_the_lines(client: Client, company: Organisation) -> None:
    response = client.post(reverse("document-totals", args=[company.pk]), editor_post())

    assert response.status_code == 200
    assert b'data-total="payable">242,00' in response.content


def test_adding_a_line_keeps_what_was_typed(client: Client, company: Organisation) -> None:
    response = client.post(
        reverse("document-new", args=[company.pk, "sales_invoice"]), editor_post(add_line="1")
    )

    assert response.status_code == 200
    assert response.content.count(b'name="lines-') >= 12
    assert b"Forfait r\xc3\xa9glage" in response.content
    assert not Document.objects.exists()


def test_the_overview_filters_by_kind_status_and_period(
    client: Client, company: Organisation
) -> None:
    invoice = services.create_document(company, builders.invoice_input(), by=None, draft=False)
    draft = services.create_document(company, builders.invoice_input(), by=None)
    url = reverse("company-documents", args=[company.pk])

    everything = client.get(url).content.decode()
    issued = client.get(url, {"status": "issued"}).content.decode()
    later = client.get(url, {"date_from": "2026-12-01"}).content.decode()

    assert invoice.number in everything and f"/documents/{draft.pk}/" in everything
    assert f"/documents/{draft.pk}/" not in issued
    assert invoice.number not in later
    assert "transfer-none" in everything


def test_a_long_overview_is_paged_and_keeps_its_filters(
    client: Client, company: Organisation
) -> None:
    for _ in range(51):
        services.create_document(company, builders.invoice_input(), by=None)
    url = reverse("company-documents", args=[company.pk])

    first = client.get(url, {"status": "draft"}).content.decode()
    next_page = re.search(r'<a href="\?([^"]*)" rel="next"', first)
    assert next_page is not None
    second = client.get(f"{url}?{unescape(next_page.group(1))}").content.decode()

    assert first.count("/edit/") == 0 and first.count('class="doc-status') == 50
    assert "status=draft" in next_page.group(1) and "after=" in next_page.group(1)
    assert second.count('class="doc-status') == 1


def test_marking_and_crediting_from_the_document_page(
    client: Client, company: Organisation
) -> None:
    invoice = services.create_document(company, builders.invoice_input(), by=None, draft=False)

    client.post(reverse("document-action", args=[company.pk, invoice.pk, "sent"]))
    client.post(reverse("document-action", args=[company.pk, invoice.pk, "paid"]))
    credit = client.post(reverse("document-action", args=[company.pk, invoice.pk, "credit"]))

    invoice.refresh_from_db()
    assert invoice.status == "paid"
    note = Document.objects.get(kind="credit_note")
    assert credit["Location"] == reverse("document-edit", args=[company.pk, note.pk])


def test_the_purchases_page_takes_an_upload_into_the_processing_list(
    client: Client, company: Organisation
) -> None:
    url = reverse("company-purchases", args=[company.pk])
    file = SimpleUploadedFile("inv.xml", builders.received_ubl(company), "application/xml")

    response = client.post(url, {"file": file, "register": "0"})
    page = client.get(url).content.decode()

    assert response.status_code == 302
    assert "Moulins de Ciney SA" in page and "INV-77" in page


def test_an_invalid_upload_shows_the_rules_it_breaks(client: Client, company: Organisation) -> None:
    data = builders.received_ubl(company).replace(
        b'<cbc:PayableAmount currencyID="EUR">392.20', b'<cbc:PayableAmount currencyID="EUR">999.00'
    )
    file = SimpleUploadedFile("bad.xml", data, "application/xml")

    response = client.post(reverse("company-purchases", args=[company.pk]), {"file": file})

    assert response.status_code == 200
    assert b"BR-CO-16" in response.content
    assert not Document.objects.exists()


def test_the_invoicing_details_are_saved_and_checked(client: Client, company: Organisation) -> None:
    url = reverse("company-invoicing", args=[company.pk])
    fields = {
        "street": "Rue Neuve 1",
        "postal_code": "1000",
        "city": "Bruxelles",
        "country": "BE",
        "enterprise_number": "0403.019.261",
        "iban": "BE71 0961 2345 6769",
        "language": "fr-nl",
    }

    bad = client.post(url, {**fields, "iban": "BE00 1234"})
    good = client.post(url, fields)

    assert bad.status_code == 200 and "IBAN" in bad.content.decode()
    assert good.status_code == 302
    company.invoicing_profile.refresh_from_db()
    assert company.invoicing_profile.iban == "BE71096123456769"
    assert company.invoicing_profile.enterprise_number == "0403019261"


def test_someone_elses_company_pages_are_not_found(client: Client) -> None:
    stranger = builders.invoicing_company()

    assert client.get(reverse("company-documents", args=[stranger.pk])).status_code == 404
    assert client.get(reverse("company-purchases", args=[stranger.pk])).status_code == 404
