"""Forms of the housing pages (validation only; the services decide and write)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from habeas.facilities.choices import KeepApartRole, KeepApartScope, ModuleRegime


class StyledForm(forms.Form):
    """Gives every text, number and select widget the shell's ``input`` class."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if not isinstance(field.widget, forms.CheckboxInput):
                field.widget.attrs.setdefault("class", "input")


class BoardFilterForm(StyledForm):
    module = forms.ChoiceField(label=_("Module"), required=False)
    regime = forms.ChoiceField(
        label=_("Regime"),
        required=False,
        choices=[("", _("All regimes")), *ModuleRegime.choices],
    )
    over = forms.BooleanField(label=_("Only cells above certified capacity"), required=False)

    def __init__(self, *args: Any, modules: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["module"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", _("All modules")), *[(m, m) for m in modules]]


class KeepApartForm(StyledForm):
    """Open a keep-apart record (Mandela Rules 1 and 36). Each person is found by name (the
    staff search: accents, capitals and scripts folded) or by a reference; when several
    people match, the form asks to pick one of them by name."""

    person = forms.CharField(label=_("Person (name or reference)"), max_length=100)
    person_pick = forms.IntegerField(
        label=_("Several people match: which one?"), required=False, widget=forms.Select
    )
    role = forms.ChoiceField(label=_("Their role"), choices=KeepApartRole.choices)
    other = forms.CharField(label=_("Keep apart from (name or reference)"), max_length=100)
    other_pick = forms.IntegerField(
        label=_("Several people match: which one?"), required=False, widget=forms.Select
    )
    other_role = forms.ChoiceField(
        label=_("Role of the other person"), choices=KeepApartRole.choices
    )
    scope = forms.ChoiceField(label=_("Scope"), choices=KeepApartScope.choices)
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}))

    def offer(self, name: str, people: list[Any]) -> None:
        """Ask to pick one of ``people`` (all matching the text typed in field ``name``)."""
        widget = self.fields[f"{name}_pick"].widget
        assert isinstance(widget, forms.Select)
        widget.choices = [
            (p.pk, f"{p.sorted_name} · {p.date_of_birth_display or '—'} · "
                   f"{', '.join(p.nationalities)} · #{p.pk}")
            for p in people
        ]  # fmt: skip


class KeepApartCloseForm(forms.Form):
    reason = forms.CharField(label=_("Reason for closing"), max_length=500)


class MoveForm(forms.Form):
    """Move a person to another cell; the placement service checks every rule."""

    cell = forms.CharField(label=_("Target cell"), max_length=32)
    reason = forms.CharField(label=_("Reason for the move"), max_length=200)
    override_reason = forms.CharField(
        label=_("Override reason (facility admins, module or facility keep-apart only)"),
        required=False,
        max_length=500,
    )


class OccupancyForm(forms.Form):
    days = forms.IntegerField(label=_("Days"), min_value=2, max_value=366, required=False)
