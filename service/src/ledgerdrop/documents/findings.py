"""What the validation report says, in the reader's language.

The rules themselves are official texts in English (EN 16931, PEPPOL BIS 3.0): they stay as
they are, for the accountant and the software vendor. Beside each, a person reads a short
summary in their own language of what to correct, chosen by the rule's family."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from ledgerdrop.documents.ubl.report import ValidationReport

LAYER_LABELS: Mapping[str, Promise] = {
    "xml": _("safe, well-formed XML"),
    "xsd": _("UBL 2.1 schema"),
    "en16931": _("EN 16931 rules"),
    "peppol": _("PEPPOL BIS 3.0 rules"),
    "belgium": _("Belgian identifiers"),
}

FLAG_LABELS: Mapping[str, Promise] = {
    "fatal": _("error"),
    "warning": _("warning"),
    "information": _("information"),
}

# First match wins: specific rules before their families.
SUMMARIES: tuple[tuple[str, Promise], ...] = (
    ("XML-MALFORMED", _("The file is not well-formed XML: it is damaged or is not an XML file.")),
    ("XML-TOO-LARGE", _("The file is too large to be an invoice.")),
    ("XML-DOCTYPE", _("The file declares a DTD or entities, which invoices never need.")),
    ("XML-NOT-UBL", _("The file is XML but not a UBL invoice or credit note.")),
    ("BE-VAT", _("A Belgian VAT number has wrong check digits.")),
    ("BE-ENTERPRISE", _("A Belgian enterprise number has wrong check digits.")),
    ("BE-OGM", _("The structured communication has wrong check digits.")),
    (r"BR-DEC-\d+", _("An amount has more than two decimals.")),
    (
        r"BR-CL-\d+|PEPPOL-EN16931-CL\d+",
        _("A code is not in its official list (currency, country, unit, VAT category…)."),
    ),
    (
        r"BR-(S|Z|E|AE|IC|G|O|AF|AG|B)-\d+",
        _(
            "The VAT of one category breaks its rules: its rate, its exemption reason"
            " or the VAT numbers it requires."
        ),
    ),
    (r"BR-CO-(1[0-8]|[3-9])", _("Amounts or totals do not add up.")),
    (r"BR-CO-\d+", _("A combination of information is not allowed, or one piece needs another.")),
    (r"BR-\d+", _("A mandatory piece of information is missing.")),
    (r"PEPPOL-COMMON-R\d+", _("An identifier (VAT number, enterprise number, GLN…) is not valid.")),
    (r"PEPPOL-EN16931-R\d+", _("A rule of the PEPPOL network is not met.")),
)
LAYER_SUMMARIES: Mapping[str, Promise] = {
    "xsd": _(
        "The file does not follow the UBL 2.1 structure: an element is missing,"
        " misplaced or misspelt."
    ),
    "en16931": _("A rule of the European invoice standard is not met."),
    "peppol": _("A rule of the PEPPOL network is not met."),
}


def summary(rule_id: str, layer: str) -> str:
    """What to correct, in the active language."""
    for pattern, text in SUMMARIES:
        if re.fullmatch(pattern, rule_id):
            return str(text)
    if layer in LAYER_SUMMARIES:
        return str(LAYER_SUMMARIES[layer])
    return gettext("A check of the document failed.")


def skipped_reason(reason: str) -> str:
    """Why a layer did not run, in the active language."""
    if "PEPPOL rules file" in reason:
        return gettext(
            "the PEPPOL rules are not installed on this server (ledgerdrop rules install)"
        )
    if reason == "the document does not follow the UBL 2.1 schema":
        return gettext("the document does not follow the UBL 2.1 schema")
    if reason == "not requested":
        return gettext("not requested")
    return reason


def readable(finding: Mapping[str, Any]) -> dict[str, Any]:
    """A stored finding with its layer, severity and summary in the reader's language."""
    layer, rule_id = str(finding.get("layer", "")), str(finding.get("rule_id", ""))
    return {
        **finding,
        "layer_label": str(LAYER_LABELS.get(layer, layer)),
        "flag_label": str(FLAG_LABELS.get(str(finding.get("flag", "")), finding.get("flag", ""))),
        "summary": summary(rule_id, layer),
    }


def report_summary(report: ValidationReport) -> str:
    """The report's one sentence in the reader's language, the official rule text kept."""
    if report.errors:
        first = report.errors[0]
        text = gettext("%(summary)s (%(rule)s: %(message)s)") % {
            "summary": summary(first.rule_id, first.layer),
            "rule": first.rule_id,
            "message": first.message,
        }
        more = len(report.errors) - 1
        if more:
            text += " " + gettext("And %(count)s more.") % {"count": more}
        return text
    if report.layers_skipped:
        return gettext("No errors found, but not every check ran.")
    return gettext("Valid: every check passed.")
