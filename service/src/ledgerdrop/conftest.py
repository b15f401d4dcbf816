from __future__ import annotations

from pathlib import Path

import pytest
from pytest_django import Settings as SettingsWrapper


@pytest.fixture(autouse=True)
def isolated_files(settings: SettingsWrapper, tmp_path: Path) -> Path:
    """Each test stores its files in a folder of its own."""
    location = tmp_path / "files"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": location},
        },
    }
    return location
