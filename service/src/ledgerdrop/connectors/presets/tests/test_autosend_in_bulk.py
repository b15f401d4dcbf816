"""The package connectors' nightly transfer queues a night's documents set-based, batch by batch
of connections: what an accountant notices is the same as one document at a time — each
document once per connection, under the name a hand-sent copy gets, one audit row per
connection."""

from __future__ import annotations

import datetime as dt

import pytest

from ledgerdrop.accounts import services as accounts_services
from ledgerdrop.accounts.models import AuditEntry, Organisation
from ledgerdrop.connectors.presets import services
from ledgerdrop.connectors.presets.catalogue import PRESETS, Mechanism
from ledgerdrop.connectors.presets.models import Message, Shipment
from ledgerdrop.delivery import services as delivery_services
from ledgerdrop.delivery.models import Delivery, Device
from ledgerdrop.documents.models import Document
from tests import builders

pytestmark = pytest.mark.django_db

K, S = Document.Kind, Document.Status
START = dt.date(2026, 11, 1)
TONIGHT = dt.date(2026, 11, 29)
FOLDER_PRESETS = [slug for slug, preset in PRESETS.items() if preset.mechanism is Mechanism.FOLDER]


def _firm_with_dossiers(count: int, per_dossier: int) -> tuple[Organisation, list[Document]]:
    """Dossiers each on a folder package (half of them to their own device) and an e-mail one,
    both sending automatically."""
    firm = builders.firm()
    pc, server = (
        delivery_services.register_device(firm, name=name).device for name in ("PC", "Serveur")
    )
    services.set_default_device(firm, "topaccount", pc, by=None)
    documents: list[Document] = []
    for index in range(count):
        company = builders.company(f"Société {index}")
        dossier = accounts_services.link_accountant(company, firm, by=None)
        services.connect(
            dossier, "topaccount", dossier_code=f"DOS{index}", device=server if index % 2 else None,
            payload="ubl_and_pdf", auto_transfer=True, start_date=START, by=None,
        )  # fmt: skip
        services.connect(
            dossier, "yuki", addresses={"inbox": f"dos{index}@yuki.be"}, auto_transfer=True,
            start_date=START, by=None,
        )  # fmt: skip
        documents += [
            builders.document(company, issue_date=START + dt.timedelta(days=n))
            for n in range(per_dossier)
        ]
    Document.objects.update(status=S.SENT)
    return firm, documents


def test_two_runs_over_several_batches_queue_every_document_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(services, "AUTOSEND_BATCH", 2)
    _firm, documents = _firm_with_dossiers(5, 3)

    first = services.run_autosend(on=TONIGHT)
    second = services.run_autosend(on=TONIGHT)

    # Two files (UBL and PDF) per document through the devices, one message each by e-mail.
    assert (first.queued, second.queued) == (15 * 2 + 15, 0)
    carried = sorted(Delivery.objects.values_list("source_id", "relative_path"))
    assert [source for source, _path in carried] == sorted(2 * [d.pk for d in documents])
    assert sorted(path[-4:] for _source, path in carried) == 15 * [".pdf"] + 15 * [".xml"]
    assert Message.objects.count() == 15
    assert set(Shipment.objects.values_list("origin", flat=True)) == {"automatic"}
    # One audit row per connection that sent something, not one per document.
    assert AuditEntry.objects.filter(action="connector.autosent").count() == 10
    assert not AuditEntry.objects.filter(
        action__in=["delivery.queued", "connector.email_queued"]
    ).exists()


def test_each_dossier_goes_to_its_own_device_else_the_default_in_date_order() -> None:
    _firm, documents = _firm_with_dossiers(2, 3)

    services.run_autosend(on=TONIGHT)

    ubl = Delivery.objects.filter(relative_path__endswith=".xml").order_by("id")
    assert [(d.device.name, d.source_id) for d in ubl.select_related("device")] == [
        ("PC", documents[0].pk),
        ("PC", documents[1].pk),
        ("PC", documents[2].pk),
        ("Serveur", documents[3].pk),
        ("Serveur", documents[4].pk),
        ("Serveur", documents[5].pk),
    ]


def test_a_connection_without_a_device_waits_and_says_why() -> None:
    firm = builders.firm()
    company = builders.company()
    dossier = accounts_services.link_accountant(company, firm, by=None)
    connection = services.connect(
        dossier, "winbooks", dossier_code="DUPONT", auto_transfer=True, start_date=START, by=None
    )
    Document.objects.filter(pk=builders.document(company).pk).update(status=S.SENT)

    report = services.run_autosend(on=TONIGHT)

    assert report.queued == 0 and connection.pk in report.skipped_connections
    assert not Delivery.objects.exists()


Files = set[tuple[int | None, str, str, int]]


def _night_then_by_hand(firm: Organisation, app: str, device: Device) -> tuple[Files, Files]:
    """What the night queued, then what sending the same documents by hand queues."""
    services.run_autosend(on=TONIGHT)
    night = set(Delivery.objects.values_list("source_id", "relative_path", "sha256", "size"))
    documents = list(Document.objects.filter(pk__in=[row[0] for row in night]))
    Shipment.objects.all().delete()
    Delivery.objects.all().delete()
    services.send(firm, app, documents, device=device, by=None)
    by_hand = set(Delivery.objects.values_list("source_id", "relative_path", "sha256", "size"))
    return night, by_hand


@pytest.mark.parametrize("app", FOLDER_PRESETS)
def test_the_night_names_files_as_a_copy_sent_by_hand_for_every_package(app: str) -> None:
    firm, company = builders.firm(), builders.company("L'Atelier: Dupont & Fils S.R.L.")
    dossier = accounts_services.link_accountant(company, firm, by=None)
    device = delivery_services.register_device(firm, name="PC").device
    services.connect(
        dossier, app, dossier_code="DUPONT", device=device, payload="ubl_and_pdf",
        auto_transfer=True, start_date=START, by=None,
    )  # fmt: skip
    numbers = {K.SALES_INVOICE: "F 2026/001", K.CREDIT_NOTE: "NC-2026-0007",
               K.PURCHASE_SLIP: "--BA été 3--", K.PURCHASE_INVOICE: "日本 ##"}  # fmt: skip
    for kind, number in numbers.items():
        document = builders.document(company, kind=kind, number=number, issue_date=START)
        Document.objects.filter(pk=document.pk).update(
            status=S.APPROVED if kind == K.PURCHASE_INVOICE else S.SENT
        )
    builders.document(company, number="X" * 60, issue_date=TONIGHT)
    Document.objects.filter(number="X" * 60).update(status=S.PAID)

    night, by_hand = _night_then_by_hand(firm, app, device)

    assert len(night) == 2 * 5 and night == by_hand


def test_the_night_fills_every_variable_of_a_template_as_a_copy_sent_by_hand() -> None:
    firm, company = builders.firm(), builders.company("Dupont <Frères> SA. ")
    dossier = accounts_services.link_accountant(company, firm, by=None)
    device = delivery_services.register_device(firm, name="PC").device
    services.connect(
        dossier, "folder", dossier_code="DUPONT", device=device, auto_transfer=True,
        start_date=START,
        path_template="{company_name} {enterprise_number} {vat_number}/{year}-{month} {kind}",
        file_template="{date}_{direction}_{number}_{dossier_code}_{id}",
        direction_words={"sales": "Uit", "purchases": "In"}, by=None,
    )  # fmt: skip
    for kind in (K.SALES_INVOICE, K.PURCHASE_SLIP):
        builders.document(company, kind=kind, number="A/B C", issue_date=START)
    Document.objects.update(status=S.SENT)

    night, by_hand = _night_then_by_hand(firm, "folder", device)

    assert len(night) == 2 and night == by_hand


def test_a_document_no_file_name_can_be_made_for_is_left_out_and_counted() -> None:
    firm, company = builders.firm(), builders.company()
    dossier = accounts_services.link_accountant(company, firm, by=None)
    device = delivery_services.register_device(firm, name="PC").device
    services.connect(
        dossier, "folder", dossier_code="DUPONT", device=device, auto_transfer=True,
        start_date=START, file_template="{number}.{id}", by=None,
    )  # fmt: skip
    reserved = builders.document(company, number="CON", issue_date=START)
    fine = builders.document(company, number="F-1", issue_date=START)
    Document.objects.update(status=S.SENT)

    report = services.run_autosend(on=TONIGHT)

    assert (report.queued, report.refused) == (1, 1)
    assert list(Delivery.objects.values_list("source_id", flat=True)) == [fine.pk]
    assert reserved in services.documents_to_process(firm, "folder")
