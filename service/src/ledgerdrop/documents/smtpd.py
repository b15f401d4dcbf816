"""`ledgerdrop smtpd`: the inbound e-mail listener. Each company has its own address
(`inbound.inbox_address`); mail to an unknown address is refused at RCPT time, so the
sending server bounces it and nothing is stored."""

from __future__ import annotations

import logging
import threading
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from asgiref.sync import sync_to_async
from django.db import connection

from ledgerdrop.documents import inbound

logger = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 30 * 1024 * 1024


def _known(address: str) -> bool:
    try:
        return inbound.company_for_address(address) is not None
    finally:
        # Messages are rare next to requests: a connection per message is cheap, and one held
        # open by the listener's worker thread would outlive a database restart.
        connection.close()


def deliver(recipients: list[str], sender: str, raw: bytes) -> int:
    """Hand one message to every company it is addressed to; returns how many documents came."""
    try:
        taken = 0
        for recipient in recipients:
            company = inbound.company_for_address(recipient)
            if company is not None:
                taken += len(inbound.receive_mail(company, raw, sender).received)
        return taken
    finally:
        connection.close()


class InboxHandler:
    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        try:
            known = await sync_to_async(_known)(address)
        except Exception:
            logger.exception("could not look up the mailbox %s", address)
            return "451 4.3.0 Could not check the mailbox now; try again later"
        if not known:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        if isinstance(raw, str):
            raw = raw.encode()
        try:
            taken = await sync_to_async(deliver)(
                list(envelope.rcpt_tos), envelope.mail_from or "", raw
            )
        except Exception:
            logger.exception("could not process a message from %s", envelope.mail_from)
            return "451 4.3.0 Could not process the message now; try again later"
        logger.info("message from %s: %d document(s) taken", envelope.mail_from, taken)
        return "250 Message accepted"


def controller(host: str, port: int) -> Controller:
    return Controller(InboxHandler(), hostname=host, port=port, data_size_limit=MAX_MESSAGE_BYTES)


def serve(host: str, port: int) -> None:
    """Listen until interrupted."""
    # aiosmtpd logs every SMTP command at INFO; the documents taken are what matters here.
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    listener = controller(host, port)
    listener.start()
    print(f"Ledgerdrop inbound e-mail on {host}:{port}. Press Ctrl-C to stop.", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        listener.stop()
