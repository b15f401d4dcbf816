"""S3 and S5 in French, through the browser: a real downloader process shows a code, the
accountant approves it under *Appareils de téléchargement*, then sets its main folder."""

from __future__ import annotations

import getpass
import re
import socket
import subprocess

import httpx
import pytest
from playwright.sync_api import Page, expect

from ledgerdrop.delivery import services
from ledgerdrop.delivery.models import Device
from ledgerdrop_protocol import routes
from tests import builders
from tests.conftest import Agent
from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.e2e


def read_user_code(pairing: subprocess.Popen[str]) -> str:
    """The code `ledgerdrop-agent pair` prints, read from its output as a person would."""
    assert pairing.stdout is not None
    seen = []
    for line in pairing.stdout:
        seen.append(line)
        if line.startswith("or open directly:"):
            match = re.search(r"\?code=([A-Z]{4}-[A-Z]{4})", line)
            assert match, line
            return match.group(1)
    raise AssertionError("the downloader printed no code:\n" + "".join(seen))


def test_s3_a_downloader_paired_with_its_code_is_listed_after_a_refresh(
    page: Page, agent: Agent
) -> None:
    accountant = builders.user("kevin@fiduciaire.be")
    firm = builders.firm("Fiduciaire Kevin", owner=accountant)
    pairing = agent.start("pair", "--server", agent.server, "--name", "PC Kevin")
    try:
        code = read_user_code(pairing)
        sign_in(page, "kevin@fiduciaire.be")
        page.get_by_role("link", name="Appareils de téléchargement").click()
        expect(page.get_by_text("Aucun appareil de téléchargement")).to_be_visible()

        page.get_by_label("Code affiché par l'Accounting Downloader").fill(code.lower())
        page.get_by_role("button", name="Vérifier le code").click()

        facts = page.locator("dl.facts")
        expect(facts).to_contain_text("PC Kevin")
        expect(facts).to_contain_text(socket.gethostname())
        expect(facts).to_contain_text(getpass.getuser())
        page.get_by_role("button", name="Approuver cet appareil").click()
        expect(page.get_by_role("status")).to_contain_text("PC Kevin est associé.")

        output, _ = pairing.communicate(timeout=30)
    finally:
        if pairing.poll() is None:
            pairing.kill()
            pairing.wait()
    assert pairing.returncode == 0, output
    assert "Paired" in output

    page.reload()
    row = page.get_by_role("row").filter(has_text="PC Kevin")
    expect(row).to_contain_text(socket.gethostname())
    expect(row).to_contain_text("~/bob-demat")
    assert Device.objects.get(firm=firm).token_hash


def test_s5_the_main_folder_is_set_in_the_devices_settings(page: Page, agent: Agent) -> None:
    accountant = builders.user("kevin@fiduciaire.be")
    firm = builders.firm("Fiduciaire Kevin", owner=accountant)
    credential = services.register_device(firm, name="PC Kevin", os="Windows 11")
    sign_in(page, "kevin@fiduciaire.be")
    page.get_by_role("link", name="Appareils de téléchargement").click()
    expect(page.get_by_role("row").filter(has_text="PC Kevin")).to_contain_text(r"c:\bob-demat")

    page.get_by_role("link", name="Paramètres de PC Kevin").click()
    folder = page.get_by_label("Dossier principal Demat")
    expect(folder).to_have_value(r"c:\bob-demat")
    folder.fill("bob-demat")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_role("alert")).to_contain_text("chemin absolu")

    page.get_by_label("Dossier principal Demat").fill(r"d:\compta\bob-demat")
    page.get_by_role("button", name="Enregistrer").click()

    expect(page.get_by_role("status")).to_contain_text("Les paramètres de PC Kevin")
    expect(page.get_by_role("row").filter(has_text="PC Kevin")).to_contain_text(
        r"d:\compta\bob-demat"
    )
    offers = httpx.get(
        f"{agent.server}{routes.OFFERS.url()}",
        headers={"Authorization": f"Bearer {credential.token}"},
    ).json()
    assert offers["settings"]["root_folder"] == r"d:\compta\bob-demat"
