"""The connector's rows of the application API (API.md), as a script would use them."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from ledgerdrop.accounts import services as accounts_services
from ledgerdrop.accounts.models import Organisation
from ledgerdrop.connectors.bob_demat import services
from ledgerdrop.delivery import services as delivery_services
from ledgerdrop.delivery.models import Delivery, Device
from tests import builders

pytestmark = pytest.mark.django_db


class Api:
    def __init__(self, organisation: Organisation) -> None:
        self.client = Client()
        self.client.force_login(organisation.members.get())

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        return getattr(self.client, method)(f"/api/v1{path}", body, content_type="application/json")


@pytest.fixture
def firm() -> Organisation:
    firm = builders.firm()
    services.enable(firm, by=None)
    return firm


@pytest.fixture
def device(firm: Organisation) -> Device:
    return delivery_services.register_device(firm, name="PC Kevin").device


def test_a_connection_is_created_and_its_folders_announced(firm: Organisation) -> None:
    dossier = accounts_services.link_accountant(builders.company(), firm, by=None)

    response = Api(firm).call(
        "post",
        f"/firms/{firm.pk}/bob-demat/connections",
        {"dossier_id": dossier.pk, "dossier_code": "DUPONT", "start_date": "2026-11-01"},
    )

    assert response.status_code == 201
    body = response.json()
    assert body["folders"] == ["DUPONT/achats", "DUPONT/ventes"]
    assert body["start_date"] == "2026-11-01"
    assert body["auto_transfer"] is False


def test_a_bad_dossier_code_gets_problem_details_and_creates_nothing(firm: Organisation) -> None:
    dossier = accounts_services.link_accountant(builders.company(), firm, by=None)

    response = Api(firm).call(
        "post",
        f"/firms/{firm.pk}/bob-demat/connections",
        {"dossier_id": dossier.pk, "dossier_code": "../../Windows"},
    )

    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["type"] == "urn:ledgerdrop:problem:invalid_dossier_code"
    assert Api(firm).call("get", f"/firms/{firm.pk}/bob-demat/connections").json() == []


def test_the_toggle_and_the_default_device_drive_the_warning(
    firm: Organisation, device: Device
) -> None:
    _, connection = builders.connected_dossier(firm, builders.company())
    api = Api(firm)

    api.call("patch", f"/firms/{firm.pk}/bob-demat/connections/{connection.pk}",
             {"auto_transfer": True})  # fmt: skip
    warned = api.call("get", f"/firms/{firm.pk}/bob-demat/settings").json()
    fixed = api.call(
        "put", f"/firms/{firm.pk}/bob-demat/settings", {"default_device_id": device.pk}
    ).json()

    assert len(warned["warnings"]) == 1
    assert fixed == {"enabled": True, "default_device_id": device.pk, "warnings": []}


def test_documents_to_process_then_send_queues_deliveries(
    firm: Organisation, device: Device
) -> None:
    company = builders.company()
    builders.connected_dossier(firm, company, code="DUPONT")
    invoice = builders.document(company)
    api = Api(firm)

    waiting = api.call("get", f"/firms/{firm.pk}/documents-to-process").json()
    sent = api.call(
        "post",
        f"/firms/{firm.pk}/bob-demat/send",
        {"document_ids": [invoice.pk], "device_id": device.pk},
    )

    assert [d["id"] for d in waiting] == [invoice.pk]
    assert sent.status_code == 202
    [delivery] = sent.json()["deliveries"]
    assert delivery["relative_path"].startswith("DUPONT/ventes/")
    assert api.call("get", f"/firms/{firm.pk}/documents-to-process").json() == []


def test_sending_another_firms_document_is_a_404_and_queues_nothing(
    firm: Organisation, device: Device
) -> None:
    stranger = builders.company()
    builders.connected_dossier(builders.firm(), stranger)

    response = Api(firm).call(
        "post",
        f"/firms/{firm.pk}/bob-demat/send",
        {"document_ids": [builders.document(stranger).pk], "device_id": device.pk},
    )

    assert response.status_code == 404
    assert Delivery.objects.count() == 0


def test_the_client_gets_409_with_the_reason_until_a_default_device_is_set(
    firm: Organisation, device: Device
) -> None:
    company = builders.company()
    builders.connected_dossier(firm, company)
    invoice = builders.document(company)
    path = f"/companies/{company.pk}/documents/{invoice.pk}/send-to-accountant"

    refused = Api(company).call("post", path)
    services.set_default_device(firm, device, by=None)
    accepted = Api(company).call("post", path)

    assert refused.status_code == 409
    assert refused.json()["type"] == "urn:ledgerdrop:problem:no_default_device"
    assert accepted.status_code == 202


def test_bob_demat_answers_at_the_connectors_paths_as_at_its_own(
    firm: Organisation, device: Device
) -> None:
    company = builders.company()
    dossier = accounts_services.link_accountant(company, firm, by=None)
    invoice = builders.document(company)
    api = Api(firm)
    at = f"/firms/{firm.pk}/connectors/bob-demat"

    settings = api.call("put", f"{at}/settings", {"default_device_id": device.pk})
    created = api.call(
        "post", f"{at}/connections", {"dossier_id": dossier.pk, "dossier_code": "DUPONT"}
    )
    cid = created.json()["id"]
    patched = api.call("patch", f"{at}/connections/{cid}", {"dossier_code": "DUPONT2"})
    listed_at_its_own_path = api.call("get", f"/firms/{firm.pk}/bob-demat/connections").json()
    sent = api.call("post", f"{at}/send", {"document_ids": [invoice.pk], "device_id": device.pk})
    deleted = api.call("delete", f"{at}/connections/{cid}")

    assert settings.json()["default_device_id"] == device.pk
    assert created.status_code == 201
    assert patched.json()["folders"] == ["DUPONT2/achats", "DUPONT2/ventes"]
    assert [c["dossier_code"] for c in listed_at_its_own_path] == ["DUPONT2"]
    [delivery] = sent.json()["deliveries"]
    assert delivery["relative_path"].startswith("DUPONT2/ventes/")
    assert deleted.status_code == 204
    assert api.call("get", f"{at}/connections").json() == []


def test_an_unknown_connector_path_is_a_404_problem(firm: Organisation) -> None:
    response = Api(firm).call("get", f"/firms/{firm.pk}/connectors/bob-dematt/settings")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"


def test_the_preview_shows_bob_demats_fixed_folders_on_the_main_folder(
    firm: Organisation, device: Device
) -> None:
    dossier = accounts_services.link_accountant(builders.company(), firm, by=None)
    device.root_folder = "D:\\Compta\\BOB"
    device.save(update_fields=["root_folder"])
    api = Api(firm)
    at = f"/firms/{firm.pk}/connectors/bob-demat"
    day = f"{timezone.localdate():%Y%m%d}"

    without_a_code = api.call("post", f"{at}/preview", {"dossier_id": dossier.pk})
    typed = api.call(
        "post", f"{at}/preview",
        {"dossier_id": dossier.pk, "dossier_code": "DUPONT", "device_id": device.pk},
    )  # fmt: skip
    api.call("post", f"{at}/connections", {"dossier_id": dossier.pk, "dossier_code": "DUP2"})
    connected = api.call("post", f"{at}/preview", {"dossier_id": dossier.pk})

    assert without_a_code.status_code == 422
    assert without_a_code.json()["code"] == "invalid_dossier_code"
    assert typed.status_code == 200
    folder = "D:\\Compta\\BOB\\DUPONT"
    assert typed.json() == {
        "main_folder": "D:\\Compta\\BOB",
        "samples": [
            {"kind": "sales_invoice",
             "paths": [f"{folder}\\ventes\\{day}_sales_invoice_2026-0042_1001.xml"]},
            {"kind": "credit_note",
             "paths": [f"{folder}\\ventes\\{day}_credit_note_NC-2026-0007_1002.xml"]},
            {"kind": "purchase_invoice",
             "paths": [f"{folder}\\achats\\{day}_purchase_invoice_F-88120_1003.xml"]},
            {"kind": "purchase_slip",
             "paths": [f"{folder}\\achats\\{day}_purchase_slip_BA-2026-0003_1004.xml"]},
        ],
    }  # fmt: skip
    # Without a device of its own nor a default one: a Windows downloader's main folder.
    assert connected.json()["samples"][2]["paths"] == [
        f"c:\\bob-demat\\DUP2\\achats\\{day}_purchase_invoice_F-88120_1003.xml"
    ]
