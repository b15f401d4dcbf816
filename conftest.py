"""Set-up shared by every test of the repository. The test builders and helpers live in the
`tests` package beside this file, outside the packages that ship. The downloader's own tests also
run under a Windows Python without Django (`make test-windows`): nothing here imports Django
unless pytest-django is loaded."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# The S3-compatible object store (moto's server) for the tests of object storage.
pytest_plugins = ["tests.object_storage"]

SERVICE_SOURCES = Path(__file__).resolve().parent / "service" / "src"


def _on_postgresql() -> bool:
    return os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))


def pytest_configure(config: pytest.Config) -> None:
    if config.pluginmanager.hasplugin("django"):
        from tests.passwords import use_fast_password_hashing

        use_fast_password_hashing()


@pytest.fixture(autouse=True)
def isolated_files(request: pytest.FixtureRequest) -> Path | None:
    """Each test of the service's apps stores its files in a folder of its own. The plain-Python
    packages (such as `documents/ubl`) also run without Django, where there are no settings to
    change. Tests elsewhere say where their files go (the system tests' `live_service`)."""
    if not request.path.is_relative_to(SERVICE_SOURCES):
        return None
    location: Path = request.getfixturevalue("tmp_path") / "files"
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


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked `postgresql` need what only PostgreSQL has (several nodes on one database):
    they run in the PostgreSQL leg (`make test-postgres`) and are left out of the SQLite one."""
    if _on_postgresql():
        return
    left_out = [item for item in items if item.get_closest_marker("postgresql")]
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = [item for item in items if not item.get_closest_marker("postgresql")]
