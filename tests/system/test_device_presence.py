"""A device's online status tells the truth within seconds, with the real service and the real
downloader: online for as long as its long-poll is held, offline within seconds once it stops,
whether it stops cleanly or its connection just drops."""

from __future__ import annotations

import subprocess
import sys
import time

import httpx
import pytest

from ledgerdrop.delivery import services
from ledgerdrop.delivery.models import ONLINE_AFTER_CONTACT, Device
from ledgerdrop_protocol import routes
from tests import builders
from tests.conftest import Agent, LiveService

pytestmark = pytest.mark.system


def status_of(device: Device) -> str:
    return "online" if Device.objects.get(pk=device.pk).is_online else "offline"


def wait_for_status(device: Device, status: str, timeout: float) -> float:
    """Seconds until the device shows `status`; fails after `timeout`."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if status_of(device) == status:
            return time.monotonic() - started
        time.sleep(0.1)
    raise AssertionError(f"the device still shows {status_of(device)} after {timeout} s")


def test_a_running_downloader_is_online_and_a_stopped_one_offline_within_seconds(
    agent: Agent, live_service: LiveService
) -> None:
    firm = builders.firm()
    _, key = services.mint_enrolment_key(firm, by=None)
    paired = agent.run(
        "pair", "--server", agent.server, "--name", "PC Kevin", "--enrolment-key", key
    )
    assert paired.returncode == 0, paired.stdout + paired.stderr
    device = Device.objects.get(firm=firm)
    Device.objects.filter(pk=device.pk).update(root_folder=str(agent.root), online_until=None)

    downloader = agent.start("run")
    try:
        wait_for_status(device, "online", timeout=15)
        # Longer than any single request keeps it online: the held long-poll does.
        time.sleep(ONLINE_AFTER_CONTACT.total_seconds() + 3)
        assert status_of(device) == "online"
    finally:
        downloader.terminate()
        downloader.wait(timeout=30)

    # Sooner than the 15 s any contact keeps a device online: the server saw the connection drop.
    wait_for_status(device, "offline", timeout=10)


def test_a_long_poll_whose_connection_drops_shows_offline_within_seconds(
    live_service: LiveService,
) -> None:
    credential = services.register_device(builders.firm(), name="PC Kevin", os="Linux")
    offers = f"{live_service.url}{routes.OFFERS.url()}"
    auth = {"Authorization": f"Bearer {credential.token}"}
    state = httpx.get(offers, headers=auth).json()["state"]
    Device.objects.filter(pk=credential.device.pk).update(online_until=None)
    poll = subprocess.Popen(
        [
            sys.executable, "-c",
            "import sys, urllib.request as u;"
            "u.urlopen(u.Request(sys.argv[1], headers={'Authorization': 'Bearer ' + sys.argv[2]}))",
            f"{offers}?wait=50&state={state}",
            credential.token,
        ]
    )  # fmt: skip
    try:
        wait_for_status(credential.device, "online", timeout=10)
        time.sleep(1)
        assert poll.poll() is None, "the poll was answered instead of being held"
    finally:
        poll.kill()  # as a PC losing power: no goodbye, the connection just closes
        poll.wait()

    # Sooner than the 15 s any contact keeps a device online: the server saw the connection drop.
    wait_for_status(credential.device, "offline", timeout=10)
    assert httpx.get(f"{live_service.url}/healthz").status_code == 200
