"""Forms of the intake pages (validation only; the services write)."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from habeas.core.limits import MAX_NAME_CHARS
from habeas.transfers.choices import Decision
from habeas.transfers.manifest import e164


class ManifestUploadForm(forms.Form):
    file = forms.FileField(label=_("Manifest file (CSV or JSON)"))
    agreement = forms.ChoiceField(label=_("Agreement"), choices=())
    ref = forms.CharField(label=_("Reference"), required=False, max_length=64)
    on = forms.DateField(label=_("Decide as on"), required=False, help_text=_("Default: today."))

    def __init__(self, *args: Any, agreements: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["agreement"].choices = [(c, c) for c in agreements]  # type: ignore[attr-defined]


class DecisionFilterForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"), required=False, choices=[("", _("All")), *Decision.choices]
    )


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
    property_items = JSONListField(
        label=_("(e) Personal property (JSON list)"), widget=forms.Textarea, required=False
    )
    family = JSONListField(
        label=_("(f) Family members and children (JSON list)"),
        widget=forms.Textarea,
        required=False,
    )
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
