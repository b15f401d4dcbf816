"""Large or odd numbers never crash the documents API nor reach a column they do not fit: the
API's schema states the bounds, and the API and the HTML editor refuse the same numbers with
the field that is wrong (run on SQLite and on PostgreSQL)."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from ledgerdrop.accounts.models import Organisation
from ledgerdrop.documents import bounds, services
from ledgerdrop.documents.models import Document
from ledgerdrop.documents.tests.test_documents_api import INVOICE
from ledgerdrop.documents.tests.test_pages import editor_post
from tests import builders

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("peppol_rules")]


@pytest.fixture
def company() -> Organisation:
    return builders.invoicing_company()


@pytest.fixture
def client(company: Organisation) -> Client:
    # Errors come back as the answers a client would get, not as exceptions in the test.
    client = Client(raise_request_exception=False, HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(company.memberships.get().user)
    return client


def invoice(quantity: Any, unit_price: Any, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = copy.deepcopy(INVOICE)
    body["lines"][0].update(quantity=quantity, unit_price=unit_price)
    return {**body, **extra}


def post(client: Client, company: Organisation, body: dict[str, Any]) -> Any:
    return client.post(
        f"/api/v1/companies/{company.pk}/documents", body, content_type="application/json"
    )


def fields(answer: Any) -> set[str]:
    return {error["field"] for error in answer.json()["errors"]}


def test_a_line_whose_amount_overflows_the_totals_is_a_422_with_the_fields(
    client: Client, company: Organisation
) -> None:
    answer = post(client, company, invoice(99999999, 99999999))

    assert answer.status_code == 422
    assert answer["Content-Type"] == "application/problem+json"
    assert fields(answer) == {"lines.0", "net_total", "vat_total", "total"}
    assert "9,999,999,800,000,001.00 is more than a document can hold" in answer.json()["detail"]
    assert not Document.objects.exists()


@pytest.mark.parametrize(
    ("quantity", "unit_price", "field"),
    [
        ("10000000000", "1", "lines.0.quantity"),
        ("-10000000000", "1", "lines.0.quantity"),
        ("1E+400", "1", "lines.0.quantity"),
        ("0.00001", "1", "lines.0.quantity"),
        ("NaN", "1", "lines.0.quantity"),
        ("Infinity", "1", "lines.0.quantity"),
        ("1", "10000000000", "lines.0.unit_price"),
        ("1", "-0.01", "lines.0.unit_price"),
        ("1", "1e-30", "lines.0.unit_price"),
        ("1", 1e308, "lines.0.unit_price"),
    ],
)
def test_numbers_beyond_the_schema_bounds_are_422_field_errors(
    client: Client, company: Organisation, quantity: Any, unit_price: Any, field: str
) -> None:
    answer = post(client, company, invoice(quantity, unit_price))

    assert answer.status_code == 422
    assert field in fields(answer)
    assert not Document.objects.exists()


def test_the_largest_document_the_columns_hold_is_kept_and_read_back(
    client: Client, company: Organisation
) -> None:
    answer = post(client, company, invoice("80", bounds.MAX_UNIT_PRICE, draft=True))

    assert answer.status_code == 201, answer.content
    document = Document.objects.get()
    assert document.net_total == Decimal("800000000039.89")  # and the second line
    assert client.get(f"/api/v1/companies/{company.pk}/documents").status_code == 200


def test_editing_a_draft_beyond_the_bounds_changes_nothing(
    client: Client, company: Organisation
) -> None:
    draft = services.create_document(company, builders.invoice_input(), by=None)
    before = draft.total

    answer = client.patch(
        f"/api/v1/companies/{company.pk}/documents/{draft.pk}",
        {"lines": invoice(bounds.MAX_QUANTITY, bounds.MAX_UNIT_PRICE)["lines"]},
        content_type="application/json",
    )

    assert answer.status_code == 422
    draft.refresh_from_db()
    assert draft.total == before


def test_the_schema_states_the_bounds(client: Client) -> None:
    schema = client.get("/api/v1/openapi.json").json()["components"]["schemas"]["LineIn"]

    quantity = schema["properties"]["quantity"]
    unit_price = schema["properties"]["unit_price"]
    assert {"minimum": -9999999999.9999, "maximum": 9999999999.9999}.items() <= (
        quantity["anyOf"][0].items()
    )
    assert unit_price["anyOf"][0]["minimum"] == 0
    assert "at most 999999999999.99" in quantity["description"]


def test_the_editor_refuses_the_numbers_the_api_refuses(
    client: Client, company: Organisation
) -> None:
    new = reverse("document-new", args=[company.pk, "sales_invoice"])

    beyond = client.post(new, editor_post(**{"lines-0-quantity": "10000000000"}))
    overflowing = client.post(
        new, editor_post(**{"lines-0-quantity": "99999999", "lines-0-unit_price": "99999999"})
    )
    totals = client.post(
        reverse("document-totals", args=[company.pk]),
        editor_post(**{"lines-0-quantity": "99999999", "lines-0-unit_price": "99999999"}),
    )

    assert beyond.status_code == 200
    assert "less than or equal to 9999999999" in beyond.content.decode()
    assert overflowing.status_code == 200
    assert "more than a document can hold" in overflowing.content.decode()
    assert totals.status_code == 200
    assert not Document.objects.exists()


@pytest.mark.parametrize("vat_rate", ["99999", "-6", "21.0000001", "NaN", "1e400", "X", 1e308])
def test_an_odd_vat_rate_is_a_422_not_a_crash(
    client: Client, company: Organisation, vat_rate: Any
) -> None:
    body = invoice("1", "10")
    body["lines"][0]["vat_rate"] = vat_rate

    answer = post(client, company, body)

    assert answer.status_code == 422, answer.content
    assert answer["Content-Type"] == "application/problem+json"
    assert not Document.objects.exists()
