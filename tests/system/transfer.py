"""Seeding and checking a transfer for the fault tests: many queued documents, then the verdict
that matters to an accountant — each file present exactly once, byte for byte, nothing left
half-written, every delivery `delivered`."""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from django.db import transaction

from ledgerdrop.core import storage
from ledgerdrop.delivery import services as delivery_services
from ledgerdrop.delivery.models import Delivery, Device
from tests import builders
from tests.conftest import Agent

STAGING = ".ledgerdrop-staging"
MARKER = ".ledgerdrop"  # the downloader's mark on its main folder


def paired_device(agent: Agent, server: str | None = None) -> Device:
    """A device of a new firm, paired by the real agent with an enrolment key."""
    firm = builders.firm()
    _, key = delivery_services.mint_enrolment_key(firm, by=None)
    result = agent.run(
        "pair", "--server", server or agent.server, "--name", "PC Kevin", "--enrolment-key", key
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return Device.objects.get(firm=firm)


def queue_documents(
    device: Device, count: int, *, rng: random.Random, start: int = 0
) -> dict[str, bytes]:
    """Queue `count` distinct invoices of 2 to 40 KB over a few dossiers; returns path → bytes."""
    sources: dict[str, bytes] = {}
    with transaction.atomic():
        for n in range(start, start + count):
            path = f"DOSSIER{n % 7:02d}/{'ventes' if n % 3 else 'achats'}/2026-{n:05d} F{n}.xml"
            body = rng.randbytes(rng.randint(1_000, 20_000)).hex().encode()
            data = b"<Invoice><ID>" + str(n).encode() + b"</ID>" + body + b"</Invoice>"
            delivery_services.queue_delivery(device, relative_path=path, blob=storage.put(data))
            sources[path] = data
    return sources


def placed_files(root: Path) -> list[Path]:
    return [
        p
        for p in root.rglob("*")
        if p.is_file() and STAGING not in p.relative_to(root).parts and p != root / MARKER
    ]


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


def all_delivered(device: Device) -> bool:
    return (
        not Delivery.objects.filter(device=device).exclude(state=Delivery.State.DELIVERED).exists()
    )


def assert_delivered_exactly_once(root: Path, sources: dict[str, bytes], device: Device) -> None:
    placed = {p.relative_to(root).as_posix(): p for p in placed_files(root)}
    assert sorted(placed) == sorted(sources), "missing or extra files (a duplicate has a suffix)"
    wrong = [path for path, data in sources.items() if placed[path].read_bytes() != data]
    assert wrong == [], f"{len(wrong)} files differ from the source, e.g. {wrong[:3]}"
    staging = root / STAGING
    assert not staging.exists() or list(staging.iterdir()) == []
    deliveries = Delivery.objects.filter(device=device)
    assert Counter(deliveries.values_list("state", flat=True)) == {
        Delivery.State.DELIVERED: len(sources)
    }
    assert all(d.placed_path == d.relative_path for d in deliveries)
