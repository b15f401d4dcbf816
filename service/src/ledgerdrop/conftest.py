from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher


class FastPasswordHasher(PBKDF2PasswordHasher):
    """PBKDF2 at one iteration. The suite makes hundreds of users, and the real hasher spends a
    third of a second on each. A server process started by a test still verifies these hashes:
    PBKDF2 takes the iteration count written in the hash."""

    iterations = 1


def use_fast_password_hashing() -> None:
    from django.conf import global_settings, settings
    from django.core.signals import setting_changed

    hashers = [
        f"{__name__}.FastPasswordHasher",
        *global_settings.PASSWORD_HASHERS,  # what a server process wrote still verifies here
    ]
    settings.PASSWORD_HASHERS = hashers
    # As `override_settings` does, so that hashers looked up already are looked up again.
    setting_changed.send(sender=None, setting="PASSWORD_HASHERS", value=hashers, enter=True)


def pytest_configure(config: pytest.Config) -> None:
    if config.pluginmanager.hasplugin("django"):
        use_fast_password_hashing()


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
