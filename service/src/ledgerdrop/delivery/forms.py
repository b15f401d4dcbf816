from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from ledgerdrop.delivery.models import validate_root_folder


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
