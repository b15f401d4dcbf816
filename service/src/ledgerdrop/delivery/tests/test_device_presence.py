"""Whether a device shows online tells the truth within seconds (the real gate and downloader
are in tests/system/test_device_presence.py): a request keeps it online a little while, a held
long-poll for its whole wait, and a dropped long-poll ends it at once."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from ledgerdrop.delivery import services
from ledgerdrop.delivery.models import ONLINE_AFTER_CONTACT, Device
from tests import builders

pytestmark = pytest.mark.django_db


@pytest.fixture
def device() -> Device:
    return services.register_device(builders.firm(), name="PC Kevin").device


def stored(device: Device) -> Device:
    return Device.objects.get(pk=device.pk)


def test_a_device_never_heard_from_is_offline(device: Device) -> None:
    assert not stored(device).is_online


def test_a_request_keeps_a_device_online_for_seconds_not_minutes(device: Device) -> None:
    services.note_contact(device)

    online_until = stored(device).online_until
    assert stored(device).is_online
    assert online_until is not None
    assert online_until - timezone.now() <= ONLINE_AFTER_CONTACT
    assert dt.timedelta(seconds=20) >= ONLINE_AFTER_CONTACT


def test_a_device_whose_contact_has_passed_shows_offline(device: Device) -> None:
    services.note_contact(device)
    Device.objects.filter(pk=device.pk).update(online_until=timezone.now())

    assert not stored(device).is_online


def test_a_held_long_poll_keeps_the_device_online_for_its_whole_wait(device: Device) -> None:
    until = timezone.now() + dt.timedelta(seconds=50)

    mark = services.note_poll_held(device, until)

    assert mark >= until
    assert stored(device).online_until == mark
    assert stored(device).is_online


def test_a_dropped_long_poll_makes_the_device_offline_at_once(device: Device) -> None:
    mark = services.note_poll_held(device, timezone.now() + dt.timedelta(seconds=50))

    services.note_poll_dropped(device.pk, mark)

    assert not stored(device).is_online
    assert stored(device).last_seen_at is not None


def test_a_poll_answered_early_leaves_the_device_online_for_seconds(device: Device) -> None:
    mark = services.note_poll_held(device, timezone.now() + dt.timedelta(seconds=50))

    services.note_poll_answered(device.pk, mark)

    online_until = stored(device).online_until
    assert online_until is not None and online_until - timezone.now() <= ONLINE_AFTER_CONTACT
    assert stored(device).is_online


def test_a_drop_after_a_newer_poll_of_the_same_device_changes_nothing(device: Device) -> None:
    # The downloader reconnected (a new poll) before the server noticed the old one drop.
    old = services.note_poll_held(device, timezone.now() + dt.timedelta(seconds=50))
    newer = services.note_poll_held(stored(device), timezone.now() + dt.timedelta(seconds=55))

    services.note_poll_dropped(device.pk, old)

    assert newer != old
    assert stored(device).is_online
