"""What the server keeps is for its own user: the data folder, the SQLite database, the stored
files; and browsers are told to stay on HTTPS when the deployment is behind it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from pytest_django import Settings as SettingsWrapper

from ledgerdrop.core import storage

# A fresh server process: settings read the environment once, at start.
_SERVE_ONE_REQUEST = """
import json, django
django.setup()
from django.test import Client
response = Client().get("/healthz", headers={"host": "localhost"})
print(json.dumps({"status": response.status_code, "headers": dict(response.headers)}))
"""


def _start_server_process(data_dir: Path, **env: str) -> dict[str, object]:
    environment = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    environment.update(LEDGERDROP_DATA_DIR=str(data_dir), **env)
    result = subprocess.run(
        [sys.executable, "-c", _SERVE_ONE_REQUEST],
        env=environment, capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    answer: dict[str, object] = json.loads(result.stdout.strip().splitlines()[-1])
    return answer


def _mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def test_a_new_data_folder_and_its_database_are_readable_by_their_owner_only(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "data"

    assert _start_server_process(data_dir)["status"] == 200

    assert _mode(data_dir) == 0o700
    database = data_dir / "ledgerdrop.sqlite3"
    assert _mode(database) == 0o600
    for companion in (data_dir / "ledgerdrop.sqlite3-wal", data_dir / "ledgerdrop.sqlite3-shm"):
        if companion.exists():
            assert _mode(companion) == 0o600
    assert _mode(data_dir / "secret_key") == 0o600


def test_an_existing_world_readable_install_is_closed_on_the_next_start(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    _start_server_process(data_dir)
    database = data_dir / "ledgerdrop.sqlite3"
    data_dir.chmod(0o755)
    database.chmod(0o644)

    _start_server_process(data_dir)

    assert _mode(data_dir) == 0o700
    assert _mode(database) == 0o600


def test_stored_files_are_readable_by_their_owner_only(
    tmp_path: Path, settings: SettingsWrapper
) -> None:
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path / "files"},
        },
    }

    blob = storage.put(b"<Invoice/>")

    assert _mode(tmp_path / "files" / blob.name) & 0o077 == 0


@pytest.mark.parametrize(("secure_cookies", "hsts"), [("1", "max-age=31536000"), ("0", None)])
def test_browsers_are_told_to_keep_to_https_only_when_secure_cookies_are_on(
    tmp_path: Path, secure_cookies: str, hsts: str | None
) -> None:
    answer = _start_server_process(tmp_path / "data", LEDGERDROP_SECURE_COOKIES=secure_cookies)

    headers = answer["headers"]
    assert isinstance(headers, dict)
    assert headers.get("Strict-Transport-Security") == hsts
