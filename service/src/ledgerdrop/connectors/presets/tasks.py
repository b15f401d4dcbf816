"""Background work of the package connectors: the nightly automatic transfer, and each try at
sending an e-mail preset's message (the work itself is in `services`)."""

from __future__ import annotations

import logging

from django.conf import settings

from ledgerdrop.core import periodic
from ledgerdrop.core.tasks import background

logger = logging.getLogger(__name__)


@background
def autosend() -> int:
    from ledgerdrop.connectors.presets import services  # services queues these tasks

    queued = services.run_autosend()
    logger.info("package connectors' automatic transfer queued=%d", len(queued))
    return len(queued)


@background
def send_message(message_id: int) -> str:
    from ledgerdrop.connectors.presets import services

    state = services.attempt_message(message_id)
    logger.info("package connector message=%d state=%s", message_id, state)
    return state


def register_periodic_jobs() -> None:
    periodic.daily(
        "connector_presets.autosend",
        at=lambda: periodic.parse_time_of_day(settings.LEDGERDROP_AUTOSEND_AT),
        task=autosend,
    )
