"""S2 in French through the real UI: a company adds its accountant as an external user, either
a firm user already (a dossier at once) or somebody new (an invitation that links on sign-up)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests import builders
from tests.conftest import LiveService
from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.e2e


def open_organisation(page: Page, name: str) -> None:
    """Through the organisation switcher of the top bar."""
    page.locator(".switcher summary").click()
    page.locator(".switcher-menu").get_by_role("link", name=name).click()


def add_external_user(page: Page, company: str, email: str) -> None:
    open_organisation(page, company)
    page.get_by_role("link", name="Paramètres de l'entreprise").click()
    page.get_by_role("link", name="Utilisateurs", exact=True).click()
    section = page.get_by_role("region", name="Comptables et utilisateurs de support")
    section.get_by_text("+ Ajouter un utilisateur externe").click()
    section.get_by_label("Adresse e-mail").fill(email)
    section.get_by_role("button", name="Ajouter", exact=True).click()


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Se déconnecter").click()


def wait_for_mail(folder: Path, recipient: str, timeout: float = 15) -> str:
    """The file e-mail backend's outbox; a file may exist a moment before it is written."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for file in sorted(folder.glob("*.log")) if folder.exists() else []:
            text = file.read_text()
            if f"To: {recipient}" in text and "/signup/firm/" in text:
                return text
        time.sleep(0.2)
    raise AssertionError(f"no e-mail to {recipient} was written to {folder}")


def test_a_company_links_an_accountant_who_already_has_a_firm(page: Page) -> None:
    firm = builders.firm("Fiduciaire Kevin", owner=builders.user("kevin@fiduciaire.be"))
    company = builders.company("Boulangerie Dupont", owner=builders.user("anne@dupont.be"))
    builders.document(company, number="2026-0042")

    sign_in(page, "anne@dupont.be")
    add_external_user(page, company.name, "kevin@fiduciaire.be")

    row = page.get_by_role("row").filter(has_text="kevin@fiduciaire.be")
    expect(row).to_contain_text("Lié")
    expect(row).to_contain_text(firm.name)

    sign_out(page)
    sign_in(page, "kevin@fiduciaire.be")
    page.get_by_role("link", name=f"Ouvrir {company.name}").click()

    expect(page.get_by_role("heading", name=company.name)).to_be_visible()
    expect(page.get_by_role("row").filter(has_text="2026-0042")).to_contain_text("Client Final SA")


def test_an_unknown_accountant_is_invited_and_linked_when_signing_up(
    page: Page, live_service: LiveService
) -> None:
    company = builders.company("Garage Peeters", owner=builders.user("jan@peeters.be"))

    sign_in(page, "jan@peeters.be")
    add_external_user(page, company.name, "sarah@nouvelle-fidu.be")

    expect(page.get_by_role("row").filter(has_text="sarah@nouvelle-fidu.be")).to_contain_text(
        "Invité"
    )
    mail = wait_for_mail(live_service.data_dir / "mail", "sarah@nouvelle-fidu.be")
    link = next(line for line in mail.splitlines() if "/signup/firm/" in line)

    sign_out(page)
    page.goto("/signup/firm/" + link.split("/signup/firm/", 1)[1])
    expect(page.get_by_label("Adresse e-mail")).to_have_value("sarah@nouvelle-fidu.be")
    page.get_by_label("Nom du bureau comptable").fill("Nouvelle Fidu")
    page.get_by_label("Mot de passe").fill("Bob-Demat-2026!")
    page.get_by_role("button", name="Créer le compte").click()

    expect(page.get_by_role("heading", name="Dossiers")).to_be_visible()
    expect(page.get_by_role("row").filter(has_text=company.name)).to_have_count(1)


def test_removing_the_external_user_takes_the_dossier_away_from_the_firm(page: Page) -> None:
    accountant = builders.user("kevin@fiduciaire.be")
    builders.firm("Fiduciaire Kevin", owner=accountant)
    company = builders.company("Boulangerie Dupont", owner=builders.user("anne@dupont.be"))

    sign_in(page, "anne@dupont.be")
    add_external_user(page, company.name, "kevin@fiduciaire.be")
    page.get_by_role("button", name="Retirer kevin@fiduciaire.be").click()
    expect(page.get_by_role("alertdialog")).to_contain_text("transfert automatique")
    page.get_by_role("button", name="Oui, retirer").click()

    expect(page.get_by_text("Aucun utilisateur externe pour l'instant.")).to_be_visible()
    sign_out(page)
    sign_in(page, "kevin@fiduciaire.be")
    expect(page.get_by_role("heading", name="Dossiers")).to_be_visible()
    expect(page.get_by_text(company.name)).to_have_count(0)
