"""What the pipeline reports on real invoices: layers, findings, missing rules, storage."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from lxml import etree

from ledgerdrop.documents.ubl.report import ValidationReport
from ledgerdrop.documents.ubl.schematron import SchematronError
from ledgerdrop.documents.ubl.validate import Validator, default_validator

NS = {
    "ubl": "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2",
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
}
SELLER_VAT = "/ubl:Invoice/cac:AccountingSupplierParty/cac:Party/cac:PartyTaxScheme/cbc:CompanyID"
BUYER_ENDPOINT = "/ubl:Invoice/cac:AccountingCustomerParty/cac:Party/cbc:EndpointID"
PAYMENT_ID = "/ubl:Invoice/cac:PaymentMeans/cbc:PaymentID"


def edited(invoice: bytes, changes: dict[str, str | None]) -> bytes:
    """The invoice with elements (by XPath) given new text, or removed when None."""
    root = etree.fromstring(invoice)
    for path, text in changes.items():
        (element,) = root.xpath(path, namespaces=NS)
        if text is None:
            element.getparent().remove(element)
        else:
            element.text = text
    return bytes(etree.tostring(root))


def rules_fired(report: ValidationReport) -> list[tuple[str, str, str]]:
    return [(f.layer, f.rule_id, f.flag) for f in report.findings]


def test_a_missing_buyer_reference_is_reported_by_the_peppol_rules_where_it_belongs(
    validator: Validator, base_invoice: bytes
) -> None:
    report = validator.validate(edited(base_invoice, {"/ubl:Invoice/cbc:BuyerReference": None}))

    assert report.status == "invalid"
    assert rules_fired(report) == [("peppol", "PEPPOL-EN16931-R003", "fatal")]
    (finding,) = report.findings
    assert finding.location == "/Invoice[1]"
    assert finding.message == "A buyer reference or purchase order reference MUST be provided."


def test_an_en16931_finding_names_the_rule_and_a_readable_location(
    validator: Validator, base_invoice: bytes
) -> None:
    report = validator.validate(
        edited(base_invoice, {"/ubl:Invoice/cac:LegalMonetaryTotal/cbc:PayableAmount": "999.00"})
    )

    assert ("en16931", "BR-CO-16", "fatal") in rules_fired(report)
    finding = next(f for f in report.findings if f.rule_id == "BR-CO-16")
    assert finding.location == "/Invoice[1]/cac:LegalMonetaryTotal[1]"
    assert not finding.message.startswith("[BR-CO-16]")


def test_a_schema_error_stops_the_rule_layers_and_says_why(
    validator: Validator, base_invoice: bytes
) -> None:
    report = validator.validate(edited(base_invoice, {"/ubl:Invoice/cbc:IssueDate": "yesterday"}))

    assert report.status == "invalid"
    assert report.layers_run == ("xml", "xsd")
    assert {f.layer for f in report.findings} == {"xsd"}
    assert report.layers_skipped == dict.fromkeys(
        ("en16931", "peppol", "belgium"), "the document does not follow the UBL 2.1 schema"
    )


def test_an_engine_error_in_the_official_rules_makes_the_document_invalid(
    validator: Validator,
) -> None:
    # Schema-invalid on purpose: the CEN XSLT then fails on the cast instead of reporting.
    data = (
        f'<Invoice xmlns="{NS["ubl"]}" xmlns:cac="{NS["cac"]}" xmlns:cbc="{NS["cbc"]}">'
        "<cac:LegalMonetaryTotal><cbc:PayableAmount>abc</cbc:PayableAmount>"
        "</cac:LegalMonetaryTotal></Invoice>"
    ).encode()

    report = validator.validate(data, layers=("en16931",))

    assert rules_fired(report) == [("en16931", "ENGINE-ERROR", "fatal")]
    assert report.status == "invalid"


def test_without_the_peppol_rules_every_report_says_so_and_none_is_valid(
    base_invoice: bytes, tmp_path: Path
) -> None:
    for validator, reason in [
        (Validator(None), "no PEPPOL rules file is configured on this server"),
        (Validator(tmp_path / "gone.sch"), "the PEPPOL rules file configured on this server"),
    ]:
        report = validator.validate(base_invoice)

        assert report.findings == ()
        assert report.status == "incomplete"
        assert not report.valid
        assert report.layers_skipped["peppol"].startswith(reason)
        assert "PEPPOL BIS 3.0 rules were not checked" in report.summary


def test_a_peppol_rules_file_that_does_not_compile_is_noticed_when_the_validator_is_built(
    tmp_path: Path,
) -> None:
    broken = tmp_path / "broken.sch"
    broken.write_text(
        '<schema xmlns="http://purl.oclc.org/dsdl/schematron" queryBinding="xslt2">'
        '<pattern><rule context="*"><assert test="1 +">never</assert></rule></pattern></schema>'
    )

    with pytest.raises(SchematronError, match="do not compile"):
        Validator(broken)


def test_checking_only_some_layers_never_counts_as_valid(
    validator: Validator, base_invoice: bytes
) -> None:
    report = validator.validate(base_invoice, layers=("xsd",))

    assert report.findings == ()
    assert report.status == "incomplete"
    assert report.layers_skipped == dict.fromkeys(("en16931", "peppol", "belgium"), "not requested")


def test_a_report_survives_storage_as_json(validator: Validator, base_invoice: bytes) -> None:
    original = validator.validate(
        edited(base_invoice, {"/ubl:Invoice/cbc:BuyerReference": None, SELLER_VAT: "BE0403019262"})
    )

    stored = json.loads(json.dumps(original.to_dict()))
    restored = ValidationReport.from_dict(stored)

    assert restored == original
    assert stored["status"] == "invalid"
    assert stored["findings"][0]["rule_id"] == "PEPPOL-EN16931-R003"


def test_the_process_wide_validator_is_built_once_per_rules_file(peppol_material: Path) -> None:
    sch = peppol_material / "bis-billing-3.0.19/sch/PEPPOL-EN16931-UBL.sch"

    assert default_validator(sch) is default_validator(sch)
    assert default_validator(None) is not default_validator(sch)


def test_a_validator_shared_by_threads_gives_every_thread_the_right_answer(
    validator: Validator, base_invoice: bytes
) -> None:
    broken = edited(base_invoice, {"/ubl:Invoice/cbc:BuyerReference": None})
    documents = [base_invoice, broken] * 8

    with ThreadPoolExecutor(max_workers=4) as pool:
        statuses = list(pool.map(lambda data: validator.validate(data).status, documents))

    assert statuses == ["valid", "invalid"] * 8


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({SELLER_VAT: "BE0403019261"}, []),
        ({SELLER_VAT: "BE0403019262"}, [("belgium", "BE-VAT", "fatal")]),
        ({PAYMENT_ID: "+++010/8068/17183+++"}, []),
        ({PAYMENT_ID: "+++010/8068/17180+++"}, [("belgium", "BE-OGM", "fatal")]),
        ({PAYMENT_ID: "010806817180"}, [("belgium", "BE-OGM", "warning")]),
        ({PAYMENT_ID: "INV-2024-0042"}, []),
    ],
    ids=["good-vat", "bad-vat", "good-ogm", "bad-ogm", "bare-digits", "free-text-reference"],
)
def test_belgian_vat_numbers_and_structured_references_are_checked(
    validator: Validator,
    base_invoice: bytes,
    changes: dict[str, str | None],
    expected: list[tuple[str, str, str]],
) -> None:
    report = validator.validate(edited(base_invoice, changes))

    assert rules_fired(report) == expected


def test_a_belgian_enterprise_number_endpoint_with_wrong_check_digits_is_reported(
    validator: Validator, base_invoice: bytes
) -> None:
    invoice = edited(base_invoice, {BUYER_ENDPOINT: "0403019262"}).replace(
        b'schemeID="0002">0403019262', b'schemeID="0208">0403019262'
    )

    report = validator.validate(invoice)

    finding = next(f for f in report.findings if f.layer == "belgium")
    assert (finding.rule_id, finding.flag) == ("BE-ENTERPRISE", "fatal")
    assert finding.location.endswith(
        "/cac:AccountingCustomerParty[1]/cac:Party[1]/cbc:EndpointID[1]"
    )
    assert "'0403019262'" in finding.message
