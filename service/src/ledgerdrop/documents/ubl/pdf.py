"""The human-readable PDF of a document (ReportLab: milliseconds per page, no system packages).

`language` is "fr", "nl" or "en", or two of them joined by "-" ("fr-nl") for the bilingual
labels Belgian documents often carry; numbers and dates follow the first language.
"""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from reportlab.platypus.flowables import Flowable

from . import fonts
from .codes import DEFAULT_EXEMPTION_TEXTS, VatCategory
from .model import DocumentKind, InvoiceData, Party, format_ogm
from .pages import a4_document
from .totals import Totals, compute_totals

__all__ = ["LANGUAGES", "render_pdf"]

LANGUAGES = ("fr", "nl", "en")

LABELS: dict[str, dict[str, str]] = {
    "invoice": {"fr": "Facture", "nl": "Factuur", "en": "Invoice"},
    "credit_note": {"fr": "Note de crédit", "nl": "Creditnota", "en": "Credit note"},
    "self_billed": {
        "fr": "Bordereau d'achat (autofacturation)",
        "nl": "Aankoopborderel (selfbilling)",
        "en": "Purchase slip (self-billing)",
    },
    "number": {"fr": "Numéro", "nl": "Nummer", "en": "Number"},
    "issue_date": {"fr": "Date", "nl": "Datum", "en": "Date"},
    "due_date": {"fr": "Échéance", "nl": "Vervaldatum", "en": "Due date"},
    "delivery_date": {"fr": "Date de livraison", "nl": "Leveringsdatum", "en": "Delivery date"},
    "supplier": {"fr": "Fournisseur", "nl": "Leverancier", "en": "Supplier"},
    "customer": {"fr": "Client", "nl": "Klant", "en": "Customer"},
    "buyer": {"fr": "Acheteur", "nl": "Koper", "en": "Buyer"},
    "vat_number": {"fr": "TVA", "nl": "Btw", "en": "VAT"},
    "enterprise_number": {"fr": "N° d'entreprise", "nl": "Ondernemingsnr.", "en": "Company no."},
    "credited": {
        "fr": "Crédite la facture",
        "nl": "Crediteert factuur",
        "en": "Credits invoice",
    },
    "of": {"fr": "du", "nl": "van", "en": "of"},
    "your_reference": {"fr": "Votre référence", "nl": "Uw referentie", "en": "Your reference"},
    "order": {"fr": "Bon de commande", "nl": "Bestelbon", "en": "Purchase order"},
    "description": {"fr": "Description", "nl": "Omschrijving", "en": "Description"},
    "quantity": {"fr": "Qté", "nl": "Aantal", "en": "Qty"},
    "unit_price": {"fr": "Prix unit.", "nl": "Eenheidsprijs", "en": "Unit price"},
    "vat_rate": {"fr": "TVA", "nl": "Btw", "en": "VAT"},
    "net": {"fr": "Montant HTVA", "nl": "Bedrag excl. btw", "en": "Amount excl. VAT"},
    "allowance": {"fr": "Remise", "nl": "Korting", "en": "Allowance"},
    "charge": {"fr": "Supplément", "nl": "Toeslag", "en": "Charge"},
    "vat_summary": {"fr": "Récapitulatif TVA", "nl": "Btw-overzicht", "en": "VAT summary"},
    "taxable": {"fr": "Base", "nl": "Maatstaf", "en": "Taxable"},
    "vat_amount": {"fr": "TVA", "nl": "Btw", "en": "VAT"},
    "lines_total": {"fr": "Total des lignes", "nl": "Totaal lijnen", "en": "Lines total"},
    "total_excl": {"fr": "Total HTVA", "nl": "Totaal excl. btw", "en": "Total excl. VAT"},
    "total_vat": {"fr": "Total TVA", "nl": "Totaal btw", "en": "Total VAT"},
    "total_incl": {"fr": "Total TVAC", "nl": "Totaal incl. btw", "en": "Total incl. VAT"},
    "vat_in_eur": {"fr": "TVA en EUR", "nl": "Btw in EUR", "en": "VAT in EUR"},
    "rate": {"fr": "taux", "nl": "koers", "en": "rate"},
    "amount_due": {"fr": "À payer", "nl": "Te betalen", "en": "Amount due"},
    "amount_credited": {"fr": "Montant crédité", "nl": "Gecrediteerd bedrag", "en": "Credited"},
    "iban": {"fr": "IBAN", "nl": "IBAN", "en": "IBAN"},
    "ogm": {
        "fr": "Communication structurée",
        "nl": "Gestructureerde mededeling",
        "en": "Structured reference",
    },
    "exempt": {"fr": "Exonéré", "nl": "Vrijgesteld", "en": "Exempt"},
    "page": {"fr": "page", "nl": "pagina", "en": "page"},
}

CATEGORY_NAMES: dict[VatCategory, dict[str, str]] = {
    VatCategory.ZERO: {"fr": "Taux zéro", "nl": "Nultarief", "en": "Zero rated"},
    VatCategory.EXEMPT: {"fr": "Exonéré", "nl": "Vrijgesteld", "en": "Exempt"},
    VatCategory.REVERSE_CHARGE: {"fr": "Autoliquidation", "nl": "Verlegd", "en": "Reverse charge"},
    VatCategory.INTRA_EU: {"fr": "Intracom.", "nl": "Intracom.", "en": "Intra-EU"},
    VatCategory.EXPORT: {"fr": "Export", "nl": "Uitvoer", "en": "Export"},
    VatCategory.NOT_SUBJECT: {"fr": "Hors TVA", "nl": "Buiten btw", "en": "Outside VAT"},
}

ACCENT = colors.HexColor("#1f3a5f")
RULE = colors.HexColor("#c8ced6")
SHADE = colors.HexColor("#eef1f5")

BASE = ParagraphStyle("base", fontName=fonts.REGULAR, fontSize=9, leading=11.5)
SMALL = ParagraphStyle("small", parent=BASE, fontSize=7.5, leading=9.5, textColor=colors.grey)
BOLD = ParagraphStyle("bold", parent=BASE, fontName=fonts.BOLD)
TITLE = ParagraphStyle(
    "title", parent=BASE, fontName=fonts.BOLD, fontSize=18, leading=22, textColor=ACCENT
)
RIGHT = ParagraphStyle("right", parent=BASE, alignment=TA_RIGHT)
HEAD = ParagraphStyle(
    "head", parent=BASE, fontName=fonts.BOLD, fontSize=7.5, leading=9, textColor=ACCENT
)
HEAD_RIGHT = ParagraphStyle("head_right", parent=HEAD, alignment=TA_RIGHT)


class _Labels:
    def __init__(self, language: str) -> None:
        self.languages = tuple(language.lower().split("-"))
        if (
            not self.languages
            or len(self.languages) > 2
            or not set(self.languages) <= set(LANGUAGES)
        ):
            raise ValueError(f"language {language!r} is not fr, nl, en or a pair like fr-nl")
        self.first = self.languages[0]

    def __call__(self, key: str) -> str:
        return self.pick(LABELS[key])

    def pick(self, texts: dict[str, str]) -> str:
        # "IBAN / IBAN" says nothing twice: identical translations are shown once.
        return " / ".join(dict.fromkeys(texts[lang] for lang in self.languages))

    def amount(self, value: Decimal, currency: str) -> str:
        text = f"{value:,.2f}"
        if self.first == "fr":
            text = text.replace(",", "\u00a0").replace(".", ",")
        elif self.first == "nl":
            text = text.replace(",", "#").replace(".", ",").replace("#", ".")
        return f"{text}\u00a0{currency}"

    def number(self, value: Decimal) -> str:
        text = format(value.normalize(), "f")
        return text if self.first == "en" else text.replace(".", ",")

    def date(self, value: date) -> str:
        return value.strftime("%d/%m/%Y")


def _p(text: str, style: ParagraphStyle = BASE) -> Paragraph:
    return Paragraph(escape(fonts.printable(text)).replace("\n", "<br/>"), style)


def _party_block(label: str, party: Party, labels: _Labels) -> list[Flowable]:
    lines = [party.street, f"{party.postal_code} {party.city}".strip(), party.country]
    if party.vat_number:
        lines.append(f"{labels('vat_number')}: {party.vat_number}")
    if party.enterprise_number:
        digits = party.enterprise_number
        lines.append(f"{labels('enterprise_number')}: {digits[:4]}.{digits[4:7]}.{digits[7:]}")
    return [
        _p(label.upper(), SMALL),
        _p(party.name, BOLD),
        _p("\n".join(line for line in lines if line)),
    ]


def _header(data: InvoiceData, labels: _Labels) -> list[Flowable]:
    facts = [(labels("number"), data.number), (labels("issue_date"), labels.date(data.issue_date))]
    if data.due_date:
        facts.append((labels("due_date"), labels.date(data.due_date)))
    if data.delivery_date:
        facts.append((labels("delivery_date"), labels.date(data.delivery_date)))
    if data.credited:
        credited = f"{data.credited.number} {labels('of')} {labels.date(data.credited.issue_date)}"
        facts.append((labels("credited"), credited))
    if data.buyer_reference:
        facts.append((labels("your_reference"), data.buyer_reference))
    if data.order_reference:
        facts.append((labels("order"), data.order_reference))
    fact_table = Table(
        [[_p(key, SMALL), _p(value, BOLD)] for key, value in facts],
        colWidths=[38 * mm, 50 * mm],
        style=[
            ("FONTNAME", (0, 0), (-1, -1), fonts.REGULAR),
            ("LEFTPADDING", (0, 0), (-1, -1), 0),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ],
    )
    buyer_label = labels("buyer" if data.kind is DocumentKind.SELF_BILLED else "customer")
    top = Table(
        [
            [
                _party_block(labels("supplier"), data.seller, labels),
                _p(labels(data.kind.value), TITLE),
            ],
            [fact_table, _party_block(buyer_label, data.buyer, labels)],
        ],
        colWidths=[92 * mm, 88 * mm],
        style=[
            ("FONTNAME", (0, 0), (-1, -1), fonts.REGULAR),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("LEFTPADDING", (0, 0), (-1, -1), 0),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 6 * mm),
        ],
    )
    return [top]


def _vat_label(category: VatCategory, rate: Decimal, labels: _Labels) -> str:
    if category is VatCategory.STANDARD:
        return f"{labels.number(rate)}\u00a0%"
    return labels.pick(CATEGORY_NAMES[category])


def _heading(*titles: str) -> list[str | Paragraph]:
    # Bilingual headings wrap inside their column instead of running into the next one.
    return [_p(title, HEAD if i == 0 else HEAD_RIGHT) for i, title in enumerate(titles)]


def _table_style() -> TableStyle:
    return TableStyle(
        [
            ("LINEBELOW", (0, 0), (-1, 0), 0.8, ACCENT),
            ("LINEBELOW", (0, 1), (-1, -1), 0.25, RULE),
            ("ALIGN", (1, 0), (-1, -1), "RIGHT"),
            ("VALIGN", (0, 0), (-1, -1), "BOTTOM"),
            ("VALIGN", (0, 1), (-1, -1), "TOP"),
            ("FONTNAME", (0, 0), (-1, -1), fonts.REGULAR),
            ("FONTSIZE", (0, 1), (-1, -1), 9),
        ]
    )


def _lines_table(data: InvoiceData, totals: Totals, labels: _Labels) -> Table:
    rows = [
        _heading(
            labels("description"),
            labels("quantity"),
            labels("unit_price"),
            labels("vat_rate"),
            labels("net"),
        )
    ]
    for line, net in zip(data.lines, totals.line_net_amounts, strict=True):
        rows.append(
            [
                _p(line.description),
                labels.number(line.quantity),
                labels.amount(line.unit_price, data.currency),
                _p(_vat_label(line.vat_category, line.vat_rate, labels), RIGHT),
                labels.amount(net, data.currency),
            ]
        )
    for adjustment in data.allowances_charges:
        sign = Decimal(1) if adjustment.charge else Decimal(-1)
        kind = labels("charge" if adjustment.charge else "allowance")
        rows.append(
            [
                _p(f"{kind}: {adjustment.reason}"),
                "",
                "",
                _p(_vat_label(adjustment.vat_category, adjustment.vat_rate, labels), RIGHT),
                labels.amount(sign * adjustment.amount, data.currency),
            ]
        )
    return Table(
        rows,
        colWidths=[74 * mm, 18 * mm, 30 * mm, 26 * mm, 32 * mm],
        repeatRows=1,
        style=_table_style(),
    )


def _summary(data: InvoiceData, totals: Totals, labels: _Labels) -> Table:
    currency = data.currency
    vat_rows = [_heading(labels("vat_rate"), labels("taxable"), labels("vat_amount"))]
    for category in totals.categories:
        vat_rows.append(
            [
                _p(_vat_label(category.category, category.rate, labels)),
                labels.amount(category.taxable_amount, currency),
                labels.amount(category.tax_amount, currency),
            ]
        )
    vat_table = Table(vat_rows, colWidths=[26 * mm, 30 * mm, 28 * mm], style=_table_style())

    total_rows = [[labels("lines_total"), labels.amount(totals.line_extension_amount, currency)]]
    if totals.allowance_total:
        total_rows.append([labels("allowance"), labels.amount(-totals.allowance_total, currency)])
    if totals.charge_total:
        total_rows.append([labels("charge"), labels.amount(totals.charge_total, currency)])
    total_rows += [
        [labels("total_excl"), labels.amount(totals.tax_exclusive_amount, currency)],
        [labels("total_vat"), labels.amount(totals.tax_amount, currency)],
    ]
    if totals.tax_amount_eur is not None and data.eur_rate is not None:
        total_rows.append(
            [
                f"{labels('vat_in_eur')} ({labels('rate')} {labels.number(data.eur_rate)})",
                labels.amount(totals.tax_amount_eur, "EUR"),
            ]
        )
    due_label = "amount_credited" if data.kind is DocumentKind.CREDIT_NOTE else "amount_due"
    total_rows += [
        [labels("total_incl"), labels.amount(totals.tax_inclusive_amount, currency)],
        [labels(due_label), labels.amount(totals.payable_amount, currency)],
    ]
    totals_table = Table(
        total_rows,
        colWidths=[52 * mm, 36 * mm],
        style=[
            ("ALIGN", (1, 0), (1, -1), "RIGHT"),
            ("FONTNAME", (0, 0), (-1, -1), fonts.REGULAR),
            ("FONTSIZE", (0, 0), (-1, -1), 9),
            ("LINEABOVE", (0, -1), (-1, -1), 0.8, ACCENT),
            ("FONT", (0, -1), (-1, -1), fonts.BOLD, 10),
            ("BACKGROUND", (0, -1), (-1, -1), SHADE),
        ],
    )
    return Table(
        [[vat_table, totals_table]],
        colWidths=[92 * mm, 88 * mm],
        style=[
            ("FONTNAME", (0, 0), (-1, -1), fonts.REGULAR),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("LEFTPADDING", (0, 0), (-1, -1), 0),
        ],
    )


def _mentions(data: InvoiceData, totals: Totals, labels: _Labels) -> list[Flowable]:
    flowables: list[Flowable] = []
    for category in totals.categories:
        reason = category.exemption_reason
        if reason is None and category.category in DEFAULT_EXEMPTION_TEXTS:
            reason = labels.pick(DEFAULT_EXEMPTION_TEXTS[category.category])
        if reason:
            name = _vat_label(category.category, category.rate, labels)
            flowables.append(_p(f"{name}: {reason}", SMALL))
    if data.note:
        flowables += [Spacer(1, 2 * mm), _p(data.note)]
    return flowables


def _payment(data: InvoiceData, totals: Totals, labels: _Labels) -> list[Flowable]:
    if data.kind is DocumentKind.CREDIT_NOTE or not (data.iban or data.payment_reference):
        return []
    rows: list[list[str | Paragraph]] = [
        [labels("amount_due"), labels.amount(totals.payable_amount, data.currency)]
    ]
    if data.due_date:
        rows.append([labels("due_date"), labels.date(data.due_date)])
    if data.iban:
        iban = " ".join(data.iban[i : i + 4] for i in range(0, len(data.iban), 4))
        rows.append([labels("iban"), iban])
    if data.payment_reference:
        rows.append([_p(labels("ogm")), format_ogm(data.payment_reference)])
    return [
        Table(
            rows,
            colWidths=[70 * mm, 110 * mm],
            style=[
                ("BOX", (0, 0), (-1, -1), 0.8, ACCENT),
                ("BACKGROUND", (0, 0), (-1, -1), SHADE),
                ("FONTNAME", (0, 0), (-1, -1), fonts.REGULAR),
                ("FONT", (1, 0), (1, -1), fonts.BOLD, 10),
                ("FONTSIZE", (0, 0), (0, -1), 9),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ],
        )
    ]


def render_pdf(data: InvoiceData, language: str = "fr") -> bytes:
    """Render the document as a PDF: parties, lines, VAT summary, totals and payment details."""
    labels = _Labels(language)
    totals = compute_totals(data)
    buffer = io.BytesIO()
    title = f"{labels(data.kind.value)} {data.number}"
    document = a4_document(buffer, title=title, author=data.seller.name, bottom_margin=18 * mm)

    def footer(canvas: Canvas, doc: SimpleDocTemplate) -> None:
        canvas.saveState()
        canvas.setFont(fonts.REGULAR, 7.5)
        canvas.setFillColor(colors.grey)
        canvas.drawString(15 * mm, 10 * mm, fonts.printable(f"{data.seller.name} - {title}"))
        canvas.drawRightString(195 * mm, 10 * mm, f"{labels('page')} {doc.page}")
        canvas.restoreState()

    story: list[Flowable] = [
        *_header(data, labels),
        _lines_table(data, totals, labels),
        Spacer(1, 6 * mm),
        _summary(data, totals, labels),
        Spacer(1, 4 * mm),
        *_mentions(data, totals, labels),
        Spacer(1, 6 * mm),
        *_payment(data, totals, labels),
    ]
    document.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()
