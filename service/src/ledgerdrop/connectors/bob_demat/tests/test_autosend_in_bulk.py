"""The nightly transfer queues a night's documents set-based, batch by batch of dossiers: what
an accountant notices is the same as one document at a time — each document once, under the
name a hand-sent copy gets, one wake-up per device and one audit row per dossier."""

from __future__ import annotations

import datetime as dt

import pytest

from ledgerdrop.accounts.models import AuditEntry
from ledgerdrop.connectors.bob_demat import naming, services
from ledgerdrop.connectors.bob_demat.models import AutosendRun, Transmission
from ledgerdrop.delivery import services as delivery_services
from ledgerdrop.delivery.models import Delivery
from ledgerdrop.documents.models import Document
from tests import builders

pytestmark = pytest.mark.django_db

K, S = Document.Kind, Document.Status
START = dt.date(2026, 11, 1)
TONIGHT = dt.date(2026, 11, 29)


def _firm_with_dossiers(count: int, per_dossier: int) -> tuple[list[Document], list[int]]:
    firm = builders.firm()
    devices = [
        delivery_services.register_device(firm, name=name).device for name in ("PC", "Serveur")
    ]
    services.set_default_device(firm, devices[0], by=None)
    documents, connections = [], []
    for index in range(count):
        company = builders.company()
        _, connection = builders.connected_dossier(firm, company, code=f"DOS{index}")
        services.update_connection(
            connection,
            auto_transfer=True,
            start_date=START,
            device=devices[1] if index % 2 else None,
            by=None,
        )
        connections.append(connection.pk)
        documents += [
            builders.document(company, issue_date=START + dt.timedelta(days=n))
            for n in range(per_dossier)
        ]
    Document.objects.update(status=S.SENT)
    return documents, connections


def test_two_runs_over_several_batches_queue_every_document_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(services, "AUTOSEND_BATCH", 2)
    documents, connections = _firm_with_dossiers(5, 3)

    first = services.run_autosend(on=TONIGHT)
    second = services.run_autosend(on=TONIGHT)

    assert (first.queued, second.queued) == (15, 0)
    carried = [pk for pk in Delivery.objects.values_list("source_id", flat=True) if pk]
    assert sorted(carried) == sorted(document.pk for document in documents)
    assert Transmission.objects.filter(origin=Transmission.Origin.AUTOMATIC).count() == 15
    assert AutosendRun.objects.filter(connection__in=connections).count() == 10
    # One audit row per dossier that sent something, not one per document.
    assert AuditEntry.objects.filter(action="bob_demat.autosent").count() == 5
    assert not AuditEntry.objects.filter(action="delivery.queued").exists()


def test_each_dossier_goes_to_its_own_device_else_the_default() -> None:
    documents, _connections = _firm_with_dossiers(2, 3)

    services.run_autosend(on=TONIGHT)

    deliveries = list(Delivery.objects.order_by("id").select_related("device"))
    assert [d.device.name for d in deliveries] == ["PC"] * 3 + ["Serveur"] * 3
    assert [d.source_id for d in deliveries] == [document.pk for document in documents]


@pytest.mark.parametrize(
    ("kind", "number"),
    [
        (K.SALES_INVOICE, "F 2026/001"),
        (K.CREDIT_NOTE, "NC-2026-0007"),
        (K.PURCHASE_SLIP, "--BA été 3--"),
        (K.PURCHASE_INVOICE, "日本 ##"),
        (K.SALES_INVOICE, "X" * 60),
    ],
)
def test_the_night_names_files_as_a_copy_sent_by_hand(kind: Document.Kind, number: str) -> None:
    firm, company = builders.firm(), builders.company()
    _, connection = builders.connected_dossier(firm, company, code="DUPONT")
    services.update_connection(connection, auto_transfer=True, start_date=START, by=None)
    services.set_default_device(
        firm, delivery_services.register_device(firm, name="PC").device, by=None
    )
    document = builders.document(company, kind=kind, number=number, issue_date=START)
    Document.objects.filter(pk=document.pk).update(
        status=S.APPROVED if kind == K.PURCHASE_INVOICE else S.SENT
    )
    document.refresh_from_db()

    services.run_autosend(on=TONIGHT)

    (delivery,) = Delivery.objects.all()
    assert delivery.relative_path == naming.relative_path("DUPONT", document)
    assert (delivery.sha256, delivery.size) == (document.ubl_sha256, document.ubl_size)
    assert delivery.company_id == company.pk


def test_a_document_without_its_file_is_counted_as_refused_not_queued() -> None:
    documents, connections = _firm_with_dossiers(1, 2)
    Document.objects.filter(pk=documents[0].pk).update(ubl_sha256="")

    report = services.run_autosend(on=TONIGHT)

    run = AutosendRun.objects.get(connection=connections[0])
    assert (report.queued, run.queued, run.refused) == (1, 1, 1)
