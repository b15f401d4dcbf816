from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from ledgerdrop.accounts.models import Dossier, Organisation
from ledgerdrop.connectors.bob_demat.forms import DeviceChoiceField
from ledgerdrop.connectors.bob_demat.models import first_day_of_month
from ledgerdrop.connectors.presets.catalogue import (
    ADDRESS_LABELS,
    DEFAULT_FILE_TEMPLATE,
    PAYLOAD_LABELS,
    PURCHASES,
    SALES,
    Preset,
)
from ledgerdrop.connectors.presets.models import Connection
from ledgerdrop.connectors.presets.naming import FILE_VARIABLES, PATH_VARIABLES
from ledgerdrop.delivery.models import Device
from ledgerdrop.documents.models import Document


def _devices(firm: Organisation) -> Any:
    return Device.objects.active().filter(firm=firm).order_by("-is_shared_server", "name")


def _names(variables: tuple[str, ...]) -> str:
    return " ".join("{" + name + "}" for name in variables)


class SettingsForm(forms.Form):
    default_device = DeviceChoiceField(
        queryset=Device.objects.none(),
        required=False,
        label=_("Default device"),
        empty_label=_("No default device"),
    )

    def __init__(self, *args: Any, firm: Organisation, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["default_device"].queryset = _devices(firm)  # type: ignore[attr-defined]


class _ConnectionForm(forms.Form):
    """What every connection's form asks: the dossier, only when it is new, the files it sends
    and its automatic transfer. Whatever the service refuses it says itself."""

    dossier = forms.ModelChoiceField(queryset=Dossier.objects.none(), label=_("Dossier"))
    payload = forms.ChoiceField(label=_("Files"), choices=())
    auto_transfer = forms.BooleanField(
        label=_("Automatically transfer purchase and sales documents"), required=False
    )
    start_date = forms.DateField(
        label=_("Start date"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(
        self,
        *args: Any,
        firm: Organisation,
        preset: Preset,
        connection: Connection | None = None,
        **kwargs: Any,
    ) -> None:
        self.preset = preset
        kwargs.setdefault(
            "initial",
            {
                "payload": connection.payload if connection else preset.payload.value,
                "auto_transfer": connection.auto_transfer if connection else False,
                "start_date": connection.start_date if connection else first_day_of_month(),
                **self.initial_of(preset, connection),
            },
        )
        super().__init__(*args, **kwargs)
        self._dossiers(firm, connection)
        self.fields["payload"].choices = [  # type: ignore[attr-defined]
            (payload.value, label) for payload, label in PAYLOAD_LABELS.items()
        ]

    def initial_of(self, preset: Preset, connection: Connection | None) -> dict[str, Any]:
        """The initial values of the fields of this kind of connection only."""
        return {}

    def _dossiers(self, firm: Organisation, connection: Connection | None) -> None:
        """The dossiers not connected to this package yet; none to choose for a connection."""
        if connection is not None:
            del self.fields["dossier"]
            return
        self.fields["dossier"].queryset = (  # type: ignore[attr-defined]
            Dossier.objects.filter(firm=firm)
            .exclude(pk__in=Connection.objects.filter(app=self.preset.slug).values("dossier"))
            .select_related("company")
            .order_by("company__name")
        )
        self.fields["dossier"].label_from_instance = lambda dossier: dossier.company.name  # type: ignore[attr-defined]

    def transfer_fields(self) -> dict[str, Any]:
        return {
            "auto_transfer": self.cleaned_data["auto_transfer"],
            "start_date": self.cleaned_data["start_date"],
        }


class ConnectionForm(_ConnectionForm):
    """A folder preset's connection: where its files go and what they are called."""

    # The fields of a folder connection come before the files it sends, as they always did.
    field_order = [
        "dossier", "dossier_code", "device", "path_template", "file_template",
        "purchases_word", "sales_word",
    ]  # fmt: skip

    dossier_code = forms.CharField(label=_("Dossier code"), max_length=20, required=False)
    device = DeviceChoiceField(
        queryset=Device.objects.none(),
        required=False,
        label=_("Device"),
        empty_label=_("Every device of the firm"),
    )
    path_template = forms.CharField(label=_("Folder"), max_length=200)
    file_template = forms.CharField(label=_("File name"), max_length=200)
    purchases_word = forms.CharField(label=_("Purchases folder word"), max_length=60)
    sales_word = forms.CharField(label=_("Sales folder word"), max_length=60)

    def __init__(self, *args: Any, firm: Organisation, **kwargs: Any) -> None:
        super().__init__(*args, firm=firm, **kwargs)
        self.fields["device"].queryset = _devices(firm)  # type: ignore[attr-defined]
        self.fields["path_template"].help_text = _(
            "The dossier folder and its sub-folder, below the device's main folder. "
            "Variables: %(variables)s."
        ) % {"variables": _names(PATH_VARIABLES)}
        self.fields["file_template"].help_text = _(
            "Without the extension; {id} keeps names unique. Variables: %(variables)s."
        ) % {"variables": _names(FILE_VARIABLES)}

    def initial_of(self, preset: Preset, connection: Connection | None) -> dict[str, Any]:
        words = {**preset.direction_words, **(connection.direction_words if connection else {})}
        return {
            "dossier_code": connection.dossier_code if connection else "",
            "device": connection.device if connection else None,
            "path_template": connection.path_template if connection else preset.path_template,
            "file_template": connection.file_template if connection else DEFAULT_FILE_TEMPLATE,
            "purchases_word": words.get(PURCHASES, PURCHASES),
            "sales_word": words.get(SALES, SALES),
        }

    def service_fields(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "dossier_code": data["dossier_code"],
            "path_template": data["path_template"],
            "file_template": data["file_template"],
            "direction_words": {PURCHASES: data["purchases_word"], SALES: data["sales_word"]},
            "payload": data["payload"],
        }


class EmailConnectionForm(_ConnectionForm):
    """An e-mail preset's connection: one address per key the preset asks for (per journal,
    per direction or per document type)."""

    payload = forms.ChoiceField(label=_("Attachments"), choices=())

    def __init__(self, *args: Any, preset: Preset, **kwargs: Any) -> None:
        super().__init__(*args, preset=preset, **kwargs)
        # The addresses come first, in the preset's order, after the dossier.
        first = ["dossier"] if "dossier" in self.fields else []
        for key in preset.address_keys:
            self.fields[f"address_{key}"] = forms.EmailField(
                label=str(ADDRESS_LABELS.get(key, key)), max_length=254
            )
        self.order_fields([*first, *(f"address_{key}" for key in preset.address_keys)])

    def initial_of(self, preset: Preset, connection: Connection | None) -> dict[str, Any]:
        addresses = connection.addresses if connection else {}
        return {f"address_{key}": addresses.get(key, "") for key in preset.address_keys}

    def service_fields(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "addresses": {key: data[f"address_{key}"] for key in self.preset.address_keys},
            "payload": data["payload"],
        }


class SendForm(forms.Form):
    documents = forms.ModelMultipleChoiceField(
        queryset=Document.objects.none(),
        label=_("Documents"),
        error_messages={"required": _("Select at least one document.")},
    )
    device = DeviceChoiceField(
        queryset=Device.objects.none(),
        required=False,
        label=_("Device"),
        empty_label=_("The connection's or the default device"),
    )

    def __init__(self, *args: Any, firm: Organisation, documents: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["documents"].queryset = documents  # type: ignore[attr-defined]
        self.fields["device"].queryset = _devices(firm)  # type: ignore[attr-defined]
