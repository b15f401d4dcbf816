"""The company's document pages: overview, editor, document page, Purchases, invoicing details;
the firm's read-only pages of its dossiers' documents.
Thin: forms in, `services` for every change, `queries` for every read."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from ledgerdrop.accounts.models import Organisation
from ledgerdrop.accounts.tenancy import dossier_for, firm_for, organisation_for
from ledgerdrop.core import paging
from ledgerdrop.core.errors import ServiceError
from ledgerdrop.core.refusals import show_refusal
from ledgerdrop.documents import (
    findings,
    forms,
    inbound,
    queries,
    services,
    slots,
    to_ubl,
)
from ledgerdrop.documents.models import Document
from ledgerdrop.documents.ubl import model as ubl
from ledgerdrop.documents.ubl.parse import DEFAULT_MAX_BYTES
from ledgerdrop.documents.ubl.totals import Totals, totals_of

PER_PAGE = 50
EDITABLE_KINDS = {
    "sales_invoice": Document.Kind.SALES_INVOICE,
    "credit_note": Document.Kind.CREDIT_NOTE,
    "purchase_slip": Document.Kind.PURCHASE_SLIP,
}


# Whole titles, not "New: <kind>": French and Dutch agree the adjective with the noun.
EDITOR_TITLES = {
    Document.Kind.SALES_INVOICE: (gettext_lazy("New invoice"), gettext_lazy("Draft invoice")),
    Document.Kind.CREDIT_NOTE: (
        gettext_lazy("New credit note"),
        gettext_lazy("Draft credit note"),
    ),
    Document.Kind.PURCHASE_SLIP: (
        gettext_lazy("New purchase slip"),
        gettext_lazy("Draft purchase slip"),
    ),
}


def _company(request: HttpRequest, company_id: int) -> Organisation:
    return organisation_for(request.user, company_id, Organisation.Kind.COMPANY)


def _page(
    request: HttpRequest, template: str, company: Organisation, section: str, **context: Any
) -> HttpResponse:
    return render(request, template, {"company": company, "section": section, **context})


@login_required
def overview(request: HttpRequest, company_id: int) -> HttpResponse:
    company = _company(request, company_id)
    filters = forms.PeriodFilterForm(request.GET or None)
    # Newest first, a page after the last one shown: as fast at the thousandth page.
    shown = paging.page(
        queries.overview(company, **filters.filters()),
        request.GET.get("after"),
        size=PER_PAGE,
        field="issue_date",
        descending=True,
    )
    documents: list[Any] = shown.rows  # each row carries its transfer for the template
    transfers = slots.transfers(documents)
    for document in documents:
        document.transfer = transfers.get(document.pk, slots.NOT_SENT)
    return _page(
        request,
        "documents/overview.html",
        company,
        "documents",
        documents=documents,
        filters=filters,
        **paging.links(request, shown),
    )


def _editor_context(
    company: Organisation,
    kind: Document.Kind,
    header: forms.DocumentForm,
    lines: Any,
    document: Document | None,
    credited: Document | None,
) -> dict[str, Any]:
    return {
        "kind": kind,
        "kind_label": Document.Kind(kind).label,
        "title": EDITOR_TITLES[kind][0 if document is None else 1],
        "header": header,
        "lines": lines,
        "document": document,
        "credited": credited,
        "totals": _totals(lines),
        "currency": _typed_currency(header.data) if header.is_bound else header.initial["currency"],
        "vat_choices": to_ubl.VAT_CHOICES,
    }


def _typed_currency(data: Any) -> str:
    return str(data.get("currency") or "EUR").strip().upper()[:3] or "EUR"


def _totals(lines: Any) -> Totals | None:
    """Live totals of what is typed so far; lines that do not add up yet are left out."""
    rows = []
    for form in lines.forms:
        if not form.is_valid() or not form.cleaned_data.get("description"):
            continue
        try:
            choice = to_ubl.vat_choice(form.cleaned_data["vat_rate"])
            rows.append(
                ubl.Line(
                    form.cleaned_data["description"],
                    form.cleaned_data["quantity"],
                    form.cleaned_data["unit_price"],
                    choice.category,
                    choice.rate,
                    exemption_reason=to_ubl.DEFAULT_EXEMPT_REASON
                    if choice.category is ubl.VatCategory.EXEMPT
                    else None,
                )
            )
        except ubl.InvoiceDataError:
            continue
    return totals_of(rows) if rows else None


@login_required
def editor(
    request: HttpRequest, company_id: int, kind: str = "", document_id: int | None = None
) -> HttpResponse:
    """New document of `kind`, or the draft `document_id`. Posting saves the draft; the
    'issue' button saves and issues it in one go."""
    company = _company(request, company_id)
    document = queries.document_of(company, document_id) if document_id else None
    if document is not None and not document.is_draft:
        messages.error(request, _("An issued document cannot change; issue a credit note."))
        return redirect("document-detail", company.pk, document.pk)
    if document is not None:
        kind_value = Document.Kind(document.kind)
        credited = document.credited_document
    else:
        if kind not in EDITABLE_KINDS:
            raise Http404("No such kind of document.")
        kind_value = EDITABLE_KINDS[kind]
        credited = None
    if request.method == "POST":
        header = forms.DocumentForm(request.POST)
        lines = forms.LineFormSet(request.POST, prefix="lines")
        if "add_line" in request.POST:
            lines = _with_extra_row(lines)
        elif header.is_valid() and lines.is_valid():
            data = forms.document_input(
                kind_value, header, lines, credited.pk if credited else None
            )
            issuing = "issue" in request.POST
            try:
                if document is None:
                    # A new document that cannot be issued leaves no draft behind: the form
                    # comes back with what was typed and what is wrong.
                    document = services.create_document(
                        company,
                        data,
                        by=request.user,  # type: ignore[arg-type]
                        draft=not issuing,
                    )
                else:
                    document = services.update_draft(document, data, by=request.user)  # type: ignore[arg-type]
                    if issuing:
                        document = services.issue(document, by=request.user)  # type: ignore[arg-type]
                if issuing:
                    messages.success(
                        request, _("Document %(number)s issued.") % {"number": document.number}
                    )
                else:
                    messages.success(request, _("Draft saved."))
                return redirect("document-detail", company.pk, document.pk)
            except ServiceError as error:
                if error.code != "invoicing_details_missing":
                    show_refusal(request, error, form=header)
                else:
                    # Keep what was typed as a draft, and come back to it once the details
                    # are filled in.
                    if document is None:
                        document = services.create_document(company, data, by=request.user)  # type: ignore[arg-type]
                    return _to_invoicing_details(request, company, document, error)
    else:
        header = forms.DocumentForm(initial=forms.initial_header(document))
        lines = forms.LineFormSet(initial=forms.initial_lines(document), prefix="lines")
    context = _editor_context(company, kind_value, header, lines, document, credited)
    return _page(request, "documents/editor.html", company, "documents", **context)


def _to_invoicing_details(
    request: HttpRequest, company: Organisation, document: Document, error: ServiceError
) -> HttpResponse:
    show_refusal(request, error)
    back = reverse("document-edit", args=[company.pk, document.pk])
    return redirect(
        f"{reverse('company-invoicing', args=[company.pk])}?{urlencode({'next': back})}"
    )


def _with_extra_row(lines: Any) -> Any:
    data = lines.data.copy()
    total = int(data.get("lines-TOTAL_FORMS", 0))
    data["lines-TOTAL_FORMS"] = str(total + 1)
    data[f"lines-{total}-quantity"] = "1"
    data[f"lines-{total}-vat_rate"] = "21"
    return forms.LineFormSet(data, prefix="lines")


@login_required
@require_POST
def live_totals(request: HttpRequest, company_id: int) -> HttpResponse:
    _company(request, company_id)
    lines = forms.LineFormSet(request.POST, prefix="lines")
    return render(
        request,
        "documents/_totals.html",
        {"totals": _totals(lines), "currency": _typed_currency(request.POST)},
    )


@login_required
def detail(request: HttpRequest, company_id: int, document_id: int) -> HttpResponse:
    company = _company(request, company_id)
    document = queries.document_of(company, document_id)
    return _page(
        request,
        "documents/detail.html",
        company,
        "purchases" if document.is_received else "documents",
        document=document,
        transfer=slots.transfer_of(document),
        received_lines=queries.received_lines(document),
        **_report_context(document),
        reject_form=forms.RejectForm(),
        credit_notes=document.credit_notes.all(),
    )


def _report_context(document: Document) -> dict[str, Any]:
    report = document.validation or {}
    return {
        "report": report,
        "findings": [findings.readable(finding) for finding in document.validation_findings()],
        "layers": [
            {"name": label, "ran": layer in report.get("layers_run", [])}
            for layer, label in findings.LAYER_LABELS.items()
        ],
        "skipped": {
            findings.LAYER_LABELS.get(k, k): findings.skipped_reason(v)
            for k, v in report.get("layers_skipped", {}).items()
        },
    }


@login_required
def dossier_detail(request: HttpRequest, firm_id: int, dossier_id: int) -> HttpResponse:
    """One dossier: the company's documents, read-only for the firm."""
    firm = firm_for(request.user, firm_id)
    dossier = dossier_for(firm, dossier_id)
    documents = Document.objects.filter(company=dossier.company).order_by("-issue_date", "-id")
    page = Paginator(documents, PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "documents/dossier_detail.html",
        {"firm": firm, "section": "dossiers", "dossier": dossier, "page": page},
    )


@login_required
def firm_document(request: HttpRequest, firm_id: int, document_id: int) -> HttpResponse:
    """A client's document as its accountant reads it: facts, lines, files, peppol_validator."""
    firm = firm_for(request.user, firm_id)
    document = queries.document_of_dossier(firm, document_id)
    return render(
        request,
        "documents/firm_document.html",
        {
            "firm": firm,
            "section": "dossiers",
            "document": document,
            "dossier": firm.dossiers.get(company=document.company),
            "received_lines": queries.received_lines(document),
            **_report_context(document),
        },
    )


@login_required
def firm_document_file(
    request: HttpRequest, firm_id: int, document_id: int, which: str
) -> FileResponse:
    firm = firm_for(request.user, firm_id)
    if which not in {"ubl", "pdf"}:
        raise Http404("No such file.")
    document = queries.document_of_dossier(firm, document_id)
    # The PDF opens in the browser to be read; the UBL is a file to keep.
    return queries.file_response(document, which, inline=which == "pdf")


@login_required
def download(request: HttpRequest, company_id: int, document_id: int, which: str) -> FileResponse:
    company = _company(request, company_id)
    if which not in {"ubl", "pdf"}:
        raise Http404("No such file.")
    return queries.file_response(queries.document_of(company, document_id), which)


@login_required
@require_POST
def action(request: HttpRequest, company_id: int, document_id: int, verb: str) -> HttpResponse:
    company = _company(request, company_id)
    document = queries.document_of(company, document_id)
    by = request.user
    try:
        if verb == "issue":
            document = services.issue(document, by=by)  # type: ignore[arg-type]
            messages.success(
                request, _("Document %(number)s issued.") % {"number": document.number}
            )
        elif verb in {"sent", "paid"}:
            services.mark(document, verb, by=by)  # type: ignore[arg-type]
            messages.success(request, _("Marked sent.") if verb == "sent" else _("Marked paid."))
        elif verb == "credit":
            note = services.credit(document, by=by)  # type: ignore[arg-type]
            messages.success(request, _("Credit note drafted: check it, then issue it."))
            return redirect("document-edit", company.pk, note.pk)
        elif verb == "approve":
            services.approve(document, by=by)  # type: ignore[arg-type]
            messages.success(request, _("Registered as a purchase invoice."))
            return redirect("company-purchases", company.pk)
        elif verb == "confirm-addressee":
            services.confirm_addressee(document, by=by)  # type: ignore[arg-type]
            messages.success(
                request,
                _("Confirmed as this company's: it is sent to the accountant like the others."),
            )
            return redirect("company-purchases", company.pk)
        elif verb == "reject":
            form = forms.RejectForm(request.POST)
            reason = form.data.get("reason", "") if form.is_bound else ""
            services.reject(document, str(reason), by=by)  # type: ignore[arg-type]
            messages.success(request, _("Document rejected."))
            return redirect("company-purchases", company.pk)
        elif verb == "delete":
            services.delete_draft(document, by=by)  # type: ignore[arg-type]
            messages.success(request, _("Draft deleted."))
            return redirect("company-documents", company.pk)
        else:
            raise Http404("No such action.")
    except ServiceError as error:
        if error.code == "invoicing_details_missing":
            return _to_invoicing_details(request, company, document, error)
        show_refusal(request, error)
    return redirect("document-detail", company.pk, document.pk)


def addressee_warning(document: Document) -> str:
    return _(
        "This document names another company as its buyer: %(buyer)s. It waits in the "
        "processing list and is not sent to the accountant automatically until you confirm "
        "it is this company's."
    ) % {"buyer": document.addressed_to}


@login_required
def purchases(request: HttpRequest, company_id: int) -> HttpResponse:
    """The processing list, the upload of a received document, and a purchase invoice entered
    by hand with its file."""
    company = _company(request, company_id)
    upload = forms.UploadForm()
    if request.method == "POST":
        upload = forms.UploadForm(request.POST, request.FILES)
        if upload.is_valid():
            register = request.POST.get("register") == "1"
            data = upload.cleaned_data["file"].read(DEFAULT_MAX_BYTES + 1)
            try:
                document = services.receive(
                    company,
                    data,
                    source=Document.Source.MANUAL if register else Document.Source.UPLOAD,
                    received_from=upload.cleaned_data["file"].name,
                    by=request.user,  # type: ignore[arg-type]
                    register=register,
                )
            except ServiceError as error:
                show_refusal(request, error, form=upload, field="file", details=10)
            else:
                messages.success(
                    request,
                    _("Purchase invoice registered.") if register else _("Document received."),
                )
                if document.awaits_addressee_confirmation:
                    messages.warning(request, addressee_warning(document))
                if register:
                    return redirect("document-detail", company.pk, document.pk)
                return redirect("company-purchases", company.pk)
    registered = company.documents.filter(kind=Document.Kind.PURCHASE_INVOICE)[:20]
    return _page(
        request,
        "documents/purchases.html",
        company,
        "purchases",
        waiting=queries.processing_list(company),
        registered=registered,
        upload=upload,
        inbox=inbound.inbox_address(company),
    )


@login_required
def invoicing_details(request: HttpRequest, company_id: int) -> HttpResponse:
    company = _company(request, company_id)
    profile = to_ubl.profile_of(company)
    form = forms.InvoicingProfileForm(request.POST or None, instance=profile)
    if request.method == "POST" and form.is_valid():
        services.update_profile(profile, form.cleaned_data, by=request.user)  # type: ignore[arg-type]
        messages.success(request, _("Invoicing details saved."))
        back = request.GET.get("next", "")
        if back and url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
            return redirect(back)
        return redirect("company-invoicing", company.pk)
    return _page(
        request,
        "documents/invoicing_details.html",
        company,
        "invoicing",
        form=form,
        inbox=inbound.inbox_address(company),
    )
