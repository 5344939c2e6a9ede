"""Forms of the web shell (input is validated here; views then call selectors)."""

from __future__ import annotations

from typing import Any

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


class StaffSearchForm(PersonSearchForm):
    """The staff search's filters (``habeas.web.search``); every field may be left empty."""

    reference = forms.CharField(label=_("Reference"), max_length=64, required=False, strip=True)
    cell = forms.CharField(label=_("Cell"), max_length=32, required=False, strip=True)
    nationality = forms.ChoiceField(label=_("Nationality"), required=False)
    basis = forms.ChoiceField(label=_("Legal basis"), required=False)
    status = forms.ChoiceField(label=_("Status"), required=False)
    sort = forms.CharField(max_length=16, required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, nationalities: list[tuple[str, str]], **kwargs: Any) -> None:
        from habeas.custody.choices import LegalBasisKind
        from habeas.web.search import NO_BASIS, STATUS_LABELS

        super().__init__(*args, **kwargs)
        anything = [("", _("Any"))]
        choices: dict[str, list[Any]] = {
            "nationality": anything + nationalities,
            "basis": [*anything, *LegalBasisKind.choices,
                      (NO_BASIS, _("Held with no order in force"))],
            "status": anything + list(STATUS_LABELS.items()),
        }  # fmt: skip
        for name, options in choices.items():
            field = self.fields[name]
            assert isinstance(field, forms.ChoiceField)
            field.choices = options
