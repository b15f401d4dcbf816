"""Connecting dossiers to packages and sending their documents through the devices."""

from __future__ import annotations

import datetime as dt
from html import unescape
from typing import NamedTuple

import pytest

from ledgerdrop.accounts import services as accounts_services
from ledgerdrop.accounts.models import Dossier, Organisation
from ledgerdrop.connectors.bob_demat import services as bob_demat
from ledgerdrop.connectors.presets import services
from ledgerdrop.core.errors import ServiceError
from ledgerdrop.delivery import folders
from ledgerdrop.delivery import services as delivery_services
from ledgerdrop.delivery.models import Delivery, Device
from ledgerdrop.documents import slots
from ledgerdrop.documents.models import Document
from ledgerdrop_protocol import Ack, FailReason, FailReport
from tests import builders

pytestmark = pytest.mark.django_db


class Setup(NamedTuple):
    firm: Organisation
    company: Organisation
    dossier: Dossier
    device: Device


@pytest.fixture
def setup() -> Setup:
    firm = builders.firm()
    company = builders.company()  # BE0403019261
    dossier = accounts_services.link_accountant(company, firm, by=None)
    device = delivery_services.register_device(firm, name="PC Kevin").device
    return Setup(firm, company, dossier, device)


def test_switching_a_package_on_and_off(setup: Setup) -> None:
    assert not services.is_enabled(setup.firm, "expert-m")
    services.switch(setup.firm, "expert-m", True, by=None)
    assert services.is_enabled(setup.firm, "expert-m")
    assert not services.is_enabled(setup.firm, "venice")
    services.switch(setup.firm, "expert-m", False, by=None)
    assert not services.is_enabled(setup.firm, "expert-m")


def test_an_unknown_package_cannot_be_switched_on(setup: Setup) -> None:
    with pytest.raises(ServiceError) as refused:
        services.switch(setup.firm, "nope", True, by=None)
    assert refused.value.code == "unknown_app"
    services.switch(setup.firm, "yuki", True, by=None)
    assert services.is_enabled(setup.firm, "yuki")


def test_folders_appear_on_the_devices_as_soon_as_a_connection_is_saved(setup: Setup) -> None:
    assert folders.folders_for(setup.device) == []
    services.connect(setup.dossier, "expert-m", by=None)
    assert folders.folders_for(setup.device) == [
        "0403019261",
        "0403019261/Aankopen",
        "0403019261/Verkopen",
    ]
    other = delivery_services.register_device(setup.firm, name="Serveur").device
    connection = services.connect(
        accounts_services.link_accountant(builders.company("Autre"), setup.firm, by=None),
        "winbooks",
        dossier_code="AUTRE",
        device=other,
        by=None,
    )
    assert "AUTRE/Factures de vente" in folders.folders_for(other)
    assert "AUTRE/Factures de vente" not in folders.folders_for(setup.device)
    services.disconnect(connection, by=None)
    assert not any(folder.startswith("AUTRE") for folder in folders.folders_for(other))


def test_two_connections_cannot_share_a_folder(setup: Setup) -> None:
    services.connect(setup.dossier, "topaccount", dossier_code="DUPONT", by=None)
    other = accounts_services.link_accountant(builders.company("Autre"), setup.firm, by=None)
    with pytest.raises(ServiceError) as refused:
        services.connect(other, "folder", dossier_code="dupont", by=None)
    assert refused.value.code == "folder_taken"
    with pytest.raises(ServiceError) as refused:
        services.connect(setup.dossier, "folder", dossier_code="DUPONT", by=None)
    assert refused.value.code == "folder_taken"


def test_send_places_the_ubl_under_the_presets_folder_once(setup: Setup) -> None:
    firm, company, dossier, device = setup
    services.connect(dossier, "venice", by=None)
    invoice = builders.document(company, number="F-1")
    assert list(services.documents_to_process(firm, "venice")) == [invoice]

    (delivery,) = services.send(firm, "venice", [invoice], device=device, by=None)

    assert (
        delivery.relative_path == f"0403019261/ventes/20261102_sales_invoice_F-1_{invoice.pk}.xml"
    )
    assert delivery.sha256 == invoice.ubl_sha256
    assert list(services.documents_to_process(firm, "venice")) == []
    # Venice refuses a second document with the same number: sending it again in a batch
    # does nothing; only an explicit send again does.
    assert services.send(firm, "venice", [invoice], device=device, by=None) == []
    (again,) = services.send_again(firm, "venice", invoice, by=None)
    assert again.relative_path == delivery.relative_path
    assert Delivery.objects.filter(source_id=invoice.pk).count() == 2


def test_a_booked_file_taken_away_is_not_placed_again_by_itself(setup: Setup) -> None:
    firm, company, dossier, device = setup
    services.connect(dossier, "expert-m", by=None)
    invoice = builders.document(company)
    (delivery,) = services.send(firm, "expert-m", [invoice], device=device, by=None)
    delivery_services.acknowledge(
        device, [Ack(id=delivery.pk, sha256=delivery.sha256, placed_path=delivery.relative_path)]
    )
    # Expert/M books the file and deletes it: nothing puts it back by itself.
    assert services.send(firm, "expert-m", [invoice], device=device, by=None) == []
    assert invoice not in services.documents_to_process(firm, "expert-m")


def test_ubl_and_pdf_side_by_side_or_the_pdf_alone(setup: Setup) -> None:
    firm, company, dossier, device = setup
    connection = services.connect(dossier, "folder", dossier_code="DUPONT", payload="pdf", by=None)
    invoice, without_pdf = builders.document(company), builders.document(company)
    Document.objects.filter(pk=without_pdf.pk).update(pdf_sha256="", pdf_size=0)
    without_pdf.refresh_from_db()
    with pytest.raises(ServiceError) as refused:
        services.send(firm, "folder", [without_pdf], device=device, by=None)
    assert refused.value.code == "not_deliverable"

    (pdf_alone,) = services.send(firm, "folder", [invoice], device=device, by=None)
    assert (pdf_alone.relative_path[-4:], pdf_alone.sha256) == (".pdf", invoice.pdf_sha256)

    services.update_connection(connection, payload="ubl_and_pdf", by=None)
    second = builders.document(company)
    ubl, pdf = services.send(firm, "folder", [second], device=device, by=None)
    assert (ubl.sha256, pdf.sha256) == (second.ubl_sha256, second.pdf_sha256)
    assert pdf.relative_path == ubl.relative_path.removesuffix(".xml") + ".pdf"


def test_sending_without_a_device_says_to_choose_one_and_uses_the_default(setup: Setup) -> None:
    firm, company, dossier, device = setup
    services.connect(dossier, "adsolut", by=None)
    invoice = builders.document(company)
    with pytest.raises(ServiceError) as refused:
        services.send(firm, "adsolut", [invoice], by=None)
    assert refused.value.code == "no_device"
    services.set_default_device(firm, "adsolut", device, by=None)
    (delivery,) = services.send(firm, "adsolut", [invoice], by=None)
    assert delivery.device == device


def test_a_dossier_connected_to_two_packages_gets_each_document_in_both(setup: Setup) -> None:
    firm, company, dossier, device = setup
    _, bob = builders.connected_dossier(firm, company, code="DUPONT")
    services.connect(dossier, "expert-m", by=None)
    invoice = builders.document(company)

    (placed_for_bob,) = bob_demat.send(firm, [invoice], device, by=None)
    (placed_for_expert_m,) = services.send(firm, "expert-m", [invoice], device=device, by=None)

    assert placed_for_bob.relative_path.startswith("DUPONT/ventes/")
    assert placed_for_expert_m.relative_path.startswith("0403019261/Verkopen/")
    # The client's icon tells of the latest, through the package that sent it.
    assert slots.transfer_of(invoice).by == "expert-m"
    assert bob_demat.documents_to_process(firm).count() == 0
    assert bob.dossier == dossier


def test_the_client_sees_the_state_of_the_packages_transfer(setup: Setup) -> None:
    firm, company, dossier, device = setup
    services.connect(dossier, "winbooks", dossier_code="DUPONT", by=None)
    invoice = builders.document(company)
    assert slots.transfer_of(invoice).state == "none"
    services.send(firm, "winbooks", [invoice], device=device, by=None)
    transfer = slots.transfer_of(invoice)
    assert (transfer.state, transfer.by) == ("queued", "winbooks")
    assert 'class="sage-icon sage-grey"' in slots.icon(transfer)


def test_the_clients_icon_turns_green_once_placed_and_red_with_the_devices_reason(
    setup: Setup,
) -> None:
    firm, company, dossier, device = setup
    services.connect(dossier, "adsolut", by=None)
    placed, refused = builders.document(company), builders.document(company)
    first, second = services.send(firm, "adsolut", [placed, refused], device=device, by=None)

    delivery_services.acknowledge(
        device, [Ack(id=first.pk, sha256=first.sha256, placed_path=first.relative_path)]
    )
    delivery_services.report_failure(
        device, second.pk,
        FailReport(reason=FailReason.DISK_FULL, message="D:\\Compta: disk full"),
    )  # fmt: skip

    green, red = slots.transfer_of(placed), slots.transfer_of(refused)
    assert (green.state, green.by) == ("delivered", "adsolut")
    assert 'class="sage-icon sage-green"' in slots.icon(green)
    assert (red.state, red.by) == ("failed", "adsolut")
    assert red.error and red.error in unescape(slots.icon(red))  # the reason, in its title
    assert 'class="sage-icon sage-red"' in slots.icon(red)


def test_the_nightly_transfer_sends_what_bob_demats_rules_send_once(setup: Setup) -> None:
    firm, company, dossier, device = setup
    connection = services.connect(
        dossier, "topaccount", dossier_code="DUPONT", auto_transfer=True,
        start_date=dt.date(2026, 11, 1), by=None,
    )  # fmt: skip
    sent, issued = builders.document(company), builders.document(company)
    before_start = builders.document(company, issue_date=dt.date(2026, 10, 31))
    Document.objects.filter(pk__in=[sent.pk, before_start.pk]).update(status=Document.Status.SENT)

    assert services.run_autosend(on=dt.date(2026, 11, 30)).queued == 0  # no device yet
    services.set_default_device(firm, "topaccount", device, by=None)
    first = services.run_autosend(on=dt.date(2026, 11, 30))
    again = services.run_autosend(on=dt.date(2026, 11, 30))

    (delivery,) = Delivery.objects.all()
    assert delivery.source_id == sent.pk and (first.queued, again.queued) == (1, 0)
    assert issued in services.documents_to_process(firm, "topaccount")
    assert connection.shipments.get().origin == "automatic"
