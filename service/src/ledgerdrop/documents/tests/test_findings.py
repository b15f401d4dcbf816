"""The validation report reads in the user's language; the official rule text stays beside."""

from __future__ import annotations

import pytest
from django.utils import translation

from ledgerdrop.documents import findings
from ledgerdrop.documents.ubl.report import Finding, ValidationReport


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("fr", "Le fichier n'est pas du XML bien formé"),
        ("nl", "Het bestand is geen goed gevormde XML"),
    ],
)
def test_a_malformed_file_is_explained_in_the_readers_language(
    language: str, expected: str
) -> None:
    report = ValidationReport(
        (Finding("xml", "XML-MALFORMED", "fatal", "The file is not well-formed XML: x."),),
        ("xml",),
    )
    with translation.override(language):
        summary = findings.report_summary(report)
    assert summary.startswith(expected)
    assert "The file is not well-formed XML: x." in summary  # the official text, kept


@pytest.mark.parametrize(
    ("rule_id", "layer", "expected"),
    [
        ("BR-CO-15", "en16931", "Des montants ou des totaux ne concordent pas."),
        ("BR-S-08", "en16931", "La TVA d'une catégorie ne respecte pas ses règles"),
        ("BR-CL-04", "en16931", "Un code ne figure pas dans sa liste officielle"),
        ("PEPPOL-EN16931-R010", "peppol", "Une règle du réseau PEPPOL"),
        ("cvc-complex-type.2.4.a", "xsd", "Le fichier ne suit pas la structure UBL 2.1"),
        ("BE-OGM", "belgium", "La communication structurée a des chiffres de contrôle faux."),
    ],
)
def test_each_rule_family_has_a_french_summary(rule_id: str, layer: str, expected: str) -> None:
    with translation.override("fr"):
        assert findings.summary(rule_id, layer).startswith(expected)


def test_layers_severities_and_skipped_layers_are_named_in_dutch() -> None:
    finding = {"layer": "peppol", "rule_id": "PEPPOL-EN16931-R001", "flag": "fatal"}
    with translation.override("nl"):
        readable = findings.readable(finding)
        reason = findings.skipped_reason("the PEPPOL rules file /x.sch does not exist")
    assert readable["layer_label"] == "PEPPOL BIS 3.0-regels"
    assert readable["flag_label"] == "fout"
    assert reason.startswith("de PEPPOL-regels zijn niet geïnstalleerd")
