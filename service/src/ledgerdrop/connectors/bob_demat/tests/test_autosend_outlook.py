"""S8: the automatic transfer says what it will do — the next run's time, what it would send
now, what the last run did — confirms a change of the toggle, and the client sees that its
accountant receives its documents by themselves."""

from __future__ import annotations

import datetime as dt
from html import unescape
from typing import NamedTuple
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from pytest_django import Settings as SettingsWrapper

from ledgerdrop.accounts.models import Organisation
from ledgerdrop.connectors.bob_demat import services
from ledgerdrop.connectors.bob_demat.models import DematConnection
from ledgerdrop.delivery import services as delivery_services
from ledgerdrop.delivery.models import Device
from ledgerdrop.documents.models import Document
from ledgerdrop_protocol import FailReason, FailReport
from tests import builders

pytestmark = pytest.mark.django_db

BRUSSELS = ZoneInfo("Europe/Brussels")
K, S = Document.Kind, Document.Status


class Dossier(NamedTuple):
    firm: Organisation
    company: Organisation
    connection: DematConnection
    device: Device


@pytest.fixture
def dossier() -> Dossier:
    firm, company = builders.firm(), builders.company(owner=builders.user())
    _, connection = builders.connected_dossier(firm, company, code="DUPONT")
    services.update_connection(
        connection, auto_transfer=True, start_date=dt.date(2026, 11, 1), by=None
    )
    device = delivery_services.register_device(firm, name="Serveur").device
    services.set_default_device(firm, device, by=None)
    return Dossier(firm, company, connection, device)


def document(company: Organisation, kind: Document.Kind, status: Document.Status) -> Document:
    made = builders.document(company, kind=kind)
    Document.objects.filter(pk=made.pk).update(status=status)
    made.refresh_from_db()
    return made


@pytest.mark.parametrize(
    ("now", "next_run"),
    [
        (dt.datetime(2026, 11, 29, 23, 0), dt.datetime(2026, 11, 30, 2, 0)),
        (dt.datetime(2026, 11, 30, 1, 59), dt.datetime(2026, 11, 30, 2, 0)),
        (dt.datetime(2026, 11, 30, 2, 0), dt.datetime(2026, 12, 1, 2, 0)),
    ],
)
def test_the_next_run_is_the_next_time_of_day_set_in_brussels(
    settings: SettingsWrapper, now: dt.datetime, next_run: dt.datetime
) -> None:
    settings.LEDGERDROP_AUTOSEND_AT = "02:00"

    at = services.next_autosend_at(now.replace(tzinfo=BRUSSELS))

    assert at == next_run.replace(tzinfo=BRUSSELS)


def test_the_outlook_counts_per_kind_what_a_run_would_send_now(dossier: Dossier) -> None:
    document(dossier.company, K.SALES_INVOICE, S.PAID)
    document(dossier.company, K.SALES_INVOICE, S.SENT)
    document(dossier.company, K.SALES_INVOICE, S.ISSUED)  # waits until marked sent or paid
    document(dossier.company, K.PURCHASE_INVOICE, S.APPROVED)
    document(dossier.company, K.INCOMING, S.RECEIVED)  # waits until approved

    before = services.autosend_outlook(dossier.connection)
    services.run_autosend(dossier.firm)
    after = services.autosend_outlook(dossier.connection)

    assert [(kind, count) for kind, _label, count in before.would_send] == [
        ("sales_invoice", 2),
        ("purchase_invoice", 1),
    ]
    assert before.last_run is None
    assert after.would_send == []
    assert after.last_run is not None and after.last_run.queued == 3


def test_the_last_run_counts_the_documents_that_failed_on_the_device(dossier: Dossier) -> None:
    document(dossier.company, K.SALES_INVOICE, S.PAID)
    document(dossier.company, K.CREDIT_NOTE, S.SENT)
    report = services.run_autosend(dossier.firm)
    delivery_services.report_failure(
        dossier.device,
        report.deliveries()[0].pk,
        FailReport(reason=FailReason.DISK_FULL, message="Plus de place sur D:"),
    )

    outlook = services.autosend_outlook(dossier.connection)

    assert outlook.last_run is not None
    assert (outlook.last_run.queued, outlook.last_run_failures) == (2, 1)


def test_a_run_that_cannot_send_records_why(dossier: Dossier) -> None:
    services.set_default_device(dossier.firm, None, by=None)
    document(dossier.company, K.SALES_INVOICE, S.PAID)

    services.run_autosend(dossier.firm)

    last_run = services.autosend_outlook(dossier.connection).last_run
    assert last_run is not None and last_run.queued == 0
    assert "default device" in last_run.skipped_reason or "appareil" in last_run.skipped_reason


def accountant_browser(firm: Organisation) -> Client:
    browser = Client(headers={"Accept-Language": "fr"})
    browser.force_login(firm.members.get())
    return browser


def test_the_connection_page_shows_the_next_run_what_it_would_send_and_the_last_run(
    dossier: Dossier, settings: SettingsWrapper
) -> None:
    settings.LEDGERDROP_AUTOSEND_AT = "02:00"
    document(dossier.company, K.SALES_INVOICE, S.PAID)
    page = f"/firms/{dossier.firm.pk}/sage-demat/connections/{dossier.connection.pk}/"
    browser = accountant_browser(dossier.firm)

    before = unescape(browser.get(page).content.decode())
    services.run_autosend(dossier.firm)
    after = unescape(browser.get(page).content.decode())

    assert "Prochain transfert" in before and "02:00, heure de Bruxelles" in before
    assert "Facture de vente : 1" in before
    assert f"?dossier={dossier.connection.dossier_id}&kind=sales_invoice" in before
    assert "Pas encore exécuté." in before
    assert "1 document(s) envoyé(s), 0 en échec" in after


def test_switching_the_toggle_is_confirmed_with_what_happens_next(dossier: Dossier) -> None:
    url = f"/firms/{dossier.firm.pk}/sage-demat/connections/{dossier.connection.pk}/auto-transfer/"
    browser = accountant_browser(dossier.firm)

    off = unescape(browser.post(url, {}, headers={"HX-Request": "true"}).content.decode())
    on = unescape(
        browser.post(url, {"auto_transfer": "on"}, headers={"HX-Request": "true"}).content.decode()
    )

    assert 'role="status"' in off and "Le transfert automatique est désactivé" in off
    assert "Le transfert automatique est activé. Le prochain transfert a lieu le" in on


def test_the_client_sees_that_its_accountant_receives_its_documents_automatically(
    dossier: Dossier,
) -> None:
    browser = Client(headers={"Accept-Language": "fr"})
    browser.force_login(dossier.company.members.get())
    documents = f"/companies/{dossier.company.pk}/documents/"

    on = unescape(browser.get(documents).content.decode())
    services.update_connection(dossier.connection, auto_transfer=False, by=None)
    off = unescape(browser.get(documents).content.decode())

    assert f"{dossier.firm.name}, votre comptable, reçoit automatiquement" in on
    assert "reçoit automatiquement" not in off


def test_the_api_tells_a_script_what_the_automatic_transfer_will_do_and_did(
    dossier: Dossier,
) -> None:
    document(dossier.company, K.SALES_INVOICE, S.PAID)
    api = Client()
    api.force_login(dossier.firm.members.get())
    url = f"/api/v1/firms/{dossier.firm.pk}/bob-demat/connections/{dossier.connection.pk}/autosend"

    before = api.get(url).json()
    services.run_autosend(dossier.firm)
    after = api.get(url).json()

    assert before["auto_transfer"] is True
    assert before["would_send"] == {"sales_invoice": 1}
    assert before["last_run"] is None
    assert after["would_send"] == {}
    assert after["last_run"]["queued"] == 1 and after["last_run"]["failed"] == 0
