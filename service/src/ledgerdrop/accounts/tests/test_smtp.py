from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(envelope)
        return "250 OK"


def test_with_an_smtp_host_configured_mail_leaves_over_smtp(tmp_path: Path) -> None:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        env = {
            **os.environ,
            "LEDGERDROP_DATA_DIR": str(tmp_path),
            "LEDGERDROP_SMTP_HOST": "127.0.0.1",
            "LEDGERDROP_SMTP_PORT": str(port),
            "LEDGERDROP_SMTP_STARTTLS": "0",
        }
        subprocess.run(
            [sys.executable, "-m", "ledgerdrop.config.cli", "manage", "sendtestemail",
             "kevin@fiduciaire.be"],
            env=env, check=True, capture_output=True, timeout=60,
        )  # fmt: skip
    finally:
        controller.stop()

    assert [message.rcpt_tos for message in inbox.messages] == [["kevin@fiduciaire.be"]]
    assert not (tmp_path / "mail").exists()
