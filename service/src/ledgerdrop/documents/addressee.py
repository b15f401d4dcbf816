"""Whether a received document is addressed to the company that got it: an upload or an e-mail
may carry another company's invoice, which must not become this company's purchase unseen."""

from __future__ import annotations

import re

from ledgerdrop.accounts.models import Organisation
from ledgerdrop.documents.models import InvoicingProfile
from ledgerdrop.documents.ubl.received import ReceivedFields

# PEPPOL address schemes that carry a Belgian enterprise number: 0208 the number itself, 9925
# the VAT number (BE + the same ten digits). Other schemes (GLN…) say nothing comparable.
_BELGIAN_ENDPOINT_SCHEMES = frozenset({"0208", "9925"})


def _belgian_number(value: str) -> str:
    """`BE 0403.019.261`, `0403019261`, `403019261` → `0403019261`; "" when not ten digits."""
    digits = re.sub(r"\D", "", value)
    return digits.rjust(10, "0") if len(digits) in {9, 10} else ""


def _numbers_of(company: Organisation) -> set[str]:
    profile = InvoicingProfile.objects.filter(company=company).first()
    candidates = (company.vat_number, profile.enterprise_number if profile else "")
    return {number for value in candidates if (number := _belgian_number(value))}


def addressed_elsewhere(company: Organisation, fields: ReceivedFields) -> str:
    """Who the document names as its buyer when that is not `company` ("" when it is, or when
    the document names nobody that can be compared)."""
    ours = _numbers_of(company)
    if not ours:
        return ""
    stated: list[tuple[str, str]] = []  # (as written, comparable Belgian number or "")
    vat = re.sub(r"\s", "", fields.buyer_vat_number).upper()
    if vat:
        # A VAT number of another country is another company's, whatever its digits.
        country = vat[:2] if vat[:2].isalpha() else "BE"
        stated.append((vat, _belgian_number(vat) if country == "BE" else ""))
    if fields.buyer_enterprise_number:
        number = fields.buyer_enterprise_number
        stated.append((number, _belgian_number(number)))
    scheme, endpoint = fields.buyer_endpoint
    if endpoint and scheme in _BELGIAN_ENDPOINT_SCHEMES:
        stated.append((f"{scheme}:{endpoint}", _belgian_number(endpoint)))
    foreign = [written for written, number in stated if number not in ours]
    if not foreign:
        return ""
    return f"{fields.buyer_name or '?'} ({', '.join(foreign)})"[:200]
