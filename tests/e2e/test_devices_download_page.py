"""S3 in French, through the browser: *Télécharger l'Accounting Downloader* shows one command per
system, each with a fresh one-time key that really pairs a downloader."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from ledgerdrop.delivery.models import Device
from tests import builders
from tests.conftest import Agent
from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.e2e


def test_the_download_page_shows_a_command_per_system_with_a_key_that_pairs(
    page: Page, agent: Agent
) -> None:
    accountant = builders.user("kevin@fiduciaire.be")
    firm = builders.firm("Fiduciaire Kevin", owner=accountant)
    sign_in(page, "kevin@fiduciaire.be")
    page.get_by_role("link", name="Appareils de téléchargement").click()
    page.get_by_role("link", name="Télécharger l'Accounting Downloader").click()

    expect(page.get_by_role("heading", name="Télécharger l'Accounting Downloader")).to_be_visible()
    expect(page.get_by_text("Ouvrez Windows PowerShell")).to_be_visible()
    windows = page.locator("#windows-command").inner_text()
    linux = page.locator("#linux-command").inner_text()
    server = agent.server
    windows_key = re.fullmatch(
        rf"\$env:LEDGERDROP_ENROLMENT_KEY='(lde_[\w-]+)'; "
        rf"irm {re.escape(server)}/downloads/agent/install.ps1 \| iex",
        windows,
    )
    linux_key = re.fullmatch(
        rf"curl -fsSL {re.escape(server)}/downloads/agent/install.sh \| "
        rf"LEDGERDROP_ENROLMENT_KEY=(lde_[\w-]+) sh",
        linux,
    )
    assert windows_key and linux_key, (windows, linux)
    assert windows_key.group(1) != linux_key.group(1)
    expect(page.get_by_text("pip install ledgerdrop-agent")).to_have_count(0)

    paired = agent.run(
        "pair", "--server", server, "--name", "Serveur", "--enrolment-key", linux_key.group(1)
    )

    assert paired.returncode == 0, paired.stdout + paired.stderr
    assert Device.objects.get(firm=firm).name == "Serveur"
