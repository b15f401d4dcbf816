"""The examples the sign-up page gives are numbers that pass the page's own check."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from stdnum.be import vat

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("language", ["fr", "nl", "en"])
def test_the_vat_number_shown_as_an_example_is_a_valid_one(client: Client, language: str) -> None:
    page = client.get("/signup/company/", HTTP_ACCEPT_LANGUAGE=language).content.decode()

    examples = set(re.findall(r"BE\d{10}", page))
    assert examples
    assert all(vat.is_valid(example) for example in examples), examples
