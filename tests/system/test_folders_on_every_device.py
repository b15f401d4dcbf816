"""A new connection's `achats` and `ventes` reach the waiting downloaders within a second (S5),
in the help page's order: the connection is made long before any default device is chosen, so
every device of the firm gets the folders (any of them can be picked when sending)."""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from ledgerdrop.accounts import services as accounts_services
from ledgerdrop.connectors.bob_demat import services as bob_demat
from ledgerdrop.delivery import services
from ledgerdrop_protocol import routes
from tests import builders
from tests.conftest import LiveService

pytestmark = pytest.mark.system


def test_a_connection_without_a_default_device_reaches_every_waiting_device_within_a_second(
    live_service: LiveService,
) -> None:
    kevin = builders.user("kevin@fiduciaire.be")
    firm = builders.firm(owner=kevin)
    bob_demat.enable(firm, by=None)
    dossier = accounts_services.link_accountant(builders.company(), firm, by=None)
    devices = [services.register_device(firm, name=name) for name in ("PC Kevin", "Serveur")]
    answers: dict[str, tuple[float, list[str]]] = {}

    def poll(name: str, token: str) -> None:
        offers = f"{live_service.url}{routes.OFFERS.url()}"
        auth = {"Authorization": f"Bearer {token}"}
        state = httpx.get(offers, headers=auth, timeout=10).json()["state"]
        response = httpx.get(offers, params={"wait": 20, "state": state}, headers=auth, timeout=30)
        answers[name] = (time.monotonic(), response.json()["folders"])

    pollers = [
        threading.Thread(target=poll, args=(device.device.name, device.token)) for device in devices
    ]
    for poller in pollers:
        poller.start()
    time.sleep(1.5)  # both polls are held by now
    assert not answers, "a poll was answered before anything changed"

    token = httpx.post(
        f"{live_service.url}/api/v1/tokens",
        json={"email": kevin.email, "password": builders.PASSWORD},
    ).json()["token"]
    made = httpx.post(
        f"{live_service.url}/api/v1/firms/{firm.pk}/bob-demat/connections",
        json={"dossier_id": dossier.pk, "dossier_code": "DUPONT"},
        headers={"Authorization": f"Bearer {token}"},
    )
    connected_at = time.monotonic()
    assert made.status_code == 201, made.text
    for poller in pollers:
        poller.join(timeout=25)

    assert sorted(answers) == ["PC Kevin", "Serveur"]
    for name, (answered_at, folders) in answers.items():
        assert folders == ["DUPONT/achats", "DUPONT/ventes"], name
        assert answered_at - connected_at < 1.0, f"{name}: {answered_at - connected_at:.2f} s"
