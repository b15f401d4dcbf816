"""A device's main folder may not move where the files of the connections it keeps the folders
of could no longer be opened on Windows: the connectors say so through delivery's registry, with
the dossier, the package and the path too long, in the service, the API and the device's page.
Nothing changes when the folder is refused."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import translation

from ledgerdrop.accounts import services as accounts_services
from ledgerdrop.accounts.models import AuditEntry, Dossier, Organisation, User
from ledgerdrop.connectors.presets import services as presets
from ledgerdrop.core.errors import ServiceError
from ledgerdrop.delivery import services as delivery_services
from ledgerdrop.delivery.models import Device
from tests import builders

pytestmark = pytest.mark.django_db

# 200 characters: a folder the downloader takes, and room for short names only.
DEEP = "D:\\" + "\\".join(["Comptabilite partagee"] * 9)
# 242 characters: not even BOB Demat's short names fit below it.
DEEPER = DEEP + "\\" + "\\".join(["Archives 2026"] * 3)
LONG_NAMES = "{date}_{kind}_{number}_{company_name}_{id}"


@pytest.fixture
def dossier(firm: Organisation) -> Dossier:
    return accounts_services.link_accountant(builders.company("Menuiserie Dupont"), firm, by=None)


def connect_with_long_names(dossier: Dossier, device: Device | None = None) -> None:
    presets.connect(
        dossier, "folder", by=None, device=device, dossier_code="DUPONT", file_template=LONG_NAMES
    )


def assert_unchanged(device: Device, root_folder: str) -> None:
    device.refresh_from_db()
    assert device.root_folder == root_folder
    assert not AuditEntry.objects.filter(action="device.updated", object_id=str(device.pk)).exists()


def test_a_main_folder_too_long_for_a_preset_connections_files_is_refused(
    device: Device, dossier: Dossier
) -> None:
    connect_with_long_names(dossier)

    with translation.override("en"), pytest.raises(ServiceError) as refused:
        delivery_services.update_device(device, root_folder=DEEP, by=None)

    assert refused.value.code == "main_folder_too_long"
    assert dossier.company.name in refused.value.message
    assert "Custom folder" in refused.value.message
    assert DEEP + "\\DUPONT\\" in refused.value.message
    assert_unchanged(device, "c:\\bob-demat")


def test_a_longer_main_folder_the_files_still_fit_in_is_taken(
    device: Device, dossier: Dossier
) -> None:
    connect_with_long_names(dossier)

    delivery_services.update_device(device, root_folder="D:\\Comptabilite partagee", by=None)

    device.refresh_from_db()
    assert device.root_folder == "D:\\Comptabilite partagee"


def test_a_device_that_keeps_none_of_the_connections_folders_may_take_any_main_folder(
    firm: Organisation, device: Device, dossier: Dossier
) -> None:
    server = delivery_services.register_device(firm, name="Serveur", os="Windows 11").device
    connect_with_long_names(dossier, device=server)

    delivery_services.update_device(device, root_folder=DEEP, by=None)

    device.refresh_from_db()
    assert device.root_folder == DEEP


def test_a_linux_main_folder_has_no_windows_limit(device: Device, dossier: Dossier) -> None:
    connect_with_long_names(dossier)
    linux = "/srv/" + "/".join(["comptabilite-partagee"] * 11)

    delivery_services.update_device(device, root_folder=linux, by=None)

    device.refresh_from_db()
    assert device.root_folder == linux


def test_a_main_folder_too_long_for_bob_demats_files_is_refused(
    firm: Organisation, device: Device
) -> None:
    dossier, _connection = builders.connected_dossier(
        firm, builders.company("Menuiserie Dupont"), code="DUPONT"
    )
    delivery_services.update_device(device, root_folder=DEEP, by=None)

    with pytest.raises(ServiceError) as refused:
        delivery_services.update_device(device, root_folder=DEEPER, by=None)

    assert refused.value.code == "main_folder_too_long"
    assert dossier.company.name in refused.value.message
    assert "Sage BOB Demat" in refused.value.message
    assert DEEPER + "\\DUPONT\\achats\\" in refused.value.message
    device.refresh_from_db()
    assert device.root_folder == DEEP


def test_the_api_refuses_the_main_folder_with_a_409_problem_naming_the_dossier(
    browser: Client, accountant: User, device: Device, dossier: Dossier
) -> None:
    accountant.language = "en"
    accountant.save()
    connect_with_long_names(dossier)

    answer = browser.patch(
        f"/api/v1/firms/{device.firm_id}/devices/{device.pk}",
        {"root_folder": DEEP},
        content_type="application/json",
    )

    assert answer.status_code == 409
    assert answer["Content-Type"] == "application/problem+json"
    problem = answer.json()
    assert problem["type"] == "urn:ledgerdrop:problem:main_folder_too_long"
    assert dossier.company.name in problem["title"]
    assert "could not be opened on Windows" in problem["title"]
    assert_unchanged(device, "c:\\bob-demat")


@pytest.mark.parametrize(
    ("language", "why", "package"),
    [
        ("fr", "ne pourraient pas être ouverts sous Windows", "Dossier personnalisé"),
        ("nl", "niet worden geopend in Windows", "Eigen map"),
        ("en", "could not be opened on Windows", "Custom folder"),
    ],
)
def test_the_device_settings_form_says_why_at_the_main_folder_in_the_users_language(
    browser: Client,
    accountant: User,
    device: Device,
    dossier: Dossier,
    language: str,
    why: str,
    package: str,
) -> None:
    accountant.language = language
    accountant.save()
    connect_with_long_names(dossier)

    page = browser.post(
        f"/firms/{device.firm_id}/devices/{device.pk}/settings/",
        {"name": "PC Kevin", "root_folder": DEEP},
    )

    assert page.status_code == 200
    assert why in page.content.decode()
    form = page.context["form"]
    assert form.non_field_errors() == []
    [error] = form.errors["root_folder"]
    for said in (why, dossier.company.name, package, DEEP + "\\DUPONT\\"):
        assert said in error
    assert_unchanged(device, "c:\\bob-demat")
