"""Whatever customer, currency and alphabet a company invoices in, the document it issues passes
every validation layer and its PDF gives back the names as they were typed.

Documents go through the issuing path a person or a script uses (`services.create_document`),
so the company's data, numbering, PDF, UBL and validation all take part.
LEDGERDROP_ISSUING_EXAMPLES sets the number of generated documents (40 by default)."""

from __future__ import annotations

import datetime as dt
import io
import os
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pypdf import PdfReader

from ledgerdrop.core import storage
from ledgerdrop.documents import services
from ledgerdrop.documents.models import Document
from ledgerdrop.documents.ubl.report import LAYERS
from tests import builders

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("peppol_rules")]

EXAMPLES = int(os.environ.get("LEDGERDROP_ISSUING_EXAMPLES", "40"))

ALPHABETS = {
    "polish": "aąbcćdeęfghijklłmnńoóprsśtuwyzźżAĄBCĆDEĘFGHIJKLŁMNŃOÓPRSŚTUWYZŹŻ",
    "czech_hungarian_romanian": "ačďěňřšťůžőűșțăâîČĎĚŇŘŠŤŮŽŐŰȘȚĂÂÎ",
    "french_dutch_german": "abcdeéèêëfghiïîjklmnoôöpqrstuùûüvwxyzÿçæœßÉÈÇÖÄÜ",
    "greek": "αβγδεζηθικλμνξοπρστυφχψωάέήίόύώΑΒΓΔΕΖΗΘΙΚΛΜΝΞΟΠΡΣΤΥΦΧΨΩ",
    "cyrillic": "абвгдеёжзийклмнопрстуфхцчшщъыьэюяАБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЭЮЯіїєґІЇЄҐ",
}


def words(alphabet: str) -> st.SearchStrategy[str]:
    # Words short enough never to be split across lines of the PDF's columns.
    word = st.text(alphabet=alphabet, min_size=2, max_size=10)
    return st.lists(word, min_size=1, max_size=3).map(" ".join)


names = st.sampled_from(sorted(ALPHABETS)).flatmap(lambda key: words(ALPHABETS[key]))

EU_CUSTOMERS = (
    ("NL", "NL004495445B01", "Breda", "4811"),
    ("FR", "FR40303265045", "Lyon", "69002"),
    ("PL", "PL5260250274", "Łódź", "90-001"),
    ("CZ", "CZ25123891", "Praha", "110 00"),
    ("EL", "EL094259216", "Αθήνα", "105 57"),
    ("BG", "BG175074752", "София", "1000"),
)
ABROAD = (
    ("US", "Springfield", "62701"),
    ("CH", "Zürich", "8001"),
    ("UA", "Київ", "01001"),
    ("JP", "Tokyo", "100-0001"),
    ("NO", "Oslo", "0150"),
)


@st.composite
def customers(draw: st.DrawFn) -> tuple[services.CounterpartyInput, str]:
    """A customer and the VAT treatment its invoice lines take."""
    name, street = draw(names), draw(names)
    where = draw(st.sampled_from(["eu", "abroad", "belgian_private", "belgian_company"]))
    if where == "eu":
        country, vat, city, postal = draw(st.sampled_from(EU_CUSTOMERS))
        country = "GR" if country == "EL" else country
        treatment = draw(st.sampled_from(["K", "21"]))
        return services.CounterpartyInput(name, vat, "", street, postal, city, country), treatment
    if where == "abroad":
        country, city, postal = draw(st.sampled_from(ABROAD))
        return services.CounterpartyInput(name, "", "", street, postal, city, country), "G"
    if where == "belgian_private":
        return services.CounterpartyInput(name, "", "", street, "5000", "Namur", "BE"), "21"
    return services.CounterpartyInput(
        name, "BE0202239951", "", street, "2000", "Antwerpen", "BE"
    ), draw(st.sampled_from(["21", "12", "6", "AE"]))


@st.composite
def documents(draw: st.DrawFn) -> services.DocumentInput:
    kind = draw(st.sampled_from([Document.Kind.SALES_INVOICE, Document.Kind.PURCHASE_SLIP]))
    if kind == Document.Kind.PURCHASE_SLIP:
        # A private seller of goods: not subject to VAT, known by name and address only.
        party = services.CounterpartyInput(draw(names), "", "", draw(names), "5030", "Gembloux")
        treatment = "O"
    else:
        party, treatment = draw(customers())
    currency = draw(st.sampled_from(["EUR", "EUR", "USD", "GBP", "CHF", "PLN"]))
    lines = draw(
        st.lists(
            st.builds(
                services.LineInput,
                names,
                st.decimals("0.5", "500", places=draw(st.integers(0, 2))),
                st.decimals("0.01", "5000", places=2),
                st.just(treatment),
            ),
            min_size=1,
            max_size=4,
        )
    )
    return services.DocumentInput(
        kind=kind,
        issue_date=draw(st.dates(dt.date(2024, 1, 1), dt.date(2027, 12, 31))),
        counterparty=party,
        lines=lines,
        currency=currency,
        eur_rate=None if currency == "EUR" else draw(st.decimals("0.01", "5", places=4)),
    )


def pdf_text(pdf: bytes) -> str:
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    return " ".join(text.split())


@pytest.fixture
def company() -> Any:
    return builders.invoicing_company()


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=documents())
def test_every_issued_document_passes_every_layer_and_reads_back_from_its_pdf(
    company: Any, data: services.DocumentInput
) -> None:
    document = services.create_document(company, data, by=None, draft=False)

    report = document.validation
    assert document.validation_status == "valid", report
    assert tuple(report["layers_run"]) == LAYERS and not report["layers_skipped"]
    text = pdf_text(storage.read(document.pdf_sha256))
    for expected in [data.counterparty.name, *(line.description for line in data.lines)]:
        assert " ".join(expected.split()) in text, expected
