"""The audit trail: every service that changes state records one row here, in its transaction."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from django.db import models

from ledgerdrop.accounts.models import AuditEntry

if TYPE_CHECKING:
    from ledgerdrop.accounts.models import Organisation, User


def record(
    organisation: Organisation,
    action: str,
    obj: models.Model | None = None,
    *,
    actor: User | None = None,
    **data: Any,
) -> AuditEntry:
    return AuditEntry.objects.create(
        organisation=organisation,
        actor=actor,
        action=action,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        data=data,
    )


def record_many(
    organisation: Organisation,
    action: str,
    changes: Sequence[tuple[models.Model, dict[str, Any]]],
    *,
    actor: User | None = None,
) -> None:
    """The same action on many objects, in one statement."""
    AuditEntry.objects.bulk_create(
        AuditEntry(
            organisation=organisation,
            actor=actor,
            action=action,
            object_type=obj._meta.label_lower,
            object_id=str(obj.pk),
            data=data,
        )
        for obj, data in changes
    )
