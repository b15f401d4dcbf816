"""Background work of the connector: the nightly automatic transfer and the daily digest."""

from __future__ import annotations

import logging

from django.conf import settings

from ledgerdrop.connectors.bob_demat import digest, services
from ledgerdrop.core import periodic
from ledgerdrop.core.tasks import background

logger = logging.getLogger(__name__)


@background
def autosend() -> int:
    report = services.run_autosend()
    logger.info(
        "automatic transfer queued=%d skipped_connections=%d",
        report.queued,
        len(report.skipped_connections),
    )
    return report.queued


@background
def send_digests() -> int:
    return digest.send_all()


def register_periodic_jobs() -> None:
    periodic.daily(
        "bob_demat.autosend",
        at=lambda: periodic.parse_time_of_day(settings.LEDGERDROP_AUTOSEND_AT),
        task=autosend,
    )
    periodic.daily(
        "bob_demat.digest",
        at=lambda: periodic.parse_time_of_day(settings.LEDGERDROP_DIGEST_AT),
        task=send_digests,
    )
