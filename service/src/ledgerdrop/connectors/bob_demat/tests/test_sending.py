"""Sending documents to the Sage Demat folders: by the accountant (S6), by the client (S9),
again; folders and names."""

from __future__ import annotations

from typing import NamedTuple

import pytest
from django.utils import translation

from ledgerdrop.accounts.models import Organisation
from ledgerdrop.connectors.bob_demat import services
from ledgerdrop.connectors.bob_demat.models import DematConnection
from ledgerdrop.core.errors import ServiceError
from ledgerdrop.delivery import services as delivery_services
from ledgerdrop.delivery.models import Delivery, Device
from ledgerdrop.documents import slots
from ledgerdrop.documents.models import Document
from tests import builders

pytestmark = pytest.mark.django_db


class Setup(NamedTuple):
    firm: Organisation
    company: Organisation
    connection: DematConnection
    device: Device


@pytest.fixture
def setup() -> Setup:
    firm, company = builders.firm(), builders.company()
    _, connection = builders.connected_dossier(firm, company, code="DUPONT")
    device = delivery_services.register_device(firm, name="PC Kevin").device
    return Setup(firm, company, connection, device)


def test_documents_to_process_are_the_connected_dossiers_documents_never_sent(setup: Setup) -> None:
    firm, company, _, device = setup
    sent, waiting = builders.document(company), builders.document(company)
    draft = builders.document(company)
    Document.objects.filter(pk=draft.pk).update(status=Document.Status.DRAFT)
    unconnected = builders.document(builders.company())

    services.send(firm, [sent], device, by=None)

    assert list(services.documents_to_process(firm)) == [waiting]
    assert unconnected not in services.documents_to_process(firm)


def test_sales_go_to_ventes_and_purchases_to_achats_with_names_that_sort_by_date(
    setup: Setup,
) -> None:
    firm, company, _, device = setup
    invoice = builders.document(company, number="F/2026 01")
    purchase = builders.document(company, kind=Document.Kind.PURCHASE_INVOICE, number="A-7")

    sale_delivery, purchase_delivery = services.send(firm, [invoice, purchase], device, by=None)

    assert sale_delivery.relative_path == (
        f"DUPONT/ventes/20261102_sales_invoice_F-2026-01_{invoice.pk}.xml"
    )
    assert purchase_delivery.relative_path.startswith("DUPONT/achats/20261102_purchase_invoice_")


def test_a_draft_in_the_batch_stops_the_whole_send_with_the_reason(setup: Setup) -> None:
    firm, company, _, device = setup
    ready, draft = builders.document(company), builders.document(company)
    Document.objects.filter(pk=draft.pk).update(status=Document.Status.DRAFT)
    draft.refresh_from_db()

    with translation.override("en"), pytest.raises(ServiceError, match="draft"):
        services.send(firm, [ready, draft], device, by=None)

    assert Delivery.objects.count() == 0


def test_the_client_cannot_send_until_the_firm_has_a_default_device(setup: Setup) -> None:
    firm, company, _, device = setup
    invoice = builders.document(company)

    with translation.override("en"), pytest.raises(ServiceError, match="default device"):
        services.send_to_accountant(company, invoice, by=None)
    services.set_default_device(firm, device, by=None)
    [delivery] = services.send_to_accountant(company, invoice, by=None)

    assert delivery.device == device
    assert slots.transfer_of(invoice).state == "queued"


def test_the_client_sends_to_the_dossiers_own_device_before_the_default(setup: Setup) -> None:
    firm, company, connection, device = setup
    server = delivery_services.register_device(firm, name="Serveur").device
    services.set_default_device(firm, device, by=None)
    services.update_connection(connection, device=server, by=None)

    [delivery] = services.send_to_accountant(company, builders.document(company), by=None)

    assert delivery.device == server


def test_sending_again_uses_the_same_folder_and_name(setup: Setup) -> None:
    firm, company, _, device = setup
    services.set_default_device(firm, device, by=None)
    invoice = builders.document(company)
    [first] = services.send(firm, [invoice], device, by=None)

    again = services.send_again(firm, invoice, by=None)

    assert again.pk != first.pk
    assert again.relative_path == first.relative_path


def test_a_dossier_code_that_could_be_a_path_trick_is_refused(setup: Setup) -> None:
    firm, _, _, _ = setup
    dossier = builders.connected_dossier(firm, builders.company(), code="OTHER")[0]
    DematConnection.objects.filter(dossier=dossier).delete()

    for code in ["../x", "A B", "C:", "CON", "dupont", "x" * 21, ""]:
        with pytest.raises(ServiceError):
            services.connect(dossier, code, by=None)
    assert not DematConnection.objects.filter(dossier=dossier).exists()


def test_a_new_connection_gives_the_device_its_achats_and_ventes_folders(setup: Setup) -> None:
    firm, _, _, device = setup
    services.set_default_device(firm, device, by=None)

    assert services.folders_for_device(device) == ["DUPONT/achats", "DUPONT/ventes"]


def test_a_connection_without_a_device_has_its_folders_on_every_device_before_any_default(
    setup: Setup,
) -> None:
    firm, _, _, pc = setup
    server = delivery_services.register_device(firm, name="Serveur").device
    revoked = delivery_services.register_device(firm, name="Ancien PC").device
    delivery_services.revoke_device(revoked, by=None)
    revoked.refresh_from_db()

    assert services.default_device(firm) is None
    assert services.folders_for_device(pc) == ["DUPONT/achats", "DUPONT/ventes"]
    assert services.folders_for_device(server) == ["DUPONT/achats", "DUPONT/ventes"]
    assert services.folders_for_device(revoked) == []
    other_firms_device = delivery_services.register_device(builders.firm(), name="PC").device
    assert services.folders_for_device(other_firms_device) == []


def test_a_connection_naming_a_device_has_its_folders_on_that_device_only(setup: Setup) -> None:
    firm, _, connection, pc = setup
    server = delivery_services.register_device(firm, name="Serveur").device

    services.update_connection(connection, device=server, by=None)

    assert services.folders_for_device(server) == ["DUPONT/achats", "DUPONT/ventes"]
    assert services.folders_for_device(pc) == []
