"""Browser: every page keeps to the Content-Security-Policy (no inline script or style, nothing
from elsewhere) and still works: htmx, the confirmations and the select-all box."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect
from playwright.sync_api import Error as PlaywrightError

from ledgerdrop.connectors.bob_demat.models import DematConnection
from ledgerdrop.delivery import services as delivery_services
from tests import builders
from tests.conftest import LiveService
from tests.e2e.conftest import sign_in, watch_csp_violations

pytestmark = pytest.mark.e2e


def test_an_inline_script_on_a_page_is_reported_as_a_violation(
    browser: Browser, live_service: LiveService
) -> None:
    # The watcher every browser test relies on must see a violation when there is one.
    context = browser.new_context(base_url=live_service.url, locale="fr-BE")
    violations = watch_csp_violations(context)
    page = context.new_page()
    response = page.goto("/accounts/login/")
    assert response is not None
    assert "script-src 'self'" in response.headers["content-security-policy"]

    with pytest.raises(PlaywrightError, match=r"Content Security Policy|Refused"):
        page.add_script_tag(content="document.title = 'injected'")

    expect(page).not_to_have_title("injected")
    page.wait_for_timeout(200)
    context.close()
    assert any("script-src" in violation for violation in violations), violations


def _visit(page: Page, path: str) -> None:
    response = page.goto(path)
    assert response is not None and response.ok, f"{path}: {response and response.status}"
    assert "default-src 'self'" in response.headers.get("content-security-policy", ""), path


def test_the_firms_pages_keep_to_the_policy_and_still_work(page: Page) -> None:
    accountant = builders.user("kevin@fiduciaire.be")
    firm = builders.firm("Fiduciaire Kevin", owner=accountant)
    company = builders.invoicing_company("Boulangerie Dupont SRL")
    dossier, connection = builders.connected_dossier(firm, company, code="DUPONT")
    for number in ("F2026-0001", "F2026-0002"):
        builders.document(company, number=number)
    device = delivery_services.register_device(firm, name="PC Kevin").device
    sign_in(page, "kevin@fiduciaire.be")

    for path in (
        f"/firms/{firm.pk}/dossiers/",
        f"/firms/{firm.pk}/dossiers/{dossier.pk}/",
        f"/firms/{firm.pk}/apps/",
        f"/firms/{firm.pk}/devices/",
        f"/firms/{firm.pk}/devices/{device.pk}/settings/",
        f"/firms/{firm.pk}/downloader/",
        f"/firms/{firm.pk}/sage-demat/",
        f"/firms/{firm.pk}/sage-demat/connections/new/",
        "/accounts/settings/",
        "/accounts/password/",
        "/organisations/new/",
        "/api/v1/docs",
    ):
        _visit(page, path)

    # The select-all box (a static script now) ticks every document.
    _visit(page, f"/firms/{firm.pk}/documents-to-process/")
    page.get_by_role("checkbox", name="Tout sélectionner").check()
    expect(page.locator("input[name=documents]:checked")).to_have_count(2)

    # htmx still swaps the automatic-transfer form in place.
    _visit(page, f"/firms/{firm.pk}/sage-demat/connections/{connection.pk}/")
    page.get_by_label("Transférer automatiquement les documents d'achat et de vente").check()
    expect(page.locator("#auto-transfer").get_by_role("status")).to_contain_text(
        "Le transfert automatique est activé"
    )
    assert DematConnection.objects.get(pk=connection.pk).auto_transfer

    # Removing the connection asks first: "cancel" keeps it, "OK" removes it.
    remove = page.get_by_role("button", name="Supprimer la connexion")
    page.once("dialog", lambda dialog: dialog.dismiss())
    remove.click()
    expect(page).to_have_url(f"/firms/{firm.pk}/sage-demat/connections/{connection.pk}/")
    assert DematConnection.objects.filter(pk=connection.pk).exists()
    page.once("dialog", lambda dialog: dialog.accept())
    remove.click()
    expect(page).to_have_url(f"/firms/{firm.pk}/sage-demat/")
    assert not DematConnection.objects.filter(pk=connection.pk).exists()


def test_the_companys_and_public_pages_keep_to_the_policy_and_still_work(page: Page) -> None:
    for path in ("/accounts/login/", "/signup/", "/signup/firm/", "/accounts/password-reset/"):
        _visit(page, path)
    _visit(page, "/admin/login/")

    owner = builders.user("gerant@atelier.be")
    company = builders.invoicing_company("Atelier Lumière SRL", owner=owner)
    invoice = builders.document(company, number="F2026-0001")
    sign_in(page, "gerant@atelier.be")
    for path in (
        f"/companies/{company.pk}/documents/",
        f"/companies/{company.pk}/documents/{invoice.pk}/",
        f"/companies/{company.pk}/purchases/",
        f"/companies/{company.pk}/invoicing/",
        f"/companies/{company.pk}/settings/",
    ):
        _visit(page, path)

    # htmx recomputes the totals of the editor as the person types.
    _visit(page, f"/companies/{company.pk}/documents/new/sales_invoice/")
    page.get_by_label("Description").first.fill("Réglage éclairage scène")
    page.get_by_label("Quantité").first.fill("2")
    page.get_by_label("Prix unitaire").first.fill("100")
    expect(page.locator('[data-total="payable"]')).to_have_text("242,00 €")

    # htmx adds the external user in place.
    _visit(page, f"/companies/{company.pk}/settings/users/")
    page.get_by_text("Ajouter un utilisateur externe").click()
    page.get_by_label("Adresse e-mail").fill("comptable@fiduciaire.be")
    page.get_by_role("button", name="Ajouter", exact=True).click()
    expect(page.locator("#external-users")).to_contain_text("comptable@fiduciaire.be")
