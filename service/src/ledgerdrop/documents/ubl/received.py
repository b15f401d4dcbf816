"""Reading a received UBL document into the fields a person looks at, giving it a PDF when the
sender embedded none, and rendering that PDF.

Works on the tree of the hardened parse (``parse.parse_ubl``), never on raw bytes. A received
document is somebody else's: reading is lenient (a missing field is empty, not an error) —
whether the document is acceptable is the validator's call, not this module's.
"""

from __future__ import annotations

import base64
import binascii
import copy
import io
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from xml.sax.saxutils import escape

from lxml import etree
from reportlab.lib import colors
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, Spacer, Table, TableStyle
from reportlab.platypus.flowables import Flowable

from . import fonts
from .build import CAC, CBC
from .pages import a4_document

__all__ = ["ReceivedFields", "ReceivedLine", "read_fields", "render_received_pdf", "with_pdf"]

_NS = {"cac": CAC, "cbc": CBC}
PDF_MIME = "application/pdf"

# Elements that follow cac:AdditionalDocumentReference in the UBL 2.1 Invoice and CreditNote
# schemas: a reference added to a document goes right before the first of them.
_AFTER_ADDITIONAL_REFERENCE = (
    "ProjectReference",
    "Signature",
    "AccountingSupplierParty",
)


@dataclass(frozen=True)
class ReceivedLine:
    description: str
    quantity: Decimal | None
    net_amount: Decimal | None
    vat_category: str
    vat_rate: Decimal | None


@dataclass(frozen=True)
class ReceivedFields:
    document_type: str
    number: str
    issue_date: date | None
    due_date: date | None
    currency: str
    supplier_name: str
    supplier_vat_number: str
    supplier_enterprise_number: str
    supplier_endpoint: tuple[str, str]
    buyer_name: str
    buyer_endpoint: tuple[str, str]
    buyer_vat_number: str
    buyer_enterprise_number: str
    net_total: Decimal | None
    vat_total: Decimal | None
    total: Decimal | None
    payable: Decimal | None
    payment_reference: str
    iban: str
    lines: tuple[ReceivedLine, ...] = ()
    embedded_pdf: bytes | None = field(default=None, repr=False)

    @property
    def is_credit_note(self) -> bool:
        return self.document_type == "CreditNote"


def _text(node: etree._Element, path: str, **variables: str) -> str:
    found = node.xpath(f"normalize-space({path})", namespaces=_NS, **variables)
    return str(found) if found else ""


def _decimal(node: etree._Element, path: str, **variables: str) -> Decimal | None:
    try:
        value = Decimal(_text(node, path, **variables))
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def _date(node: etree._Element, path: str) -> date | None:
    try:
        return date.fromisoformat(_text(node, path))
    except ValueError:
        return None


def _party(root: etree._Element, role: str) -> dict[str, str]:
    party = f"cac:{role}/cac:Party"
    return {
        "name": _text(root, f"{party}/cac:PartyLegalEntity/cbc:RegistrationName")
        or _text(root, f"{party}/cac:PartyName/cbc:Name"),
        "vat": _text(root, f"{party}/cac:PartyTaxScheme[cac:TaxScheme/cbc:ID='VAT']/cbc:CompanyID"),
        "enterprise": _text(root, f"{party}/cac:PartyLegalEntity/cbc:CompanyID[@schemeID='0208']"),
        "scheme": _text(root, f"{party}/cbc:EndpointID/@schemeID"),
        "endpoint": _text(root, f"{party}/cbc:EndpointID"),
    }


def embedded_pdf(root: etree._Element) -> bytes | None:
    """The first PDF the sender embedded, or None (also when its base64 is broken)."""
    for element in root.xpath(
        "cac:AdditionalDocumentReference/cac:Attachment/cbc:EmbeddedDocumentBinaryObject",
        namespaces=_NS,
    ):
        if element.get("mimeCode") != PDF_MIME:
            continue
        try:
            return base64.b64decode("".join((element.text or "").split()), validate=True)
        except (binascii.Error, ValueError):
            continue
    return None


def read_fields(tree: etree._ElementTree[etree._Element]) -> ReceivedFields:
    root = tree.getroot()
    document_type = etree.QName(root).localname
    supplier = _party(root, "AccountingSupplierParty")
    buyer = _party(root, "AccountingCustomerParty")
    line_name = "CreditNoteLine" if document_type == "CreditNote" else "InvoiceLine"
    quantity_name = "CreditedQuantity" if document_type == "CreditNote" else "InvoicedQuantity"
    lines = tuple(
        ReceivedLine(
            description=_text(line, "cac:Item/cbc:Name"),
            quantity=_decimal(line, f"cbc:{quantity_name}"),
            net_amount=_decimal(line, "cbc:LineExtensionAmount"),
            vat_category=_text(line, "cac:Item/cac:ClassifiedTaxCategory/cbc:ID"),
            vat_rate=_decimal(line, "cac:Item/cac:ClassifiedTaxCategory/cbc:Percent"),
        )
        for line in root.xpath(f"cac:{line_name}", namespaces=_NS)
    )
    currency = _text(root, "cbc:DocumentCurrencyCode")
    return ReceivedFields(
        document_type=document_type,
        number=_text(root, "cbc:ID"),
        issue_date=_date(root, "cbc:IssueDate"),
        due_date=_date(root, "cbc:DueDate") or _date(root, "cac:PaymentMeans/cbc:PaymentDueDate"),
        currency=currency,
        supplier_name=supplier["name"],
        supplier_vat_number=supplier["vat"],
        supplier_enterprise_number=supplier["enterprise"],
        supplier_endpoint=(supplier["scheme"], supplier["endpoint"]),
        buyer_name=buyer["name"],
        buyer_endpoint=(buyer["scheme"], buyer["endpoint"]),
        buyer_vat_number=buyer["vat"],
        buyer_enterprise_number=buyer["enterprise"],
        net_total=_decimal(root, "cac:LegalMonetaryTotal/cbc:TaxExclusiveAmount"),
        vat_total=_decimal(root, "cac:TaxTotal/cbc:TaxAmount[@currencyID = $c]", c=currency),
        total=_decimal(root, "cac:LegalMonetaryTotal/cbc:TaxInclusiveAmount"),
        payable=_decimal(root, "cac:LegalMonetaryTotal/cbc:PayableAmount"),
        payment_reference=_text(root, "cac:PaymentMeans/cbc:PaymentID"),
        iban=_text(root, "cac:PaymentMeans/cac:PayeeFinancialAccount/cbc:ID"),
        lines=lines,
        embedded_pdf=embedded_pdf(root),
    )


def with_pdf(tree: etree._ElementTree[etree._Element], pdf: bytes, filename: str) -> bytes:
    """A copy of the document with ``pdf`` embedded as its visual rendition, in schema order;
    the tree itself (the document as received) is left untouched."""
    root = copy.deepcopy(tree.getroot())
    reference = etree.Element(f"{{{CAC}}}AdditionalDocumentReference")
    etree.SubElement(reference, f"{{{CBC}}}ID").text = filename
    binary = etree.SubElement(
        etree.SubElement(reference, f"{{{CAC}}}Attachment"),
        f"{{{CBC}}}EmbeddedDocumentBinaryObject",
        mimeCode=PDF_MIME,
        filename=filename,
    )
    binary.text = base64.b64encode(pdf).decode("ascii")
    existing = root.findall(f"{{{CAC}}}AdditionalDocumentReference")
    if existing:
        existing[-1].addnext(reference)
    else:
        following = next(
            (
                child
                for child in root
                if etree.QName(child).localname in _AFTER_ADDITIONAL_REFERENCE
            ),
            None,
        )
        if following is None:
            root.append(reference)
        else:
            following.addprevious(reference)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


_BASE = ParagraphStyle("received", fontName=fonts.REGULAR, fontSize=9, leading=11.5)
_BOLD = ParagraphStyle("received-bold", parent=_BASE, fontName=fonts.BOLD)
_TITLE = ParagraphStyle("received-title", parent=_BASE, fontName=fonts.BOLD, fontSize=16)
_SMALL = ParagraphStyle("received-small", parent=_BASE, fontSize=7.5, textColor=colors.grey)


def _p(text: str, style: ParagraphStyle = _BASE) -> Paragraph:
    return Paragraph(escape(fonts.printable(text)).replace("\n", "<br/>"), style)


def _amount(value: Decimal | None, currency: str) -> str:
    return "" if value is None else f"{value:,.2f} {currency}".replace(",", "\u00a0")


def render_received_pdf(fields: ReceivedFields) -> bytes:
    """A plain rendition of a received document that came without a PDF, labelled as such,
    so that an accountant's software that shows PDFs has something faithful to show."""
    title = "Credit note / Note de crédit" if fields.is_credit_note else "Invoice / Facture"
    buffer = io.BytesIO()
    document = a4_document(buffer, title=f"{title} {fields.number}", author=fields.supplier_name)

    def party(label: str, name: str, vat: str, endpoint: tuple[str, str]) -> list[Flowable]:
        details = [f"VAT / TVA: {vat}" if vat else "", ":".join(endpoint).strip(":")]
        return [_p(label, _SMALL), _p(name, _BOLD), _p("\n".join(d for d in details if d))]

    facts = [
        ("Number / Numéro", fields.number),
        ("Date", fields.issue_date.isoformat() if fields.issue_date else ""),
        ("Due / Échéance", fields.due_date.isoformat() if fields.due_date else ""),
        ("Payment reference / Communication", fields.payment_reference),
        ("IBAN", fields.iban),
    ]
    rows: list[list[str | Paragraph]] = [["Description", "Qty", "VAT", "Net"]]
    for line in fields.lines:
        rate = "" if line.vat_rate is None else f"{line.vat_rate.normalize():f} %"
        rows.append(
            [
                _p(line.description),
                "" if line.quantity is None else f"{line.quantity.normalize():f}",
                f"{line.vat_category} {rate}".strip(),
                _amount(line.net_amount, fields.currency),
            ]
        )
    story: list[Flowable] = [
        _p(title, _TITLE),
        _p("Rendered by Ledgerdrop from the received UBL file, which had no PDF.", _SMALL),
        Spacer(1, 5 * mm),
        Table(
            [
                [
                    party(
                        "Supplier / Fournisseur",
                        fields.supplier_name,
                        fields.supplier_vat_number,
                        fields.supplier_endpoint,
                    ),
                    party(
                        "Customer / Client",
                        fields.buyer_name,
                        fields.buyer_vat_number,
                        fields.buyer_endpoint,
                    ),
                ]
            ],
            colWidths=[90 * mm, 90 * mm],
            style=[
                ("FONTNAME", (0, 0), (-1, -1), fonts.REGULAR),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
            ],
        ),
        Spacer(1, 4 * mm),
        Table(
            [[_p(k, _SMALL), _p(v, _BOLD)] for k, v in facts if v],
            colWidths=[60 * mm, 120 * mm],
            style=[("FONTNAME", (0, 0), (-1, -1), fonts.REGULAR)],
        ),
        Spacer(1, 4 * mm),
        Table(
            rows,
            colWidths=[100 * mm, 20 * mm, 25 * mm, 35 * mm],
            repeatRows=1,
            style=TableStyle(
                [
                    ("FONTNAME", (0, 0), (-1, -1), fonts.REGULAR),
                    ("LINEBELOW", (0, 0), (-1, 0), 0.8, colors.black),
                    ("ALIGN", (1, 0), (-1, -1), "RIGHT"),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ]
            ),
        ),
        Spacer(1, 4 * mm),
        Table(
            [
                ["Total excl. VAT / HTVA", _amount(fields.net_total, fields.currency)],
                ["VAT / TVA", _amount(fields.vat_total, fields.currency)],
                ["Total incl. VAT / TVAC", _amount(fields.total, fields.currency)],
                ["Amount due / À payer", _amount(fields.payable, fields.currency)],
            ],
            colWidths=[140 * mm, 40 * mm],
            style=[
                ("ALIGN", (1, 0), (1, -1), "RIGHT"),
                ("FONTNAME", (0, 0), (-1, -1), fonts.REGULAR),
                ("FONT", (0, -1), (-1, -1), fonts.BOLD),
            ],
        ),
    ]
    document.build(story)
    return buffer.getvalue()
