"""The one place untrusted XML bytes are read: a hardened lxml parse, before anything else.

Saxon resolves external entities and fetches DTDs on its own, so the rest of the pipeline
only ever sees a tree produced here (and its re-serialisation), never the original bytes.
"""

from __future__ import annotations

from lxml import etree

DEFAULT_MAX_BYTES = 20 * 1024 * 1024

UBL_ROOTS = {
    "{urn:oasis:names:specification:ubl:schema:xsd:Invoice-2}Invoice": "Invoice",
    "{urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2}CreditNote": "CreditNote",
}


class RefusedXmlError(ValueError):
    """The bytes were refused before any validation; ``str()`` is a message a person can act on.

    ``code`` is a stable identifier for the report (``XML-TOO-LARGE``, ``XML-DOCTYPE``, ...).
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class UnsafeXmlError(RefusedXmlError):
    """Too large, not well-formed, or carrying a DOCTYPE (entities, DTDs)."""


class NotUblError(RefusedXmlError):
    """Well-formed, harmless XML that is not a UBL 2.1 invoice or credit note."""


_DOCTYPE_REFUSED = (
    "The file declares a DOCTYPE (a DTD or entities), which UBL invoices never use and which "
    "can hide XML attacks; it was refused without being read further."
)
# Only used to word the error of a parse that already failed.
_DOCTYPE_MARKERS = tuple("<!DOCTYPE".encode(codec) for codec in ("utf-8", "utf-16-le", "utf-16-be"))


class _RefuseExternalResources(etree.Resolver):  # type: ignore[misc]
    # libxml2 still opens external DTDs and parameter entities when asked not to load DTDs;
    # this resolver makes every such request fail before any file or URL is touched.
    def resolve(self, system_url: str, public_id: str, context: object) -> None:
        raise UnsafeXmlError("XML-DOCTYPE", _DOCTYPE_REFUSED)


def _hardened_parser() -> etree.XMLParser:
    # A fresh parser per call: lxml parsers keep state and should not be shared across threads.
    parser = etree.XMLParser(
        resolve_entities=False,
        load_dtd=False,
        dtd_validation=False,
        no_network=True,
        huge_tree=False,
        collect_ids=False,
    )
    parser.resolvers.add(_RefuseExternalResources())
    return parser


def parse_untrusted(
    data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES
) -> etree._ElementTree[etree._Element]:
    """Parse bytes from outside; refuse anything oversize, malformed or with a DOCTYPE."""
    if len(data) > max_bytes:
        raise UnsafeXmlError(
            "XML-TOO-LARGE",
            f"The file is {_megabytes(len(data))}, more than the {_megabytes(max_bytes)} "
            "accepted for one invoice or credit note.",
        )
    if not data.strip():
        raise UnsafeXmlError("XML-MALFORMED", "The file is empty.")
    try:
        root = etree.fromstring(data, _hardened_parser())
    except etree.XMLSyntaxError as exc:
        if any(marker in data for marker in _DOCTYPE_MARKERS):
            raise UnsafeXmlError("XML-DOCTYPE", _DOCTYPE_REFUSED) from exc
        raise UnsafeXmlError(
            "XML-MALFORMED", f"The file is not well-formed XML: {exc.msg}."
        ) from exc
    tree = root.getroottree()
    info = tree.docinfo
    # Entities and DTDs are how XML bombs and file-stealing references work, and UBL never
    # needs them, so any DOCTYPE is refused outright rather than inspected.
    if info.doctype or info.internalDTD is not None or info.externalDTD is not None:
        raise UnsafeXmlError("XML-DOCTYPE", _DOCTYPE_REFUSED)
    return tree


def parse_ubl(
    data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES
) -> etree._ElementTree[etree._Element]:
    """Parse untrusted bytes and require a UBL 2.1 Invoice or CreditNote root element."""
    tree = parse_untrusted(data, max_bytes=max_bytes)
    root = tree.getroot()
    if root.tag not in UBL_ROOTS:
        qname = etree.QName(root)
        namespace = f" in namespace {qname.namespace}" if qname.namespace else ""
        raise NotUblError(
            "XML-NOT-UBL",
            f"This is XML, but not a UBL 2.1 invoice or credit note: its root element is "
            f"<{qname.localname}>{namespace}.",
        )
    return tree


def size_refusal(size: int, max_bytes: int = DEFAULT_MAX_BYTES) -> str | None:
    """What to tell someone whose file of `size` bytes is over the limit, or None."""
    if size <= max_bytes:
        return None
    return f"The file is {_megabytes(size)}; the limit is {max_bytes / (1024 * 1024):g} MB."


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"
