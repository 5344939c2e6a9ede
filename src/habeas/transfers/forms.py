"""Forms of the intake pages (validation only; the services write)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from habeas.core.limits import MAX_NAME_CHARS
from habeas.transfers.choices import Decision, EntryStatus, IdentityVerdict
from habeas.transfers.manifest import e164


class ManifestUploadForm(forms.Form):
    file = forms.FileField(label=_("Manifest file (CSV or JSON)"))
    agreement = forms.ChoiceField(label=_("Agreement"), choices=())
    ref = forms.CharField(label=_("Reference"), required=False, max_length=64)
    on = forms.DateField(label=_("Decide as on"), required=False, help_text=_("Default: today."))

    def __init__(self, *args: Any, agreements: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["agreement"].choices = [(c, c) for c in agreements]  # type: ignore[attr-defined]


class JSONListField(forms.CharField):
    """A list of objects typed as JSON (property inventory, family members)."""

    def to_python(self, value: Any) -> Any:
        text = super().to_python(value)
        if not text:
            return []
        try:
            data = json.loads(text)
        except json.JSONDecodeError:
            raise forms.ValidationError(_('Enter a JSON list, e.g. [{"item": "watch"}]')) from None
        if not isinstance(data, list) or not all(isinstance(x, dict) for x in data):
            raise forms.ValidationError(_("Enter a JSON list of objects."))
        return data

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list):
            return json.dumps(value, ensure_ascii=False)
        return value


class RowsWidget(forms.Widget):
    """A list of objects typed as rows of a small table, one text input per column
    (``<name>-<row>-<column>``), with a few empty rows to add to; never JSON for the person
    typing. A posted ``<name>`` (a JSON list, as older clients send it) is still read."""

    template_name = "transfers/_rows_widget.html"
    EMPTY_ROWS = 3

    def __init__(self, columns: list[tuple[str, Any]], attrs: dict[str, Any] | None = None):
        super().__init__(attrs)
        self.columns = columns

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        rows = value if isinstance(value, list) else []
        keys = [key for key, _label in self.columns]
        shown = [
            [(key, str(row.get(key, "")) if isinstance(row, dict) else "") for key in keys]
            for row in rows
        ]
        shown += [[(key, "") for key in keys] for _ in range(self.EMPTY_ROWS)]
        context["widget"]["columns"] = self.columns
        context["widget"]["rows"] = shown
        return context

    def value_from_datadict(self, data: Any, files: Any, name: str) -> Any:
        if data.get(name):
            return data.get(name)
        rows: list[dict[str, str]] = []
        i = 0
        while any(f"{name}-{i}-{key}" in data for key, _label in self.columns):
            row = {key: str(data.get(f"{name}-{i}-{key}", "")).strip() for key, _ in self.columns}
            if any(row.values()):
                rows.append({k: v for k, v in row.items() if v})
            i += 1
        return rows

    def value_omitted_from_data(self, data: Any, files: Any, name: str) -> bool:
        return False


class RowsField(JSONListField):
    """A list of objects entered as table rows (:class:`RowsWidget`)."""

    def __init__(self, *, columns: list[tuple[str, Any]], **kwargs: Any) -> None:
        kwargs.setdefault("widget", RowsWidget(columns))
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> Any:
        if isinstance(value, list):
            return value
        return super().to_python(value)

    def prepare_value(self, value: Any) -> Any:
        return value


class AdmissionRecordForm(forms.Form):
    """Mandela Rule 7 (a)-(g) and Rules 54-55."""

    gender_identity = forms.CharField(label=_("(a) Self-perceived gender"), required=False)
    commitment_reason = forms.CharField(
        label=_("(b) Reason for commitment"), widget=forms.Textarea, required=False
    )
    commitment_authority = forms.CharField(label=_("(b) Responsible authority"), required=False)
    arrest_at = forms.DateTimeField(label=_("(b) Date and time of arrest"), required=False)
    arrest_place = forms.CharField(label=_("(b) Place of arrest"), required=False)
    visible_injuries = forms.CharField(
        label=_("(d) Visible injuries"), widget=forms.Textarea, required=False
    )
    ill_treatment_complaint = forms.CharField(
        label=_("(d) Complaints of prior ill-treatment"), widget=forms.Textarea, required=False
    )
    property_items = RowsField(
        label=_("(e) Personal property"),
        required=False,
        columns=[("item", _("Item")), ("quantity", _("Quantity")), ("note", _("Note"))],
    )
    family = RowsField(
        label=_("(f) Family members and children"),
        required=False,
        columns=[("name", _("Name")), ("relation", _("Relation")), ("age", _("Age")),
                 ("location", _("Where they are"))],
    )  # fmt: skip
    contact_name = forms.CharField(
        label=_("(g) Emergency contact"), required=False, max_length=MAX_NAME_CHARS
    )
    contact_relation = forms.CharField(label=_("(g) Relation"), required=False)
    contact_phone = forms.CharField(label=_("(g) Phone"), required=False)
    contact_email = forms.EmailField(label=_("(g) Email"), required=False)
    rights_language = forms.CharField(
        label=_("Language of the rights information (ISO 639-1)"), max_length=8
    )
    rights_informed_at = forms.DateTimeField(label=_("Rights information given at"), required=False)
    complete = forms.BooleanField(label=_("Examination on arrival done (d)"), required=False)

    def clean_contact_phone(self) -> str:
        """Mandela Rule 7(g): a number that can be dialled, kept in E.164 (ITU-T E.164)."""
        value = str(self.cleaned_data.get("contact_phone") or "").strip()
        if not value:
            return ""
        try:
            return e164(value)
        except ValueError:
            raise forms.ValidationError(
                _("Enter the telephone number with its country code, e.g. +503 2222 3333.")
            ) from None


class ArrivalForm(AdmissionRecordForm):
    """One person's arrival at the gate (Mandela Rule 7): the local date and time, the cell
    (the housing rules' suggestion first, Mandela Rule 11) and the Rule 7 record."""

    arrived_date = forms.DateField(
        label=_("Date of arrival"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    arrived_time = forms.TimeField(
        label=_("Time of arrival"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    cell = forms.ChoiceField(label=_("Cell"), choices=())

    field_order = ["arrived_date", "arrived_time", "cell"]

    def __init__(self, *args: Any, cells: Sequence[tuple[str, str]] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cell = self.fields["cell"]
        assert isinstance(cell, forms.ChoiceField)
        cell.choices = list(cells)

    def record_fields(self) -> dict[str, Any]:
        """The Rule 7 record's fields, as :func:`admission_record_update` takes them."""
        return record_fields(self.cleaned_data)


#: The record's text fields: an empty answer is stored as "" (never None).
TEXT_FIELDS = (
    "gender_identity",
    "commitment_reason",
    "commitment_authority",
    "arrest_place",
    "visible_injuries",
    "ill_treatment_complaint",
    "contact_name",
    "contact_relation",
    "contact_phone",
    "contact_email",
)


def record_fields(cleaned: dict[str, Any]) -> dict[str, Any]:
    """The Rule 7 record's fields from a valid form's data: the record's own fields only,
    text fields left empty stored as ""."""
    from habeas.transfers.services import RECORD_FIELDS

    data = {k: v for k, v in cleaned.items() if k in RECORD_FIELDS}
    for key in TEXT_FIELDS:
        if key in data:
            data[key] = data[key] or ""
    return data


class ReviewFilterForm(forms.Form):
    """The filters of the manifest review (the choices of rule and nationality are the
    manifest's own, set by the view)."""

    decision = forms.ChoiceField(
        label=_("Decision"), required=False, choices=[("", _("All")), *Decision.choices]
    )
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("All")), *EntryStatus.choices]
    )
    rule = forms.ChoiceField(label=_("Rule not passed"), required=False, choices=())
    nationality = forms.ChoiceField(label=_("Nationality"), required=False, choices=())
    q = forms.CharField(label=_("Name or reference"), required=False, max_length=100)

    def __init__(
        self,
        *args: Any,
        rules: list[tuple[str, str]],
        nationalities: list[tuple[str, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["rule"].choices = [("", _("Any")), *rules]  # type: ignore[attr-defined]
        self.fields["nationality"].choices = [("", _("Any")), *nationalities]  # type: ignore[attr-defined]


class IdentityDecisionForm(forms.Form):
    """A person's judgement of a possible match (:mod:`habeas.transfers.identity`)."""

    person = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    verdict = forms.ChoiceField(
        label=_("Your judgement"), choices=IdentityVerdict.choices, widget=forms.RadioSelect
    )
    reason = forms.CharField(
        label=_("Reason"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What you compared: documents seen, photographs, the sending state's answer."),
    )
