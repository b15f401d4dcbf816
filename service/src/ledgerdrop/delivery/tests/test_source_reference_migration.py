"""Migration 0006 turns a delivery's foreign key to its document into an opaque reference with
the document's company, and back: deliveries made before it keep what they carry."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from ledgerdrop.core import storage
from ledgerdrop.delivery import services
from ledgerdrop.delivery.models import Delivery
from tests import builders

BEFORE = ("delivery", "0005_device_online_until")


@pytest.mark.django_db(transaction=True)
def test_a_delivery_keeps_its_document_through_the_migration_and_back() -> None:
    firm, company = builders.firm(), builders.company()
    document = builders.document(company)
    device = services.register_device(firm, name="PC Kevin").device
    sent = services.queue_delivery(
        device,
        relative_path="DUPONT/ventes/a.xml",
        blob=storage.Blob(sha256=document.ubl_sha256, size=document.ubl_size),
        source=document,
        company=company,
    )

    executor = MigrationExecutor(connection)
    executor.migrate([BEFORE])
    with connection.cursor() as cursor:
        cursor.execute("SELECT document_id FROM delivery_delivery WHERE id = %s", [sent.pk])
        (document_id,) = cursor.fetchone()
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    again = Delivery.objects.get(pk=sent.pk)

    assert document_id == document.pk
    assert (again.source_type, again.source_id, again.company_id) == (
        "documents.document",
        document.pk,
        company.pk,
    )
