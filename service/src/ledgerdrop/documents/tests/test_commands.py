"""`ledgerdrop rules install` and `ledgerdrop smtpd`, run for real."""

from __future__ import annotations

import hashlib
import smtplib
import socket
import subprocess
import sys
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from django.core import mail

from ledgerdrop.documents import inbound, rules_install, smtpd
from ledgerdrop.documents.models import Document
from tests import builders


def test_rules_are_installed_only_with_the_expected_checksum(
    peppol_rules: Path, tmp_path: Path
) -> None:
    target = tmp_path / "rules" / "PEPPOL-EN16931-UBL.sch"
    digest = hashlib.sha256(peppol_rules.read_bytes()).hexdigest()

    with pytest.raises(rules_install.RulesInstallError, match="SHA-256"):
        rules_install.install(str(peppol_rules), "0" * 64, target)
    assert not target.exists()

    assert rules_install.install(str(peppol_rules), digest, target) == target
    assert target.read_bytes() == peppol_rules.read_bytes()


def test_a_file_that_is_not_schematron_is_not_installed(tmp_path: Path) -> None:
    source = tmp_path / "rules.sch"
    source.write_bytes(b"<not-schematron/>")
    target = tmp_path / "installed.sch"

    with pytest.raises(rules_install.RulesInstallError, match="not a usable Schematron"):
        rules_install.install(str(source), hashlib.sha256(b"<not-schematron/>").hexdigest(), target)
    assert not target.exists()


def test_the_rules_install_command_says_what_went_wrong(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ledgerdrop.config.cli", "rules", "install",
         "--from", str(tmp_path / "missing.sch"), "--sha256", "0" * 64],
        capture_output=True, text=True, timeout=60,
        env={"LEDGERDROP_DATA_DIR": str(tmp_path / "data"), "PATH": "/usr/bin:/bin"},
    )  # fmt: skip

    assert result.returncode == 1
    assert "There is no file" in result.stderr


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def smtp_server(transactional_db: None, peppol_rules: Path) -> Iterator[tuple[str, int]]:
    port = _free_port()
    listener = smtpd.controller("127.0.0.1", port)
    listener.start()
    yield "127.0.0.1", port
    listener.stop()


def test_a_mailed_invoice_lands_in_the_companys_processing_list(
    smtp_server: tuple[str, int], settings: Any
) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    company = builders.invoicing_company()
    message = EmailMessage()
    message["From"] = "factures@moulins.be"
    message["To"] = inbound.inbox_address(company)
    message["Subject"] = "Facture INV-77"
    message.set_content("Bonjour")
    message.add_attachment(
        builders.received_ubl(company), maintype="application", subtype="xml", filename="i.xml"
    )
    message.add_attachment(b"hello", maintype="text", subtype="plain", filename="notes.txt")

    with smtplib.SMTP(*smtp_server, timeout=30) as client:
        client.send_message(message)
        with pytest.raises(smtplib.SMTPRecipientsRefused):
            client.sendmail("x@example.be", ["nobody@localhost"], b"Subject: x\r\n\r\nx")

    document = Document.objects.get(company=company)
    assert (document.kind, document.source) == ("incoming", "email")
    assert document.received_from == "factures@moulins.be"
    assert [m.to for m in mail.outbox] == [["factures@moulins.be"]]
    assert "notes.txt" in mail.outbox[0].body
