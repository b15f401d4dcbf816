"""A package connector beside BOB Demat, with real processes: the real downloader places
Expert/M's files under the enterprise number's folders, never puts back a file Expert/M booked
and deleted unless it is sent again by hand, and a dossier connected to BOB Demat and Expert/M
gets each document in both."""

from __future__ import annotations

import pytest

from ledgerdrop.accounts import services as accounts_services
from ledgerdrop.connectors.bob_demat import services as bob_demat
from ledgerdrop.connectors.presets import services as connectors
from ledgerdrop.core import storage
from ledgerdrop.delivery import services as delivery_services
from ledgerdrop.delivery.models import Delivery, Device
from tests import builders
from tests.conftest import Agent

pytestmark = pytest.mark.system


def _paired(agent: Agent, firm) -> Device:  # type: ignore[no-untyped-def]
    _, key = delivery_services.mint_enrolment_key(firm, by=None)
    result = agent.run("pair", "--server", agent.server, "--name", "PC Kevin",
                       "--enrolment-key", key)  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    return Device.objects.get(firm=firm)


def test_expert_m_files_are_placed_and_a_booked_file_comes_back_only_when_sent_again(
    agent: Agent,
) -> None:
    firm, company = builders.firm(), builders.company()  # BE0403019261
    dossier = accounts_services.link_accountant(company, firm, by=None)
    connectors.switch(firm, "expert-m", True, by=None)
    connectors.connect(dossier, "expert-m", payload="ubl_and_pdf", by=None)
    device = _paired(agent, firm)
    invoice = builders.document(company, number="2026-0042")

    ubl, pdf = connectors.send(firm, "expert-m", [invoice], device=device, by=None)
    first = agent.run("run", "--once", "--root", str(agent.root))

    assert first.returncode == 0, first.stdout + first.stderr
    sales = agent.root / "0403019261" / "Verkopen"
    placed_ubl, placed_pdf = (
        sales / ubl.relative_path.rsplit("/", 1)[1],
        sales / pdf.relative_path.rsplit("/", 1)[1],
    )
    assert placed_ubl.read_bytes() == storage.read(invoice.ubl_sha256)
    assert placed_pdf.read_bytes() == storage.read(invoice.pdf_sha256)
    assert (agent.root / "0403019261" / "Aankopen").is_dir()
    assert set(Delivery.objects.values_list("state", flat=True)) == {Delivery.State.DELIVERED}

    # Expert/M books the UBL and deletes it; sending the batch again and running the
    # downloader again put nothing back.
    placed_ubl.unlink()
    assert connectors.send(firm, "expert-m", [invoice], device=device, by=None) == []
    again = agent.run("run", "--once", "--root", str(agent.root))
    assert again.returncode == 0, again.stdout + again.stderr
    assert not placed_ubl.exists()

    connectors.send_again(firm, "expert-m", invoice, by=None)
    by_hand = agent.run("run", "--once", "--root", str(agent.root))
    assert by_hand.returncode == 0, by_hand.stdout + by_hand.stderr
    assert placed_ubl.read_bytes() == storage.read(invoice.ubl_sha256)


def test_a_dossier_connected_to_bob_demat_and_expert_m_gets_each_document_in_both(
    agent: Agent,
) -> None:
    firm, company = builders.firm(), builders.company()
    builders.connected_dossier(firm, company, code="DUPONT")
    dossier = company.accountant_links.get(firm=firm)
    connectors.switch(firm, "expert-m", True, by=None)
    connectors.connect(dossier, "expert-m", by=None)
    device = _paired(agent, firm)
    invoice = builders.document(company)

    bob_demat.send(firm, [invoice], device, by=None)
    connectors.send(firm, "expert-m", [invoice], device=device, by=None)
    result = agent.run("run", "--once", "--root", str(agent.root))

    assert result.returncode == 0, result.stdout + result.stderr
    for folder in (agent.root / "DUPONT" / "ventes", agent.root / "0403019261" / "Verkopen"):
        [placed] = list(folder.iterdir())
        assert placed.read_bytes() == storage.read(invoice.ubl_sha256)
