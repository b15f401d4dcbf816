from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests import builders
from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.e2e


def test_an_accountant_signs_in_and_sees_the_dossiers_of_the_firm(page: Page) -> None:
    accountant = builders.user("kevin@fiduciaire.be")
    firm = builders.firm("Fiduciaire Kevin", owner=accountant)
    for name in ("Boulangerie Dupont", "Garage Peeters"):
        builders.connected_dossier(firm, builders.company(name), code=name.split()[1].upper())

    sign_in(page, "kevin@fiduciaire.be")

    expect(page.get_by_role("heading", name="Dossiers")).to_be_visible()
    rows = page.get_by_role("row")
    expect(rows.filter(has_text="Boulangerie Dupont")).to_have_count(1)
    expect(rows.filter(has_text="Garage Peeters")).to_have_count(1)


def test_a_wrong_password_keeps_the_accountant_on_the_sign_in_page(page: Page) -> None:
    builders.user("kevin@fiduciaire.be")

    sign_in(page, "kevin@fiduciaire.be", password="not-the-password")

    expect(page.get_by_role("alert")).to_be_visible()
    expect(page).to_have_url("/accounts/login/")
