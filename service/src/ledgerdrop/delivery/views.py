from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from ledgerdrop.accounts.models import Organisation
from ledgerdrop.core.tenancy import organisations_of
from ledgerdrop.delivery import services
from ledgerdrop.delivery.forms import PairingCodeForm


@login_required
def pair(request: HttpRequest) -> HttpResponse:
    """The RFC 8628 verification page: enter the code, check the device's facts, approve."""
    firms = [o for o in organisations_of(request.user) if o.kind == Organisation.Kind.FIRM]
    data = request.POST if request.method == "POST" else None
    initial = {"user_code": request.GET.get("code", "")}
    form = PairingCodeForm(data, initial=initial, firms=firms)
    pairing = None
    if form.is_valid():
        pairing = services.find_pending_pairing(form.cleaned_data["user_code"])
        if pairing is None:
            form.add_error(
                "user_code",
                _("This code is unknown, already used or expired. Start the pairing again."),
            )
        elif "approve" in request.POST:
            device = services.approve_pairing(
                form.cleaned_data["firm"],
                pairing.user_code,
                name=form.cleaned_data["name"] or None,
                by=request.user,  # type: ignore[arg-type]
            )
            messages.success(request, _("%(name)s is paired.") % {"name": device.name})
            return redirect("dossiers", firm_id=form.cleaned_data["firm"].pk)
    return render(request, "delivery/pair.html", {"form": form, "pairing": pairing})
