"""Every page and API answer carries a Content-Security-Policy that allows no inline script."""

from __future__ import annotations

import pytest
from django.test import Client

from tests import builders

pytestmark = pytest.mark.django_db


def _policy(client: Client, path: str) -> dict[str, str]:
    header = client.get(path)["Content-Security-Policy"]
    directives = (part.strip().split(" ", 1) for part in header.split(";") if part.strip())
    return {name: value for name, value in directives}


@pytest.mark.parametrize("path", ["/accounts/login/", "/signup/firm/", "/api/v1/openapi.json"])
def test_pages_and_api_answers_allow_only_this_servers_own_scripts(
    client: Client, path: str
) -> None:
    policy = _policy(client, path)

    assert policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
    assert "unsafe" not in " ".join(policy.values())


def test_a_signed_in_page_carries_the_policy(client: Client) -> None:
    owner = builders.user()
    company = builders.company(owner=owner)
    client.force_login(owner)

    assert _policy(client, f"/companies/{company.pk}/settings/")["default-src"] == "'self'"
