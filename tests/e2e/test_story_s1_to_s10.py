"""The whole story of DESIGN.md §2 in the help page's own order — sign-up, link, install from
the download page and pair, main folder, connection, documents to process, default device,
automatic transfer, client sending — in French through the real UI, with the real downloader
placing the files. Nothing is done behind the UI's back but running the downloader (and letting
the night come, see S8). Saves screenshots of the main screens into docs/screenshots/ for the
README."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from lxml import etree
from playwright.sync_api import Page, expect

from ledgerdrop.delivery.models import Delivery
from ledgerdrop.documents.ubl import peppol_bis
from ledgerdrop.documents.ubl.validate import Validator
from tests.conftest import Agent, LiveService
from tests.e2e.test_accounts_link import add_external_user, sign_out

pytestmark = pytest.mark.e2e

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
UBL_NS = {
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
}
PASSWORD = "Bob-Demat-2026!"


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
        time.sleep(0.1)
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


def sign_up(page: Page, kind: str, name: str, email: str, vat: str = "") -> None:
    page.goto("/")
    page.get_by_role("link", name="Créer un compte gratuit").click()
    if kind == "firm":
        page.get_by_role("link", name="Je suis comptable").click()
        page.get_by_label("Nom du bureau comptable").fill(name)
    else:
        page.get_by_role("link", name="Je dirige une entreprise").click()
        page.get_by_label("Nom de l'entreprise").fill(name)
        page.get_by_label("Numéro de TVA").fill(vat)
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Créer le compte").click()
    expect(page.get_by_role("status")).to_contain_text("Votre compte est prêt")


def sign_in(page: Page, email: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()


def issue(page: Page, new: str, counterparty: str, vat: str, what: str, price: str) -> str:
    """Create and issue a document from the company's Invoices page; returns its number."""
    page.get_by_role("navigation", name="Menu principal").get_by_role(
        "link", name="Factures"
    ).click()
    page.get_by_role("link", name=new).click()
    page.get_by_label("Nom").fill(counterparty)
    page.get_by_label("Numéro de TVA").fill(vat)
    page.get_by_label("Description").first.fill(what)
    page.get_by_label("Quantité").first.fill("1")
    page.get_by_label("Prix unitaire").first.fill(price)
    page.get_by_role("button", name="Émettre").click()
    heading = page.get_by_role("heading", name=re.compile(r"(F|BA)\d{4}-\d{4}"))
    expect(heading).to_be_visible()
    expect(page.get_by_text("Valide : tous les contrôles sont passés.")).to_be_visible()
    found = re.search(r"(F|BA)\d{4}-\d{4}", heading.inner_text())
    assert found is not None
    return found.group(0)


def test_the_whole_story_in_the_help_pages_order_to_files_that_bob_demat_imports(
    page: Page, agent: Agent, live_service: LiveService
) -> None:
    ventes, achats = agent.root / "DUPONT" / "ventes", agent.root / "DUPONT" / "achats"
    menu = page.get_by_role("navigation", name="Menu principal")

    # S1: an accountant signs up for a free firm account.
    sign_up(page, "firm", "Fiduciaire Kevin", "kevin@fiduciaire.be")
    expect(page.get_by_role("heading", name="Dossiers")).to_be_visible()
    sign_out(page)

    # The client company signs up too, enters its invoicing details and issues documents: two
    # for the accountant to send by hand, one paid (for the nightly transfer), one to send
    # itself.
    sign_up(page, "company", "Boulangerie Dupont", "anne@dupont.be", vat="BE0403019261")
    page.get_by_role("link", name="Données de facturation").click()
    page.get_by_label("Rue et numéro").fill("Rue de la Loi 16")
    page.get_by_label("Code postal").fill("1000")
    page.get_by_label("Localité").fill("Bruxelles")
    page.get_by_label("Numéro d'entreprise").fill("0403019261")
    page.get_by_label("IBAN").fill("BE71096123456769")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_role("status")).to_contain_text("Données de facturation enregistrées.")
    sale, purchase = "Nouvelle facture de vente", "Nouveau bordereau d'achat"
    by_hand = issue(page, sale, "Hôtel Métropole SA", "BE0202239951", "Pains", "120")
    slip = issue(page, purchase, "Ferme du Bocq SRL", "BE0403170701", "Farine", "300")
    paid = issue(page, sale, "Café du Parc SRL", "BE0202239951", "Viennoiseries", "80")
    page.get_by_role("button", name="Marquer comme envoyé").click()
    page.get_by_role("button", name="Marquer comme payé").click()
    expect(page.get_by_text("Marqué comme payé.")).to_be_visible()
    by_client = issue(page, sale, "Café du Parc SRL", "BE0202239951", "Tartes", "40")

    # S2: the client company adds its accountant as external user.
    add_external_user(page, "Boulangerie Dupont", "kevin@fiduciaire.be")
    expect(page.get_by_role("row").filter(has_text="kevin@fiduciaire.be")).to_contain_text("Lié")
    sign_out(page)
    sign_in(page, "kevin@fiduciaire.be")
    expect(page.get_by_role("row").filter(has_text="Boulangerie Dupont")).to_have_count(1)
    shoot(page, "dossiers")

    # S3: the download page shows the Linux command with a one-time key in it; the
    # downloader is paired with that key, as the install script does after installing it
    # (the script itself is run end to end by tests/system/test_install_script.py). After a
    # refresh the device is listed.
    menu.get_by_role("link", name="Appareils de téléchargement").click()
    page.get_by_role("link", name="Télécharger l'Accounting Downloader").click()
    shown = re.fullmatch(
        r"curl -fsSL (\S+)/downloads/agent/install\.sh \| LEDGERDROP_ENROLMENT_KEY=(\S+) sh",
        page.locator("#linux-command").inner_text(),
    )
    assert shown is not None
    server, key = shown.groups()
    paired = agent.run("pair", "--server", server, "--enrolment-key", key, "--name", "PC Kevin")
    assert paired.returncode == 0, paired.stdout + paired.stderr
    page.get_by_role("link", name="Retour aux appareils de téléchargement").click()
    expect(page.get_by_role("row").filter(has_text="PC Kevin")).to_have_count(1)

    # S5 (device): its main folder, then the downloader runs.
    page.get_by_role("link", name="Paramètres de PC Kevin").click()
    page.get_by_label("Dossier principal Demat").fill(str(agent.root))
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_role("row").filter(has_text="PC Kevin")).to_contain_text(str(agent.root))
    downloader = agent.start("run")
    try:
        expect(page.get_by_role("row").filter(has_text="PC Kevin")).to_contain_text("en ligne")

        # S4: switching on Sage BOB Demat adds Sage Demat to the menu.
        menu.get_by_role("link", name="Applications & connexions").click()
        page.get_by_role("switch", name="Sage BOB Demat").click()
        menu.get_by_role("link", name="Sage Demat").click()

        # S5: a connection with the BOB dossier code, long before any default device: no
        # default is offered, and achats and ventes appear on the device within a second.
        page.get_by_role("link", name="Configurer une nouvelle connexion").click()
        page.get_by_label("Dossier", exact=True).select_option(label="Boulangerie Dupont")
        page.get_by_label("Code de dossier").fill("DUPONT")
        device_choice = page.get_by_label("Appareil", exact=True)
        expect(device_choice.locator("option:checked")).to_have_text(
            "Aucun appareil en particulier"
        )
        page.get_by_role("button", name="Enregistrer la connexion").click()
        expect(page.get_by_role("status")).to_contain_text("dossiers achats et ventes")
        wait_for(
            lambda: ventes.is_dir() and achats.is_dir(),
            "the dossier folders",
            timeout=5,
            explain=lambda: explain(agent, downloader, live_service),
        )

        # S6: documents to process, two of them sent by hand to the device (its state shown).
        menu.get_by_role("link", name="Sage Demat").click()
        page.get_by_role("link", name="Documents à traiter").click()
        expect(page.get_by_role("row")).to_have_count(5)
        shoot(page, "documents-to-process")
        for number in (by_hand, slip):
            page.get_by_role("row").filter(has_text=number).get_by_role("checkbox").check()
        page.get_by_label("Appareil", exact=True).select_option(label="PC Kevin (en ligne)")
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

        # S8: automatic transfer for the dossier: confirmed, with the next run and what it
        # would send (the paid invoice only).
        page.get_by_role("link", name="Consulter Boulangerie Dupont").click()
        page.get_by_role("switch", name="Transférer automatiquement les documents").check()
        expect(page.get_by_role("status")).to_contain_text("Le transfert automatique est activé")
        outlook = page.locator(".autosend-outlook")
        expect(outlook).to_contain_text("heure de Bruxelles")
        expect(outlook).to_contain_text("Facture de vente : 1")
        shoot(page, "sage-demat-connection")
        # Night comes: the server's own scheduler runs the transfer. Its time is set to this
        # minute and the server restarted, as a server that was down at that hour catches up.
        live_service.stop()
        now = dt.datetime.now(ZoneInfo("Europe/Brussels"))
        live_service.env["LEDGERDROP_AUTOSEND_AT"] = f"{now:%H:%M}"
        live_service.start()
        wait_for(
            lambda: len(files_in(ventes)) == 2,
            "the automatic transfer",
            timeout=60,  # the downloader reconnects with a growing pause meanwhile
            explain=lambda: explain(agent, downloader, live_service),
        )
        assert any(paid in f.name for f in files_in(ventes))
        page.reload()
        expect(outlook).to_contain_text("1 document(s) envoyé(s), 0 en échec")

        # S9: the client sees that its accountant receives its documents automatically, and
        # sends one itself: grey, then green once fetched.
        sign_out(page)
        sign_in(page, "anne@dupont.be")
        expect(page.get_by_role("note")).to_contain_text(
            "Fiduciaire Kevin, votre comptable, reçoit automatiquement vos documents"
        )
        page.get_by_role("link", name=by_client).click()
        page.get_by_role("button", name="Envoyer au comptable").click()
        wait_for(lambda: len(files_in(ventes)) == 3, "the client's document")
        # The icon turns green once the downloader has acknowledged the file, just after.
        wait_for(
            lambda: not Delivery.objects.exclude(state=Delivery.State.DELIVERED).exists(),
            "the downloader's acknowledgements",
        )
        menu.get_by_role("link", name="Factures").click()
        expect(page.locator(".sage-green")).to_have_count(4)
        shoot(page, "client-invoices")

        # The device page tells the truth within seconds when the downloader stops.
        sign_out(page)
        sign_in(page, "kevin@fiduciaire.be")
        menu.get_by_role("link", name="Appareils de téléchargement").click()
        row = page.get_by_role("row").filter(has_text="PC Kevin")
        expect(row).to_contain_text("en ligne")
    finally:
        downloader.terminate()
        downloader.wait(timeout=30)
    expect(row).to_contain_text("hors ligne", timeout=8_000)  # without reloading the page

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
