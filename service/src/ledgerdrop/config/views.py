from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from ledgerdrop.accounts.models import Organisation
from ledgerdrop.accounts.tenancy import organisations_of


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Open the first organisation of the user: a firm's dossiers, or a company's documents."""
    organisations = organisations_of(request.user)
    firm = next((o for o in organisations if o.kind == Organisation.Kind.FIRM), None)
    if firm is not None:
        return redirect("dossiers", firm_id=firm.pk)
    if organisations:
        return redirect("company-home", company_id=organisations[0].pk)
    return render(request, "core/home.html", {"organisations": organisations})


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
