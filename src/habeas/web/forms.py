"""Forms of the web shell (input is validated here; views then call selectors)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class PersonSearchForm(forms.Form):
    """Search people by any part of their names (as written) or an exact identifier."""

    q = forms.CharField(
        label=_("Name or identifier"),
        max_length=100,
        required=False,
        strip=True,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )
