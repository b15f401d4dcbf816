"""The whole path once, with real processes: a stored document is queued for a device, the real
downloader fetches it from the real server and places it; the delivery turns `delivered`."""

from __future__ import annotations

import hashlib

import pytest

from ledgerdrop.connectors.bob_demat import services as bob_demat
from ledgerdrop.core import storage
from ledgerdrop.delivery import services as delivery_services
from ledgerdrop.delivery.models import Delivery, Device
from tests import builders
from tests.conftest import Agent

pytestmark = pytest.mark.system


def pair_with_enrolment_key(agent: Agent, firm) -> Device:  # type: ignore[no-untyped-def]
    _, key = delivery_services.mint_enrolment_key(firm, by=None)
    result = agent.run("pair", "--server", agent.server, "--name", "PC Kevin",
                       "--enrolment-key", key)  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    return Device.objects.get(firm=firm)


def test_a_sent_invoice_lands_in_the_dossiers_ventes_folder_byte_for_byte(agent: Agent) -> None:
    firm = builders.firm()
    company = builders.company()
    builders.connected_dossier(firm, company, code="DUPONT")
    invoice = builders.document(company, number="2026-0042")
    device = pair_with_enrolment_key(agent, firm)
    bob_demat.set_default_device(firm, device, by=None)

    [delivery] = bob_demat.send(firm, [invoice], device, by=None)
    result = agent.run("run", "--once", "--root", str(agent.root))

    assert result.returncode == 0, result.stdout + result.stderr
    placed = list((agent.root / "DUPONT" / "ventes").iterdir())
    assert [p.name for p in placed] == [delivery.relative_path.rsplit("/", 1)[1]]
    assert placed[0].read_bytes() == storage.read(invoice.ubl_sha256)
    assert hashlib.sha256(placed[0].read_bytes()).hexdigest() == invoice.ubl_sha256
    assert (agent.root / "DUPONT" / "achats").is_dir()
    delivery.refresh_from_db()
    assert delivery.state == Delivery.State.DELIVERED
    assert delivery.placed_path == delivery.relative_path
    assert not any(agent.root.glob(".ledgerdrop-staging/*"))


def test_running_the_downloader_again_places_nothing_twice(agent: Agent) -> None:
    firm = builders.firm()
    company = builders.company()
    builders.connected_dossier(firm, company, code="PEETERS")
    device = pair_with_enrolment_key(agent, firm)
    bob_demat.send(firm, [builders.document(company), builders.document(company)], device, by=None)

    first = agent.run("run", "--once", "--root", str(agent.root))
    second = agent.run("run", "--once", "--root", str(agent.root))

    assert first.returncode == 0 and second.returncode == 0, first.stdout + second.stdout
    assert len(list((agent.root / "PEETERS" / "ventes").iterdir())) == 2
    assert set(Delivery.objects.values_list("state", flat=True)) == {Delivery.State.DELIVERED}
