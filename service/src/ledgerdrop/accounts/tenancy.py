"""Tenancy helpers: every lookup of an organisation goes through the user's memberships, so a
URL with somebody else's id answers 404 and never shows data. A firm reaches a company only
through a dossier, and a dossier exists only because the company made it."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest

from ledgerdrop.accounts.models import Dossier, Organisation


def organisations_of(user: Any) -> list[Organisation]:
    if not getattr(user, "is_authenticated", False):
        return []
    return list(Organisation.objects.filter(memberships__user=user).order_by("kind", "name"))


def organisation_for(user: Any, organisation_id: int, kind: Organisation.Kind) -> Organisation:
    if not getattr(user, "is_authenticated", False):
        raise Http404("No such organisation among yours.")
    organisation = Organisation.objects.filter(
        pk=organisation_id, kind=kind, memberships__user=user
    ).first()
    if organisation is None:
        raise Http404("No such organisation among yours.")
    return organisation


def firm_for(user: Any, firm_id: int) -> Organisation:
    return organisation_for(user, firm_id, Organisation.Kind.FIRM)


def company_for(user: Any, company_id: int) -> Organisation:
    return organisation_for(user, company_id, Organisation.Kind.COMPANY)


def dossier_for(firm: Organisation, dossier_id: int) -> Dossier:
    """One dossier of a firm the caller already reached through `firm_for`."""
    dossier = Dossier.objects.select_related("company").filter(pk=dossier_id, firm=firm).first()
    if dossier is None:
        raise Http404("No such dossier in this firm.")
    return dossier


# The URL parameters that name the organisation a page belongs to.
ORGANISATION_URL_KWARGS = ("firm_id", "company_id", "fid", "cid")


def current_organisation(request: HttpRequest) -> Organisation | None:
    """The organisation whose page this is, when the URL names one of the user's own."""
    match = request.resolver_match
    if match is None or not request.user.is_authenticated:
        return None
    for name in ORGANISATION_URL_KWARGS:
        if name in match.kwargs:
            return Organisation.objects.filter(
                pk=match.kwargs[name], memberships__user=request.user
            ).first()
    return None
