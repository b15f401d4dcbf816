"""S8, the nightly automatic transfer, as a table: kind × status × toggle × default device ×
start date → sent tonight or not."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import translation

from ledgerdrop.connectors.bob_demat import services
from ledgerdrop.delivery import services as delivery_services
from ledgerdrop.delivery.models import Delivery
from ledgerdrop.documents.models import Document
from tests import builders

pytestmark = pytest.mark.django_db

K, S = Document.Kind, Document.Status
START = dt.date(2026, 11, 1)
TONIGHT = dt.date(2026, 11, 29)

# (kind, status, automatic transfer on, default device set, issue date, sent tonight)
RULES = [
    (K.SALES_INVOICE, S.ISSUED, True, True, START, False),
    (K.SALES_INVOICE, S.SENT, True, True, START, True),
    (K.SALES_INVOICE, S.PAID, True, True, START, True),
    (K.SALES_INVOICE, S.DRAFT, True, True, START, False),
    (K.CREDIT_NOTE, S.ISSUED, True, True, START, False),
    (K.CREDIT_NOTE, S.SENT, True, True, START, True),
    (K.CREDIT_NOTE, S.PAID, True, True, START, True),
    (K.PURCHASE_SLIP, S.ISSUED, True, True, START, False),
    (K.PURCHASE_SLIP, S.SENT, True, True, START, True),
    (K.PURCHASE_SLIP, S.PAID, True, True, START, True),
    (K.PURCHASE_INVOICE, S.APPROVED, True, True, START, True),
    (K.PURCHASE_INVOICE, S.REJECTED, True, True, START, False),
    (K.INCOMING, S.RECEIVED, True, True, START, False),
    (K.INCOMING, S.APPROVED, True, True, START, True),
    (K.INCOMING, S.REJECTED, True, True, START, False),
    # The toggle, the default device (S7) and the start date gate everything.
    (K.SALES_INVOICE, S.SENT, False, True, START, False),
    (K.SALES_INVOICE, S.SENT, True, False, START, False),
    (K.SALES_INVOICE, S.SENT, True, True, START - dt.timedelta(days=1), False),
    (K.PURCHASE_INVOICE, S.APPROVED, True, True, START - dt.timedelta(days=40), False),
    (K.SALES_INVOICE, S.PAID, True, True, TONIGHT + dt.timedelta(days=1), False),
]


@pytest.mark.parametrize(("kind", "status", "toggle", "has_default", "issued", "sent"), RULES)
def test_the_nightly_transfer_follows_the_rules_table(
    kind: Document.Kind,
    status: Document.Status,
    toggle: bool,
    has_default: bool,
    issued: dt.date,
    sent: bool,
) -> None:
    firm, company = builders.firm(), builders.company()
    _, connection = builders.connected_dossier(firm, company)
    services.update_connection(connection, auto_transfer=toggle, start_date=START, by=None)
    device = delivery_services.register_device(firm, name="Serveur partagé").device
    if has_default:
        services.set_default_device(firm, device, by=None)
    document = builders.document(company, kind=kind, issue_date=issued)
    Document.objects.filter(pk=document.pk).update(status=status)

    report = services.run_autosend(on=TONIGHT)

    assert [d.source_id for d in report.deliveries()] == ([document.pk] if sent else [])


def test_a_second_run_queues_nothing_again() -> None:
    firm, company = builders.firm(), builders.company()
    _, connection = builders.connected_dossier(firm, company)
    services.update_connection(connection, auto_transfer=True, start_date=START, by=None)
    services.set_default_device(
        firm, delivery_services.register_device(firm, name="PC").device, by=None
    )
    document = builders.document(company, issue_date=START)
    Document.objects.filter(pk=document.pk).update(status=S.PAID)

    first = services.run_autosend(on=TONIGHT)
    second = services.run_autosend(on=TONIGHT)

    assert first.queued == 1
    assert second.queued == 0
    assert Delivery.objects.carrying(Document, [document.pk]).count() == 1


def test_the_firm_is_warned_while_automatic_transfer_is_on_without_a_default_device() -> None:
    firm, company = builders.firm(), builders.company()
    _, connection = builders.connected_dossier(firm, company)
    assert services.autosend_warnings(firm) == []

    services.update_connection(connection, auto_transfer=True, by=None)

    with translation.override("en"):
        [warning] = services.autosend_warnings(firm)
    assert "no default device" in warning
    with translation.override("en"):
        skipped = services.run_autosend(on=TONIGHT).skipped_connections
    assert skipped == {connection.pk: warning}
