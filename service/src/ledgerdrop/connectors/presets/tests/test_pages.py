"""A package connector's pages, as an accountant uses them: switched on from the catalogue,
its own menu entry, a connection with its live preview, documents to process, send again."""

from __future__ import annotations

from html import unescape

import pytest
from django.test import Client

from ledgerdrop.accounts import services as accounts_services
from ledgerdrop.accounts.models import Dossier, Organisation
from ledgerdrop.connectors.presets import services
from ledgerdrop.connectors.presets.models import Connection, Shipment
from ledgerdrop.delivery import services as delivery_services
from ledgerdrop.delivery.models import Device
from ledgerdrop.documents.models import Document
from tests import builders

pytestmark = pytest.mark.django_db


class Accountant:
    def __init__(self) -> None:
        user = builders.user()
        self.firm: Organisation = builders.firm(owner=user)
        self.client = Client(headers={"Accept-Language": "en"})
        self.client.force_login(user)
        company = builders.company("Dupont SRL")
        self.dossier: Dossier = accounts_services.link_accountant(company, self.firm, by=None)
        self.device: Device = delivery_services.register_device(self.firm, name="PC").device


@pytest.fixture
def accountant() -> Accountant:
    return Accountant()


def _fields(dossier: Dossier, **changes: str) -> dict[str, object]:
    return {
        "dossier": dossier.pk,
        "dossier_code": "DUPONT",
        "device": "",
        "path_template": "{enterprise_number}/{direction}",
        "file_template": "{date}_{kind}_{number}_{id}",
        "purchases_word": "Aankopen",
        "sales_word": "Verkopen",
        "payload": "ubl",
        **changes,
    }


def test_switched_on_from_the_catalogue_it_gets_its_menu_entry_and_pages(
    accountant: Accountant,
) -> None:
    client, firm = accountant.client, accountant.firm
    assert client.get(f"/firms/{firm.pk}/connectors/expert-m/").status_code == 404

    switched = client.put(
        f"/api/v1/firms/{firm.pk}/apps/expert-m", {"enabled": True}, content_type="application/json"
    )
    assert switched.json()["enabled"] is True

    page = unescape(client.get(f"/firms/{firm.pk}/connectors/expert-m/").content.decode())
    assert f'href="/firms/{firm.pk}/connectors/expert-m/"' in page  # the menu entry
    assert "Expert/M Plus" in page
    assert client.get(f"/firms/{firm.pk}/connectors/venice/").status_code == 404


def test_the_preview_shows_the_full_paths_of_four_samples_or_why_not(
    accountant: Accountant,
) -> None:
    client, firm, dossier = accountant.client, accountant.firm, accountant.dossier
    services.switch(firm, "expert-m", True, by=None)
    services.set_default_device(firm, "expert-m", accountant.device, by=None)
    url = f"/firms/{firm.pk}/connectors/expert-m/preview/"

    shown = unescape(client.post(url, _fields(dossier)).content.decode())
    refused = unescape(
        client.post(url, _fields(dossier, path_template="../{direction}/x")).content.decode()
    )

    root = accountant.device.root_folder
    assert shown.count("<dt>") == 4
    assert f"{root}/0403019261/Verkopen/" in shown
    assert f"{root}/0403019261/Aankopen/" in shown
    assert 'role="alert"' in refused and "main folder" in refused


def test_a_connection_is_saved_then_documents_are_sent_and_sent_again(
    accountant: Accountant,
) -> None:
    client, firm, dossier = accountant.client, accountant.firm, accountant.dossier
    services.switch(firm, "expert-m", True, by=None)

    refused = client.post(
        f"/firms/{firm.pk}/connectors/expert-m/connections/new/",
        _fields(dossier, path_template="{direction}/CON"),
    )
    assert refused.status_code == 200 and not Connection.objects.exists()

    saved = client.post(f"/firms/{firm.pk}/connectors/expert-m/connections/new/", _fields(dossier))
    connection = Connection.objects.get()
    assert saved["Location"] == f"/firms/{firm.pk}/connectors/expert-m/connections/{connection.pk}/"
    detail = unescape(client.get(saved["Location"]).content.decode())
    assert "0403019261" in detail and "<dt>" in detail

    document = builders.document(dossier.company)
    to_process = f"/firms/{firm.pk}/connectors/expert-m/documents-to-process/"
    assert document.number in client.get(to_process).content.decode()
    sent = client.post(to_process, {"documents": [document.pk], "device": accountant.device.pk})
    assert sent.status_code == 302
    assert document.number not in client.get(to_process).content.decode()

    again = client.post(f"/firms/{firm.pk}/connectors/expert-m/documents/{document.pk}/send-again/")
    assert again["Location"] == saved["Location"]
    assert list(Shipment.objects.values_list("origin", flat=True).order_by("id")) == [
        "accountant",
        "again",
    ]
    assert "Send again" in client.get(saved["Location"]).content.decode()


def test_an_email_package_connected_previewed_sent_and_sent_again_from_its_pages(
    accountant: Accountant,
) -> None:
    client, firm, dossier = accountant.client, accountant.firm, accountant.dossier
    client.put(
        f"/api/v1/firms/{firm.pk}/apps/winauditor", {"enabled": True},
        content_type="application/json",
    )  # fmt: skip
    base = f"/firms/{firm.pk}/connectors/winauditor"
    overview = unescape(client.get(f"{base}/").content.decode())
    assert f'href="{base}/"' in overview and "Default device" not in overview
    fields = {
        "dossier": dossier.pk, "address_sales": "ventes@winauditor.be",
        "address_purchases": "achats@winauditor.be", "payload": "ubl",
    }  # fmt: skip
    form = unescape(client.get(f"{base}/connections/new/").content.decode())
    assert "Sales address" in form and "Purchases address" in form and "Folder" not in form

    preview = unescape(client.post(f"{base}/preview/", fields).content.decode())
    assert preview.count("<dt>") == 4
    assert "ventes@winauditor.be" in preview and "achats@winauditor.be" in preview
    assert "Dupont SRL" in preview
    refused = client.post(f"{base}/connections/new/", {**fields, "address_sales": "ventes"})
    assert refused.status_code == 200 and not Connection.objects.exists()
    assert 'role="alert"' in refused.content.decode()

    saved = client.post(f"{base}/connections/new/", fields)
    connection = Connection.objects.get()
    assert saved["Location"] == f"{base}/connections/{connection.pk}/"

    document = builders.document(dossier.company)
    to_process = f"{base}/documents-to-process/"
    page = client.get(to_process).content.decode()
    assert document.number in page and 'name="device"' not in page
    assert client.post(to_process, {"documents": [document.pk]}).status_code == 302
    assert document.number not in client.get(to_process).content.decode()
    client.post(f"{base}/documents/{document.pk}/send-again/")

    history = unescape(client.get(saved["Location"]).content.decode())
    assert history.count("ventes@winauditor.be") >= 2 and "Send again" in history
    assert list(Shipment.objects.values_list("origin", flat=True).order_by("id")) == [
        "accountant",
        "again",
    ]


def test_the_overview_counts_documents_to_process_up_to_100(accountant: Accountant) -> None:
    client, firm = accountant.client, accountant.firm
    services.switch(firm, "expert-m", True, by=None)
    services.connect(accountant.dossier, "expert-m", by=None)
    original = builders.document(accountant.dossier.company)
    overview = f"/firms/{firm.pk}/connectors/expert-m/"
    assert '<span class="count">1</span>' in client.get(overview).content.decode()

    copies = [Document.objects.get(pk=original.pk) for _ in range(100)]
    for number, copy in enumerate(copies):
        copy.pk, copy.sequence, copy.number = None, None, f"COPY-{number}"
    Document.objects.bulk_create(copies)

    # Counting a million documents not yet sent takes seconds: the badge stops at 100.
    assert '<span class="count">100+</span>' in client.get(overview).content.decode()
