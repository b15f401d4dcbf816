"""The whole story of DESIGN.md §2, S1 to S10, in French through the real UI, with the real
downloader placing the files. Saves screenshots of the main screens into docs/screenshots/ for
the README."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from lxml import etree
from playwright.sync_api import Page, expect

from ledgerdrop import testing
from ledgerdrop.delivery.models import Delivery
from ledgerdrop.documents.models import Document
from ledgerdrop.documents.ubl import peppol_bis
from ledgerdrop.documents.ubl.validate import Validator
from tests.conftest import Agent, LiveService
from tests.e2e.conftest import sign_in
from tests.e2e.test_accounts_link import add_external_user, sign_out
from tests.e2e.test_devices_pairing_and_settings import read_user_code

pytestmark = pytest.mark.e2e

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
UBL_NS = {
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
}


def shoot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)


def wait_for(
    condition: Callable[[], bool],
    what: str,
    timeout: float = 30,
    explain: Callable[[], str] = str,
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"still waiting for {what}\n{explain()}")


def explain(agent: Agent, downloader: subprocess.Popen[str], service: LiveService) -> str:
    """What the downloader and the server said, for a failure to be understood from CI's log."""
    log = agent.home / "agent.log"
    running = "running" if downloader.poll() is None else f"exited {downloader.returncode}"
    return (
        f"downloader {running}; its log:\n{log.read_text()[-4000:] if log.exists() else '-'}\n"
        f"server log:\n{service.logs()[-4000:]}"
    )


def files_in(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.xml")) if folder.is_dir() else []


def test_the_whole_story_from_sign_up_to_files_that_bob_demat_imports(
    page: Page, agent: Agent, live_service: LiveService
) -> None:
    anne = testing.user("anne@dupont.be")
    company = testing.company("Boulangerie Dupont", owner=anne)
    today = dt.date.today()
    testing.document(company, number="2026-0040", issue_date=today.replace(day=1))
    testing.document(company, kind=Document.Kind.PURCHASE_INVOICE, number="A-17", issue_date=today)
    ventes, achats = agent.root / "DUPONT" / "ventes", agent.root / "DUPONT" / "achats"

    # S1: an accountant signs up for a free firm account.
    page.goto("/signup/firm/")
    page.get_by_label("Nom du bureau comptable").fill("Fiduciaire Kevin")
    page.get_by_label("Adresse e-mail").fill("kevin@fiduciaire.be")
    page.get_by_label("Mot de passe").fill("Bob-Demat-2026!")
    page.get_by_role("button", name="Créer le compte").click()
    expect(page.get_by_role("heading", name="Dossiers")).to_be_visible()
    sign_out(page)

    # S2: the client company adds its accountant as external user.
    sign_in(page, "anne@dupont.be")
    add_external_user(page, company.name, "kevin@fiduciaire.be")
    expect(page.get_by_role("row").filter(has_text="kevin@fiduciaire.be")).to_contain_text("Lié")
    sign_out(page)
    page.context.clear_cookies()
    page.goto("/accounts/login/")
    page.get_by_label("Adresse e-mail").fill("kevin@fiduciaire.be")
    page.get_by_label("Mot de passe").fill("Bob-Demat-2026!")
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("row").filter(has_text=company.name)).to_have_count(1)
    shoot(page, "dossiers")

    # S3: the downloader is started and paired; after a refresh it is listed.
    menu = page.get_by_role("navigation", name="Menu principal")
    pairing = agent.start("pair", "--server", agent.server, "--name", "PC Kevin")
    code = read_user_code(pairing)
    menu.get_by_role("link", name="Appareils de téléchargement").click()
    page.get_by_label("Code affiché par l'Accounting Downloader").fill(code)
    page.get_by_role("button", name="Vérifier le code").click()
    page.get_by_role("button", name="Approuver cet appareil").click()
    assert pairing.wait(timeout=30) == 0
    page.reload()
    expect(page.get_by_role("row").filter(has_text="PC Kevin")).to_have_count(1)

    # S5 (device): its main folder.
    page.get_by_role("link", name="Paramètres de PC Kevin").click()
    page.get_by_label("Dossier principal Demat").fill(str(agent.root))
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_role("row").filter(has_text="PC Kevin")).to_contain_text(str(agent.root))
    downloader = agent.start("run")
    try:
        # S4: switching on Sage BOB Demat adds Sage Demat to the menu.
        menu.get_by_role("link", name="Applications & connexions").click()
        page.get_by_role("switch", name="Sage BOB Demat").click()
        menu.get_by_role("link", name="Sage Demat").click()

        # S5: a connection with the BOB dossier code; achats and ventes appear on the device.
        page.get_by_role("link", name="Configurer une nouvelle connexion").click()
        page.get_by_label("Dossier", exact=True).select_option(label=company.name)
        page.get_by_label("Code de dossier").fill("DUPONT")
        page.get_by_label("Appareil", exact=True).select_option(label="PC Kevin")
        page.get_by_role("button", name="Enregistrer la connexion").click()
        wait_for(
            lambda: ventes.is_dir() and achats.is_dir(),
            "the dossier folders",
            explain=lambda: explain(agent, downloader, live_service),
        )

        # S6: documents to process, sent to the device; they land in ventes and achats.
        page.get_by_role("link", name="Sage Demat").first.click()
        page.get_by_role("link", name="Documents à traiter").click()
        expect(page.get_by_role("row")).to_have_count(3)
        shoot(page, "documents-to-process")
        page.get_by_role("checkbox", name="Tout sélectionner").check()
        page.get_by_label("Appareil", exact=True).select_option(label="PC Kevin")
        page.get_by_role("button", name="Envoyer les documents vers le dossier Sage Demat").click()
        expect(page.get_by_role("status")).to_contain_text("2 document(s)")
        wait_for(lambda: len(files_in(ventes)) == 1 and len(files_in(achats)) == 1, "S6 files")
        menu.get_by_role("link", name="Appareils de téléchargement").click()
        expect(page.get_by_role("row").filter(has_text="PC Kevin")).to_contain_text("en ligne")
        shoot(page, "download-devices")

        # S7: the default device.
        menu.get_by_role("link", name="Sage Demat").click()
        page.get_by_label("Appareil par défaut").select_option(label="PC Kevin")
        page.get_by_role("button", name="Enregistrer").click()
        expect(page.get_by_role("status")).to_contain_text("Paramètres enregistrés.")

        # S8: automatic transfer for the dossier; tonight's run takes the paid invoice only.
        page.get_by_role("link", name=f"Consulter {company.name}").click()
        with page.expect_response(lambda response: "auto-transfer" in response.url):
            page.get_by_role("switch", name="Transférer automatiquement les documents").check()
        page.reload()
        expect(page.get_by_role("switch")).to_be_checked()
        shoot(page, "sage-demat-connection")
        paid = testing.document(company, number="2026-0041", issue_date=today)
        unpaid = testing.document(company, number="2026-0044", issue_date=today)
        Document.objects.filter(pk=paid.pk).update(status=Document.Status.PAID)
        autosend = subprocess.run(
            [sys.executable, "-m", "ledgerdrop.core.cli", "autosend"],
            env=live_service.env, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert autosend.stdout.startswith("1 document(s) queued"), autosend.stdout
        wait_for(lambda: len(files_in(ventes)) == 2, "the automatic transfer")
        assert any(paid.number in f.name for f in files_in(ventes))

        # S9: the client sends a document itself: grey, then green once fetched.
        sign_out(page)
        sign_in(page, "anne@dupont.be")
        page.goto(f"/companies/{company.pk}/documents/{unpaid.pk}/")
        page.get_by_role("button", name="Envoyer au comptable").click()
        wait_for(lambda: len(files_in(ventes)) == 3, "the client's document")
        # The icon turns green once the downloader has acknowledged the file, just after.
        wait_for(
            lambda: not Delivery.objects.exclude(state=Delivery.State.DELIVERED).exists(),
            "the downloader's acknowledgements",
        )
        page.goto(f"/companies/{company.pk}/documents/")
        expect(page.locator(".sage-green")).to_have_count(4)
        shoot(page, "client-invoices")
    finally:
        downloader.terminate()
        downloader.wait(timeout=30)

    # S10: every file is PEPPOL BIS 3.0 UBL with the PDF inside, and passes validation.
    validator = Validator(peppol_bis.RULES)
    for placed in files_in(ventes) + files_in(achats):
        tree = etree.fromstring(placed.read_bytes())
        attachment = tree.find(
            "cac:AdditionalDocumentReference/cac:Attachment/cbc:EmbeddedDocumentBinaryObject",
            UBL_NS,
        )
        assert attachment is not None and attachment.get("mimeCode") == "application/pdf"
        assert attachment.get("filename", "").endswith(".pdf")
        report = validator.validate(placed.read_bytes())
        assert report.status == "valid", (placed.name, report.to_dict())
    assert not list(agent.root.glob(".ledgerdrop-staging/*"))
