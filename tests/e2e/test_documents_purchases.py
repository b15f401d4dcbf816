"""Browser: an incoming purchase document is uploaded, lands in the processing list, approved."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from ledgerdrop.documents.models import Document
from tests import builders
from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.e2e


def test_an_uploaded_purchase_document_is_approved_from_the_processing_list(page: Page) -> None:
    owner = builders.user("gerant@atelier.be")
    company = builders.invoicing_company("Atelier Lumière SRL", owner=owner)
    sign_in(page, "gerant@atelier.be")

    page.goto(f"/companies/{company.pk}/purchases/")
    page.get_by_label("Fichier UBL (XML)").set_input_files(
        files=[
            {
                "name": "INV-77.xml",
                "mimeType": "application/xml",
                "buffer": builders.received_ubl(company),
            }
        ]
    )
    page.get_by_role("button", name="Charger").click()

    expect(page.get_by_text("Document reçu.")).to_be_visible()
    row = page.get_by_role("row").filter(has_text="Moulins de Ciney SA")
    expect(row).to_contain_text("INV-77")
    row.get_by_role("button", name="Approuver").click()

    expect(page.get_by_text("Enregistré comme facture d'achat.")).to_be_visible()
    expect(page.get_by_text("Rien à traiter.")).to_be_visible()
    document = Document.objects.get(company=company)
    assert (document.kind, document.status) == ("purchase_invoice", "approved")
