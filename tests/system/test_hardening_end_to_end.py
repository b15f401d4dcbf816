"""Hardening with real processes: the real downloader against the real server, when a company
removes its accountant and when the server's main folder is one the downloader refuses."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledgerdrop.accounts import services as accounts_services
from ledgerdrop.accounts.models import ExternalUser
from ledgerdrop.connectors.bob_demat import services as bob_demat
from ledgerdrop.delivery.models import Delivery, Device
from tests import builders
from tests.conftest import Agent
from tests.system.transfer import paired_device, placed_files

pytestmark = pytest.mark.system


def test_after_the_company_removes_its_accountant_its_queued_invoice_is_never_placed(
    agent: Agent,
) -> None:
    device = paired_device(agent)
    firm, company = device.firm, builders.company()
    builders.connected_dossier(firm, company, code="DUPONT")
    [received] = bob_demat.send(firm, [builders.document(company)], device, by=None)
    first = agent.run("run", "--once", "--root", str(agent.root))
    [queued] = bob_demat.send(firm, [builders.document(company)], device, by=None)

    accounts_services.remove_external_user(ExternalUser.objects.get(company=company), by=None)
    second = agent.run("run", "--once", "--root", str(agent.root))

    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    received.refresh_from_db()
    queued.refresh_from_db()
    assert [p.relative_to(agent.root).as_posix() for p in placed_files(agent.root)] == [
        received.placed_path
    ]
    assert (received.state, queued.state) == (Delivery.State.DELIVERED, Delivery.State.CANCELLED)


@pytest.mark.parametrize("main_folder", ["/etc", r"\\evil.example\share", str(Path.home())])
def test_a_main_folder_set_behind_the_services_back_is_refused_by_the_downloader(
    agent: Agent, main_folder: str
) -> None:
    device = paired_device(agent)
    company = builders.company()
    builders.connected_dossier(device.firm, company, code="DUPONT")
    [delivery] = bob_demat.send(device.firm, [builders.document(company)], device, by=None)
    # As a compromised server (or its database) would: past the service's own refusal.
    Device.objects.filter(pk=device.pk).update(root_folder=main_folder)

    result = agent.run("run", "--once", "--log-file")

    assert result.returncode == 1, result.stdout + result.stderr
    delivery.refresh_from_db()
    assert delivery.state == Delivery.State.FAILED
    assert delivery.failure_reason == "unsafe_main_folder"
    assert "refused by this device" in delivery.failure_message
    assert str(delivery.failure_reason_label) == "l'appareil a refusé le dossier principal"
