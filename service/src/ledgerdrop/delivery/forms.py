from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from ledgerdrop.accounts.models import Organisation


class PairingCodeForm(forms.Form):
    firm = forms.ModelChoiceField(queryset=Organisation.objects.none(), label=_("Firm"))
    user_code = forms.CharField(
        label=_("Code shown by the downloader"),
        max_length=16,
        widget=forms.TextInput(attrs={"autocomplete": "off", "placeholder": "ABCD-EFGH"}),
    )
    name = forms.CharField(label=_("Device name"), max_length=100, required=False)

    def __init__(self, *args: Any, firms: list[Organisation], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["firm"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = Organisation.objects.filter(pk__in=[f.pk for f in firms])
        if len(firms) == 1:
            field.initial = firms[0]
