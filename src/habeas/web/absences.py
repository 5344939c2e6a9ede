"""The person page's temporary absences: where the person is while out of the facility
(court, hospital, a funeral or a relative's bedside — Mandela Rule 70), their movements out
and back (Rule 7(c)), and the forms facility staff use to record a departure and a return.

Who: the receiving facility's staff and admins record, for people held in their facilities;
oversight and auditors read; a sending state's liaison or finance officer sees no movements
(Mandela Rule 9), like cells. A write by a read-only role is a 403, outside the scope the
same 404 as a missing page. Writes go through ``custody.absences`` only.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from habeas.accounts.permissions import may_record_absence
from habeas.core.actor import Actor
from habeas.core.errors import ApplicationError, NotFound
from habeas.custody.absences import absence_end, absence_list_for, absence_start
from habeas.custody.choices import AbsenceKind
from habeas.custody.models import CustodyEpisode, TemporaryAbsence

MSG_READ_ONLY = gettext_lazy("Your role may read movements but not record them.")
LOCAL_FORMAT = "%Y-%m-%dT%H:%M"
HISTORY_SHOWN = 50


class _Styled(forms.Form):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for f in self.fields.values():
            f.widget.attrs.setdefault("class", "input")


def _local_input() -> forms.DateTimeInput:
    return forms.DateTimeInput(attrs={"type": "datetime-local"}, format=LOCAL_FORMAT)


class AbsenceStartForm(_Styled):
    """Record a departure (``custody.absence_started``); times in the facility's zone."""

    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=AbsenceKind.choices)
    kind_other = forms.CharField(
        label=gettext_lazy("What it is (kind 'other')"), required=False, max_length=200
    )
    destination = forms.CharField(label=gettext_lazy("Destination"), max_length=200)
    authority = forms.CharField(
        label=gettext_lazy("Ordered or authorised by"),
        max_length=200,
        help_text=gettext_lazy("Court order, citation, medical referral, director's permission…"),
    )
    escort = forms.CharField(
        label=gettext_lazy("Escort"),
        required=False,
        max_length=200,
        help_text=gettext_lazy("Leave empty if the person goes unescorted."),
    )
    started_at = forms.DateTimeField(
        label=gettext_lazy("Left at"), input_formats=[LOCAL_FORMAT], widget=_local_input()
    )
    expected_return_at = forms.DateTimeField(
        label=gettext_lazy("Expected back (optional)"),
        required=False,
        input_formats=[LOCAL_FORMAT],
        widget=_local_input(),
    )
    reason = forms.CharField(
        label=gettext_lazy("Note"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class AbsenceEndForm(_Styled):
    """Record the return (``custody.absence_ended``)."""

    absence = forms.IntegerField(widget=forms.HiddenInput)
    returned_at = forms.DateTimeField(
        label=gettext_lazy("Back at"), input_formats=[LOCAL_FORMAT], widget=_local_input()
    )


@dataclass
class AbsencePanel:
    """What the person page shows of absences (``context``), or where to go after a write
    (``response``)."""

    context: dict[str, Any] = field(default_factory=dict)
    response: HttpResponse | None = None
    status: int = 200


def _row(a: TemporaryAbsence) -> dict[str, Any]:
    return {
        "absence": a,
        "kind": a.kind_label,
        "facility": a.episode.facility,
        "ended_how": a.get_ended_how_display() if a.ended_how else "",
    }


def absence_panel(
    request: HttpRequest,
    *,
    person: Any,
    open_episode: CustodyEpisode | None,
    show_cells: bool,
) -> AbsencePanel:
    """Read the person's absences the user may see, and handle the page's absence forms
    (``form=absence_start`` or ``form=absence_end``) when posted."""
    user = request.user
    which = request.POST.get("form", "") if request.method == "POST" else ""
    if which in {"absence_start", "absence_end"} and not may_record_absence(user):
        raise PermissionDenied(MSG_READ_ONLY)
    if not show_cells:
        return AbsencePanel({"absences": None})
    absences = list(absence_list_for(user=user, person=person)[:HISTORY_SHOWN])
    current = next(
        (a for a in absences if a.is_open and open_episode and a.episode_id == open_episode.pk),
        None,
    )
    may_record = may_record_absence(user) and open_episode is not None
    zone = ZoneInfo(open_episode.facility.timezone) if open_episode else dt.UTC
    local_now = timezone.localtime(timezone.now(), zone).strftime(LOCAL_FORMAT)
    start_form = AbsenceStartForm(initial={"started_at": local_now})
    end_form = AbsenceEndForm(
        initial={"absence": current.pk if current else None, "returned_at": local_now}
    )
    error = ""
    if which in {"absence_start", "absence_end"}:
        if open_episode is None:
            error = _("This person is not in custody in your facilities.")
        elif which == "absence_start":
            start_form = AbsenceStartForm(request.POST)
            with timezone.override(zone):
                valid = start_form.is_valid()
            if valid:
                data = start_form.cleaned_data
                try:
                    absence_start(
                        actor=Actor.from_user(user),
                        person=person,
                        kind=data["kind"],
                        kind_other=data["kind_other"],
                        destination=data["destination"],
                        authority=data["authority"],
                        escort=data["escort"],
                        reason=data["reason"],
                        started_at=data["started_at"],
                        expected_return_at=data["expected_return_at"],
                    )
                except ApplicationError as exc:
                    error = exc.message
                else:
                    messages.success(request, _("Departure recorded."))
                    return AbsencePanel(response=_back(person))
        else:
            end_form = AbsenceEndForm(request.POST)
            with timezone.override(zone):
                valid = end_form.is_valid()
            if valid:
                target = next(
                    (a for a in absences if a.pk == end_form.cleaned_data["absence"]), None
                )
                try:
                    if target is None:
                        raise NotFound(_("absence not found"))
                    absence_end(
                        actor=Actor.from_user(user),
                        absence=target,
                        returned_at=end_form.cleaned_data["returned_at"],
                    )
                except ApplicationError as exc:
                    error = exc.message
                else:
                    messages.success(request, _("Return recorded."))
                    return AbsencePanel(response=_back(person))
    refused = bool(error) or bool(which and (start_form.errors or end_form.errors))
    return AbsencePanel(
        status=400 if refused else 200,
        context={
            "absences": [_row(a) for a in absences],
            "current_absence": _row(current) if current else None,
            "may_record_absence": may_record,
            "absence_start_form": start_form,
            "absence_end_form": end_form,
            "absence_error": error,
            "absence_form_open": which == "absence_start",
        },
    )


def _back(person: Any) -> HttpResponse:
    return HttpResponseRedirect(reverse("web:person_detail", args=[person.pk]) + "#absences")
