"""The daily digest tells the firm about a silent device with documents waiting, and about
failed deliveries; a quiet day sends nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone

from ledgerdrop.connectors.bob_demat import digest, services
from ledgerdrop.delivery import services as delivery_services
from ledgerdrop.delivery.models import Device
from ledgerdrop_protocol import FailReason, FailReport
from tests import builders

pytestmark = pytest.mark.django_db


def test_a_device_silent_for_a_day_with_documents_waiting_is_mailed_to_the_firm() -> None:
    accountant = builders.user("kevin@fiduciaire.be")
    firm, company = builders.firm(owner=accountant), builders.company()
    builders.connected_dossier(firm, company, code="DUPONT")
    device = delivery_services.register_device(firm, name="Serveur partagé").device
    services.send(firm, [builders.document(company)], device, by=None)
    Device.objects.filter(pk=device.pk).update(last_seen_at=timezone.now() - dt.timedelta(hours=30))

    assert digest.send_all() == 1
    [message] = mail.outbox
    assert message.to == ["kevin@fiduciaire.be"]
    assert "Serveur partagé" in message.body
    assert "Accounting Downloader" in message.body


def test_failed_deliveries_are_in_the_digest_with_their_reason() -> None:
    firm, company = builders.firm(), builders.company()
    builders.connected_dossier(firm, company, code="DUPONT")
    device = delivery_services.register_device(firm, name="PC Kevin").device
    delivery_services.note_contact(device)
    [delivery] = services.send(firm, [builders.document(company)], device, by=None)
    delivery_services.report_failure(
        device, delivery.pk, FailReport(reason=FailReason.DISK_FULL, message="D: est plein")
    )

    digest.send_all()

    [message] = mail.outbox
    assert "D: est plein" in message.body


def test_a_quiet_day_sends_no_mail() -> None:
    firm = builders.firm()
    delivery_services.note_contact(delivery_services.register_device(firm, name="PC Kevin").device)

    assert digest.send_all() == 0
    assert mail.outbox == []


def test_the_digest_run_again_the_same_day_mails_no_firm_twice() -> None:
    firm, company = builders.firm(), builders.company()
    builders.connected_dossier(firm, company, code="DUPONT")
    device = delivery_services.register_device(firm, name="Serveur partagé").device
    services.send(firm, [builders.document(company)], device, by=None)
    Device.objects.filter(pk=device.pk).update(last_seen_at=timezone.now() - dt.timedelta(hours=30))

    first, again = digest.send_all(), digest.send_all()

    assert (first, again) == (1, 0)
    assert len(mail.outbox) == 1
