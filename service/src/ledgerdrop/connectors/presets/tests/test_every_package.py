"""Issue 13's promise, package by package: every package of the catalogue (BOB Demat too) is
switched on, connected, previewed and used through the API, and every preset through its pages,
with what its mechanism asks for and nothing else."""

from __future__ import annotations

from html import unescape
from typing import Any

import pytest
from django.test import Client

from ledgerdrop.accounts import services as accounts_services
from ledgerdrop.accounts.models import Dossier, Organisation
from ledgerdrop.connectors.presets.catalogue import (
    DEFAULT_FILE_TEMPLATE,
    PRESETS,
    PURCHASES,
    SALES,
    Mechanism,
)
from ledgerdrop.connectors.presets.models import Connection
from ledgerdrop.delivery import services as delivery_services
from ledgerdrop.delivery.models import Device
from tests import builders

pytestmark = pytest.mark.django_db

EVERY_APP = ["bob-demat", *PRESETS]


class Firm:
    def __init__(self) -> None:
        user = builders.user()
        self.firm: Organisation = builders.firm(owner=user)
        self.client = Client(headers={"Accept-Language": "en"})
        self.client.force_login(user)
        self.dossier: Dossier = accounts_services.link_accountant(
            builders.company("Dupont SRL"), self.firm, by=None
        )
        self.device: Device = delivery_services.register_device(self.firm, name="PC").device

    def api(self, method: str, path: str, body: Any = None) -> Any:
        return getattr(self.client, method)(
            f"/api/v1/firms/{self.firm.pk}/{path}", body, content_type="application/json"
        )


@pytest.fixture
def firm() -> Firm:
    return Firm()


def _by_email(app: str) -> bool:
    return app in PRESETS and PRESETS[app].mechanism is Mechanism.EMAIL


def _addresses(app: str) -> dict[str, str]:
    return {key: f"{key.replace('_', '-')}@{app}.example.be" for key in PRESETS[app].address_keys}


@pytest.mark.parametrize("app", EVERY_APP)
def test_every_package_is_switched_on_connected_previewed_and_used_through_the_api(
    firm: Firm, app: str
) -> None:
    at = f"connectors/{app}"
    fields: dict[str, object] = (
        {"addresses": _addresses(app)} if _by_email(app) else {"dossier_code": "DUPONT"}
    )
    listed = {c["app"]: c for c in firm.client.get("/api/v1/connectors").json()}

    switched = firm.api("put", f"apps/{app}", {"enabled": True})
    settings = firm.api("put", f"{at}/settings", {"default_device_id": firm.device.pk})
    created = firm.api("post", f"{at}/connections", {"dossier_id": firm.dossier.pk, **fields})
    connection = created.json()
    preview = firm.api("post", f"{at}/preview", {"dossier_id": firm.dossier.pk, **fields})
    document = builders.document(firm.dossier.company)
    waiting = firm.api("get", f"documents-to-process?app={app}").json()
    sent = firm.api(
        "post", f"{at}/send", {"document_ids": [document.pk], "device_id": firm.device.pk}
    )
    left = firm.api("get", f"documents-to-process?app={app}").json()
    patched = firm.api("patch", f"{at}/connections/{connection['id']}", {})
    deleted = firm.api("delete", f"{at}/connections/{connection['id']}")

    assert listed[app]["available"] and listed[app]["fields"]
    assert switched.json()["enabled"] is True
    assert settings.status_code == 200 and settings.json()["enabled"] is True
    assert created.status_code == 201, created.json()
    samples = preview.json()["samples"]
    assert [s["kind"] for s in samples] == [
        "sales_invoice", "credit_note", "purchase_invoice", "purchase_slip",
    ]  # fmt: skip
    assert [row["id"] for row in waiting] == [document.pk]
    assert sent.status_code == 202
    if _by_email(app):
        assert {s["address"] for s in samples} == set(_addresses(app).values())
        (message,) = sent.json()["messages"]
        assert message["to"] in _addresses(app).values()
    else:
        root = preview.json()["main_folder"]
        assert root == firm.device.root_folder
        assert all(path.startswith(root) for s in samples for path in s["paths"])
        placed = [d["relative_path"] for d in sent.json()["deliveries"]]
        assert placed and all(
            any(path.startswith(f"{folder}/") for folder in connection["folders"])
            for path in placed
        )
    assert left == []
    assert patched.status_code == 200
    assert deleted.status_code == 204


def _form(app: str, dossier: Dossier) -> dict[str, object]:
    preset = PRESETS[app]
    if preset.mechanism is Mechanism.EMAIL:
        addresses = {f"address_{key}": to for key, to in _addresses(app).items()}
        return {"dossier": dossier.pk, "payload": preset.payload.value, **addresses}
    return {
        "dossier": dossier.pk,
        "dossier_code": "DUPONT",
        "device": "",
        "path_template": preset.path_template,
        "file_template": DEFAULT_FILE_TEMPLATE,
        "purchases_word": preset.direction_words.get(PURCHASES, PURCHASES),
        "sales_word": preset.direction_words.get(SALES, SALES),
        "payload": preset.payload.value,
    }


@pytest.mark.parametrize("app", sorted(PRESETS))
def test_every_preset_is_switched_on_connected_previewed_and_used_from_its_pages(
    firm: Firm, app: str
) -> None:
    base = f"/firms/{firm.firm.pk}/connectors/{app}"
    firm.api("put", f"apps/{app}", {"enabled": True})
    firm.api("put", f"connectors/{app}/settings", {"default_device_id": firm.device.pk})

    overview = unescape(firm.client.get(f"{base}/").content.decode())
    preview = unescape(
        firm.client.post(f"{base}/preview/", _form(app, firm.dossier)).content.decode()
    )
    saved = firm.client.post(f"{base}/connections/new/", _form(app, firm.dossier))
    document = builders.document(firm.dossier.company)
    to_process = f"{base}/documents-to-process/"
    listed = firm.client.get(to_process).content.decode()
    sent = firm.client.post(to_process, {"documents": [document.pk], "device": firm.device.pk})

    assert f'href="{base}/"' in overview  # its own menu entry
    assert preview.count("<dt>") == 4 and 'role="alert"' not in preview
    connection = Connection.objects.get(app=app)
    assert saved["Location"] == f"{base}/connections/{connection.pk}/"
    assert document.number in listed
    assert sent.status_code == 302
    assert document.number not in firm.client.get(to_process).content.decode()
