from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from ledgerdrop.delivery.models import root_folder_error, validate_root_folder


class PairingCodeForm(forms.Form):
    user_code = forms.CharField(
        label=_("Code shown by the downloader"),
        max_length=16,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "placeholder": "ABCD-EFGH", "autocapitalize": "off"}
        ),
    )
    name = forms.CharField(label=_("Device name"), max_length=100, required=False)


class DeviceSettingsForm(forms.Form):
    name = forms.CharField(label=_("Device name"), max_length=100)
    root_folder = forms.CharField(
        label=_("Main Demat folder"),
        max_length=255,
        validators=[validate_root_folder],
        help_text=_("For example c:\\bob-demat on Windows, ~/bob-demat on Linux."),
    )
    is_shared_server = forms.BooleanField(
        label=_("This device is the firm's shared server"), required=False
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        folder = data.get("root_folder")
        if folder is not None:
            error = root_folder_error(folder, shared_server=bool(data.get("is_shared_server")))
            if error is not None:
                self.add_error("root_folder", error)
        return data
