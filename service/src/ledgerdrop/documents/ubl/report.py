"""The validation report stored with a document and shown in the UI."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Layer = Literal["xml", "xsd", "en16931", "peppol", "belgium"]
Flag = Literal["fatal", "warning", "information"]
Status = Literal["valid", "invalid", "incomplete"]

LAYERS: tuple[Layer, ...] = ("xml", "xsd", "en16931", "peppol", "belgium")

LAYER_NAMES: Mapping[str, str] = {
    "xml": "safe, well-formed XML",
    "xsd": "UBL 2.1 schema",
    "en16931": "EN 16931 rules",
    "peppol": "PEPPOL BIS 3.0 rules",
    "belgium": "Belgian identifiers",
}

# The prefixes people know from the UBL specification, used to make locations readable.
UBL_PREFIXES: Mapping[str, str] = {
    "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2": "",
    "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2": "",
    "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2": "cac",
    "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2": "cbc",
    "urn:oasis:names:specification:ubl:schema:xsd:CommonExtensionComponents-2": "ext",
}


@dataclass(frozen=True)
class Finding:
    """One problem (or remark) found by one layer of the validation."""

    layer: str
    rule_id: str
    flag: str
    message: str
    location: str = ""

    def to_dict(self) -> dict[str, str]:
        return {
            "layer": self.layer,
            "rule_id": self.rule_id,
            "flag": self.flag,
            "message": self.message,
            "location": self.location,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Finding:
        return cls(
            layer=str(data["layer"]),
            rule_id=str(data["rule_id"]),
            flag=str(data["flag"]),
            message=str(data["message"]),
            location=str(data.get("location", "")),
        )


@dataclass(frozen=True)
class ValidationReport:
    """What every layer said about one document, and which layers did not run and why.

    A document is only ``valid`` when every layer ran and none found a fatal problem: a
    layer that did not run (for example the PEPPOL rules missing on this server) makes the
    report ``incomplete``, never silently valid.
    """

    findings: tuple[Finding, ...]
    layers_run: tuple[str, ...]
    layers_skipped: Mapping[str, str] = field(default_factory=dict)

    @property
    def errors(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.flag == "fatal")

    @property
    def warnings(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.flag == "warning")

    @property
    def status(self) -> Status:
        if self.errors:
            return "invalid"
        if self.layers_skipped:
            return "incomplete"
        return "valid"

    @property
    def valid(self) -> bool:
        return self.status == "valid"

    @property
    def summary(self) -> str:
        """One plain sentence for the UI and the logs."""
        if self.errors:
            first = self.errors[0]
            more = len(self.errors) - 1
            tail = f" (and {more} more)" if more else ""
            return f"Invalid: {first.rule_id}: {first.message}{tail}"
        not_run = "; ".join(
            f"the {LAYER_NAMES.get(layer, layer)} were not checked: {reason}"
            for layer, reason in self.layers_skipped.items()
        )
        if not_run:
            return f"No errors found, but not fully checked: {not_run}"
        return "Valid: " + ", ".join(LAYER_NAMES.get(layer, layer) for layer in self.layers_run)

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "summary": self.summary,
            "findings": [f.to_dict() for f in self.findings],
            "layers_run": list(self.layers_run),
            "layers_skipped": dict(self.layers_skipped),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ValidationReport:
        """Read back what ``to_dict`` stored; status and summary are derived, not trusted."""
        return cls(
            findings=tuple(Finding.from_dict(f) for f in data["findings"]),
            layers_run=tuple(str(layer) for layer in data["layers_run"]),
            layers_skipped={str(k): str(v) for k, v in data.get("layers_skipped", {}).items()},
        )


def normalise_flag(flag: str) -> Flag:
    """Map the severities Schematron files use onto ours; anything unknown counts as fatal."""
    value = flag.strip().lower()
    if value in ("warning", "warn"):
        return "warning"
    if value in ("information", "info"):
        return "information"
    return "fatal"


_EQNAME_STEP = re.compile(r"Q\{([^}]*)\}([\w.-]+)")
_SKELETON_STEP = re.compile(r"\*:([\w.-]+)\[namespace-uri\(\)='([^']*)'\]")


def readable_location(path: str) -> str:
    """Turn an engine's namespace-qualified XPath into one with the usual UBL prefixes.

    Handles both ``/Q{uri}Invoice[1]/...`` (XPath ``path()``) and the
    ``/*:Invoice[namespace-uri()='uri'][1]/...`` form of the official XSLT.
    """

    def prefixed(uri: str, local: str) -> str:
        if uri not in UBL_PREFIXES:
            return f"Q{{{uri}}}{local}"
        prefix = UBL_PREFIXES[uri]
        return f"{prefix}:{local}" if prefix else local

    path = _SKELETON_STEP.sub(lambda m: prefixed(m.group(2), m.group(1)), path)
    return _EQNAME_STEP.sub(lambda m: prefixed(m.group(1), m.group(2)), path).strip()
