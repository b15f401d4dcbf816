"""Work done in turns (`core.database.in_turns`): a try that collides with another writer is
rolled back and done again; one that keeps colliding gives up with a service error."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from ledgerdrop.core.database import in_turns
from ledgerdrop.core.errors import Kind, ServiceError
from ledgerdrop.core.models import PeriodicRun

pytestmark = pytest.mark.django_db

SLOT = dt.datetime(2026, 11, 30, 2, 0, tzinfo=dt.UTC)


def test_a_try_that_collides_is_rolled_back_and_the_work_done_again() -> None:
    PeriodicRun.objects.create(job="claimed by another writer", slot=SLOT)
    tries: list[int] = []

    def claim() -> int:
        tries.append(len(tries) + 1)
        PeriodicRun.objects.create(job=f"written by try {len(tries)}", slot=SLOT)
        if len(tries) == 1:
            # Another writer claimed this slot first: the unique constraint refuses it.
            PeriodicRun.objects.create(job="claimed by another writer", slot=SLOT)
        return len(tries)

    done_by = in_turns(PeriodicRun.objects.filter(slot=SLOT), claim)

    assert done_by == 2
    assert sorted(PeriodicRun.objects.values_list("job", flat=True)) == [
        "claimed by another writer",
        "written by try 2",
    ]


def test_work_that_keeps_colliding_gives_up_with_a_service_error_and_writes_nothing() -> None:
    PeriodicRun.objects.create(job="claimed by another writer", slot=SLOT)
    tries = 0

    def collide() -> None:
        nonlocal tries
        tries += 1
        PeriodicRun.objects.create(job="half done", slot=timezone.now())
        PeriodicRun.objects.create(job="claimed by another writer", slot=SLOT)

    with pytest.raises(ServiceError) as refused:
        in_turns(PeriodicRun.objects.filter(slot=SLOT), collide)

    assert refused.value.kind is Kind.UNAVAILABLE
    assert refused.value.code == "kept_colliding"
    assert tries == 3
    assert list(PeriodicRun.objects.values_list("job", flat=True)) == ["claimed by another writer"]
