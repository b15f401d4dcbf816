"""S1 in French through the real UI: an accountant and a client company sign up for free."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from ledgerdrop.accounts.models import Organisation

pytestmark = pytest.mark.e2e


def test_an_accountant_signs_up_a_free_firm_account(page: Page) -> None:
    page.goto("/")
    page.get_by_role("link", name="Créer un compte gratuit").click()
    page.get_by_role("link", name="Je suis comptable").click()
    page.get_by_label("Nom du bureau comptable").fill("Fiduciaire Kevin")
    page.get_by_label("Adresse e-mail").fill("kevin@fiduciaire.be")
    page.get_by_label("Mot de passe").fill("Bob-Demat-2026!")
    page.get_by_role("button", name="Créer le compte").click()

    expect(page.get_by_role("heading", name="Dossiers")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("Votre compte est prêt")
    expect(page.locator(".switcher-current")).to_have_text("Fiduciaire Kevin")
    assert Organisation.objects.get(name="Fiduciaire Kevin").kind == Organisation.Kind.FIRM


def test_a_company_signs_up_and_a_wrong_vat_number_is_explained_in_french(page: Page) -> None:
    page.goto("/signup/company/")
    page.get_by_label("Nom de l'entreprise").fill("Boulangerie Dupont")
    page.get_by_label("Adresse e-mail").fill("anne@dupont.be")
    page.get_by_label("Mot de passe").fill("Bob-Demat-2026!")
    page.get_by_label("Numéro de TVA").fill("BE0123")
    page.get_by_role("button", name="Créer le compte").click()

    expect(page.get_by_role("alert")).to_contain_text("pas un numéro de TVA belge valide")

    page.get_by_label("Mot de passe").fill("Bob-Demat-2026!")
    page.get_by_label("Numéro de TVA").fill("BE 0403.019.261")
    page.get_by_role("button", name="Créer le compte").click()

    expect(page.locator(".switcher-current")).to_have_text("Boulangerie Dupont")
    page.get_by_role("link", name="Paramètres de l'entreprise").click()
    expect(page.get_by_text("BE0403019261")).to_be_visible()


def test_a_signed_up_accountant_signs_out_and_in_again(page: Page) -> None:
    page.goto("/signup/firm/")
    page.get_by_label("Nom du bureau comptable").fill("Fiduciaire Kevin")
    page.get_by_label("Adresse e-mail").fill("kevin@fiduciaire.be")
    page.get_by_label("Mot de passe").fill("Bob-Demat-2026!")
    page.get_by_role("button", name="Créer le compte").click()
    page.get_by_role("button", name="Se déconnecter").click()

    page.get_by_label("Adresse e-mail").fill("kevin@fiduciaire.be")
    page.get_by_label("Mot de passe").fill("Bob-Demat-2026!")
    page.get_by_role("button", name="Se connecter").click()

    expect(page.get_by_role("heading", name="Dossiers")).to_be_visible()
