from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from ledgerdrop.accounts import services
from ledgerdrop.accounts.http import client_ip, known_device
from ledgerdrop.accounts.models import Organisation
from ledgerdrop.core.errors import ServiceError


class LoginForm(AuthenticationForm):
    """Django's sign-in form with the database-backed limit on failed attempts."""

    def clean(self) -> dict[str, Any]:
        email = str(self.data.get("username", ""))
        ip = client_ip(self.request)
        device = known_device(self.request, services.user_with_email(email))
        try:
            services.check_login_allowed(email, ip, device=device)
        except ServiceError as refusal:
            raise ValidationError(refusal.message, code=refusal.code) from None
        try:
            cleaned = super().clean()
        except ValidationError:
            services.record_login_failure(email, ip, device=device)
            raise
        services.clear_login_failures(email, ip, device=device)
        return cleaned


class SignupForm(forms.Form):
    name = forms.CharField(max_length=200)
    email = forms.EmailField(label=_("E-mail address"), max_length=254)
    password = forms.CharField(
        label=_("Password"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        strip=False,
    )
    vat_number = forms.CharField(label=_("VAT number"), max_length=32, required=False)

    def __init__(self, *args: Any, kind: Organisation.Kind, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.kind = kind
        self.fields["email"].widget.attrs["autocomplete"] = "email"
        if kind == Organisation.Kind.FIRM:
            self.fields["name"].label = _("Name of the accounting firm")
            self.fields["vat_number"].help_text = _("Optional.")
        else:
            self.fields["name"].label = _("Name of the company")
            self.fields["vat_number"].required = True
            self.fields["vat_number"].help_text = _("For example BE0123456749.")
        self.fields["password"].help_text = _(
            "At least 8 characters, not only digits, not a common password."
        )


class OrganisationForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Kind of account"),
        choices=[
            (Organisation.Kind.FIRM.value, _("Accounting firm")),
            (Organisation.Kind.COMPANY.value, _("Client company")),
        ],
        widget=forms.RadioSelect,
    )
    name = forms.CharField(label=_("Name"), max_length=200)
    vat_number = forms.CharField(
        label=_("VAT number"),
        max_length=32,
        required=False,
        help_text=_("Required for a company, for example BE0123456749."),
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        vat_number = cleaned.get("vat_number", "")
        if cleaned.get("kind") == Organisation.Kind.COMPANY and not vat_number:
            self.add_error("vat_number", _("A company needs its VAT number."))
        elif vat_number:
            try:
                cleaned["vat_number"] = services.normalise_vat_number(vat_number)
            except ValidationError as exc:
                self.add_error("vat_number", exc)
        return cleaned


class ExternalUserForm(forms.Form):
    email = forms.EmailField(label=_("E-mail address"), max_length=254)


class TokenForm(forms.Form):
    label = forms.CharField(
        label=_("What the token is for"),
        max_length=100,
        required=False,
        help_text=_("For example: export script on the office server."),
    )
