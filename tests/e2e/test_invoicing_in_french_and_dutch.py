"""Browser, in French and in Dutch: invoices to customers abroad in other currencies and
alphabets, the company's invoicing details asked for before the first issue, validation in
the reader's language, amounts and VAT as people write them, e-mail addresses in any case,
removing the accountant, and pages that fit a 1,280 px window and a 375 px phone."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import translation
from playwright.sync_api import Browser, Page, expect
from pypdf import PdfReader

from ledgerdrop.accounts import services as accounts_services
from ledgerdrop.accounts.models import Organisation
from ledgerdrop.connectors.bob_demat import services as bob_demat
from ledgerdrop.delivery import services as delivery_services
from ledgerdrop.documents import services
from ledgerdrop.documents.models import Document, InvoicingProfile
from tests import builders
from tests.conftest import LiveService

pytestmark = pytest.mark.e2e

LANGUAGES = ["fr", "nl"]


@contextmanager
def browse(
    browser: Browser, live_service: LiveService, language: str, width: int = 1280
) -> Iterator[Page]:
    context = browser.new_context(
        base_url=live_service.url,
        locale=f"{language}-BE",
        viewport={"width": width, "height": 900},
        accept_downloads=True,
    )
    try:
        page = context.new_page()
        page.set_default_timeout(15_000)
        yield page
    finally:
        context.close()


@pytest.fixture(params=LANGUAGES)
def language(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def page(browser: Browser, live_service: LiveService, language: str) -> Iterator[Page]:
    with browse(browser, live_service, language) as opened:
        yield opened


def t(language: str, message: str) -> str:
    """What the page calls a button or link, from the product's own catalogue."""
    with translation.override(language):
        return translation.gettext(message)


def sign_in(page: Page, email: str) -> None:
    page.goto("/accounts/login/")
    page.locator("#id_username").fill(email)
    page.locator("#id_password").fill(builders.PASSWORD)
    page.locator("form button.primary[type=submit]").click()


def owner_of(company_name: str, email: str) -> Organisation:
    return builders.invoicing_company(company_name, owner=builders.user(email))


def fits(page: Page, width: int) -> None:
    """Nothing on the page reaches past the window: no sideways scrolling."""
    scroll = page.evaluate("document.documentElement.scrollWidth")
    # The outermost elements that stick out, to say what to fix when it fails.
    offenders = page.evaluate(
        """width => [...document.querySelectorAll('main *, header *')]
            .filter(e => e.getBoundingClientRect().right > width + 1)
            .filter(e => !(e.parentElement.getBoundingClientRect().right > width + 1))
            .slice(0, 5)
            .map(e => `${e.tagName}.${e.className} ${e.getBoundingClientRect().right}`)""",
        width,
    )
    assert scroll <= width, f"{page.url} is {scroll} px wide in a {width} px window: {offenders}"


def test_an_export_in_dollars_with_greek_and_polish_text_is_issued_valid_and_readable(
    page: Page, language: str
) -> None:
    company = owner_of("Atelier Lumière SRL", "gerant@atelier.be")
    sign_in(page, "gerant@atelier.be")
    page.goto(f"/companies/{company.pk}/documents/")
    page.get_by_role("link", name=t(language, "New sales invoice")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        {"fr": "Nouvelle facture", "nl": "Nieuwe factuur"}[language]
    )

    # Dates read and type as people write them here, whatever the browser's own language.
    page.locator("#id_issue_date").fill({"fr": "02/11/2026", "nl": "02-11-2026"}[language])
    expect(page.locator("#id_due_date")).to_have_attribute(
        "placeholder", {"fr": "jj/mm/aaaa", "nl": "dd-mm-jjjj"}[language]
    )
    page.locator("#id_name").fill("Przedsiębiorstwo Łódź Sp. z o.o.")
    page.locator("#id_street").fill("1 Main Street")
    page.locator("#id_postal_code").fill("62701")
    page.locator("#id_city").fill("Springfield")
    page.locator("#id_country").fill("US")
    page.locator("#id_currency").fill("USD")
    page.locator("#id_eur_rate").fill("0,9213")
    page.locator("#id_lines-0-description").fill("Ελληνικό λάδι, Кофе")
    page.locator("#id_lines-0-quantity").fill("2")
    page.locator("#id_lines-0-unit_price").fill("450,50")
    page.locator("#id_lines-0-vat_rate").select_option("G")
    page.get_by_role("button", name=t(language, "Issue"), exact=True).click()

    expect(page.locator(".report-status")).to_have_text(
        {
            "fr": "Valide : tous les contrôles sont passés.",
            "nl": "Geldig: alle controles geslaagd.",
        }[language]
    )
    expect(page.locator('[data-total="payable"]')).to_have_text(
        {"fr": "901,00 $", "nl": "$ 901,00"}[language]
    )
    expect(page.locator("abbr.vat").first).to_have_text(
        {"fr": "exportation", "nl": "uitvoer"}[language]
    )
    expect(page.locator("dl.facts")).to_contain_text(
        {"fr": "02/11/2026", "nl": "2-11-2026"}[language]
    )
    with page.expect_download() as download:
        page.get_by_role("link", name=t(language, "Download PDF")).click()
    pdf = PdfReader(io.BytesIO(Path(download.value.path()).read_bytes()))
    text = " ".join(" ".join(p.extract_text() for p in pdf.pages).split())
    assert "Przedsiębiorstwo Łódź Sp. z o.o." in text
    assert "Ελληνικό λάδι, Кофе" in text


def test_the_first_issue_asks_for_the_company_address_and_iban_then_issues(
    page: Page, language: str
) -> None:
    company = owner_of("Garage Peeters", "jan@peeters.be")
    InvoicingProfile.objects.filter(company=company).update(street="", iban="")
    sign_in(page, "jan@peeters.be")
    page.goto(f"/companies/{company.pk}/documents/new/sales_invoice/")
    page.locator("#id_name").fill("Brouwerij Noord NV")
    page.locator("#id_vat_number").fill("BE0202239951")
    page.locator("#id_lines-0-description").fill("Entretien")
    page.locator("#id_lines-0-unit_price").fill("100")
    page.get_by_role("button", name=t(language, "Issue"), exact=True).click()

    expect(page.get_by_role("heading", level=1)).to_contain_text(
        {"fr": "Données de facturation", "nl": "Facturatiegegevens"}[language]
    )
    expect(page.locator("main .flash").first).to_contain_text(
        {"fr": "rue et numéro, IBAN", "nl": "straat en nummer, IBAN"}[language]
    )
    page.locator("#id_street").fill("Rue de la Gare 3")
    page.locator("#id_iban").fill("BE71 0961 2345 6769")
    page.get_by_role("button", name=t(language, "Save")).click()
    page.get_by_role("button", name=t(language, "Issue"), exact=True).click()

    expect(page.locator(".doc-status")).to_have_text({"fr": "Émise", "nl": "Uitgegeven"}[language])
    assert Document.objects.get(company=company).status == "issued"


def test_a_customer_vat_number_with_wrong_check_digits_is_refused_in_the_readers_language(
    page: Page, language: str
) -> None:
    company = owner_of("Atelier Lumière SRL", "gerant@atelier.be")
    sign_in(page, "gerant@atelier.be")
    page.goto(f"/companies/{company.pk}/documents/new/sales_invoice/")
    page.locator("#id_name").fill("Brouwerij Noord NV")
    page.locator("#id_vat_number").fill("BE0202239952")
    page.locator("#id_lines-0-description").fill("Entretien")
    page.locator("#id_lines-0-unit_price").fill("100")
    page.get_by_role("button", name=t(language, "Issue"), exact=True).click()

    expect(page.get_by_role("alert").first).to_have_text(
        {
            "fr": "Le numéro de TVA « BE0202239952 » n'est pas valide :"
            " ses chiffres de contrôle sont faux",
            "nl": "Btw-nummer 'BE0202239952' is niet geldig: de controlecijfers kloppen niet",
        }[language]
    )
    expect(page.locator("#id_name")).to_have_value("Brouwerij Noord NV")
    assert not Document.objects.filter(company=company).exists()


def test_a_broken_file_is_refused_with_what_to_correct_in_the_readers_language(
    page: Page, language: str
) -> None:
    company = owner_of("Boulangerie Dupont", "anne@dupont.be")
    sign_in(page, "anne@dupont.be")
    page.goto(f"/companies/{company.pk}/purchases/")
    page.locator("input[type=file]").set_input_files(
        {"name": "facture.xml", "mimeType": "text/xml", "buffer": b"<Invoice><oops></Invoice>"}
    )
    page.get_by_role("button", name=t(language, "Upload")).click()

    expect(page.locator(".error").first).to_be_visible()
    expect(page.locator("main")).to_contain_text(
        {
            "fr": "Le fichier n'est pas du XML bien formé",
            "nl": "Het bestand is geen goed gevormde XML",
        }[language]
    )
    assert not Document.objects.filter(company=company).exists()


def test_the_invoice_page_shows_rates_amounts_and_communication_as_people_write_them(
    page: Page, language: str
) -> None:
    company = owner_of("Atelier Lumière SRL", "gerant@atelier.be")
    lines = [
        services.LineInput("Régie", Decimal(1000), Decimal("0.95"), "21"),
        services.LineInput("Livre", Decimal("2.5"), Decimal("10.02"), "6"),
    ]
    invoice = services.create_document(
        company, builders.invoice_input(lines=lines), by=None, draft=False
    )
    sign_in(page, "gerant@atelier.be")
    page.goto(f"/companies/{company.pk}/documents/{invoice.pk}/")

    rate = page.locator("abbr.vat").filter(has_text="21")
    expect(rate.first).to_have_text("21 %")
    expect(rate.first).to_have_attribute(
        "title", {"fr": "Catégorie de TVA S", "nl": "Btw-categorie S"}[language]
    )
    expect(page.locator('[data-total="payable"]')).to_have_text(
        {"fr": "1 176,05 €", "nl": "€ 1.176,05"}[language]
    )
    expect(page.locator("td.num").filter(has_text="2,5")).to_have_count(1)
    expect(page.locator(".ogm")).to_have_text(re.compile(r"^\+\+\+\d{3}/\d{4}/\d{5}\+\+\+$"))
    expect(page.locator(".doc-status")).to_have_text({"fr": "Émise", "nl": "Uitgegeven"}[language])


def test_an_address_typed_with_capitals_signs_in(page: Page, language: str) -> None:
    company = owner_of("Boulangerie Dupont", "anne@dupont.be")

    sign_in(page, "Anne@Dupont.BE")

    page.goto(f"/companies/{company.pk}/documents/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Boulangerie Dupont")


def test_removing_the_accountant_says_what_stops_and_asks_first(page: Page, language: str) -> None:
    builders.firm("Fiduciaire Kevin", owner=builders.user("kevin@fiduciaire.be"))
    company = builders.company("Boulangerie Dupont", owner=builders.user("anne@dupont.be"))
    accounts_services.add_external_user(company, "Kevin@Fiduciaire.be", by=None)
    sign_in(page, "anne@dupont.be")
    page.goto(f"/companies/{company.pk}/settings/users/")

    page.locator("#external-users button.danger").click()

    dialog = page.get_by_role("alertdialog")
    expect(dialog).to_contain_text(
        {"fr": "transfert automatique", "nl": "automatisch doorsturen"}[language]
    )
    expect(dialog).to_contain_text("Sage BOB Demat")
    page.get_by_role("button", name=t(language, "Yes, remove")).click()
    expect(page.get_by_text(t(language, "No external user yet."))).to_be_visible()


def test_adding_an_unknown_accountant_says_where_the_invitation_went(
    page: Page, language: str
) -> None:
    company = builders.company("Garage Peeters", owner=builders.user("jan@peeters.be"))
    sign_in(page, "jan@peeters.be")
    page.goto(f"/companies/{company.pk}/settings/users/")
    section = page.locator("#external-users")
    section.locator("summary").click()
    section.locator("input[name=email]").fill("Sarah@Nouvelle-Fidu.be")
    section.locator("form button[type=submit]").last.click()

    expect(page.get_by_role("status").first).to_contain_text(
        {
            "fr": "Une invitation a été envoyée à sarah@nouvelle-fidu.be.",
            "nl": "Er is een uitnodiging verstuurd naar sarah@nouvelle-fidu.be.",
        }[language]
    )


def test_the_accountant_reads_a_clients_document_from_the_dossier_before_sending_it(
    page: Page, language: str
) -> None:
    firm = builders.firm("Fiduciaire Kevin", owner=builders.user("kevin@fiduciaire.be"))
    company = owner_of("Boulangerie Dupont", "anne@dupont.be")
    dossier = accounts_services.link_accountant(company, firm, by=None)
    invoice = services.create_document(company, builders.invoice_input(), by=None, draft=False)
    sign_in(page, "kevin@fiduciaire.be")
    page.goto(f"/firms/{firm.pk}/dossiers/{dossier.pk}/")

    page.get_by_role("link", name=invoice.number).click()

    expect(page.get_by_role("heading", level=1)).to_contain_text(invoice.number)
    expect(page.locator("main")).to_contain_text("Réglage éclairage")
    expect(page.locator(".report-status")).to_have_text(
        {
            "fr": "Valide : tous les contrôles sont passés.",
            "nl": "Geldig: alle controles geslaagd.",
        }[language]
    )
    pdf_link = page.get_by_role("link", name=t(language, "Open the PDF"))
    pdf = page.request.get(str(pdf_link.get_attribute("href")))
    assert pdf.headers["content-type"] == "application/pdf"
    assert "Brouwerij Noord NV" in PdfReader(io.BytesIO(pdf.body())).pages[0].extract_text()


def test_every_page_of_a_firm_and_a_company_fits_a_1280_px_window(
    page: Page, language: str
) -> None:
    accountant = builders.user("kevin@fiduciaire.be")
    firm = builders.firm("Fiduciaire Kevin", owner=accountant)
    for name in ("PC Kevin — bureau du rez-de-chaussée", "Serveur partagé", "Portable Sarah"):
        delivery_services.register_device(
            firm,
            name=name,
            hostname="FIDUCIAIRE-KEVIN-SRV-2026.fiduciaire-kevin.local",
            os="Windows 11 Pro 24H2 (10.0.26100)",
            os_user="FIDUCIAIRE\\kevin.vandenbroucke",
            agent_version="0.1.0",
            root_folder="D:\\Comptabilité\\Dossiers clients\\BOB Demat\\import automatique",
        )
    company = owner_of("Boulangerie Dupont", "anne@dupont.be")
    accounts_services.add_external_user(company, "kevin@fiduciaire.be", by=None)
    invoice = services.create_document(company, builders.invoice_input(), by=None, draft=False)
    bob_demat.enable(firm, by=None)
    dossier = firm.dossiers.get(company=company)
    connection = bob_demat.connect(dossier, "DUPONT-BOULANG-2026", by=None)
    device = firm.devices.first()
    assert device is not None
    bob_demat.send(firm, [invoice], device, by=None)

    sign_in(page, "kevin@fiduciaire.be")
    for path in [
        f"/firms/{firm.pk}/dossiers/",
        f"/firms/{firm.pk}/dossiers/{dossier.pk}/",
        f"/firms/{firm.pk}/devices/",
        f"/firms/{firm.pk}/devices/{device.pk}/settings/",
        f"/firms/{firm.pk}/downloader/",
        f"/firms/{firm.pk}/apps/",
        f"/firms/{firm.pk}/sage-demat/",
        f"/firms/{firm.pk}/sage-demat/connections/{connection.pk}/",
        f"/firms/{firm.pk}/documents-to-process/",
        f"/firms/{firm.pk}/documents/{invoice.pk}/",
        "/accounts/settings/",
    ]:
        page.goto(path)
        fits(page, 1280)
    page.context.clear_cookies()
    sign_in(page, "anne@dupont.be")
    for path in [
        f"/companies/{company.pk}/documents/",
        f"/companies/{company.pk}/documents/{invoice.pk}/",
        f"/companies/{company.pk}/documents/new/sales_invoice/",
        f"/companies/{company.pk}/purchases/",
        f"/companies/{company.pk}/invoicing/",
        f"/companies/{company.pk}/settings/",
        f"/companies/{company.pk}/settings/users/",
    ]:
        page.goto(path)
        fits(page, 1280)


def test_the_clients_invoice_pages_work_on_a_375_px_phone(
    browser: Browser, live_service: LiveService, language: str
) -> None:
    company = owner_of("Boulangerie Dupont", "anne@dupont.be")
    invoices = [
        services.create_document(company, builders.invoice_input(), by=None, draft=False)
        for _ in range(3)
    ]
    with browse(browser, live_service, language, width=375) as phone:
        sign_in(phone, "anne@dupont.be")
        for path in [
            f"/companies/{company.pk}/documents/",
            f"/companies/{company.pk}/documents/new/sales_invoice/",
            f"/companies/{company.pk}/purchases/",
            f"/companies/{company.pk}/invoicing/",
            f"/companies/{company.pk}/settings/users/",
            f"/companies/{company.pk}/documents/{invoices[0].pk}/",
        ]:
            phone.goto(path)
            fits(phone, 375)
        for what in [phone.get_by_text("BE0202239951"), phone.locator('[data-total="payable"]')]:
            box = what.first.bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 375
