"""The package connectors' API: the catalogue, settings, connections, preview, send and
documents to process, each refusal a problem."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from ledgerdrop.accounts import services as accounts_services
from ledgerdrop.accounts.models import Dossier, Organisation
from ledgerdrop.delivery import services as delivery_services
from ledgerdrop.delivery.models import Device
from tests import builders

pytestmark = pytest.mark.django_db


class Firm:
    def __init__(self) -> None:
        user = builders.user()
        self.firm: Organisation = builders.firm(owner=user)
        self.client = Client()
        self.client.force_login(user)
        self.dossier: Dossier = accounts_services.link_accountant(
            builders.company(), self.firm, by=None
        )
        self.device: Device = delivery_services.register_device(self.firm, name="PC").device

    def call(self, method: str, path: str, body: Any = None) -> Any:
        return getattr(self.client, method)(
            f"/api/v1/firms/{self.firm.pk}/connectors/{path}", body, content_type="application/json"
        )


@pytest.fixture
def firm() -> Firm:
    return Firm()


def test_the_catalogue_lists_every_package(firm: Firm) -> None:
    connectors = firm.client.get("/api/v1/connectors").json()
    by_app = {connector["app"]: connector for connector in connectors}
    assert set(by_app) == {
        "bob-demat", "expert-m", "adsolut", "venice", "topaccount", "winbooks", "folder",
        "admisol", "winauditor", "yuki", "clearfacts", "winbooks-web", "email",
    }  # fmt: skip
    assert by_app["expert-m"]["mechanism"] == "folder" and by_app["expert-m"]["available"]
    assert "path_template" in by_app["folder"]["fields"]
    assert by_app["yuki"]["mechanism"] == "email" and by_app["yuki"]["available"]
    assert by_app["admisol"]["address_keys"] == ["sales", "purchases"]
    assert by_app["bob-demat"]["direction_words"] == {"purchases": "achats", "sales": "ventes"}


def test_settings_connection_preview_send_and_documents_to_process(firm: Firm) -> None:
    switched = firm.client.put(
        f"/api/v1/firms/{firm.firm.pk}/apps/winbooks",
        {"enabled": True},
        content_type="application/json",
    )
    assert switched.json()["enabled"] is True
    settings = firm.call("put", "winbooks/settings", {"default_device_id": firm.device.pk})
    assert settings.json() == {
        "app": "winbooks", "enabled": True, "default_device_id": firm.device.pk,
    }  # fmt: skip

    preview = firm.call(
        "post", "winbooks/preview", {"dossier_id": firm.dossier.pk, "dossier_code": "ACME"}
    )
    assert preview.status_code == 200
    assert [sample["kind"] for sample in preview.json()["samples"]] == [
        "sales_invoice", "credit_note", "purchase_invoice", "purchase_slip",
    ]  # fmt: skip
    assert "ACME/Factures de vente/" in preview.json()["samples"][0]["paths"][0]

    refused = firm.call(
        "post", "winbooks/connections",
        {"dossier_id": firm.dossier.pk, "dossier_code": "ACME", "path_template": "../x/{kind}"},
    )  # fmt: skip
    assert refused.status_code == 422
    assert refused.json()["code"] == "escapes_main_folder"

    created = firm.call(
        "post", "winbooks/connections", {"dossier_id": firm.dossier.pk, "dossier_code": "ACME"}
    )
    assert created.status_code == 201
    connection = created.json()
    assert "ACME/Notes de credit" in connection["folders"]
    assert firm.call("get", "winbooks/connections").json() == [connection]

    document = builders.document(firm.dossier.company)
    waiting = firm.client.get(
        f"/api/v1/firms/{firm.firm.pk}/documents-to-process", {"app": "winbooks"}
    ).json()
    assert [row["id"] for row in waiting] == [document.pk]
    sent = firm.call("post", "winbooks/send", {"document_ids": [document.pk]})
    assert sent.status_code == 202
    (delivery,) = sent.json()["deliveries"]
    assert delivery["relative_path"].startswith("ACME/Factures de vente/")
    assert delivery["device_id"] == firm.device.pk
    assert (
        firm.client.get(
            f"/api/v1/firms/{firm.firm.pk}/documents-to-process", {"app": "winbooks"}
        ).json()
        == []
    )
    # BOB Demat's own list is untouched: the dossier is not connected to it.
    assert firm.client.get(f"/api/v1/firms/{firm.firm.pk}/documents-to-process").json() == []

    patched = firm.call(
        "patch", f"winbooks/connections/{connection['id']}", {"payload": "ubl_and_pdf"}
    )
    assert patched.json()["payload"] == "ubl_and_pdf"
    assert firm.call("delete", f"winbooks/connections/{connection['id']}").status_code == 204


def test_an_unknown_app_is_not_found(firm: Firm) -> None:
    assert firm.call("get", "exact-online/settings").status_code == 404
    assert firm.call("post", "exact-online/preview", {"dossier_id": 1}).status_code == 404


def test_an_email_preset_through_the_api(firm: Firm) -> None:
    firm.client.put(
        f"/api/v1/firms/{firm.firm.pk}/apps/admisol", {"enabled": True},
        content_type="application/json",
    )  # fmt: skip
    addresses = {"sales": "ventes@admisol.be", "purchases": "achats@admisol.be"}
    preview = firm.call(
        "post", "admisol/preview", {"dossier_id": firm.dossier.pk, "addresses": addresses}
    )
    assert preview.status_code == 200
    samples = preview.json()["samples"]
    assert [(s["kind"], s["address"]) for s in samples] == [
        ("sales_invoice", "ventes@admisol.be"), ("credit_note", "ventes@admisol.be"),
        ("purchase_invoice", "achats@admisol.be"), ("purchase_slip", "achats@admisol.be"),
    ]  # fmt: skip
    assert firm.dossier.company.name in samples[0]["subject"]

    refused = firm.call(
        "post", "admisol/connections",
        {"dossier_id": firm.dossier.pk, "addresses": {**addresses, "purchases": "achats"}},
    )  # fmt: skip
    assert refused.status_code == 422
    assert refused.headers["Content-Type"] == "application/problem+json"
    assert refused.json()["code"] == "invalid_address"
    # In the person's language (French by default).
    assert "« achats » n'est pas une adresse e-mail" in refused.json()["detail"]

    created = firm.call(
        "post", "admisol/connections", {"dossier_id": firm.dossier.pk, "addresses": addresses}
    )
    assert created.status_code == 201
    connection = created.json()
    assert (connection["addresses"], connection["folders"]) == (addresses, [])

    document = builders.document(firm.dossier.company, number="V-9")
    sent = firm.call("post", "admisol/send", {"document_ids": [document.pk]})
    assert sent.status_code == 202
    assert sent.json()["deliveries"] == []
    (message,) = sent.json()["messages"]
    assert (message["document_id"], message["to"], message["state"]) == (
        document.pk, "ventes@admisol.be", "queued",
    )  # fmt: skip
    assert "V-9" in message["subject"]
    waiting = firm.client.get(
        f"/api/v1/firms/{firm.firm.pk}/documents-to-process", {"app": "admisol"}
    ).json()
    assert waiting == []

    patched = firm.call(
        "patch", f"admisol/connections/{connection['id']}",
        {"addresses": {**addresses, "sales": "journal-ventes@admisol.be"}},
    )  # fmt: skip
    assert patched.json()["addresses"]["sales"] == "journal-ventes@admisol.be"
