"""A main folder the downloader would refuse is refused when the firm sets it, with the reason
in the user's language: in the device's settings form and in `PATCH devices/{id}` (422)."""

from __future__ import annotations

import pytest
from django.test import Client

from ledgerdrop.accounts.models import Organisation, User
from ledgerdrop.delivery import services
from ledgerdrop.delivery.models import Device

pytestmark = pytest.mark.django_db

UNC = r"\\serveur\partage\bob-demat"


def patch(client: Client, device: Device, body: dict[str, object]) -> object:
    return client.patch(
        f"/api/v1/firms/{device.firm_id}/devices/{device.pk}", body, content_type="application/json"
    )


@pytest.mark.parametrize(
    ("language", "folder", "why"),
    [
        ("fr", r"C:\Windows\System32", "dossier système"),
        ("nl", r"C:\Windows\System32", "systeemmap"),
        ("en", r"C:\Windows\System32", "system folder"),
        ("en", "C:\\", "root of a drive"),
        ("en", r"C:\Program Files\Sage", "Programs are installed here"),
        (
            "en",
            r"C:\Users\kevin\AppData\Roaming\Microsoft\Windows\Start Menu\Programs\Startup",
            "a folder of a user",
        ),
        ("en", r"D:\Data\Startup", "start at sign-in or start-up"),
        ("en", "/etc", "system folder"),
        ("en", "/", "root of a drive or of the file system"),
        ("en", "~/.config/autostart", "a folder of a user"),
        ("fr", UNC, "dossier réseau"),
        ("nl", UNC, "netwerkmap"),
        ("en", UNC, "network folder"),
        ("fr", r"C:\bob<demat>", "caractères"),
        ("nl", r"C:\bob-demat\CON", "(CON, NUL)"),
        ("en", r"C:\bob|demat", "characters"),
    ],
)
def test_the_settings_form_refuses_a_dangerous_main_folder_and_says_why(
    browser: Client, accountant: User, device: Device, language: str, folder: str, why: str
) -> None:
    accountant.language = language
    accountant.save()

    page = browser.post(
        f"/firms/{device.firm_id}/devices/{device.pk}/settings/",
        {"name": "PC Kevin", "root_folder": folder},
    )

    assert page.status_code == 200
    assert why in page.content.decode()
    device.refresh_from_db()
    assert device.root_folder == r"c:\bob-demat"


def test_the_shared_server_may_use_a_network_folder(browser: Client, device: Device) -> None:
    page = browser.post(
        f"/firms/{device.firm_id}/devices/{device.pk}/settings/",
        {"name": "Serveur", "root_folder": UNC, "is_shared_server": "on"},
    )

    assert page.status_code == 302
    device.refresh_from_db()
    assert (device.root_folder, device.is_shared_server) == (UNC, True)


def test_the_api_refuses_a_system_folder_with_a_422_problem(
    browser: Client, accountant: User, device: Device
) -> None:
    accountant.language = "en"
    accountant.save()

    answer = patch(browser, device, {"root_folder": r"c:\windows\system32"})

    assert answer.status_code == 422  # type: ignore[attr-defined]
    problem = answer.json()  # type: ignore[attr-defined]
    assert answer["Content-Type"] == "application/problem+json"  # type: ignore[index]
    assert problem["type"] == "urn:ledgerdrop:problem:invalid_root_folder"
    assert "system folder" in problem["title"]
    device.refresh_from_db()
    assert device.root_folder == r"c:\bob-demat"


def test_the_api_takes_a_network_folder_only_with_the_shared_server_mark(
    browser: Client, device: Device
) -> None:
    refused = patch(browser, device, {"root_folder": UNC})
    accepted = patch(browser, device, {"root_folder": UNC, "is_shared_server": True})

    assert refused.status_code == 422  # type: ignore[attr-defined]
    assert accepted.status_code == 200  # type: ignore[attr-defined]
    assert accepted.json()["root_folder"] == UNC  # type: ignore[attr-defined]
    assert accepted.json()["is_shared_server"] is True  # type: ignore[attr-defined]


def test_a_shared_server_on_a_network_folder_keeps_its_mark_until_the_folder_changes(
    browser: Client, device: Device
) -> None:
    services.update_device(device, root_folder=UNC, is_shared_server=True, by=None)

    unmarked = patch(browser, device, {"is_shared_server": False})
    moved = patch(browser, device, {"is_shared_server": False, "root_folder": r"d:\bob-demat"})

    assert unmarked.status_code == 422  # type: ignore[attr-defined]
    assert moved.status_code == 200  # type: ignore[attr-defined]
    device.refresh_from_db()
    assert (device.root_folder, device.is_shared_server) == (r"d:\bob-demat", False)


def test_the_shared_server_mark_stays_on_a_device_using_a_network_folder(
    browser: Client, firm: Organisation, device: Device
) -> None:
    services.update_device(device, root_folder=UNC, is_shared_server=True, by=None)
    other = services.register_device(firm, name="PC Sarah", os="Windows 11").device

    moved = patch(browser, other, {"is_shared_server": True})
    page = browser.post(
        f"/firms/{firm.pk}/devices/{other.pk}/settings/",
        {"name": "PC Sarah", "root_folder": r"c:\bob-demat", "is_shared_server": "on"},
    )

    assert moved.status_code == 409  # type: ignore[attr-defined]
    assert page.status_code == 200
    assert "PC Kevin" in page.content.decode()
    device.refresh_from_db()
    assert device.is_shared_server
