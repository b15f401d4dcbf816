"""The real downloader against the real service: the main folder set on the server is made on
first use, a vanished one is not made again but reported (the device shows why nothing
arrives), and when the drive is back the waiting document is placed and the state clears."""

from __future__ import annotations

import random

import pytest

from ledgerdrop.delivery import services as delivery_services
from ledgerdrop.delivery.models import Delivery, Device
from tests.conftest import Agent
from tests.system.transfer import MARKER, paired_device, queue_documents

pytestmark = pytest.mark.system


def test_a_vanished_main_folder_is_reported_to_the_service_and_heals_when_back(
    agent: Agent,
) -> None:
    device = paired_device(agent)
    main_folder = agent.root.parent / "drive" / "bob-demat"
    main_folder.parent.mkdir()
    delivery_services.update_device(device, root_folder=str(main_folder), by=None)
    first = queue_documents(device, 1, rng=random.Random(1))

    made = agent.run("run", "--once")

    assert made.returncode == 0, made.stdout + made.stderr
    assert (main_folder / MARKER).is_file()
    assert [(main_folder / path).read_bytes() for path in first] == list(first.values())

    unplugged = main_folder.parent.rename(agent.root.parent / "unplugged")
    main_folder.parent.mkdir()  # the empty mount point that stays behind
    queue_documents(device, 1, rng=random.Random(2), start=1)

    refused = agent.run("run", "--once")

    assert refused.returncode == 1
    assert list(main_folder.parent.iterdir()) == []
    device.refresh_from_db()
    assert device.folder_problem == "vanished"
    assert device.reported_main_folder == str(main_folder)
    assert Delivery.objects.filter(device=device, state=Delivery.State.QUEUED).count() == 1

    main_folder.parent.rmdir()
    unplugged.rename(main_folder.parent)  # the drive is back

    healed = agent.run("run", "--once")

    assert healed.returncode == 0, healed.stdout + healed.stderr
    device = Device.objects.get(pk=device.pk)
    assert device.folder_problem == ""
    assert not Delivery.objects.filter(device=device).exclude(state="delivered").exists()
