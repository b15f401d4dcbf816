from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ledgerdrop.documents.ubl import peppol_bis
from ledgerdrop.documents.ubl.validate import Validator


def _repository_root() -> Path:
    for folder in Path(__file__).resolve().parents:
        if (folder / "uv.lock").is_file():
            return folder
    raise RuntimeError("No uv.lock above the tests: cannot find the repository root.")


@pytest.fixture(scope="session")
def peppol_material() -> Path:
    """The official PEPPOL and CEN examples and unit tests, carried in the repository
    (tests/data/peppol, see its README): a fresh clone tests validation with nothing beside it."""
    folder = _repository_root() / "tests" / "data" / "peppol"
    if not (folder / "bis-billing-3.0.19" / "examples").is_dir():
        pytest.fail(f"The official validation test material is missing from {folder}.")
    return folder


@pytest.fixture(scope="session")
def validator() -> Validator:
    """One full validator with the PEPPOL rules Ledgerdrop ships, for the whole session:
    compiling the rules is the slow part."""
    return Validator(peppol_bis.RULES)


@pytest.fixture(scope="session")
def base_invoice(peppol_material: Path) -> bytes:
    return (peppol_material / "bis-billing-3.0.19/examples/base-example.xml").read_bytes()


@pytest.fixture
def peppol_rules(settings: Any) -> Path:
    """Point the service's PEPPOL rules setting at the shipped file (Django tests only)."""
    settings.LEDGERDROP_PEPPOL_RULES = peppol_bis.RULES
    return peppol_bis.RULES
