"""Background work of the package connectors: the nightly automatic transfer."""

from __future__ import annotations

import logging

from django.conf import settings

from ledgerdrop.connectors.presets import services
from ledgerdrop.core import periodic
from ledgerdrop.core.tasks import background

logger = logging.getLogger(__name__)


@background
def autosend() -> int:
    report = services.run_autosend()
    logger.info(
        "package connectors' automatic transfer queued=%d refused=%d skipped=%d",
        report.queued, report.refused, len(report.skipped_connections),
    )  # fmt: skip
    return report.queued


def register_periodic_jobs() -> None:
    periodic.daily(
        "connector_presets.autosend",
        at=lambda: periodic.parse_time_of_day(settings.LEDGERDROP_AUTOSEND_AT),
        task=autosend,
    )
