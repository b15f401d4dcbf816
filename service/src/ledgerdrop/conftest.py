from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def isolated_files(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    """Each test stores its files in a folder of its own. The plain-Python packages (such as
    `documents/ubl`) also run without Django, where there are no settings to change."""
    location = tmp_path / "files"
    if request.config.pluginmanager.hasplugin("django"):
        settings = request.getfixturevalue("settings")
        settings.STORAGES = {
            **settings.STORAGES,
            "default": {
                "BACKEND": "django.core.files.storage.FileSystemStorage",
                "OPTIONS": {"location": location},
            },
        }
    return location
