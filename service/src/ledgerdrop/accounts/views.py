from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from ledgerdrop.accounts.models import Organisation
from ledgerdrop.core.tenancy import organisation_for


@login_required
def dossiers(request: HttpRequest, firm_id: int) -> HttpResponse:
    firm = organisation_for(request.user, firm_id, Organisation.Kind.FIRM)
    return render(
        request,
        "accounts/dossiers.html",
        {"firm": firm, "section": "dossiers", "dossiers": firm.dossiers.select_related("company")},
    )
