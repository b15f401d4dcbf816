"""The nightly transfer leaves a received invoice that names another company as its buyer
until somebody of the company confirms it is theirs."""

from __future__ import annotations

import datetime as dt

import pytest

from ledgerdrop.connectors.bob_demat import services
from ledgerdrop.delivery import services as delivery_services
from ledgerdrop.documents import services as documents_services
from ledgerdrop.documents.models import Document
from tests import builders

pytestmark = pytest.mark.django_db

TONIGHT = dt.date(2026, 11, 29)


@pytest.mark.parametrize("register", [True, False])
def test_an_invoice_for_another_company_is_transferred_only_once_confirmed(
    register: bool,
) -> None:
    firm, company = builders.firm(), builders.invoicing_company("Atelier Lumière SRL")
    neighbour = builders.invoicing_company("Garage Peeters BV", enterprise_number="0456789034")
    _, connection = builders.connected_dossier(firm, company)
    services.update_connection(
        connection, auto_transfer=True, start_date=dt.date(2026, 10, 1), by=None
    )
    services.set_default_device(
        firm, delivery_services.register_device(firm, name="PC Kevin").device, by=None
    )
    document = documents_services.receive(
        company,
        builders.received_ubl(neighbour),
        source=Document.Source.UPLOAD,
        register=register,
    )
    if not register:
        document = documents_services.approve(document, by=None)

    before = services.run_autosend(on=TONIGHT)
    documents_services.confirm_addressee(document, by=None)
    after = services.run_autosend(on=TONIGHT)

    assert before.queued == 0
    assert [delivery.source_id for delivery in after.deliveries()] == [document.pk]
