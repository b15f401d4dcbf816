"""A package connector's pages: its settings and connections, the connection form with its live
preview, documents to process and *send again*. Views parse, authorise, call a service, render."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from ledgerdrop.accounts.models import Dossier, Organisation
from ledgerdrop.accounts.tenancy import firm_for
from ledgerdrop.connectors.presets import mail, routes, services
from ledgerdrop.connectors.presets.catalogue import Mechanism, Preset, preset_of
from ledgerdrop.connectors.presets.forms import (
    ConnectionForm,
    EmailConnectionForm,
    SendForm,
    SettingsForm,
)
from ledgerdrop.connectors.presets.models import Connection
from ledgerdrop.core import paging
from ledgerdrop.core.errors import ServiceError
from ledgerdrop.core.refusals import show_refusal
from ledgerdrop.documents.models import Document

# Which field of the connection form a refusal of the service belongs to.
_FIELD_OF = {
    "invalid_dossier_code": "dossier_code",
    "already_connected": "dossier",
    "unknown_device": "device",
    "invalid_payload": "payload",
    "missing_address": None,
    "invalid_address": None,
    "unknown_address": None,
}

AnyConnectionForm = ConnectionForm | EmailConnectionForm


def _connection_form(
    request: HttpRequest, firm: Organisation, preset: Preset, connection: Connection | None
) -> AnyConnectionForm:
    form_class = EmailConnectionForm if _by_email(preset) else ConnectionForm
    return form_class(request.POST or None, firm=firm, preset=preset, connection=connection)


def _by_email(preset: Preset) -> bool:
    return preset.mechanism is Mechanism.EMAIL


def _firm_and_preset(request: HttpRequest, firm_id: int, app: str) -> tuple[Organisation, Preset]:
    """The firm and the package, when the firm switched it on: its pages do not exist else."""
    firm = firm_for(request.user, firm_id)
    try:
        preset = preset_of(app)
    except ServiceError as unknown:
        raise Http404(unknown.message) from unknown
    if not services.is_enabled(firm, app):
        raise Http404(_("%(app)s is not switched on for this firm.") % {"app": preset.title})
    return firm, preset


def _context(firm: Organisation, preset: Preset, **extra: object) -> dict[str, object]:
    return {
        "firm": firm,
        "preset": preset,
        "app": preset.slug,
        "section": preset.slug,
        "by_email": _by_email(preset),
        **extra,
    }


@login_required
def overview(request: HttpRequest, firm_id: int, app: str) -> HttpResponse:
    firm, preset = _firm_and_preset(request, firm_id, app)
    settings = services.settings_of(firm, app)
    # E-mail presets have no device to choose: their messages leave by the service's SMTP.
    form = None
    if not _by_email(preset):
        form = SettingsForm(
            request.POST or None, firm=firm, initial={"default_device": settings.default_device}
        )
    if request.method == "POST" and form is not None and form.is_valid():
        services.set_default_device(firm, app, form.cleaned_data["default_device"], by=request.user)  # type: ignore[arg-type]
        messages.success(request, _("Settings saved."))
        return redirect(f"connector-{app}", firm_id=firm.pk)
    connections = Connection.objects.filter(firm=firm, app=app).select_related(
        "dossier__company", "device"
    )
    return render(
        request,
        "presets/overview.html",
        _context(
            firm,
            preset,
            form=form,
            settings=settings,
            connections=connections,
            to_process=paging.count_label(services.documents_to_process(firm, app)),
        ),
    )


def _save(
    request: HttpRequest, form: AnyConnectionForm, preset: Preset, connection: Connection | None
) -> Connection | None:
    device = {} if _by_email(preset) else {"device": form.cleaned_data["device"]}
    try:
        if connection is None:
            return services.connect(
                form.cleaned_data["dossier"],
                preset.slug,
                by=request.user,  # type: ignore[arg-type]
                **device,
                **form.service_fields(),
                **form.transfer_fields(),
            )
        return services.update_connection(
            connection,
            by=request.user,  # type: ignore[arg-type]
            **device,
            **form.service_fields(),
            **form.transfer_fields(),
        )
    except ServiceError as refusal:
        show_refusal(
            request, refusal, form=form, field=_FIELD_OF.get(refusal.code, "path_template")
        )
        return None


@login_required
def new_connection(request: HttpRequest, firm_id: int, app: str) -> HttpResponse:
    firm, preset = _firm_and_preset(request, firm_id, app)
    form = _connection_form(request, firm, preset, None)
    if request.method == "POST" and form.is_valid():
        connection = _save(request, form, preset, None)
        if connection is not None:
            messages.success(
                request,
                _("The dossier is connected: its documents go to these addresses.")
                if _by_email(preset)
                else _("The dossier is connected: its folders are being created."),
            )
            return redirect("connector-connection", firm.pk, app, connection.pk)
    return render(
        request,
        "presets/connection_form.html",
        _context(firm, preset, form=form, connection=None, samples=None),
    )


@login_required
def connection_detail(
    request: HttpRequest, firm_id: int, app: str, connection_id: int
) -> HttpResponse:
    firm, preset = _firm_and_preset(request, firm_id, app)
    connection = get_object_or_404(
        Connection.objects.select_related("dossier__company", "device"),
        pk=connection_id,
        firm=firm,
        app=app,
    )
    if request.method == "POST" and "delete" in request.POST:
        services.disconnect(connection, by=request.user)  # type: ignore[arg-type]
        messages.success(request, _("The connection is removed."))
        return redirect(f"connector-{app}", firm_id=firm.pk)
    form = _connection_form(request, firm, preset, connection)
    saved = request.method == "POST" and form.is_valid()
    if saved and _save(request, form, preset, connection) is not None:
        messages.success(request, _("Settings saved."))
        return redirect("connector-connection", firm.pk, app, connection.pk)
    return render(
        request,
        "presets/connection_form.html",
        _context(
            firm,
            preset,
            form=form,
            connection=connection,
            history=services.history(connection),
            samples=_samples(firm, preset, connection.dossier, connection, None),
        ),
    )


def _samples(
    firm: Organisation,
    preset: Preset,
    dossier: Dossier,
    connection: Connection | None,
    form: AnyConnectionForm | None,
) -> list[routes.SamplePath] | list[mail.SampleMessage]:
    fields = form.service_fields() if form is not None else {}
    if isinstance(form, EmailConnectionForm) or (form is None and _by_email(preset)):
        return mail.preview_messages(
            dossier, preset.slug, connection=connection, addresses=fields.get("addresses")
        )
    return routes.preview(
        dossier,
        preset.slug,
        main_folder=services.main_folder_for(firm, preset.slug, connection),
        connection=connection,
        **fields,
    )


@login_required
@require_POST
def preview(request: HttpRequest, firm_id: int, app: str) -> HttpResponse:
    """The connection form's live preview (htmx): the full paths of four sample documents of
    the dossier with the fields as typed, or why they are refused."""
    firm, preset = _firm_and_preset(request, firm_id, app)
    connection = None
    if request.POST.get("connection"):
        connection = get_object_or_404(
            Connection, pk=request.POST["connection"], firm=firm, app=app
        )
    form_class = EmailConnectionForm if _by_email(preset) else ConnectionForm
    form = form_class(request.POST, firm=firm, preset=preset, connection=connection)
    context = _context(firm, preset, samples=None, problem="")
    dossier = connection.dossier if connection else None
    if form.is_valid():
        dossier = dossier or form.cleaned_data["dossier"]
    elif dossier is None or set(form.errors) - {"dossier"}:
        context["problem"] = _("Fill in the dossier and every field to see where documents go.")
    if dossier is not None and not context["problem"]:
        try:
            context["samples"] = _samples(firm, preset, dossier, connection, form)
        except ServiceError as refusal:
            context["problem"] = refusal.message
    return render(request, "presets/_preview.html", context)


@login_required
def documents_to_process(request: HttpRequest, firm_id: int, app: str) -> HttpResponse:
    firm, preset = _firm_and_preset(request, firm_id, app)
    documents = services.documents_to_process(firm, app)
    shown = paging.page(
        documents, request.GET.get("after"), size=paging.PER_PAGE, field="issue_date"
    )
    form = SendForm(request.POST or None, firm=firm, documents=documents)
    if _by_email(preset):
        del form.fields["device"]
    if request.method == "POST" and form.is_valid():
        try:
            queued = _send(request, firm, preset, form)
        except ServiceError as refusal:
            show_refusal(request, refusal, form=form)
        else:
            messages.success(request, queued)
            return redirect("connector-documents", firm.pk, app)
    return render(
        request,
        "presets/documents_to_process.html",
        _context(firm, preset, form=form, documents=shown.rows, **paging.links(request, shown)),
    )


def _send(request: HttpRequest, firm: Organisation, preset: Preset, form: SendForm) -> str:
    """Send the documents chosen; says what was queued."""
    documents = form.cleaned_data["documents"]
    if _by_email(preset):
        sent = services.mail_documents(firm, preset.slug, documents, by=request.user)  # type: ignore[arg-type]
        return _("%(count)s messages queued.") % {"count": len(sent)}
    deliveries = services.send(
        firm,
        preset.slug,
        documents,
        device=form.cleaned_data["device"],
        by=request.user,  # type: ignore[arg-type]
    )
    return _("%(count)s files queued.") % {"count": len(deliveries)}


@login_required
@require_POST
def send_again(request: HttpRequest, firm_id: int, app: str, document_id: int) -> HttpResponse:
    firm, preset = _firm_and_preset(request, firm_id, app)
    document = get_object_or_404(Document, pk=document_id, company__accountant_links__firm=firm)
    again = services.mail_again if _by_email(preset) else services.send_again
    try:
        again(firm, app, document, by=request.user)  # type: ignore[arg-type]
    except ServiceError as refusal:
        show_refusal(request, refusal)
    else:
        messages.success(request, _("%(document)s is sent again.") % {"document": document})
    connection = Connection.objects.filter(
        firm=firm, app=app, dossier__company=document.company_id
    ).first()
    if connection is None:
        return redirect(f"connector-{app}", firm_id=firm.pk)
    return redirect("connector-connection", firm.pk, app, connection.pk)
