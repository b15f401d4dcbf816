"""Belgian identifier checks that no official rule makes: VAT and enterprise numbers, OGM.

The PEPPOL rules check the shape of some Belgian identifiers but never the check digits of
a ``BE`` VAT number, and nothing checks a structured payment reference (OGM/VCS), which
Belgian banks refuse when its check digits are wrong.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from lxml import etree
from stdnum.be import ogm_vcs, vat
from stdnum.exceptions import ValidationError

from .report import Finding, Flag, readable_location

_NS = {
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
}

# PEPPOL participant scheme identifiers for Belgium (EAS / ICD code lists).
_ENTERPRISE_NUMBER_SCHEME = "0208"
_VAT_NUMBER_SCHEME = "9925"

# "+++123/4567/89012+++", "***123/4567/89012***" or "123/4567/89012": surely meant as an OGM.
_OGM_WRITTEN = re.compile(r"^(?:\+{3}|\*{3})?\s*\d{3}\s*/\s*\d{4}\s*/\s*\d{5}\s*(?:\+{3}|\*{3})?$")
# Twelve bare digits may be an OGM without its dressing, or just a long invoice number.
_OGM_BARE = re.compile(r"^\d{12}$")


def check_belgian_identifiers(tree: etree._ElementTree[etree._Element]) -> tuple[Finding, ...]:
    """Check every Belgian VAT number, enterprise number and OGM in a UBL document."""
    root = tree.getroot()
    findings: list[Finding] = []
    vat_ids = root.xpath(
        ".//cac:PartyTaxScheme[normalize-space(cac:TaxScheme/cbc:ID) = 'VAT']/cbc:CompanyID",
        namespaces=_NS,
    )
    for element in vat_ids:
        if _text(element).upper().startswith("BE"):
            findings += _check(element, "BE-VAT", "Belgian VAT number", vat.validate)
    for element in root.xpath(".//*[@schemeID = $scheme]", scheme=_VAT_NUMBER_SCHEME):
        findings += _check(element, "BE-VAT", "Belgian VAT number (scheme 9925)", vat.validate)
    for element in root.xpath(".//*[@schemeID = $scheme]", scheme=_ENTERPRISE_NUMBER_SCHEME):
        findings += _check(
            element, "BE-ENTERPRISE", "Belgian enterprise number (scheme 0208)", vat.validate
        )
    for element in root.xpath("cac:PaymentMeans/cbc:PaymentID", namespaces=_NS):
        value = _text(element)
        if _OGM_WRITTEN.match(value):
            findings += _check(element, "BE-OGM", "structured payment reference", _validate_ogm)
        elif _OGM_BARE.match(value):
            findings += _check(
                element, "BE-OGM", "structured payment reference", _validate_ogm, "warning"
            )
    return tuple(findings)


def _validate_ogm(value: str) -> str:
    return ogm_vcs.validate(value.replace("*", ""))


def _check(
    element: etree._Element,
    rule_id: str,
    what: str,
    validate: Callable[[str], str],
    flag: Flag = "fatal",
) -> list[Finding]:
    value = _text(element)
    try:
        validate(value)
    except ValidationError as exc:
        return [
            Finding(
                layer="belgium",
                rule_id=rule_id,
                flag=flag,
                message=f"The {what} {value!r} is not valid: {exc}",
                location=_location(element),
            )
        ]
    return []


def _text(element: etree._Element) -> str:
    return (element.text or "").strip()


def _location(element: etree._Element) -> str:
    steps = []
    for node in (element, *element.iterancestors()):
        position = 1 + sum(1 for _ in node.itersiblings(node.tag, preceding=True))
        qname = etree.QName(node)
        steps.append(f"/Q{{{qname.namespace or ''}}}{qname.localname}[{position}]")
    return readable_location("".join(reversed(steps)))
