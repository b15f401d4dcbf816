"""The Sage Demat pages of a firm (S5–S8), documents to process (S6) and the client's
*send to the accountant* button (S9). Views parse, authorise, call a service, render."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from ledgerdrop.accounts.models import Organisation
from ledgerdrop.accounts.tenancy import company_for, firm_for
from ledgerdrop.connectors.bob_demat import services
from ledgerdrop.connectors.bob_demat.forms import (
    ConnectionEditForm,
    ConnectionForm,
    DematSettingsForm,
    DocumentFilterForm,
    SendForm,
)
from ledgerdrop.connectors.bob_demat.models import DematConnection, Transmission
from ledgerdrop.core import paging
from ledgerdrop.core.errors import ServiceError
from ledgerdrop.core.refusals import show_refusal
from ledgerdrop.delivery.models import Delivery
from ledgerdrop.documents.models import Document


def _demat_firm(request: HttpRequest, firm_id: int) -> Organisation:
    """The firm, when it switched Sage BOB Demat on: its pages do not exist otherwise."""
    firm = firm_for(request.user, firm_id)
    if not services.settings_of(firm).enabled:
        raise Http404(_("Sage BOB Demat is not switched on for this firm."))
    return firm


def _back(request: HttpRequest, default: str) -> str:
    """The `next` page a form came from, if it is one of ours; never an open redirect."""
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return default


def _context(firm: Organisation, **extra: object) -> dict[str, object]:
    return {"firm": firm, "section": "bob-demat", **extra}


@login_required
def overview(request: HttpRequest, firm_id: int) -> HttpResponse:
    firm = _demat_firm(request, firm_id)
    demat = services.settings_of(firm)
    form = DematSettingsForm(
        request.POST or None, firm=firm, initial={"default_device": demat.default_device}
    )
    if request.method == "POST" and form.is_valid():
        services.set_default_device(firm, form.cleaned_data["default_device"], by=request.user)  # type: ignore[arg-type]
        messages.success(request, _("Settings saved."))
        return redirect("bob-demat", firm_id=firm.pk)
    failed_deliveries = (
        Delivery.objects.carrying(
            Document,
            Transmission.objects.filter(connection=OuterRef(OuterRef("pk"))).values("document"),
        )
        .filter(state=Delivery.State.FAILED)
        .order_by()
        .values("state")
        .annotate(count=Count("pk"))
        .values("count")
    )
    connections = (
        DematConnection.objects.filter(firm=firm)
        .select_related("dossier__company", "device")
        .annotate(failures=Coalesce(Subquery(failed_deliveries), 0))
    )
    return render(
        request,
        "bob_demat/overview.html",
        _context(
            firm,
            demat=demat,
            form=form,
            connections=connections,
            warnings=services.autosend_warnings(firm),
            to_process=paging.count_label(services.documents_to_process(firm)),
        ),
    )


@login_required
def new_connection(request: HttpRequest, firm_id: int) -> HttpResponse:
    firm = _demat_firm(request, firm_id)
    form = ConnectionForm(request.POST or None, firm=firm)
    if request.method == "POST" and form.is_valid():
        try:
            connection = services.connect(
                form.cleaned_data["dossier"],
                form.cleaned_data["dossier_code"],
                device=form.cleaned_data["device"],
                auto_transfer=form.cleaned_data["auto_transfer"],
                start_date=form.cleaned_data["start_date"],
                by=request.user,  # type: ignore[arg-type]
            )
        except ServiceError as refusal:
            show_refusal(request, refusal, form=form, field="dossier_code")
        else:
            if services.devices_keeping_folders(connection):
                text = _("%(code)s is connected: its achats and ventes folders are being created.")
            else:
                text = _(
                    "%(code)s is connected: its achats and ventes folders will be created as "
                    "soon as a downloader is paired."
                )
            messages.success(request, text % {"code": connection.dossier_code})
            return redirect("bob-demat-connection", firm_id=firm.pk, connection_id=connection.pk)
    return render(request, "bob_demat/connection_new.html", _context(firm, form=form))


def _connection(firm: Organisation, connection_id: int) -> DematConnection:
    return get_object_or_404(
        DematConnection.objects.select_related("dossier__company", "device"),
        pk=connection_id,
        firm=firm,
    )


@login_required
def connection_detail(request: HttpRequest, firm_id: int, connection_id: int) -> HttpResponse:
    firm = _demat_firm(request, firm_id)
    connection = _connection(firm, connection_id)
    form = ConnectionEditForm(
        request.POST or None,
        firm=firm,
        initial={
            "dossier_code": connection.dossier_code,
            "device": connection.device,
            "start_date": connection.start_date,
        },
    )
    if request.method == "POST" and "delete" in request.POST:
        services.disconnect(connection, by=request.user)  # type: ignore[arg-type]
        messages.success(request, _("The connection is removed."))
        return redirect("bob-demat", firm_id=firm.pk)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_connection(
                connection,
                by=request.user,  # type: ignore[arg-type]
                dossier_code=form.cleaned_data["dossier_code"],
                device=form.cleaned_data["device"],
                start_date=form.cleaned_data["start_date"],
            )
        except ServiceError as refusal:
            show_refusal(request, refusal, form=form, field="dossier_code")
        else:
            messages.success(request, _("Settings saved."))
            return redirect("bob-demat-connection", firm_id=firm.pk, connection_id=connection.pk)
    deliveries = list(
        Delivery.objects.filter(firm=firm, company=connection.dossier.company_id)
        .select_related("device", "queued_by")
        .order_by("-id")[:200]
    )
    documents = Document.objects.in_bulk(
        {delivery.source_id for delivery in deliveries if delivery.source_id is not None}
    )
    history = [(delivery, documents.get(delivery.source_id)) for delivery in deliveries]
    return render(
        request,
        "bob_demat/connection_detail.html",
        _context(
            firm,
            connection=connection,
            form=form,
            history=history,
            warnings=services.autosend_warnings(firm),
            outlook=services.autosend_outlook(connection),
        ),
    )


@login_required
@require_POST
def toggle_auto_transfer(request: HttpRequest, firm_id: int, connection_id: int) -> HttpResponse:
    firm = _demat_firm(request, firm_id)
    connection = services.update_connection(
        _connection(firm, connection_id),
        by=request.user,  # type: ignore[arg-type]
        auto_transfer=request.POST.get("auto_transfer") == "on",
    )
    outlook = services.autosend_outlook(connection)
    if connection.auto_transfer:
        when = date_format(timezone.localtime(outlook.next_run_at), "DATETIME_FORMAT")
        confirmation = _("Automatic transfer is on. The next run is on %(when)s.") % {"when": when}
    else:
        confirmation = _("Automatic transfer is off: documents are no longer sent automatically.")
    if request.htmx:  # type: ignore[attr-defined]
        context = _context(
            firm,
            connection=connection,
            warnings=services.autosend_warnings(firm),
            outlook=outlook,
            confirmation=confirmation,
        )
        return render(request, "bob_demat/_auto_transfer.html", context)
    messages.success(request, confirmation)
    return redirect("bob-demat-connection", firm_id=firm.pk, connection_id=connection.pk)


@login_required
@require_POST
def send_again(request: HttpRequest, firm_id: int, document_id: int) -> HttpResponse:
    firm = _demat_firm(request, firm_id)
    document = get_object_or_404(Document, pk=document_id, company__accountant_links__firm=firm)
    try:
        delivery = services.send_again(firm, document, by=request.user)  # type: ignore[arg-type]
    except ServiceError as refusal:
        show_refusal(request, refusal)
    else:
        messages.success(
            request,
            _("%(document)s is queued again for %(device)s.")
            % {"document": document, "device": delivery.device.name},
        )
    return redirect(_back(request, reverse("bob-demat", args=[firm.pk])))


@login_required
def documents_to_process(request: HttpRequest, firm_id: int) -> HttpResponse:
    firm = _demat_firm(request, firm_id)
    filters = DocumentFilterForm(request.GET or None, firm=firm)
    dossier = kind = None
    if filters.is_valid():
        dossier, kind = filters.cleaned_data["dossier"], filters.cleaned_data["kind"] or None
    documents = services.documents_to_process(firm, dossier=dossier, kind=kind)
    shown = paging.page(
        documents, request.GET.get("after"), size=paging.PER_PAGE, field="issue_date"
    )
    preselected = (
        dossier.bob_demat_connection.device if dossier is not None else None
    ) or services.default_device(firm)
    form = SendForm(
        request.POST or None, firm=firm, documents=documents, initial={"device": preselected}
    )
    if request.method == "POST" and form.is_valid():
        try:
            deliveries = services.send(
                firm,
                form.cleaned_data["documents"],
                form.cleaned_data["device"],
                by=request.user,  # type: ignore[arg-type]
            )
        except ServiceError as refusal:
            show_refusal(request, refusal, form=form)
        else:
            messages.success(
                request,
                _("%(count)s document(s) queued for %(device)s.")
                % {"count": len(deliveries), "device": form.cleaned_data["device"].name},
            )
            return redirect(request.get_full_path())
    return render(
        request,
        "bob_demat/documents_to_process.html",
        _context(
            firm,
            filters=filters,
            documents=shown.rows,
            form=form,
            section="to-process",
            **paging.links(request, shown),
        ),
    )


@login_required
@require_POST
def send_to_accountant(request: HttpRequest, company_id: int, document_id: int) -> HttpResponse:
    company = company_for(request.user, company_id)
    document = get_object_or_404(Document, pk=document_id, company=company)
    try:
        services.send_to_accountant(company, document, by=request.user)  # type: ignore[arg-type]
    except ServiceError as refusal:
        show_refusal(request, refusal)
    else:
        messages.success(
            request, _("%(document)s is sent to your accountant.") % {"document": document}
        )
    return redirect(_back(request, reverse("home")))
