from __future__ import annotations

import pytest
from django.test import Client
from django.urls import NoReverseMatch, reverse

from ledgerdrop.accounts.models import AuditEntry
from ledgerdrop.connectors.bob_demat.models import DematSettings
from tests import builders

pytestmark = pytest.mark.django_db


@pytest.fixture
def firm_client(client: Client) -> tuple[Client, int]:
    accountant = builders.user("kevin@fidu.be")
    firm = builders.firm("Fiduciaire Kevin", owner=accountant)
    client.force_login(accountant)
    return client, firm.pk


def sage_demat_entry_shown(client: Client, firm_id: int) -> bool:
    page = client.get(f"/firms/{firm_id}/dossiers/").content.decode()
    menu = page.split('<nav class="menu"', 1)[1].split("</nav>", 1)[0]
    return "Sage Demat" in menu


def test_switching_on_sage_bob_demat_adds_the_sage_demat_menu_entry(
    firm_client: tuple[Client, int],
) -> None:
    client, firm_id = firm_client
    try:
        reverse("bob-demat", args=[firm_id])
    except NoReverseMatch:
        pytest.fail("the Sage Demat page (URL name 'bob-demat') is not installed")
    assert not sage_demat_entry_shown(client, firm_id)

    client.post(f"/firms/{firm_id}/apps/bob-demat/", {"enabled": "1"})

    assert DematSettings.objects.get(firm_id=firm_id).enabled
    assert sage_demat_entry_shown(client, firm_id)

    client.post(f"/firms/{firm_id}/apps/bob-demat/", {"enabled": "0"})

    assert not DematSettings.objects.get(firm_id=firm_id).enabled
    assert not sage_demat_entry_shown(client, firm_id)
    actions = list(
        AuditEntry.objects.filter(organisation_id=firm_id).values_list("action", flat=True)
    )
    assert {"bob_demat.enabled", "bob_demat.disabled"} <= set(actions)


def test_the_api_lists_and_switches_applications(firm_client: tuple[Client, int]) -> None:
    client, firm_id = firm_client

    before = client.get(f"/api/v1/firms/{firm_id}/apps").json()
    switched = client.put(
        f"/api/v1/firms/{firm_id}/apps/bob-demat",
        {"enabled": True},
        content_type="application/json",
    )

    # BOB Demat first, then the package connectors (connectors.presets), all off.
    assert before[0] == {
        "slug": "bob-demat", "name": "Sage BOB Demat", "section": "accounting", "enabled": False
    }  # fmt: skip
    assert [app["slug"] for app in before[1:]] == [
        "expert-m", "adsolut", "venice", "topaccount", "winbooks", "folder",
        "admisol", "winauditor", "yuki", "clearfacts", "winbooks-web", "email",
    ]  # fmt: skip
    assert not any(app["enabled"] for app in before)
    assert switched.status_code == 200
    assert switched.json()["enabled"] is True
    assert DematSettings.objects.get(firm_id=firm_id).enabled


def test_an_unknown_application_is_a_validation_error(firm_client: tuple[Client, int]) -> None:
    client, firm_id = firm_client

    response = client.put(
        f"/api/v1/firms/{firm_id}/apps/exact-online",
        {"enabled": True},
        content_type="application/json",
    )

    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert [error["field"] for error in response.json()["errors"]] == ["slug"]
