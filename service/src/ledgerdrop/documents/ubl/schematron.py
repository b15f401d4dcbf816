"""A compiler from ISO Schematron (XSLT 2/3 query binding) to an XSLT 3.0 stylesheet.

It covers what the official PEPPOL BIS 3.0 and CEN EN 16931 files use: ``ns`` declarations,
phases, ``let`` at schema, phase, pattern and rule level, rules fired in pattern order,
``assert``/``report`` with ``id``, ``flag`` and messages (text, ``value-of``, ``name``), and
XSLT functions and keys embedded in the schema. Any other construct that could change what
is checked (``include``, abstract patterns and rules, ``extends``, diagnostics...) is refused
with ``SchematronError`` rather than silently ignored; documentation (``title``, ``p``) is
skipped.

The stylesheet writes SVRL (``svrl:failed-assert`` / ``svrl:successful-report`` with ``id``,
``flag``, ``location`` and ``svrl:text``), the same shape the official CEN XSLT writes, so one
reader (``read_svrl``) turns both into findings.
"""

from __future__ import annotations

import copy
from pathlib import Path

from lxml import etree

from .report import LAYER_NAMES, Finding, normalise_flag, readable_location

SCH = "http://purl.oclc.org/dsdl/schematron"
XSL = "http://www.w3.org/1999/XSL/Transform"
SVRL = "http://purl.oclc.org/dsdl/svrl"
ERR = "http://www.w3.org/2005/xqt-errors"

# The rule id of the one finding written when the rules cannot be evaluated at all.
ENGINE_ERROR = "ENGINE-ERROR"

_QUERY_BINDINGS = {"xslt2", "xslt3"}
# Foreign XSLT declarations the schema may embed at the top level.
_EMBEDDED_XSLT = {"function", "key"}


class SchematronError(ValueError):
    """The Schematron file is malformed or uses a feature this compiler does not support."""


def _sch(local: str) -> str:
    return f"{{{SCH}}}{local}"


def _xsl(local: str) -> str:
    return f"{{{XSL}}}{local}"


def _svrl(local: str) -> str:
    return f"{{{SVRL}}}{local}"


def compile_schematron(source: Path | bytes, *, phase: str | None = None) -> str:
    """Compile a Schematron file (path or bytes) into XSLT 3.0 text, ready to cache on disk.

    ``phase`` picks the active patterns; by default the schema's ``defaultPhase``, or all.
    """
    parser = etree.XMLParser(no_network=True, resolve_entities=False, remove_comments=True)
    try:
        if isinstance(source, Path):
            schema = etree.parse(str(source), parser).getroot()
        else:
            schema = etree.fromstring(source, parser)
    except (OSError, etree.XMLSyntaxError) as exc:
        raise SchematronError(f"The Schematron file cannot be read: {exc}") from exc
    return _Compiler(schema).compile(phase)


class _Compiler:
    def __init__(self, schema: etree._Element) -> None:
        if schema.tag != _sch("schema"):
            raise SchematronError(f"Not an ISO Schematron schema: root element {schema.tag}.")
        binding = schema.get("queryBinding", "xslt")
        if binding.lower() not in _QUERY_BINDINGS:
            raise SchematronError(f"Query binding {binding!r} is not supported (xslt2, xslt3).")
        self.schema = schema
        self.namespaces = self._namespaces()
        self.patterns = [child for child in self._children(schema) if child.tag == _sch("pattern")]

    def compile(self, phase: str | None) -> str:
        active_patterns, phase_lets = self._active(phase)
        stylesheet = etree.Element(
            _xsl("stylesheet"),
            nsmap={**self.namespaces, "xsl": XSL, "svrl": SVRL, "err": ERR},
            version="3.0",
            attrib={"exclude-result-prefixes": "#all"},
        )
        etree.SubElement(stylesheet, _xsl("output"), method="xml", indent="no")
        for child in self._children(self.schema):
            if child.tag in (_xsl(name) for name in _EMBEDDED_XSLT):
                stylesheet.append(copy.deepcopy(child))
        # Lets outside rules are evaluated once, with the document as context: in XSLT that
        # is exactly a global variable.
        global_lets = [c for c in self._children(self.schema) if c.tag == _sch("let")]
        global_lets += phase_lets
        for pattern in active_patterns:
            global_lets += [c for c in self._children(pattern) if c.tag == _sch("let")]
        for let in global_lets:
            stylesheet.append(self._variable(let))

        root = etree.SubElement(stylesheet, _xsl("template"), match="/")
        attempt = etree.SubElement(root, _xsl("try"))
        output = etree.SubElement(attempt, _svrl("schematron-output"))
        for index in range(len(active_patterns)):
            etree.SubElement(output, _xsl("apply-templates"), select="/", mode=_mode(index))
        attempt.append(_catch_engine_error())
        for index, pattern in enumerate(active_patterns):
            self._pattern(stylesheet, pattern, _mode(index))
        return str(etree.tostring(stylesheet, encoding="unicode"))

    def _namespaces(self) -> dict[str, str]:
        namespaces: dict[str, str] = {}
        for ns in self.schema.iterchildren(_sch("ns")):
            prefix, uri = ns.get("prefix"), ns.get("uri")
            if not prefix or uri is None:
                raise SchematronError("Every <ns> needs a prefix and a uri.")
            reserved = {"xsl": XSL, "svrl": SVRL, "err": ERR}
            if prefix in reserved and uri != reserved[prefix]:
                raise SchematronError(f"The prefix {prefix!r} is reserved by the compiler.")
            namespaces[prefix] = uri
        return namespaces

    def _children(self, element: etree._Element) -> list[etree._Element]:
        """The element's child elements, refusing Schematron features this compiler lacks."""
        known = {
            "schema": {"title", "p", "ns", "let", "phase", "pattern"},
            "phase": {"p", "let", "active"},
            "pattern": {"title", "p", "let", "rule"},
            "rule": {"p", "let", "assert", "report"},
        }[etree.QName(element).localname]
        children = []
        for child in element.iterchildren(etree.Element):
            qname = etree.QName(child)
            if qname.namespace == SCH and qname.localname not in known:
                raise SchematronError(
                    f"<{qname.localname}> (line {child.sourceline}) is not supported."
                )
            if qname.namespace == XSL and (
                element.tag != _sch("schema") or qname.localname not in _EMBEDDED_XSLT
            ):
                raise SchematronError(
                    f"xsl:{qname.localname} (line {child.sourceline}) is not supported here."
                )
            for attribute in ("abstract", "is-a", "documents"):
                if child.get(attribute) is not None:
                    raise SchematronError(
                        f"The {attribute!r} attribute (line {child.sourceline}) is not supported."
                    )
            children.append(child)
        return children

    def _active(self, phase: str | None) -> tuple[list[etree._Element], list[etree._Element]]:
        """The patterns to run, in schema order, and the lets of the chosen phase."""
        chosen = phase or self.schema.get("defaultPhase") or "#ALL"
        if chosen == "#ALL":
            return self.patterns, []
        for candidate in self._children(self.schema):
            if candidate.tag == _sch("phase") and candidate.get("id") == chosen:
                children = self._children(candidate)
                ids = {c.get("pattern") for c in children if c.tag == _sch("active")}
                unknown = ids - {p.get("id") for p in self.patterns}
                if unknown:
                    raise SchematronError(f"Phase {chosen!r} activates unknown patterns {unknown}.")
                lets = [c for c in children if c.tag == _sch("let")]
                return [p for p in self.patterns if p.get("id") in ids], lets
        raise SchematronError(f"The schema has no phase {chosen!r}.")

    def _variable(self, let: etree._Element) -> etree._Element:
        name, value = let.get("name"), let.get("value")
        if not name or value is None:
            raise SchematronError(
                f"<let> (line {let.sourceline}) needs a name and a value attribute."
            )
        return etree.Element(_xsl("variable"), name=name, select=value)

    def _pattern(self, stylesheet: etree._Element, pattern: etree._Element, mode: str) -> None:
        # Like the reference implementation, every element and attribute is visited once per
        # pattern; the first rule (in schema order) whose context matches a node fires for it.
        visit = {"select": "@*|*", "mode": mode}
        fallback = etree.SubElement(
            stylesheet, _xsl("template"), match="/|@*|*", mode=mode, priority="-2"
        )
        etree.SubElement(fallback, _xsl("apply-templates"), visit)
        rules = [c for c in self._children(pattern) if c.tag == _sch("rule")]
        for position, rule in enumerate(rules):
            context = rule.get("context")
            if not context:
                raise SchematronError(f"<rule> (line {rule.sourceline}) has no context.")
            template = etree.SubElement(
                stylesheet,
                _xsl("template"),
                match=context,
                mode=mode,
                priority=str(1000 + len(rules) - position),
            )
            for child in self._children(rule):
                if child.tag == _sch("let"):
                    template.append(self._variable(child))
                elif child.tag in (_sch("assert"), _sch("report")):
                    template.append(self._check(child))
            etree.SubElement(template, _xsl("apply-templates"), visit)

    def _check(self, check: etree._Element) -> etree._Element:
        test = check.get("test")
        if not test:
            raise SchematronError(f"<{etree.QName(check).localname}> has no test.")
        is_assert = check.tag == _sch("assert")
        choose = etree.Element(_xsl("choose"))
        when = etree.SubElement(choose, _xsl("when"), test=test)
        # An assert speaks when its test is false, a report when it is true.
        target = etree.SubElement(choose, _xsl("otherwise")) if is_assert else when
        result = etree.SubElement(
            target, _svrl("failed-assert" if is_assert else "successful-report")
        )
        for name, value in (
            ("id", check.get("id", "")),
            ("flag", check.get("flag") or check.get("role") or ""),
        ):
            etree.SubElement(result, _xsl("attribute"), name=name).text = value
        etree.SubElement(result, _xsl("attribute"), name="location", select="path()")
        text = etree.SubElement(result, _svrl("text"))
        self._message(check, text)
        return choose

    def _message(self, check: etree._Element, text: etree._Element) -> None:
        def literal(value: str | None) -> None:
            if value:
                etree.SubElement(text, _xsl("text")).text = value

        literal(check.text)
        for part in check.iterchildren():
            if part.tag == _sch("value-of"):
                etree.SubElement(text, _xsl("value-of"), select=part.get("select", "."))
            elif part.tag == _sch("name"):
                path = part.get("path", ".")
                etree.SubElement(text, _xsl("value-of"), select=f"name({path})")
            elif part.tag in (_sch("emph"), _sch("dir"), _sch("span")):
                literal(part.xpath("string()"))
            elif isinstance(part.tag, str):
                raise SchematronError(
                    f"<{etree.QName(part).localname}> in a message (line {part.sourceline})"
                    " is not supported."
                )
            literal(part.tail)


def _mode(index: int) -> str:
    return f"pattern-{index + 1}"


def _catch_engine_error() -> etree._Element:
    # Without this Saxon prints the error to stderr before raising; caught here, a dynamic
    # error (a bad cast in a rule, say) becomes one fatal finding in the report instead.
    catch = etree.Element(_xsl("catch"))
    output = etree.SubElement(catch, _svrl("schematron-output"))
    failed = etree.SubElement(output, _svrl("failed-assert"))
    etree.SubElement(failed, _xsl("attribute"), name="id").text = ENGINE_ERROR
    etree.SubElement(failed, _xsl("attribute"), name="flag").text = "fatal"
    text = etree.SubElement(failed, _svrl("text"))
    etree.SubElement(text, _xsl("value-of"), select="string($err:code) || ' ' || $err:description")
    return catch


def guarded_xslt(stylesheet: Path) -> str:
    """A stylesheet running an existing SVRL-writing XSLT with its errors caught as above."""
    wrapper = etree.Element(
        _xsl("stylesheet"),
        nsmap={"xsl": XSL, "svrl": SVRL, "err": ERR},
        version="3.0",
        attrib={"exclude-result-prefixes": "#all"},
    )
    etree.SubElement(wrapper, _xsl("import"), href=stylesheet.resolve().as_uri())
    root = etree.SubElement(wrapper, _xsl("template"), match="/")
    attempt = etree.SubElement(root, _xsl("try"))
    etree.SubElement(attempt, _xsl("apply-imports"))
    attempt.append(_catch_engine_error())
    return str(etree.tostring(wrapper, encoding="unicode"))


def engine_error(layer: str, detail: str) -> Finding:
    """The finding for rules that could not be evaluated: never a pass."""
    return Finding(
        layer=layer,
        rule_id=ENGINE_ERROR,
        flag="fatal",
        message=(
            f"The {LAYER_NAMES.get(layer, layer)} could not be evaluated on this document, "
            f"so it is treated as invalid: {' '.join(detail.split()) or 'unknown error'}"
        ),
    )


def read_svrl(svrl: str, layer: str) -> tuple[Finding, ...]:
    """Turn SVRL output (ours or the official XSLT's) into findings, in document order."""
    root = etree.fromstring(svrl.encode(), etree.XMLParser(resolve_entities=False, no_network=True))
    findings = []
    for element in root.iter(_svrl("failed-assert"), _svrl("successful-report")):
        rule_id = element.get("id", "")
        text = element.find(_svrl("text"))
        message = " ".join("".join(text.itertext()).split()) if text is not None else ""
        if rule_id == ENGINE_ERROR:
            findings.append(engine_error(layer, message))
            continue
        findings.append(
            Finding(
                layer=layer,
                rule_id=rule_id,
                flag=normalise_flag(element.get("flag", "")),
                message=message.removeprefix(f"[{rule_id}]-"),
                location=readable_location(element.get("location", "")),
            )
        )
    return tuple(findings)
