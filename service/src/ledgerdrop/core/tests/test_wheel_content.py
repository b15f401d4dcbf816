"""The service's wheel ships the service: no tests, no pytest set-up, no test builders."""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

from build import ProjectBuilder

SERVICE_PROJECT = Path(__file__).resolve().parents[4]


def test_the_wheel_carries_no_tests(tmp_path: Path) -> None:
    # The backend installed beside the service (hatchling) builds offline, as the downloads do.
    wheel = ProjectBuilder(SERVICE_PROJECT, python_executable=sys.executable).build(
        "wheel", tmp_path
    )
    names = zipfile.ZipFile(wheel).namelist()

    assert "ledgerdrop/config/cli.py" in names
    assert "ledgerdrop/documents/migrations/0001_initial.py" in names
    test_files = [
        name
        for name in names
        if "tests" in Path(name).parts
        or Path(name).name in {"conftest.py", "testing.py"}
        or Path(name).name.startswith("test_")
    ]
    assert test_files == []
