"""A package connector in French through the real UI: Expert/M Plus switched on, a connection
whose form shows, as it is typed, where four sample documents of the dossier will go."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from ledgerdrop.accounts import services as accounts_services
from ledgerdrop.connectors.presets import services as connectors
from ledgerdrop.delivery import services as delivery_services
from tests import builders
from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.e2e
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def test_the_connection_form_previews_the_full_paths_as_they_are_typed(page: Page) -> None:
    firm = builders.firm("Fiduciaire Kevin", owner=builders.user("kevin@fiduciaire.be"))
    company = builders.company("Boulangerie Dupont SRL")  # BE0403019261
    accounts_services.link_accountant(company, firm, by=None)
    device = delivery_services.register_device(
        firm, name="Serveur", os="Windows", root_folder="D:\\Compta"
    ).device
    connectors.set_default_device(firm, "expert-m", device, by=None)
    sign_in(page, "kevin@fiduciaire.be")
    menu = page.get_by_role("navigation", name="Menu principal")

    menu.get_by_role("link", name="Applications & connexions").click()
    page.get_by_role("switch", name="Expert/M Plus").click()
    expect(page.get_by_role("switch", name="Expert/M Plus")).to_have_attribute(
        "aria-checked", "true"
    )
    menu.get_by_role("link", name="Expert/M Plus").click()
    page.get_by_role("link", name="Configurer une nouvelle connexion").click()
    page.get_by_label("Dossier", exact=True).select_option(label=company.name)

    preview = page.locator("#preview")
    expect(preview.locator("code[data-kind=sales_invoice]")).to_have_text(
        re.compile(r"^D:\\Compta\\0403019261\\Verkopen\\\d{8}_sales_invoice_2026-0042_\d+\.xml$")
    )
    expect(preview.locator("code[data-kind=purchase_slip]")).to_have_text(
        re.compile(r"^D:\\Compta\\0403019261\\Aankopen\\")
    )
    expect(preview.locator("dt")).to_have_count(4)

    page.get_by_label("Chemin").fill("{enterprise_number}/{direction}-{year}")
    expect(preview.locator("code[data-kind=credit_note]")).to_have_text(
        re.compile(r"^D:\\Compta\\0403019261\\Verkopen-\d{4}\\")
    )
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "connector-preview.png", full_page=True)
    page.get_by_label("Chemin").fill("../{direction}")
    expect(preview.get_by_role("alert")).to_contain_text("dossier principal")

    page.get_by_label("Chemin").fill("{enterprise_number}/{direction}")
    page.get_by_role("button", name="Enregistrer la connexion").click()
    expect(page.get_by_role("heading", name=company.name)).to_be_visible()
    expect(page.locator("#preview code[data-kind=sales_invoice]")).to_contain_text("Verkopen")
