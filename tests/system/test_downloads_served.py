"""The downloads as the real server sends them under uvicorn: in full, streamed."""

from __future__ import annotations

import hashlib
import os

import httpx
import pytest

from tests.conftest import LiveService

pytestmark = pytest.mark.system


def test_the_windows_zip_arrives_whole_with_its_announced_length(
    live_service: LiveService,
) -> None:
    downloads = live_service.data_dir / "downloads"
    downloads.mkdir()
    content = os.urandom(5 * 1024 * 1024 + 7)
    (downloads / "ledgerdrop-agent-windows.zip").write_bytes(content)

    answer = httpx.get(f"{live_service.url}/downloads/agent/ledgerdrop-agent-windows.zip")

    assert answer.status_code == 200
    assert answer.headers["content-length"] == str(len(content))
    assert answer.headers["content-type"] == "application/zip"
    assert hashlib.sha256(answer.content).digest() == hashlib.sha256(content).digest()
