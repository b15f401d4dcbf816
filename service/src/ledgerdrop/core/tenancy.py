"""Tenancy helpers: every lookup of an organisation goes through the user's memberships, so a
URL with somebody else's id answers 404 and never shows data."""

from __future__ import annotations

from typing import Any

from django.http import Http404

from ledgerdrop.accounts.models import Organisation


def organisations_of(user: Any) -> list[Organisation]:
    return list(Organisation.objects.filter(memberships__user=user).order_by("kind", "name"))


def organisation_for(user: Any, organisation_id: int, kind: Organisation.Kind) -> Organisation:
    organisation = Organisation.objects.filter(
        pk=organisation_id, kind=kind, memberships__user=user
    ).first()
    if organisation is None:
        raise Http404("No such organisation among yours.")
    return organisation
