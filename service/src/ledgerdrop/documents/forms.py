from __future__ import annotations

from typing import Any

from django import forms
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from schwifty import IBAN
from schwifty.exceptions import SchwiftyException
from stdnum.be import vat

from ledgerdrop.documents import bounds, services, to_ubl
from ledgerdrop.documents.models import Document, InvoicingProfile
from ledgerdrop.documents.ubl.parse import DEFAULT_MAX_BYTES

LINE_ROWS_AHEAD = 2


def local_date() -> forms.DateInput:
    """A date typed and shown as people write it here (30/11/2026, 30-11-2026): a browser's
    own date picker follows the browser's language, not the page's."""
    return forms.DateInput(attrs={"placeholder": _("yyyy-mm-dd"), "inputmode": "numeric"})


def _vat_choices() -> list[tuple[str, Any]]:
    return [(choice.key, choice.label) for choice in to_ubl.VAT_CHOICES]


class DocumentForm(forms.Form):
    issue_date = forms.DateField(label=_("Issue date"), widget=local_date(), localize=True)
    due_date = forms.DateField(
        label=_("Due date"),
        required=False,
        widget=local_date(),
        localize=True,
        help_text=_("Empty: 30 days after the issue date."),
    )
    name = forms.CharField(label=_("Name"), max_length=200)
    vat_number = forms.CharField(label=_("VAT number"), max_length=32, required=False)
    enterprise_number = forms.CharField(label=_("Enterprise number"), max_length=16, required=False)
    street = forms.CharField(label=_("Street and number"), max_length=200, required=False)
    postal_code = forms.CharField(label=_("Postal code"), max_length=16, required=False)
    city = forms.CharField(label=_("City"), max_length=100, required=False)
    country = forms.CharField(label=_("Country"), max_length=2, initial="BE")
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    currency = forms.CharField(label=_("Currency"), max_length=3, initial="EUR", required=False)
    eur_rate = forms.DecimalField(
        label=_("Euro exchange rate"),
        required=False,
        max_digits=16,
        decimal_places=6,
        min_value=0,
        localize=True,
        help_text=_("Other currencies than EUR: how many euros one unit is worth."),
    )


class LineForm(forms.Form):
    description = forms.CharField(label=_("Description"), max_length=500, required=False)
    quantity = forms.DecimalField(
        label=_("Quantity"),
        max_digits=bounds.DIGITS,
        decimal_places=bounds.DECIMAL_PLACES,
        min_value=-bounds.MAX_QUANTITY,
        max_value=bounds.MAX_QUANTITY,
        required=False,
        localize=True,
    )
    unit_price = forms.DecimalField(
        label=_("Unit price"),
        max_digits=bounds.DIGITS,
        decimal_places=bounds.DECIMAL_PLACES,
        required=False,
        min_value=0,
        max_value=bounds.MAX_UNIT_PRICE,
        localize=True,
    )
    vat_rate = forms.ChoiceField(label=_("VAT"), choices=_vat_choices, initial="21")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The lines are a table: each input is named by its column for screen readers.
        for field in self.fields.values():
            field.widget.attrs["aria-label"] = field.label
            # On a phone the lines stack without their column heads: the field says its name.
            field.widget.attrs.setdefault("placeholder", field.label)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        missing = [
            name
            for name in ("quantity", "unit_price")
            if data.get(name) is None and name not in self.errors  # a wrong one says why itself
        ]
        if data.get("description") and missing:
            raise forms.ValidationError(_("A line needs a quantity and a unit price."))
        return data


LineFormSet = forms.formset_factory(LineForm, extra=0)


def initial_header(document: Document | None) -> dict[str, Any]:
    if document is None:
        return {"issue_date": timezone.localdate(), "country": "BE", "currency": "EUR"}
    return {
        "issue_date": document.issue_date,
        "due_date": document.due_date,
        "name": document.counterparty_name,
        "vat_number": document.counterparty_vat_number,
        "enterprise_number": document.counterparty_enterprise_number,
        "street": document.counterparty_street,
        "postal_code": document.counterparty_postal_code,
        "city": document.counterparty_city,
        "country": document.counterparty_country,
        "note": document.note,
        "currency": document.currency,
        "eur_rate": document.eur_rate,
    }


def initial_lines(document: Document | None, ahead: int = LINE_ROWS_AHEAD) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    if document is not None:
        rows = [
            {
                "description": line.description,
                "quantity": line.quantity.normalize(),
                "unit_price": line.unit_price.normalize(),
                "vat_rate": to_ubl.vat_key(line.vat_category, line.vat_rate),
            }
            for line in document.lines.all()
        ]
    return rows + [{"quantity": 1, "vat_rate": "21"} for _ in range(ahead)]


def filled_lines(formset: Any) -> list[services.LineInput]:
    return [
        services.LineInput(
            description=form.cleaned_data["description"],
            quantity=form.cleaned_data["quantity"],
            unit_price=form.cleaned_data["unit_price"],
            vat_rate=form.cleaned_data["vat_rate"],
        )
        for form in formset.forms
        if form.cleaned_data.get("description")
    ]


def document_input(
    kind: Document.Kind,
    header: DocumentForm,
    formset: Any,
    credited_document_id: int | None,
) -> services.DocumentInput:
    data = header.cleaned_data
    return services.DocumentInput(
        kind=kind,
        issue_date=data["issue_date"],
        due_date=data.get("due_date"),
        counterparty=services.CounterpartyInput(
            name=data["name"],
            vat_number=data.get("vat_number", ""),
            enterprise_number=data.get("enterprise_number", ""),
            street=data.get("street", ""),
            postal_code=data.get("postal_code", ""),
            city=data.get("city", ""),
            country=data.get("country", "BE"),
        ),
        lines=filled_lines(formset),
        note=data.get("note", ""),
        currency=data.get("currency") or "EUR",
        eur_rate=data.get("eur_rate"),
        credited_document_id=credited_document_id,
    )


class UploadForm(forms.Form):
    file = forms.FileField(label=_("UBL file (XML)"))

    def clean_file(self) -> Any:
        file = self.cleaned_data["file"]
        if file.size > DEFAULT_MAX_BYTES:
            raise forms.ValidationError(
                _("The file is %(size)s; the limit is %(limit)s."),
                params={
                    "size": filesizeformat(file.size),
                    "limit": filesizeformat(DEFAULT_MAX_BYTES),
                },
            )
        return file


class RejectForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=500)


class PeriodFilterForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Kind"),
        required=False,
        choices=[("", _("All kinds")), *Document.Kind.choices],
    )
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("All statuses")), *Document.Status.choices],
    )
    date_from = forms.DateField(
        label=_("From"),
        required=False,
        widget=local_date(),
        localize=True,
    )
    date_to = forms.DateField(
        label=_("To"),
        required=False,
        widget=local_date(),
        localize=True,
    )

    def filters(self) -> dict[str, Any]:
        if not self.is_valid():
            return {}
        data = self.cleaned_data
        result: dict[str, Any] = {"kind": data["kind"], "status": data["status"]}
        result["date_from"] = data.get("date_from")
        result["date_to"] = data.get("date_to")
        return result


class InvoicingProfileForm(forms.ModelForm[InvoicingProfile]):
    class Meta:
        model = InvoicingProfile
        fields = [
            "street",
            "postal_code",
            "city",
            "country",
            "enterprise_number",
            "iban",
            "language",
        ]
        widgets = {
            "language": forms.Select(
                choices=[
                    ("fr", "Français"),
                    ("nl", "Nederlands"),
                    ("en", "English"),
                    ("fr-nl", "Français / Nederlands"),
                    ("nl-fr", "Nederlands / Français"),
                ]
            )
        }

    def clean_enterprise_number(self) -> str:
        value = "".join(ch for ch in self.cleaned_data.get("enterprise_number", "") if ch.isdigit())
        if value and not vat.is_valid(value):
            raise forms.ValidationError(_("This enterprise number is not valid."))
        return value

    def clean_iban(self) -> str:
        value = "".join(self.cleaned_data.get("iban", "").split()).upper()
        if value:
            try:
                IBAN(value)
            except SchwiftyException as error:
                raise forms.ValidationError(_("This IBAN is not valid.")) from error
        return value
