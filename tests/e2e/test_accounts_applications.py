"""S4 in French through the real UI: Applications & connections, Sage BOB Demat on and off."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests import builders
from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.e2e


def test_switching_on_sage_bob_demat_adds_sage_demat_to_the_firms_menu(page: Page) -> None:
    builders.firm("Fiduciaire Kevin", owner=builders.user("kevin@fiduciaire.be"))
    sign_in(page, "kevin@fiduciaire.be")
    menu = page.get_by_role("navigation", name="Menu principal")
    expect(menu.get_by_role("link", name="Sage Demat")).to_have_count(0)

    menu.get_by_role("link", name="Applications & connexions").click()
    accounting = page.get_by_role("region", name="Comptabilité")
    switch = accounting.get_by_role("switch", name="Sage BOB Demat")
    expect(switch).to_have_attribute("aria-checked", "false")
    switch.click()

    expect(page.get_by_role("switch", name="Sage BOB Demat")).to_have_attribute(
        "aria-checked", "true"
    )
    menu.get_by_role("link", name="Sage Demat").click()
    expect(page).to_have_url(__import__("re").compile(r"/sage-demat/$"))

    menu.get_by_role("link", name="Applications & connexions").click()
    page.get_by_role("switch", name="Sage BOB Demat").click()

    expect(page.get_by_role("switch", name="Sage BOB Demat")).to_have_attribute(
        "aria-checked", "false"
    )
    expect(menu.get_by_role("link", name="Sage Demat")).to_have_count(0)
