"""A second connector plugs in through the registries alone: accounts, documents and delivery
name no connector. The one here lives in this test only: what its `AppConfig.ready()` would
register, it registers for the test's time."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pytest
from django.http import HttpRequest
from django.test import Client
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy

from ledgerdrop.accounts import applications
from ledgerdrop.accounts.models import Organisation, User
from ledgerdrop.connectors.bob_demat import services as bob_demat
from ledgerdrop.core.registries import Registry
from ledgerdrop.delivery import services as delivery_services
from ledgerdrop.documents import slots
from ledgerdrop.documents.models import Document
from tests import builders

pytestmark = pytest.mark.django_db

KEY = "pigeon-post"


class PigeonPost:
    """A connector that sends every document by pigeon, and says so on the documents pages."""

    def __init__(self) -> None:
        self.firms_on: set[int] = set()
        self.flown_at = timezone.now()

    def register(self) -> None:
        applications.APPLICATIONS.register(
            KEY,
            applications.Application(
                slug=KEY,
                name="Pigeon Post",
                section="accounting",
                section_label=gettext_lazy("Accounting"),
                description=gettext_lazy("Sends each document by pigeon."),
                is_enabled=lambda firm: firm.pk in self.firms_on,
                switch=self.switch,
                # Any page of the firm's will do as the pigeons' own.
                menu_label=gettext_lazy("Pigeons"),
                menu_url_name="devices",
            ),
        )
        slots.TRANSFER_SOURCES.register(
            KEY, slots.TransferSource(transfers=self.transfers, icon=self.icon)
        )
        slots.LIST_NOTES.register(KEY, self.note)
        slots.DETAIL_PANELS.register(KEY, self.panel)

    def unregister(self) -> None:
        registries: list[Registry[Any]] = [
            applications.APPLICATIONS,
            slots.TRANSFER_SOURCES,
            slots.LIST_NOTES,
            slots.DETAIL_PANELS,
        ]
        for registry in registries:
            registry.unregister(KEY)

    def switch(self, firm: Organisation, enabled: bool, by: User | None) -> None:
        (self.firms_on.add if enabled else self.firms_on.discard)(firm.pk)

    def transfers(self, documents: Sequence[Document]) -> dict[int, slots.Transfer]:
        return {
            document.pk: slots.Transfer(
                state="delivered", delivered_at=self.flown_at, at=self.flown_at, by=KEY
            )
            for document in documents
        }

    def icon(self, transfer: slots.Transfer) -> str:
        return format_html('<span class="pigeon-icon">{}</span>', transfer.state)

    def note(self, request: HttpRequest | None, company: Organisation) -> str:
        return format_html('<p class="pigeon-note">Pigeons wait for {}.</p>', company.name)

    def panel(self, request: HttpRequest | None, document: Document) -> str:
        return format_html('<section id="pigeon-panel">{} flew.</section>', document.number)


@pytest.fixture
def pigeon_post() -> Iterator[PigeonPost]:
    connector = PigeonPost()
    connector.register()
    yield connector
    connector.unregister()


def _signed_in(organisation_of: Callable[[User], Organisation]) -> tuple[Client, Organisation]:
    user = builders.user()
    organisation = organisation_of(user)
    client = Client(headers={"Accept-Language": "fr"})
    client.force_login(user)
    return client, organisation


def test_the_catalogue_lists_and_switches_an_application_it_does_not_know(
    pigeon_post: PigeonPost,
) -> None:
    client, firm = _signed_in(lambda user: builders.firm(owner=user))

    listed = client.get(f"/api/v1/firms/{firm.pk}/apps").json()
    switched = client.put(
        f"/api/v1/firms/{firm.pk}/apps/{KEY}", {"enabled": True}, content_type="application/json"
    )
    page = client.get(f"/firms/{firm.pk}/apps/").content.decode()

    assert {"slug": KEY, "name": "Pigeon Post", "section": "accounting", "enabled": False} in listed
    assert switched.json()["enabled"] is True
    assert pigeon_post.firms_on == {firm.pk}
    assert "Pigeon Post" in page
    assert f'<a href="/firms/{firm.pk}/devices/" >Pigeons</a>' in page  # in the firm's menu


def test_the_documents_pages_and_api_show_what_a_connector_puts_in_their_slots(
    pigeon_post: PigeonPost,
) -> None:
    client, company = _signed_in(lambda user: builders.company(owner=user))
    document = builders.document(company, number="2026-0042")

    overview = client.get(f"/companies/{company.pk}/documents/").content.decode()
    detail = client.get(f"/companies/{company.pk}/documents/{document.pk}/").content.decode()
    [row] = client.get(f"/api/v1/companies/{company.pk}/documents").json()

    assert '<span class="pigeon-icon">delivered</span>' in overview
    assert f'<p class="pigeon-note">Pigeons wait for {company.name}.</p>' in overview
    assert '<span class="pigeon-icon">delivered</span>' in detail
    assert '<section id="pigeon-panel">2026-0042 flew.</section>' in detail
    assert row["accountant_transfer"]["state"] == "delivered"


def test_of_two_connectors_that_sent_a_document_the_later_tells(pigeon_post: PigeonPost) -> None:
    firm, company = builders.firm(), builders.company()
    builders.connected_dossier(firm, company)
    device = delivery_services.register_device(firm, name="PC Kevin").device
    document = builders.document(company)
    pigeon_post.flown_at = timezone.now() - dt.timedelta(hours=1)
    bob_demat.send(firm, [document], device, by=None)

    assert slots.transfer_of(document).state == "queued"
    pigeon_post.flown_at = timezone.now() + dt.timedelta(seconds=1)
    assert slots.transfer_of(document).state == "delivered"


def test_only_connectors_fill_the_registries_of_the_floors_below() -> None:
    filled_by = [
        *(app.switch.__module__ for app in applications.APPLICATIONS),
        *(source.transfers.__module__ for source in slots.TRANSFER_SOURCES),
        *(note.__module__ for note in slots.LIST_NOTES),
        *(panel.__module__ for panel in slots.DETAIL_PANELS),
    ]

    assert filled_by
    assert all(module.startswith("ledgerdrop.connectors.") for module in filled_by), filled_by
