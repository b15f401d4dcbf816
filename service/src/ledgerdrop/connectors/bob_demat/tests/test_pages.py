"""The Sage Demat pages, as an accountant uses them (the browser story test walks them too)."""

from __future__ import annotations

from html import unescape

import pytest
from django.test import Client

from ledgerdrop.accounts import services as accounts_services
from ledgerdrop.accounts.models import Organisation
from ledgerdrop.connectors.bob_demat import services
from ledgerdrop.connectors.bob_demat.models import DematConnection
from ledgerdrop.delivery import services as delivery_services
from ledgerdrop.delivery.models import Delivery
from ledgerdrop_protocol.models import DeviceStatus, MainFolderProblem
from tests import builders

pytestmark = pytest.mark.django_db


@pytest.fixture
def accountant() -> tuple[Client, Organisation]:
    user = builders.user()
    firm = builders.firm(owner=user)
    services.enable(firm, by=None)
    client = Client(headers={"Accept-Language": "fr"})
    client.force_login(user)
    return client, firm


def test_the_pages_are_hidden_while_the_app_is_off(accountant: tuple[Client, Organisation]) -> None:
    client, firm = accountant
    services.disable(firm, by=None)

    assert client.get(f"/firms/{firm.pk}/sage-demat/").status_code == 404


def test_a_new_connection_with_a_path_trick_code_is_refused_in_french(
    accountant: tuple[Client, Organisation],
) -> None:
    client, firm = accountant
    company = builders.company()
    dossier = accounts_services.link_accountant(company, firm, by=None)

    response = client.post(
        f"/firms/{firm.pk}/sage-demat/connections/new/",
        {"dossier": dossier.pk, "dossier_code": "..\\x", "start_date": "2026-11-01"},
    )

    assert response.status_code == 200
    assert "Un code de dossier" in response.content.decode()
    assert not DematConnection.objects.exists()


def test_sending_selected_documents_queues_them_for_the_chosen_device(
    accountant: tuple[Client, Organisation],
) -> None:
    client, firm = accountant
    company = builders.company()
    builders.connected_dossier(firm, company, code="DUPONT")
    device = delivery_services.register_device(firm, name="PC Kevin").device
    delivery_services.note_contact(device)  # its downloader is running
    first, second = builders.document(company), builders.document(company)

    page = client.get(f"/firms/{firm.pk}/documents-to-process/")
    response = client.post(
        f"/firms/{firm.pk}/documents-to-process/",
        {"documents": [first.pk], "device": device.pk},
        follow=True,
    )

    assert first.number in page.content.decode() and second.number in page.content.decode()
    assert response.status_code == 200
    assert list(Delivery.objects.values_list("source_id", flat=True)) == [first.pk]
    assert list(services.documents_to_process(firm)) == [second]


def test_sending_without_choosing_a_device_says_so(accountant: tuple[Client, Organisation]) -> None:
    client, firm = accountant
    company = builders.company()
    builders.connected_dossier(firm, company)
    document = builders.document(company)

    response = client.post(f"/firms/{firm.pk}/documents-to-process/", {"documents": [document.pk]})

    assert response.status_code == 200
    assert Delivery.objects.count() == 0


def test_the_client_sees_why_sending_is_unavailable_then_sends_and_sees_the_grey_icon() -> None:
    owner = builders.user()
    company = builders.company(owner=owner)
    firm = builders.firm()
    builders.connected_dossier(firm, company)
    invoice = builders.document(company)
    client = Client(headers={"Accept-Language": "fr"})
    client.force_login(owner)
    page = f"/companies/{company.pk}/documents/{invoice.pk}/"

    blocked = client.get(page).content.decode()
    services.set_default_device(
        firm, delivery_services.register_device(firm, name="PC Kevin").device, by=None
    )
    client.post(f"/companies/{company.pk}/send-to-accountant/{invoice.pk}/", {"next": page})
    sent = client.get(page).content.decode()

    assert "pas encore choisi d&#x27;appareil par défaut" in blocked
    assert "sage-grey" in sent
    assert Delivery.objects.values_list("source_type", "source_id").get() == (
        "documents.document",
        invoice.pk,
    )


def test_the_connection_form_offers_no_default_device_before_one_is_chosen(
    accountant: tuple[Client, Organisation],
) -> None:
    client, firm = accountant
    accounts_services.link_accountant(builders.company(), firm, by=None)
    device = delivery_services.register_device(firm, name="PC Kevin").device

    before = unescape(client.get(f"/firms/{firm.pk}/sage-demat/connections/new/").content.decode())
    services.set_default_device(firm, device, by=None)
    after = unescape(client.get(f"/firms/{firm.pk}/sage-demat/connections/new/").content.decode())

    assert "appareil par défaut" not in before.split('name="device"')[1].split("</select>")[0]
    assert "Aucun appareil en particulier" in before
    assert "L'appareil par défaut (PC Kevin)" in after


def test_a_new_connection_says_when_no_downloader_can_make_its_folders_yet(
    accountant: tuple[Client, Organisation],
) -> None:
    client, firm = accountant
    dossier = accounts_services.link_accountant(builders.company(), firm, by=None)

    response = client.post(
        f"/firms/{firm.pk}/sage-demat/connections/new/",
        {"dossier": dossier.pk, "dossier_code": "DUPONT", "start_date": "2026-11-01"},
        follow=True,
    )

    assert "dès qu'un Accounting Downloader sera associé" in unescape(response.content.decode())


def test_the_send_dialog_shows_whether_each_device_is_online(
    accountant: tuple[Client, Organisation],
) -> None:
    client, firm = accountant
    company = builders.company()
    builders.connected_dossier(firm, company)
    builders.document(company)
    running = delivery_services.register_device(firm, name="PC Kevin").device
    delivery_services.note_contact(running)
    delivery_services.register_device(firm, name="Serveur")

    page = client.get(f"/firms/{firm.pk}/documents-to-process/").content.decode()

    assert "PC Kevin (en ligne)" in page
    assert "Serveur (hors ligne)" in page


def test_the_send_dialog_shows_a_running_device_whose_main_folder_vanished_as_unusable(
    accountant: tuple[Client, Organisation],
) -> None:
    client, firm = accountant
    company = builders.company()
    builders.connected_dossier(firm, company)
    builders.document(company)
    unplugged = delivery_services.register_device(firm, name="PC Kevin").device
    delivery_services.note_contact(unplugged)
    delivery_services.report_status(
        unplugged, DeviceStatus(main_folder="D:\\bob-demat", problem=MainFolderProblem.VANISHED)
    )

    page = client.get(f"/firms/{firm.pk}/documents-to-process/").content.decode()

    assert "PC Kevin (dossier principal inutilisable)" in page
    assert "PC Kevin (en ligne)" not in page


def test_sending_to_an_offline_device_warns_first_and_sends_only_once_confirmed(
    accountant: tuple[Client, Organisation],
) -> None:
    client, firm = accountant
    company = builders.company()
    builders.connected_dossier(firm, company)
    document = builders.document(company)
    offline = delivery_services.register_device(firm, name="Serveur").device
    url = f"/firms/{firm.pk}/documents-to-process/"
    choice = {"documents": [document.pk], "device": offline.pk}

    warned = unescape(client.post(url, choice).content.decode())
    queued_after_warning = Delivery.objects.count()
    client.post(url, {**choice, "send_to_offline": "1"})

    assert "Serveur est hors ligne" in warned
    assert "Envoyer quand même" in warned
    assert f'value="{document.pk}" id="doc-{document.pk}" aria-label' in warned
    assert "checked" in warned.split(f'id="doc-{document.pk}"')[1].split(">")[0]
    assert queued_after_warning == 0
    assert Delivery.objects.get().device == offline
