"""The project's Schematron compiler, on small schemas whose outcome is known by hand."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledgerdrop.documents.ubl.parse import parse_untrusted
from ledgerdrop.documents.ubl.report import Finding
from ledgerdrop.documents.ubl.schematron import SchematronError, compile_schematron
from ledgerdrop.documents.ubl.validate import RuleSet, saxon_document

DOCUMENT = b"""<order xmlns="urn:example:order">
  <line qty="2" price="10"/>
  <line qty="0" price="5"/>
  <note/>
</order>"""


def schema(body: str, *, attributes: str = "") -> bytes:
    return f"""<schema xmlns="http://purl.oclc.org/dsdl/schematron" queryBinding="xslt2"
        xmlns:xsl="http://www.w3.org/1999/XSL/Transform" xmlns:u="urn:example:utils" {attributes}>
      <ns prefix="o" uri="urn:example:order"/>
      <ns prefix="u" uri="urn:example:utils"/>
      <ns prefix="xs" uri="http://www.w3.org/2001/XMLSchema"/>
      {body}
    </schema>""".encode()


def run(sch: bytes, *, phase: str | None = None, document: bytes = DOCUMENT) -> list[Finding]:
    rules = RuleSet.from_xslt_text("peppol", compile_schematron(sch, phase=phase))
    return list(rules.check(saxon_document(parse_untrusted(document))))


def fired(findings: list[Finding]) -> list[tuple[str, str]]:
    return [(f.rule_id, f.location) for f in findings]


def test_an_assert_speaks_when_false_and_a_report_when_true_with_its_id_flag_and_message() -> None:
    findings = run(
        schema("""
        <pattern><rule context="o:line">
          <assert id="QTY" flag="fatal" test="@qty &gt; 0">Line
            <value-of select="count(preceding-sibling::o:line) + 1"/>
            of <name path=".."/> has no quantity.</assert>
          <report id="CHEAP" flag="warning" test="@price &lt; 6">A cheap line.</report>
        </rule></pattern>""")
    )

    line_2 = "/Q{urn:example:order}order[1]/Q{urn:example:order}line[2]"
    assert findings == [
        Finding("peppol", "QTY", "fatal", "Line 2 of order has no quantity.", line_2),
        Finding("peppol", "CHEAP", "warning", "A cheap line.", line_2),
    ]


def test_only_the_first_matching_rule_of_a_pattern_fires_and_every_pattern_sees_all() -> None:
    findings = run(
        schema("""
        <pattern>
          <rule context="o:line[@qty = '0']"><report id="FIRST" test="true()">first</report></rule>
          <rule context="o:line"><report id="SECOND" test="true()">second</report></rule>
        </pattern>
        <pattern>
          <rule context="o:line"><report id="OTHER-PATTERN" test="true()">other</report></rule>
          <rule context="@price"><report id="ATTRIBUTE" test=". = '5'">attribute</report></rule>
        </pattern>""")
    )

    assert [f.rule_id for f in findings] == [
        "SECOND",
        "FIRST",
        "OTHER-PATTERN",
        "OTHER-PATTERN",
        "ATTRIBUTE",
    ]
    assert findings[-1].location.endswith("line[2]/@price")


def test_lets_at_schema_pattern_and_rule_level_are_in_scope_where_written() -> None:
    findings = run(
        schema("""
        <let name="lines" value="count(/o:order/o:line)"/>
        <pattern>
          <let name="limit" value="1"/>
          <rule context="o:order">
            <let name="total" value="sum(o:line/(@qty * @price))"/>
            <report id="LETS" test="$lines &gt; $limit and $total = 20">
              <value-of select="$lines"/> lines, total <value-of select="$total"/></report>
          </rule>
        </pattern>""")
    )

    assert [(f.rule_id, f.message) for f in findings] == [("LETS", "2 lines, total 20")]


def test_functions_embedded_in_the_schema_can_be_called_from_tests() -> None:
    findings = run(
        schema("""
        <xsl:function name="u:double" as="xs:integer">
          <xsl:param name="value" as="xs:integer"/>
          <xsl:sequence select="$value * 2"/>
        </xsl:function>
        <pattern><rule context="o:line">
          <assert id="DOUBLE" test="u:double(xs:integer(@qty)) = 4">not doubled</assert>
        </rule></pattern>""")
    )

    assert [f.rule_id for f in findings] == ["DOUBLE"]
    assert findings[0].location.endswith("line[2]")


def test_a_phase_runs_only_its_patterns_and_the_default_phase_is_used_unless_told() -> None:
    body = """
        <phase id="notes"><active pattern="note-rules"/></phase>
        <phase id="lines"><active pattern="line-rules"/></phase>
        <pattern id="line-rules"><rule context="o:line">
          <report id="LINE" test="true()">line</report></rule></pattern>
        <pattern id="note-rules"><rule context="o:note">
          <report id="NOTE" test="true()">note</report></rule></pattern>"""

    assert [f.rule_id for f in run(schema(body))] == ["LINE", "LINE", "NOTE"]
    assert [f.rule_id for f in run(schema(body), phase="notes")] == ["NOTE"]
    assert [f.rule_id for f in run(schema(body, attributes='defaultPhase="lines"'))] == [
        "LINE",
        "LINE",
    ]
    with pytest.raises(SchematronError, match="no phase 'totals'"):
        compile_schematron(schema(body), phase="totals")


def test_an_error_while_evaluating_the_rules_is_a_fatal_finding_never_a_pass() -> None:
    findings = run(
        schema("""
        <pattern><rule context="o:order">
          <assert id="CAST" test="xs:decimal('not a number') &gt; 0">unreachable</assert>
        </rule></pattern>""")
    )

    assert len(findings) == 1
    assert (findings[0].rule_id, findings[0].flag) == ("ENGINE-ERROR", "fatal")
    assert "could not be evaluated" in findings[0].message
    assert "FORG0001" in findings[0].message


@pytest.mark.parametrize(
    ("body", "complaint"),
    [
        ('<include href="other.sch"/>', "<include>"),
        ('<pattern abstract="true" id="a"><rule context="o:line"/></pattern>', "'abstract'"),
        ('<pattern><rule context="o:line"><extends rule="base"/></rule></pattern>', "<extends>"),
        (
            '<pattern><rule context="o:line"><assert test="true()">'
            '<foreign xmlns="urn:x"/></assert></rule></pattern>',
            "<foreign>",
        ),
    ],
)
def test_a_schematron_feature_the_compiler_lacks_is_refused_not_ignored(
    body: str, complaint: str
) -> None:
    with pytest.raises(SchematronError, match=complaint):
        compile_schematron(schema(body))


def test_the_compiled_stylesheet_can_be_stored_and_used_later(tmp_path: Path) -> None:
    sch = schema("""<pattern><rule context="o:note">
        <assert id="EMPTY" test="normalize-space()">empty note</assert></rule></pattern>""")
    stored = tmp_path / "rules.xslt"
    stored.write_text(compile_schematron(sch), encoding="utf-8")

    rules = RuleSet.from_xslt_file("peppol", stored)

    assert [f.rule_id for f in rules.check(saxon_document(parse_untrusted(DOCUMENT)))] == ["EMPTY"]
