"""Customers abroad, private sellers, foreign currencies and the company's own invoicing details,
through the API as a script would send them, with errors in the caller's language."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from lxml import etree

from ledgerdrop.accounts.models import Organisation
from ledgerdrop.documents.models import Document, InvoicingProfile
from tests import builders

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("peppol_rules")]

NS = {
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
}
EXPORT: dict[str, Any] = {
    "kind": "sales_invoice",
    "issue_date": "2026-11-02",
    "currency": "USD",
    "eur_rate": "0.9213",
    "counterparty": {
        "name": "Acme Trading Inc.",
        "address": {
            "street": "1 Main Street",
            "postal_code": "62701",
            "city": "Springfield",
            "country": "US",
        },
    },
    "lines": [
        {"description": "Projecteur", "quantity": 2, "unit_price": "450.50", "vat_rate": "G"}
    ],
}
FARM_PURCHASE: dict[str, Any] = {
    "kind": "purchase_slip",
    "issue_date": "2026-11-02",
    "counterparty": {
        "name": "Jan Kowalski",
        "address": {"street": "Chemin des Prés 3", "postal_code": "5030", "city": "Gembloux"},
    },
    "lines": [{"description": "Pommes", "quantity": 300, "unit_price": "0.45", "vat_rate": "O"}],
}


@pytest.fixture
def company() -> Organisation:
    return builders.invoicing_company()


@pytest.fixture
def client(company: Organisation) -> Client:
    client = Client()
    client.force_login(company.memberships.get().user)
    return client


def post(client: Client, company: Organisation, body: dict[str, Any], language: str = "fr") -> Any:
    return client.post(
        f"/api/v1/companies/{company.pk}/documents",
        body,
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE=language,
    )


def test_an_export_in_dollars_to_a_customer_without_vat_number_is_issued_and_valid(
    client: Client, company: Organisation
) -> None:
    response = post(client, company, EXPORT)

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["validation"]["status"] == "valid"
    assert body["currency"] == "USD" and body["eur_rate"] == "0.921300"
    ubl = etree.fromstring(client.get(body["ubl"]["url"]).getvalue())
    assert ubl.findtext("cbc:TaxCurrencyCode", namespaces=NS) == "EUR"
    eur_total = ubl.xpath("cac:TaxTotal/cbc:TaxAmount[@currencyID='EUR']", namespaces=NS)
    assert [amount.text for amount in eur_total] == ["0.00"]


def test_a_dollar_invoice_states_its_vat_total_in_euro_at_the_given_rate(
    client: Client, company: Organisation
) -> None:
    belgian = {
        **EXPORT,
        "counterparty": {"name": "Brouwerij Noord NV", "vat_number": "BE0202239951"},
        "lines": [{"description": "Réglage", "quantity": 1, "unit_price": "1000", "vat_rate": 21}],
    }
    body = post(client, company, belgian).json()

    ubl = etree.fromstring(client.get(body["ubl"]["url"]).getvalue())
    amounts = {
        amount.get("currencyID"): amount.text
        for amount in ubl.xpath("cac:TaxTotal/cbc:TaxAmount", namespaces=NS)
    }
    assert amounts == {"USD": "210.00", "EUR": "193.47"}  # 210 × 0.9213, to the cent


def test_a_foreign_currency_without_its_rate_is_refused_in_the_callers_language(
    client: Client, company: Organisation
) -> None:
    without_rate = {key: value for key, value in EXPORT.items() if key != "eur_rate"}

    french = post(client, company, without_rate, "fr")
    dutch = post(client, company, without_rate, "nl")

    assert french.status_code == 422
    assert "taux de change" in french.json()["detail"]
    assert "wisselkoers" in dutch.json()["detail"]
    assert not Document.objects.filter(company=company).exists()


@pytest.mark.parametrize("rate", ["0", "-1", "1000000000", "0.0000001"])
def test_a_rate_that_is_no_exchange_rate_is_refused(
    client: Client, company: Organisation, rate: str
) -> None:
    response = post(client, company, {**EXPORT, "eur_rate": rate}, "fr")

    assert response.status_code == 422
    assert "taux de change" in response.json()["detail"]


def test_an_unknown_currency_or_country_is_refused_with_what_to_type(
    client: Client, company: Organisation
) -> None:
    currency = post(client, company, {**EXPORT, "currency": "USX"}, "fr")
    country = post(
        client,
        company,
        {**EXPORT, "counterparty": {**EXPORT["counterparty"], "address": {"country": "XX"}}},
        "fr",
    )

    assert currency.status_code == 422 and "USX" in currency.json()["detail"]
    assert "EUR, USD" in currency.json()["detail"]
    assert country.status_code == 422 and "XX" in country.json()["detail"]


def test_a_purchase_slip_from_a_private_seller_is_identified_by_name_and_address(
    client: Client, company: Organisation
) -> None:
    response = post(client, company, FARM_PURCHASE)

    assert response.status_code == 201, response.content
    assert response.json()["validation"]["status"] == "valid"
    assert response.json()["number"].startswith("BA")


def test_a_customer_without_any_number_needs_an_address_said_in_dutch(
    client: Client, company: Organisation
) -> None:
    nameless_place = {**EXPORT, "counterparty": {"name": "Acme Trading Inc."}}

    response = post(client, company, nameless_place, "nl")

    assert response.status_code == 422
    assert "straat" in response.json()["detail"]


def test_issuing_without_the_companys_address_and_iban_says_what_to_fill_in(
    client: Client, company: Organisation
) -> None:
    InvoicingProfile.objects.filter(company=company).update(street="", iban="")
    invoice = {**EXPORT, "currency": "EUR", "eur_rate": None}

    response = post(client, company, invoice, "fr")

    assert response.status_code == 409
    body = response.json()
    assert body["type"].endswith("invoicing_details_missing")
    assert "Données de facturation" in body["detail"]
    assert {error["field"] for error in body["errors"]} == {"street", "iban"}
    assert not Document.objects.filter(company=company).exists()


def test_a_credit_note_or_purchase_slip_needs_no_iban_of_the_company(
    client: Client, company: Organisation
) -> None:
    InvoicingProfile.objects.filter(company=company).update(iban="")

    assert post(client, company, FARM_PURCHASE).status_code == 201
