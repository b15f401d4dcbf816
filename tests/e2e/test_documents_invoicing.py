"""Browser: a company creates, issues, marks sent and paid an invoice, then credits it. The
server validates with the PEPPOL rules Ledgerdrop ships: nothing to set up."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from ledgerdrop.documents.models import Document
from tests import builders
from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.e2e


def test_an_invoice_is_created_issued_sent_paid_and_credited(page: Page) -> None:
    owner = builders.user("gerant@atelier.be")
    company = builders.invoicing_company("Atelier Lumière SRL", owner=owner)
    sign_in(page, "gerant@atelier.be")

    page.goto(f"/companies/{company.pk}/documents/")
    page.get_by_role("link", name="Nouvelle facture de vente").click()
    page.get_by_label("Nom").fill("Brouwerij Noord NV")
    page.get_by_label("Numéro de TVA").fill("BE0202239951")
    page.get_by_label("Description").first.fill("Réglage éclairage scène")
    page.get_by_label("Quantité").first.fill("2")
    page.get_by_label("Prix unitaire").first.fill("100")
    expect(page.locator('[data-total="payable"]')).to_have_text("242,00 €")
    page.get_by_role("button", name="Émettre").click()

    expect(
        page.get_by_role("heading", name=re.compile(r"Facture de vente F\d{4}-0001"))
    ).to_be_visible()
    expect(page.get_by_text("Valide : tous les contrôles sont passés.")).to_be_visible()
    page.get_by_role("button", name="Marquer comme envoyé").click()
    expect(page.get_by_text("Marqué comme envoyé.")).to_be_visible()
    page.get_by_role("button", name="Marquer comme payé").click()
    expect(page.get_by_text("Marqué comme payé.")).to_be_visible()
    invoice = Document.objects.get(company=company, kind="sales_invoice")
    assert invoice.status == "paid" and invoice.sent_at and invoice.paid_at

    page.get_by_role("button", name="Créer une note de crédit").click()
    expect(page.get_by_text("crédite la facture")).to_be_visible()
    page.get_by_role("button", name="Émettre").click()

    expect(
        page.get_by_role("heading", name=re.compile(r"Note de crédit NC\d{4}-0001"))
    ).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("link", name="Télécharger l'UBL (XML)").click()
    assert b"<cbc:CreditNoteTypeCode>381" in Path(download.value.path()).read_bytes()
    page.goto(f"/companies/{company.pk}/documents/")
    expect(page.get_by_role("row").filter(has_text="Note de crédit")).to_have_count(1)
    expect(page.locator(".transfer-none")).to_have_count(2)
