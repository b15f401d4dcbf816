"""Hostile or foreign bytes are refused by the hardened parse, before anything else reads them."""

from __future__ import annotations

import os
import socket
import threading
from pathlib import Path

import pytest

from ledgerdrop.documents.ubl.parse import NotUblError, UnsafeXmlError, parse_ubl
from ledgerdrop.documents.ubl.report import ValidationReport
from ledgerdrop.documents.ubl.validate import Validator

INVOICE_NS = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"

BILLION_LAUGHS = f"""<?xml version="1.0"?>
<!DOCTYPE Invoice [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<Invoice xmlns="{INVOICE_NS}">&lol9;</Invoice>""".encode()


def assert_refused_before_validation(report: ValidationReport, code: str) -> None:
    assert report.status == "invalid"
    assert report.layers_run == ("xml",)
    assert [(f.layer, f.rule_id, f.flag) for f in report.findings] == [("xml", code, "fatal")]
    assert set(report.layers_skipped) == {"xsd", "en16931", "peppol", "belgium"}


def test_a_billion_laughs_bomb_is_refused_at_once(validator: Validator) -> None:
    report = validator.validate(BILLION_LAUGHS)

    assert_refused_before_validation(report, "XML-DOCTYPE")
    assert "DOCTYPE" in report.findings[0].message


def test_an_external_entity_never_leaks_a_local_file(validator: Validator, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-MARKER")
    data = (
        f'<!DOCTYPE Invoice [<!ENTITY x SYSTEM "{secret.as_uri()}">]>'
        f'<Invoice xmlns="{INVOICE_NS}"><ID>&x;</ID></Invoice>'
    ).encode()

    report = validator.validate(data)

    assert_refused_before_validation(report, "XML-DOCTYPE")
    assert "TOP-SECRET-MARKER" not in str(report.to_dict())


def test_an_external_dtd_or_parameter_entity_is_never_opened(tmp_path: Path) -> None:
    # Opening a FIFO for reading blocks until someone writes: a parser that tried to read
    # the DTD would hang here instead of refusing.
    fifo = tmp_path / "external.dtd"
    os.mkfifo(fifo)
    documents = [
        f'<!DOCTYPE Invoice SYSTEM "{fifo.as_uri()}"><Invoice xmlns="{INVOICE_NS}"/>',
        f'<!DOCTYPE Invoice [<!ENTITY % p SYSTEM "{fifo.as_uri()}"> %p;]>'
        f'<Invoice xmlns="{INVOICE_NS}"/>',
    ]
    errors: list[UnsafeXmlError] = []

    def parse_all() -> None:
        for document in documents:
            try:
                parse_ubl(document.encode())
            except UnsafeXmlError as exc:
                errors.append(exc)

    worker = threading.Thread(target=parse_all, daemon=True)
    worker.start()
    worker.join(timeout=10)
    if worker.is_alive():
        with fifo.open("w"):
            pass  # unblock the reader before failing
        pytest.fail("The parser opened the external DTD.")
    assert [e.code for e in errors] == ["XML-DOCTYPE", "XML-DOCTYPE"]


def test_an_external_dtd_on_the_network_is_never_fetched(validator: Validator) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.settimeout(0.5)
        port = listener.getsockname()[1]
        data = (
            f'<!DOCTYPE Invoice SYSTEM "http://127.0.0.1:{port}/ubl.dtd">'
            f'<Invoice xmlns="{INVOICE_NS}"/>'
        ).encode()

        report = validator.validate(data)

        with pytest.raises(TimeoutError):
            listener.accept()
    assert_refused_before_validation(report, "XML-DOCTYPE")


def test_an_oversize_file_is_refused_without_being_parsed(validator: Validator) -> None:
    data = f'<Invoice xmlns="{INVOICE_NS}">'.encode() + b" " * (21 * 1024 * 1024)

    report = validator.validate(data)

    assert_refused_before_validation(report, "XML-TOO-LARGE")
    assert "20.0 MB" in report.findings[0].message


def test_a_file_that_is_not_xml_is_refused_as_malformed(validator: Validator) -> None:
    report = validator.validate(b"%PDF-1.7 this is not an invoice")

    assert_refused_before_validation(report, "XML-MALFORMED")
    assert "not well-formed XML" in report.findings[0].message


@pytest.mark.parametrize(
    "data",
    [
        b"<html><body>Invoice 42</body></html>",
        b'<Order xmlns="urn:oasis:names:specification:ubl:schema:xsd:Order-2"/>',
        b"<Invoice/>",
    ],
)
def test_xml_that_is_not_a_ubl_invoice_or_credit_note_is_refused(
    validator: Validator, data: bytes
) -> None:
    report = validator.validate(data)

    assert_refused_before_validation(report, "XML-NOT-UBL")
    with pytest.raises(NotUblError, match=r"not a UBL 2\.1 invoice or credit note"):
        parse_ubl(data)
