"""Forms of the contact pages. Every text is bounded and storable (habeas.core.limits): a
hostile value is a form error, never a 500 and never half-written."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from habeas.contact.choices import (
    ContactKind,
    Counterpart,
    RestrictionMeans,
    RestrictionReason,
    VisitEndReason,
    VisitKind,
)
from habeas.core.limits import MAX_TEXT_CHARS, check_name, check_text

MAX_REF_CHARS = 64


def _bounded(value: str, *, name: bool = False) -> str:
    try:
        return check_name(value) if name else check_text(value)
    except ValueError as e:
        raise forms.ValidationError(str(e)) from None


class NameField(forms.CharField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 200)
        super().__init__(**kwargs)

    def clean(self, value: Any) -> str:
        return _bounded(super().clean(value), name=True)


class TextField(forms.CharField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", MAX_TEXT_CHARS)
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def clean(self, value: Any) -> str:
        return _bounded(super().clean(value))


class StyledForm(forms.Form):
    """The site's input style on every field; date and time fields as the browser's picker."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field, forms.DateTimeField):
                field.widget = forms.DateTimeInput(
                    attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"
                )
                field.input_formats = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"]
            field.widget.attrs["class"] = "input"


class VisitorFields(StyledForm):
    visitor_name = NameField(label=_("Visitor's name"))
    relation = NameField(label=_("Relation to the person"), required=False, max_length=100)
    id_document = NameField(label=_("Identity document"), required=False, max_length=100)


class BookForm(VisitorFields):
    kind = forms.ChoiceField(label=_("Kind of visit"), choices=VisitKind.choices)
    country = forms.CharField(
        label=_("Consulate's country (ISO code)"), required=False, max_length=2
    )
    starts_at = forms.DateTimeField(label=_("When (local time)"))
    note = TextField(label=_("Note (not kept for a lawyer's visit)"))


class LogForm(StyledForm):
    kind = forms.ChoiceField(label=_("Kind"), choices=ContactKind.choices)
    counterpart_kind = forms.ChoiceField(label=_("With"), choices=Counterpart.choices)
    counterpart = NameField(label=_("Counterpart's name"), required=False)
    occurred_at = forms.DateTimeField(label=_("When (local time)"))


class RestrictForm(StyledForm):
    means = forms.ChoiceField(label=_("Means restricted"), choices=RestrictionMeans.choices)
    reason = forms.ChoiceField(label=_("Reason"), choices=RestrictionReason.choices)
    starts_at = forms.DateTimeField(label=_("From (local time)"))
    ends_at = forms.DateTimeField(label=_("Until (local time)"))
    note = TextField(label=_("Why it is strictly required"))


class VisitActionForm(forms.Form):
    action = forms.ChoiceField(
        choices=[
            ("confirm", "confirm"),
            ("held", "held"),
            ("refuse", "refuse"),
            ("cancel", "cancel"),
        ]
    )
    reason = forms.ChoiceField(choices=[("", "—"), *VisitEndReason.choices], required=False)


class PublicRequestForm(VisitorFields):
    """The public visit request (Mandela Rule 58(1)): the person by the same reference and
    nationality as the locator, the facility and slot, and who asks."""

    nationality = forms.CharField(label=_("Nationality of the person (ISO code)"), max_length=2)
    reference = forms.CharField(
        label=_("Reference given by the sending state"), max_length=MAX_REF_CHARS
    )
    facility = forms.CharField(label=_("Facility"), max_length=32)
    slot = forms.CharField(label=_("Visiting slot"), max_length=40)
    relation = NameField(label=_("Relation to the person"), max_length=100)
    id_document = NameField(label=_("Identity document"), max_length=100)

    def clean_reference(self) -> str:
        value = _bounded(self.cleaned_data["reference"]).strip()
        if not value or not all(c.isalnum() or c in "-_/." for c in value):
            raise forms.ValidationError(_("A reference has letters, digits and - _ / . only."))
        return value

    def clean_nationality(self) -> str:
        value = str(self.cleaned_data["nationality"]).strip().upper()
        if len(value) != 2 or not value.isascii() or not value.isalpha():
            raise forms.ValidationError(_("Give the two-letter country code."))
        return value
