from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from ledgerdrop.accounts.models import Dossier, Organisation
from ledgerdrop.connectors.bob_demat import services
from ledgerdrop.connectors.bob_demat.models import first_day_of_month, validate_dossier_code
from ledgerdrop.delivery.models import Device
from ledgerdrop.documents.models import Document


def _devices(firm: Organisation) -> Any:
    return Device.objects.active().filter(firm=firm).order_by("-is_shared_server", "name")


class DeviceChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Device) -> str:
        if obj.is_shared_server:
            return f"{obj.name} — {_('shared server')}"
        return obj.name


def _connection_device_field(field: forms.Field, firm: Organisation) -> None:
    """A connection without a device of its own: the list says what that means today, and
    never offers a default device that does not exist (S5 comes before S7 on the help page)."""
    default = services.default_device(firm)
    field.queryset = _devices(firm)  # type: ignore[attr-defined]
    if default is not None:
        field.empty_label = _("The default device (%(name)s)") % {"name": default.name}  # type: ignore[attr-defined]
    else:
        field.empty_label = _("No device in particular")  # type: ignore[attr-defined]
    field.help_text = _(
        "Without a device of its own, the achats and ventes folders are created on every "
        "device of the firm; automatic transfer and the client's sending use the default device."
    )


class DematSettingsForm(forms.Form):
    default_device = DeviceChoiceField(
        queryset=Device.objects.none(),
        required=False,
        label=_("Default device"),
        empty_label=_("No default device"),
        help_text=_(
            "Without a default device there is no automatic transfer and clients cannot send "
            "documents themselves."
        ),
    )

    def __init__(self, *args: Any, firm: Organisation, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["default_device"].queryset = _devices(firm)  # type: ignore[attr-defined]


class ConnectionForm(forms.Form):
    dossier = forms.ModelChoiceField(queryset=Dossier.objects.none(), label=_("Dossier"))
    dossier_code = forms.CharField(
        label=_("Dossier code"),
        max_length=20,
        validators=[validate_dossier_code],
        help_text=_("The dossier's code in BOB, e.g. DUPONT01."),
    )
    device = DeviceChoiceField(
        queryset=Device.objects.none(),
        required=False,
        label=_("Device"),
        empty_label=_("The default device"),
    )
    start_date = forms.DateField(
        label=_("Send documents dated from"),
        initial=first_day_of_month,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("Older documents are not sent automatically."),
    )
    auto_transfer = forms.BooleanField(
        label=_("Automatically transfer purchase and sales documents"), required=False
    )

    def __init__(self, *args: Any, firm: Organisation, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["dossier"].queryset = (  # type: ignore[attr-defined]
            Dossier.objects.filter(firm=firm, bob_demat_connection__isnull=True)
            .select_related("company")
            .order_by("company__name")
        )
        self.fields["dossier"].label_from_instance = lambda dossier: dossier.company.name  # type: ignore[attr-defined]
        _connection_device_field(self.fields["device"], firm)


class ConnectionEditForm(forms.Form):
    dossier_code = ConnectionForm.base_fields["dossier_code"]
    device = ConnectionForm.base_fields["device"]
    start_date = ConnectionForm.base_fields["start_date"]

    def __init__(self, *args: Any, firm: Organisation, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _connection_device_field(self.fields["device"], firm)


class DocumentFilterForm(forms.Form):
    dossier = forms.ModelChoiceField(
        queryset=Dossier.objects.none(), required=False, label=_("Dossier"),
        empty_label=_("All dossiers"),
    )  # fmt: skip
    kind = forms.ChoiceField(
        choices=[("", _("All kinds")), *Document.Kind.choices], required=False, label=_("Kind")
    )

    def __init__(self, *args: Any, firm: Organisation, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        connected = Dossier.objects.filter(firm=firm, bob_demat_connection__isnull=False)
        if connected[: LISTED_DOSSIERS + 1].count() > LISTED_DOSSIERS:
            # Thousands of options would cost every page seconds and megabytes: the code.
            self.fields["dossier"] = DossierCodeField(connected)
            return
        field = self.fields["dossier"]
        field.queryset = connected.select_related("company")  # type: ignore[attr-defined]
        field.label_from_instance = lambda dossier: dossier.company.name  # type: ignore[attr-defined]


# Above this many connected dossiers, the filter asks for a dossier code instead of a list.
LISTED_DOSSIERS = 300


class DossierCodeField(forms.CharField):
    """A dossier by its BOB dossier code, typed; the id that links to a filtered page carry
    (`?dossier=<id>`) works too."""

    def __init__(self, dossiers: QuerySet[Dossier]) -> None:
        super().__init__(required=False, label=_("Dossier code"), max_length=20)
        self.dossiers = dossiers

    def clean(self, value: Any) -> Dossier | None:
        code = (super().clean(value) or "").strip()
        if not code:
            return None
        found = self.dossiers.filter(bob_demat_connection__dossier_code__iexact=code).first()
        if found is None and code.isdigit():
            found = self.dossiers.filter(pk=int(code)).first()
        if found is None:
            raise forms.ValidationError(
                _("No connected dossier has the code %(code)s."), params={"code": code}
            )
        return found


class DeviceWithStatusChoiceField(DeviceChoiceField):
    """Devices as the send dialog lists them: with their state as the device page shows it (an
    unusable main folder before online, since nothing sent there would be placed)."""

    def label_from_instance(self, obj: Device) -> str:
        if obj.folder_problem:
            status = _("main folder unusable")
        else:
            status = _("online") if obj.is_online else _("offline")
        return f"{super().label_from_instance(obj)} ({status})"


class SendForm(forms.Form):
    documents = forms.ModelMultipleChoiceField(
        queryset=Document.objects.none(),
        label=_("Documents"),
        error_messages={"required": _("Select at least one document.")},
    )
    device = DeviceWithStatusChoiceField(
        queryset=Device.objects.none(),
        label=_("Device"),
        error_messages={"required": _("Choose the device that will receive the documents.")},
    )
    # Set by the "send anyway" button of the warning about an offline device.
    send_to_offline = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, firm: Organisation, documents: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["documents"].queryset = documents  # type: ignore[attr-defined]
        self.fields["device"].queryset = _devices(firm)  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        device = cleaned.get("device")
        if device is not None and not device.is_online and not cleaned.get("send_to_offline"):
            raise forms.ValidationError(
                _(
                    "%(name)s is offline: its downloader is not running or cannot reach "
                    "Ledgerdrop. The documents will wait until it is back. Send them anyway?"
                ),
                code="device_offline",
                params={"name": device.name},
            )
        return cleaned

    @property
    def asks_to_confirm_offline(self) -> bool:
        return any(error.code == "device_offline" for error in self.non_field_errors().as_data())
