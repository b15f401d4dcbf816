"""Background work through the real task framework: the scheduler queues the nightly job and a
worker runs it (as `ledgerdrop serve` does in-process on the embedded default)."""

from __future__ import annotations

import datetime as dt

import pytest

from ledgerdrop.connectors.bob_demat import services
from ledgerdrop.core import periodic, tasks
from ledgerdrop.delivery import services as delivery_services
from ledgerdrop.delivery.models import Delivery
from ledgerdrop.documents.models import Document
from tests import builders


@pytest.mark.django_db(transaction=True)
def test_the_scheduled_nightly_transfer_is_run_by_a_worker() -> None:
    firm, company = builders.firm(), builders.company()
    _, connection = builders.connected_dossier(firm, company)
    services.update_connection(
        connection, auto_transfer=True, start_date=dt.date(2026, 1, 1), by=None
    )
    services.set_default_device(
        firm, delivery_services.register_device(firm, name="Serveur").device, by=None
    )
    invoice = builders.document(company, issue_date=dt.date(2026, 11, 2))
    Document.objects.filter(pk=invoice.pk).update(status=Document.Status.PAID)

    queued = periodic.run_due_jobs()
    tasks.run_worker(stop_when_idle=True, interval=0)

    assert "bob_demat.autosend" in queued
    assert list(Delivery.objects.values_list("source_id", flat=True)) == [invoice.pk]
