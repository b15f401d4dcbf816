from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from ledgerdrop.documents.ubl.validate import Validator

PEPPOL_SCH = Path("bis-billing-3.0.19/sch/PEPPOL-EN16931-UBL.sch")


def _repository_root() -> Path:
    for folder in Path(__file__).resolve().parents:
        if (folder / "uv.lock").is_file():
            return folder
    raise RuntimeError("No uv.lock above the tests: cannot find the repository root.")


@pytest.fixture(scope="session")
def peppol_material() -> Path:
    """The official PEPPOL and CEN validation material (``../shared/peppol`` by default)."""
    configured = os.environ.get("LEDGERDROP_PEPPOL_MATERIAL")
    folder = Path(configured) if configured else _repository_root().parent / "shared" / "peppol"
    if not (folder / PEPPOL_SCH).is_file():
        pytest.fail(
            f"The official PEPPOL/CEN validation material is missing: no {folder / PEPPOL_SCH}."
            " Put it at ../shared/peppol next to the repository (see its README) or point"
            " LEDGERDROP_PEPPOL_MATERIAL at it: without it these tests cannot prove validation.",
            pytrace=False,
        )
    return folder


@pytest.fixture(scope="session")
def validator(peppol_material: Path) -> Validator:
    """One full validator for the whole session: compiling the rules is the slow part."""
    return Validator(peppol_material / PEPPOL_SCH)


@pytest.fixture(scope="session")
def base_invoice(peppol_material: Path) -> bytes:
    return (peppol_material / "bis-billing-3.0.19/examples/base-example.xml").read_bytes()


@pytest.fixture
def peppol_rules(peppol_material: Path, settings: Any) -> Path:
    """Point the service's PEPPOL rules setting at the official file (Django tests only)."""
    path = peppol_material / PEPPOL_SCH
    settings.LEDGERDROP_PEPPOL_RULES = path
    return path
