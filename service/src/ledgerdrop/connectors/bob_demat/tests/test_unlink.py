"""A company that removes its accountant stops what the firm's devices had not yet placed of its
documents: cancelled with the reason, offered no more, content refused, no more automatic
transfer; the firm keeps only what it had received."""

from __future__ import annotations

import datetime as dt
from typing import Any, NamedTuple

import pytest
from django.test import Client

from ledgerdrop.accounts.models import AuditEntry, ExternalUser, Organisation
from ledgerdrop.connectors.bob_demat import services
from ledgerdrop.connectors.bob_demat.models import DematConnection
from ledgerdrop.delivery import services as delivery_services
from ledgerdrop.delivery.models import Delivery, Device
from ledgerdrop.documents import slots
from ledgerdrop.documents.models import Document
from ledgerdrop_protocol import Ack, FailReason, FailReport, routes
from tests import builders

pytestmark = pytest.mark.django_db


class Setup(NamedTuple):
    firm: Organisation
    company: Organisation
    device: Device
    token: str
    received: Delivery
    queued: Delivery
    failed: Delivery


@pytest.fixture
def setup() -> Setup:
    firm, company = builders.firm(), builders.company()
    _, connection = builders.connected_dossier(firm, company, code="DUPONT")
    credential = delivery_services.register_device(firm, name="PC Kevin")
    device = credential.device
    services.set_default_device(firm, device, by=None)
    services.update_connection(connection, auto_transfer=True, by=None)
    received, queued, failed = services.send(
        firm, [builders.document(company) for _ in range(3)], device, by=None
    )
    delivery_services.acknowledge(
        device, [Ack(id=received.pk, sha256=received.sha256, placed_path=received.relative_path)]
    )
    delivery_services.report_failure(
        device, failed.pk, FailReport(reason=FailReason.DISK_FULL, message="disk full")
    )
    return Setup(firm, company, device, credential.token, received, queued, failed)


def remove_the_accountant(company: Organisation) -> None:
    """As the company does it: `DELETE /api/v1/companies/{cid}/external-users/{id}`."""
    client = Client()
    client.force_login(company.memberships.get().user)
    external = ExternalUser.objects.get(company=company)
    answer = client.delete(f"/api/v1/companies/{company.pk}/external-users/{external.pk}")
    assert answer.status_code == 204


def device_api(setup: Setup) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {setup.token}")


def test_queued_and_failed_deliveries_are_cancelled_with_the_reason(setup: Setup) -> None:
    remove_the_accountant(setup.company)

    for delivery in (setup.queued, setup.failed):
        delivery.refresh_from_db()
        assert delivery.state == Delivery.State.CANCELLED
        assert delivery.failure_reason == "company_unlinked"
        assert delivery.failure_reason_label == "l'entreprise a retiré son comptable"
        assert delivery.cancelled_at is not None
        # The firm keeps no trace of which document or path it was, nor for whom.
        assert (delivery.source_id, delivery.company_id, delivery.relative_path) == (None, None, "")
    assert (
        AuditEntry.objects.filter(organisation=setup.firm, action="delivery.cancelled").count() == 2
    )


def test_what_the_firm_had_received_stays_in_its_history(setup: Setup) -> None:
    before = Delivery.objects.get(pk=setup.received.pk)

    remove_the_accountant(setup.company)

    after = Delivery.objects.get(pk=setup.received.pk)
    assert after.state == Delivery.State.DELIVERED
    assert (after.source_id, after.placed_path) == (before.source_id, before.placed_path)


def test_the_device_is_offered_them_no_more_and_their_content_is_gone(setup: Setup) -> None:
    device = device_api(setup)

    remove_the_accountant(setup.company)

    offers = device.get(routes.OFFERS.url()).json()
    assert offers["deliveries"] == []
    content = device.get(routes.CONTENT.url(delivery_id=setup.queued.pk))
    assert content.status_code == 410
    assert content["Content-Type"] == "application/problem+json"
    bundle = device.post(
        routes.CONTENTS.url(),
        {"ids": [setup.queued.pk, setup.failed.pk]},
        content_type="application/json",
    )
    assert bundle.status_code == 200 and bundle.content == b""


def test_an_ack_or_a_failure_report_that_crossed_the_unlink_is_refused(setup: Setup) -> None:
    device = device_api(setup)
    remove_the_accountant(setup.company)
    queued = setup.queued

    ack = device.post(
        routes.ACKS.url(),
        {"acks": [{"id": queued.pk, "sha256": queued.sha256, "placed_path": "DUPONT/x.xml"}]},
        content_type="application/json",
    )
    fail = device.post(
        routes.FAIL.url(delivery_id=queued.pk),
        {"reason": "other", "message": "x"},
        content_type="application/json",
    )

    assert (ack.status_code, fail.status_code) == (409, 409)
    queued.refresh_from_db()
    assert queued.state == Delivery.State.CANCELLED


def test_the_firm_lists_them_as_cancelled_without_document_or_path(setup: Setup) -> None:
    client = Client()
    client.force_login(setup.firm.memberships.get().user)
    remove_the_accountant(setup.company)

    listed = client.get(f"/api/v1/firms/{setup.firm.pk}/deliveries").json()
    cancelled = client.get(f"/api/v1/firms/{setup.firm.pk}/deliveries?state=cancelled").json()

    by_id: dict[int, dict[str, Any]] = {row["id"]: row for row in listed}
    assert by_id[setup.received.pk]["state"] == "delivered"
    assert {row["id"] for row in cancelled} == {setup.queued.pk, setup.failed.pk}
    for row in cancelled:
        assert (row["document_id"], row["relative_path"]) == (None, "")
        assert row["failure_reason"] == "company_unlinked"
        assert row["cancelled_at"]


def test_automatic_transfer_of_the_dossier_stops(setup: Setup) -> None:
    remove_the_accountant(setup.company)
    later = builders.document(setup.company, issue_date=dt.date(2026, 11, 3))
    Document.objects.filter(pk=later.pk).update(status=Document.Status.SENT)

    report = services.run_autosend(setup.firm, on=dt.date(2026, 11, 30))

    assert not DematConnection.objects.filter(firm=setup.firm).exists()
    assert report.queued == 0
    assert not Delivery.objects.filter(state=Delivery.State.QUEUED).exists()


def test_the_company_sees_its_documents_as_no_longer_sent_to_that_firm(setup: Setup) -> None:
    assert setup.queued.source_id is not None and setup.received.source_id is not None
    queued_document = Document.objects.get(pk=setup.queued.source_id)
    received_document = Document.objects.get(pk=setup.received.source_id)

    remove_the_accountant(setup.company)
    assert slots.transfer_of(queued_document).state == "none"
    assert slots.transfer_of(received_document).state == "delivered"


def test_another_companys_deliveries_to_the_same_firm_go_on(setup: Setup) -> None:
    other = builders.company()
    builders.connected_dossier(setup.firm, other, code="OTHER")
    [kept] = services.send(setup.firm, [builders.document(other)], setup.device, by=None)

    remove_the_accountant(setup.company)

    kept.refresh_from_db()
    assert kept.state == Delivery.State.QUEUED
    offered = device_api(setup).get(routes.OFFERS.url()).json()["deliveries"]
    assert [offer["id"] for offer in offered] == [kept.pk]


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("nl", "De onderneming heeft haar boekhouder verwijderd"),
        ("en", "The company removed its accountant"),
    ],
)
def test_the_firm_reads_why_they_were_cancelled_in_its_own_language(
    setup: Setup, language: str, words: str
) -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(setup.firm.memberships.get().user)
    remove_the_accountant(setup.company)

    listed = client.get(f"/api/v1/firms/{setup.firm.pk}/deliveries?state=cancelled").json()

    assert {row["failure_message"].split(":")[0] for row in listed} == {words}
