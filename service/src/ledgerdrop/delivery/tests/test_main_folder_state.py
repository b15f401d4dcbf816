"""A downloader that cannot use its main folder says so (`POST status`), and the service shows
it where people look: the device page instead of "online", the firm's API, the client's Sage
icon (red, with the reason) and the daily digest."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.test import Client

from ledgerdrop.accounts.models import AuditEntry, Organisation
from ledgerdrop.connectors.bob_demat import digest
from ledgerdrop.connectors.bob_demat import services as bob_demat
from ledgerdrop.delivery import services
from ledgerdrop.delivery.models import Device
from ledgerdrop_protocol import routes
from tests import builders

pytestmark = pytest.mark.django_db

VANISHED = {
    "main_folder": "D:\\bob-demat",
    "problem": "vanished",
    "message": "the main folder D:\\bob-demat has disappeared",
}


def report(token: str, body: dict[str, Any]) -> Any:
    return Client().post(
        routes.STATUS.url(),
        body,
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )


def firm_page(firm: Organisation, path: str, language: str = "fr") -> str:
    browser = Client(headers={"Accept-Language": language})
    browser.force_login(firm.memberships.get().user)
    return browser.get(path).content.decode()


@pytest.fixture
def firm() -> Organisation:
    return builders.firm(owner=builders.user("kevin@fiduciaire.be"))


@pytest.fixture
def device_token(firm: Organisation) -> tuple[Device, str]:
    credential = services.register_device(firm, name="PC Kevin", hostname="KEVIN-PC")
    services.note_contact(credential.device)  # online: the problem must show anyway
    return credential.device, credential.token


def test_a_vanished_main_folder_shows_on_the_device_page_instead_of_online(
    firm: Organisation, device_token: tuple[Device, str]
) -> None:
    _, token = device_token

    assert report(token, VANISHED).status_code == 204

    page = firm_page(firm, f"/firms/{firm.pk}/devices/")
    assert "dossier principal inutilisable" in page
    assert "Le dossier principal Demat a disparu" in page
    assert ">en ligne<" not in page


@pytest.mark.parametrize(
    ("language", "words"),
    [("nl", "De Demat-hoofdmap is verdwenen"), ("en", "The main folder has disappeared")],
)
def test_the_device_page_gives_the_reason_in_the_readers_language(
    firm: Organisation, device_token: tuple[Device, str], language: str, words: str
) -> None:
    report(device_token[1], VANISHED)

    assert words in firm_page(firm, f"/firms/{firm.pk}/devices/", language)


def test_a_ready_main_folder_clears_the_problem_and_both_changes_are_audited(
    firm: Organisation, device_token: tuple[Device, str]
) -> None:
    device, token = device_token
    report(token, VANISHED)
    report(token, VANISHED)  # the same again changes nothing

    report(token, {"main_folder": "D:\\bob-demat"})

    device.refresh_from_db()
    assert device.folder_problem == ""
    assert ">en ligne<" in firm_page(firm, f"/firms/{firm.pk}/devices/")
    audited = AuditEntry.objects.filter(action__startswith="device.main_folder").order_by("id")
    assert list(audited.values_list("action", flat=True)) == [
        "device.main_folder_problem",
        "device.main_folder_ready",
    ]


def test_an_unknown_problem_is_refused_with_problem_details_and_changes_nothing(
    device_token: tuple[Device, str],
) -> None:
    device, token = device_token

    answer = report(token, {**VANISHED, "problem": "on_fire"})

    assert answer.status_code == 422
    assert answer.headers["Content-Type"].startswith("application/problem+json")
    device.refresh_from_db()
    assert device.folder_problem == ""


def test_the_firm_api_lists_the_problem_with_its_reason(
    firm: Organisation, device_token: tuple[Device, str]
) -> None:
    report(device_token[1], VANISHED)
    api = Client(headers={"Accept-Language": "en"})
    api.force_login(firm.memberships.get().user)

    [listed] = api.get(f"/api/v1/firms/{firm.pk}/devices").json()

    problem = listed["main_folder_problem"]
    assert problem["problem"] == "vanished"
    assert problem["main_folder"] == "D:\\bob-demat"
    assert problem["label"].startswith("the main folder has disappeared")
    assert problem["since"] is not None


def test_moving_the_main_folder_forgets_what_was_said_about_the_old_one(
    device_token: tuple[Device, str],
) -> None:
    device, token = device_token
    report(token, VANISHED)

    services.update_device(device, root_folder="E:\\bob-demat", by=None)

    device.refresh_from_db()
    assert (device.folder_problem, device.reported_main_folder) == ("", "")


def test_the_client_sees_a_red_icon_with_the_reason_but_not_the_accountants_folder(
    firm: Organisation, device_token: tuple[Device, str]
) -> None:
    device, token = device_token
    owner = builders.user("compta@dupont.be")
    company = builders.company(owner=owner)
    builders.connected_dossier(firm, company, code="DUPONT")
    invoice = builders.document(company)
    bob_demat.send(firm, [invoice], device, by=None)
    client = Client(headers={"Accept-Language": "fr"})
    client.force_login(owner)
    before = client.get(f"/companies/{company.pk}/documents/").content.decode()

    report(token, VANISHED)

    after = client.get(f"/companies/{company.pk}/documents/").content.decode()
    assert "sage-grey" in before
    assert "sage-red" in after
    assert "pas encore récupéré : le dossier principal Demat a disparu" in after
    assert "bob-demat" not in after
    detail = client.get(f"/companies/{company.pk}/documents/{invoice.pk}/").content.decode()
    assert "Le dossier principal Demat a disparu" in detail
    assert "bob-demat" not in detail


def test_the_firm_sees_why_its_queued_deliveries_wait(
    firm: Organisation, device_token: tuple[Device, str]
) -> None:
    device, token = device_token
    company = builders.company()
    _, connection = builders.connected_dossier(firm, company, code="DUPONT")
    bob_demat.send(firm, [builders.document(company)], device, by=None)
    page = f"/firms/{firm.pk}/sage-demat/connections/{connection.pk}/"
    before = firm_page(firm, page)

    report(token, VANISHED)

    assert "Le dossier principal Demat a disparu" not in before
    assert "Le dossier principal Demat a disparu" in firm_page(firm, page)


def test_the_digest_names_the_device_its_folder_and_what_waits(
    firm: Organisation, device_token: tuple[Device, str]
) -> None:
    device, token = device_token
    company = builders.company()
    builders.connected_dossier(firm, company, code="DUPONT")
    bob_demat.send(firm, [builders.document(company)], device, by=None)
    report(token, VANISHED)

    assert digest.send_all() == 1

    [message] = mail.outbox
    assert "PC Kevin (KEVIN-PC), D:\\bob-demat" in message.body
    assert "le dossier principal Demat a disparu" in message.body
    assert "1 document en attente" in message.body
