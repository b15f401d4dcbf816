"""The accountant opens a client's document before sending it to BOB: its PDF and a readable
view of its data with the validation report, from Documents to process, the dossier and the
history of a connection; never a document of a company that did not link the firm."""

from __future__ import annotations

import pytest
from django.test import Client

from ledgerdrop.accounts import services as accounts_services
from ledgerdrop.accounts.models import Organisation
from ledgerdrop.connectors.bob_demat import services as bob_demat
from ledgerdrop.delivery import services as delivery_services
from ledgerdrop.documents import services
from ledgerdrop.documents.models import Document
from tests import builders

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("peppol_rules")]


@pytest.fixture
def firm() -> Organisation:
    firm = builders.firm("Fiduciaire Kevin", owner=builders.user("kevin@fidu.be"))
    bob_demat.enable(firm, by=None)
    return firm


@pytest.fixture
def company(firm: Organisation) -> Organisation:
    company = builders.invoicing_company("Boulangerie Dupont")
    accounts_services.link_accountant(company, firm, by=None)
    return company


@pytest.fixture
def accountant(firm: Organisation) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="fr")
    client.force_login(firm.memberships.get().user)
    return client


@pytest.fixture
def invoice(company: Organisation) -> Document:
    return services.create_document(company, builders.invoice_input(), by=None, draft=False)


def page_of(firm: Organisation, document: Document) -> str:
    return f"/firms/{firm.pk}/documents/{document.pk}/"


def test_the_accountant_reads_a_clients_invoice_with_its_validation_report(
    accountant: Client, firm: Organisation, invoice: Document
) -> None:
    page = accountant.get(page_of(firm, invoice)).content.decode()

    assert invoice.number in page
    assert "Brouwerij Noord NV" in page
    assert "Réglage éclairage" in page and "21\xa0%" in page
    assert "Valide : tous les contrôles sont passés." in page
    assert f"/firms/{firm.pk}/documents/{invoice.pk}/file/pdf/" in page


def test_the_pdf_opens_in_the_browser_and_the_ubl_downloads(
    accountant: Client, firm: Organisation, invoice: Document
) -> None:
    pdf = accountant.get(page_of(firm, invoice) + "file/pdf/")
    ubl = accountant.get(page_of(firm, invoice) + "file/ubl/")

    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf["Content-Disposition"].startswith("inline")
    assert ubl["Content-Disposition"].startswith("attachment")


def test_a_received_document_shows_the_lines_read_from_its_file(
    accountant: Client, firm: Organisation, company: Organisation
) -> None:
    received = services.receive(
        company, builders.received_ubl(company), source=Document.Source.UPLOAD
    )

    page = accountant.get(page_of(firm, received)).content.decode()

    assert "Moulins de Ciney SA" in page
    assert "<h2>Lignes</h2>" in page


def test_another_firm_and_a_draft_are_out_of_reach(
    firm: Organisation, company: Organisation, invoice: Document
) -> None:
    other = builders.firm("Autre Fidu", owner=builders.user("eve@autre.be"))
    stranger = Client()
    stranger.force_login(other.memberships.get().user)
    accountant = Client()
    accountant.force_login(firm.memberships.get().user)
    draft = services.create_document(company, builders.invoice_input(), by=None)

    assert stranger.get(page_of(other, invoice)).status_code == 404
    assert stranger.get(page_of(firm, invoice)).status_code == 404
    assert stranger.get(page_of(other, invoice) + "file/pdf/").status_code == 404
    assert accountant.get(page_of(firm, draft)).status_code == 404


def test_documents_to_process_the_dossier_and_the_history_link_to_the_document(
    accountant: Client, firm: Organisation, company: Organisation, invoice: Document
) -> None:
    dossier = firm.dossiers.get(company=company)
    connection = bob_demat.connect(dossier, "DUPONT", by=None)
    to_process = accountant.get(f"/firms/{firm.pk}/documents-to-process/").content.decode()
    dossier_page = accountant.get(f"/firms/{firm.pk}/dossiers/{dossier.pk}/").content.decode()
    device = delivery_services.register_device(firm, name="PC Kevin").device
    bob_demat.send(firm, [invoice], device, by=None)
    history = accountant.get(
        f"/firms/{firm.pk}/sage-demat/connections/{connection.pk}/"
    ).content.decode()

    for page in (to_process, dossier_page, history):
        assert page_of(firm, invoice) in page
