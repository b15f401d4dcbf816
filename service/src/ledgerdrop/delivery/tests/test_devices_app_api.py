"""The firm's devices through the application API (`/api/v1/firms/{fid}/…`, API.md)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from ledgerdrop.accounts.models import Organisation
from ledgerdrop.core import storage
from ledgerdrop.delivery import services
from ledgerdrop.delivery.models import Device, DevicePairing
from ledgerdrop_protocol import FailReason, FailReport, PairingRequest
from tests import builders

pytestmark = pytest.mark.django_db

FACTS = PairingRequest(name="PC Kevin", hostname="KEVIN-PC", os="Linux 6.1", os_user="kevin")


class Api:
    def __init__(self, firm: Organisation) -> None:
        self.client = Client()
        self.client.force_login(firm.memberships.get().user)
        self.base = f"/api/v1/firms/{firm.pk}"

    def get(self, path: str, **params: Any) -> Any:
        return self.client.get(f"{self.base}{path}", params)

    def send(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        return getattr(self.client, method)(
            f"{self.base}{path}", body or {}, content_type="application/json"
        )


@pytest.fixture
def firm() -> Organisation:
    return builders.firm()


@pytest.fixture
def api(firm: Organisation) -> Api:
    return Api(firm)


def test_approving_a_user_code_pairs_the_device_and_lists_it(api: Api, firm: Organisation) -> None:
    pairing, _ = services.start_pairing(FACTS)

    approved = api.send("post", "/devices/approve", {"user_code": pairing.user_code, "name": "NAS"})
    listed = api.get("/devices").json()

    assert approved.status_code == 201
    assert approved.json()["name"] == "NAS"
    [device] = listed
    assert {key: device[key] for key in ("name", "hostname", "os", "root_folder", "status")} == {
        "name": "NAS",
        "hostname": "KEVIN-PC",
        "os": "Linux 6.1",
        "root_folder": "~/bob-demat",
        "status": "offline",
    }
    assert set(device) >= {"id", "agent_version", "last_seen_at"}


def test_a_wrong_user_code_is_a_problem_with_a_way_forward(api: Api) -> None:
    answer = api.send("post", "/devices/approve", {"user_code": "BCDF-GHJK", "name": "NAS"})

    assert answer.status_code == 404
    assert answer["Content-Type"] == "application/problem+json"
    assert "Relancez le jumelage" in answer.json()["title"]  # French: the default language


def test_guessing_codes_through_the_api_is_stopped_with_429(api: Api) -> None:
    for _ in range(services.MAX_WRONG_GUESSES_PER_USER):
        api.send("post", "/devices/approve", {"user_code": "BCDF-GHJK"})

    answer = api.send("post", "/devices/approve", {"user_code": "BCDF-GHJK"})

    assert answer.status_code == 429


def test_denying_a_code_through_the_api(api: Api) -> None:
    pairing, _ = services.start_pairing(FACTS)

    answer = api.send("post", "/devices/deny", {"user_code": pairing.user_code})

    assert answer.json()["state"] == DevicePairing.State.DENIED
    assert not Device.objects.exists()


def test_an_enrolment_key_comes_with_its_expiry_and_command(api: Api) -> None:
    answer = api.send("post", "/devices/enrolment-keys")

    body = answer.json()
    assert answer.status_code == 201
    assert body["key"].startswith("lde_") and body["expires_at"]
    assert body["command"] == (
        f"ledgerdrop-agent pair --server http://testserver --enrolment-key {body['key']}"
    )


def test_an_enrolment_key_comes_with_the_install_command_of_each_system(api: Api) -> None:
    body = api.send("post", "/devices/enrolment-keys").json()

    assert body["install_commands"] == {
        "linux": "curl -fsSL http://testserver/downloads/agent/install.sh"
        f" | LEDGERDROP_ENROLMENT_KEY={body['key']} sh",
        "windows": f"$env:LEDGERDROP_ENROLMENT_KEY='{body['key']}';"
        " irm http://testserver/downloads/agent/install.ps1 | iex",
    }


def test_patch_sets_the_main_folder_and_name_and_refuses_a_relative_folder(
    api: Api, firm: Organisation
) -> None:
    device = services.register_device(firm, name="PC Kevin", os="Windows 11").device

    changed = api.send("patch", f"/devices/{device.pk}", {"root_folder": r"e:\demat"})
    refused = api.send("patch", f"/devices/{device.pk}", {"root_folder": "demat", "name": "X"})

    assert changed.json()["root_folder"] == r"e:\demat"
    assert refused.status_code == 422
    assert "chemin absolu" in refused.json()["title"]
    device.refresh_from_db()
    assert (device.name, device.root_folder) == ("PC Kevin", r"e:\demat")


def test_delete_revokes_the_device(api: Api, firm: Organisation) -> None:
    credential = services.register_device(firm, name="PC Kevin")

    answer = api.send("delete", f"/devices/{credential.device.pk}")

    assert answer.status_code == 204
    assert services.authenticate_device(credential.token) is None
    assert api.get("/devices").json() == []


def test_another_firms_devices_are_out_of_reach(api: Api) -> None:
    other_firm = builders.firm()
    theirs = services.register_device(other_firm, name="Their PC").device

    assert api.send("patch", f"/devices/{theirs.pk}", {"name": "Mine"}).status_code == 404
    assert api.send("delete", f"/devices/{theirs.pk}").status_code == 404
    assert api.client.get(f"/api/v1/firms/{other_firm.pk}/devices").status_code == 404


def test_the_delivery_history_has_states_and_failure_reasons(api: Api, firm: Organisation) -> None:
    device = services.register_device(firm, name="PC Kevin").device
    queued = services.queue_delivery(
        device, relative_path="DUPONT/ventes/a.xml", blob=storage.put(b"<Invoice>a</Invoice>")
    )
    failed = services.queue_delivery(
        device, relative_path="DUPONT/ventes/b.xml", blob=storage.put(b"<Invoice>b</Invoice>")
    )
    services.report_failure(
        device, failed.pk, FailReport(reason=FailReason("folder_missing"), message="no e:\\")
    )

    everything = api.get("/deliveries").json()
    only_failed = api.get("/deliveries", state="failed").json()

    assert [d["id"] for d in everything] == [failed.pk, queued.pk]
    [failure] = only_failed
    assert (failure["state"], failure["failure_reason"], failure["failure_message"]) == (
        "failed",
        "folder_missing",
        "no e:\\",
    )
    assert failure["device_name"] == "PC Kevin"


def test_a_document_filter_beyond_any_record_is_a_problem_not_a_server_error(api: Api) -> None:
    answer = api.get("/deliveries", document_id=2**64)

    assert answer.status_code == 422
    assert answer["Content-Type"] == "application/problem+json"
