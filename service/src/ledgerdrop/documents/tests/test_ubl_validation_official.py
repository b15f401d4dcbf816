"""The pipeline against the official material: examples pass, every unit test gives its outcome.

The unit-test files (VEFA ``testSet`` format) hold small documents, each with expectations:
``<success>RULE</success>`` (the rule must not fire), ``<error>RULE</error>`` (it fires as
fatal) or ``<warning>RULE</warning>`` (it fires as a warning). Their documents are fragments,
not schema-valid invoices, so each runs through the hardened parse and the one rule layer the
file is written for.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from lxml import etree

from ledgerdrop.documents.ubl.parse import parse_ubl
from ledgerdrop.documents.ubl.report import Finding
from ledgerdrop.documents.ubl.validate import RuleSet, Validator, saxon_document

VEFA = "{http://difi.no/xsd/vefa/validator/1.0}"
EXPECTED_FLAG = {"error": "fatal", "warning": "warning"}

OFFICIAL_EXAMPLES = [
    "Allowance-example.xml",
    "Vat-category-S.xml",
    "base-creditnote-correction.xml",
    "base-example.xml",
    "base-negative-inv-correction.xml",
    "sales-order-example.xml",
    "vat-category-E.xml",
    "vat-category-O.xml",
    "vat-category-Z.xml",
]

# (folder, layer, number of expectations in it): the counts make sure nothing is silently lost.
UNIT_TESTS = {
    "peppol": ("bis-billing-3.0.19/unit-UBL-PEPPOL", "peppol", 221),
    "cen-invoice": ("cen-en16931-1.3.16/Invoice-unit-UBL", "en16931", 917),
    "cen-credit-note": ("cen-en16931-1.3.16/CreditNote-unit-UBL", "en16931", 216),
}


def unit_tests(folder: Path) -> Iterator[tuple[str, bytes, list[tuple[str, str]]]]:
    """(name, document, [(expectation, rule id)]) for every test case in a folder."""
    for path in sorted(p for p in folder.iterdir() if p.is_file()):
        for number, test in enumerate(etree.parse(str(path)).getroot().iter(f"{VEFA}test"), 1):
            (document,) = [c for c in test if isinstance(c.tag, str) and VEFA not in c.tag]
            expectations = [
                (etree.QName(e).localname, (e.text or "").strip())
                for e in test.findall(f"{VEFA}assert/*")
                if etree.QName(e).localname != "description"
            ]
            yield f"{path.name}#{number}", etree.tostring(document), expectations


def mismatches(
    folder: Path, expected_count: int, run: Callable[[bytes], tuple[Finding, ...]]
) -> list[str]:
    problems = []
    checked = 0
    for name, document, expectations in unit_tests(folder):
        findings = run(document)
        for expectation, rule_id in expectations:
            checked += 1
            fired = [f for f in findings if f.rule_id == rule_id]
            if expectation == "success":
                ok = not fired
            else:
                ok = any(f.flag == EXPECTED_FLAG[expectation] for f in fired)
            if not ok:
                problems.append(f"{name}: expected {expectation} {rule_id}, got {findings}")
    assert checked == expected_count, f"{folder}: {checked} expectations, not {expected_count}"
    return problems


@pytest.fixture(scope="module")
def compiled_cen_rules(peppol_material: Path) -> RuleSet:
    return RuleSet.from_schematron(
        "en16931", peppol_material / "bis-billing-3.0.19/sch/CEN-EN16931-UBL.sch"
    )


@pytest.mark.parametrize("name", OFFICIAL_EXAMPLES)
def test_every_official_example_is_valid(
    validator: Validator, peppol_material: Path, name: str
) -> None:
    data = (peppol_material / "bis-billing-3.0.19/examples" / name).read_bytes()

    report = validator.validate(data)

    assert report.findings == ()
    assert report.status == "valid"
    assert report.layers_run == ("xml", "xsd", "en16931", "peppol", "belgium")


@pytest.mark.parametrize("suite", UNIT_TESTS)
def test_every_official_unit_test_gives_its_expected_outcome(
    validator: Validator, peppol_material: Path, suite: str
) -> None:
    folder, layer, count = UNIT_TESTS[suite]

    def run(document: bytes) -> tuple[Finding, ...]:
        report = validator.validate(document, layers=(layer,))
        assert report.layers_run == ("xml", layer)
        return report.findings

    assert mismatches(peppol_material / folder, count, run) == []


@pytest.mark.parametrize("suite", ["cen-invoice", "cen-credit-note"])
def test_the_cen_schematron_compiled_by_our_compiler_agrees_with_the_cen_unit_tests(
    compiled_cen_rules: RuleSet, peppol_material: Path, suite: str
) -> None:
    folder, _, count = UNIT_TESTS[suite]

    def run(document: bytes) -> tuple[Finding, ...]:
        return compiled_cen_rules.check(saxon_document(parse_ubl(document)))

    assert mismatches(peppol_material / folder, count, run) == []
