"""The person page's release and transfer forms (Mandela Rule 7(c): day and hour of every
release and transfer; Rule 68: the family told). The time is entered in the facility's local
time and zone; a first submission shows a confirmation with any warnings, a second, with
``confirm``, writes through ``custody_release`` or ``custody_transfer`` only. Facility staff
of the facility holding the person; anyone else gets the same 404 as a missing person."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pycountry
from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from habeas.accounts.auth import role_required
from habeas.accounts.permissions import may_manage_housing
from habeas.core.actor import Actor
from habeas.core.errors import ApplicationError, NotFound
from habeas.custody.choices import ReleaseReason
from habeas.facilities.models import Facility
from habeas.housing.forms import StyledForm
from habeas.housing.selectors import housed_get_for

MSG_READ_ONLY = gettext_lazy("Your role may read custody but not record a release or a transfer.")


class DepartureForm(StyledForm):
    """The local date and time of the departure in the facility's zone."""

    date = forms.DateField(
        label=gettext_lazy("Date"), widget=forms.DateInput(attrs={"type": "date"})
    )
    time = forms.TimeField(
        label=gettext_lazy("Time"), widget=forms.TimeInput(attrs={"type": "time"})
    )
    confirm = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def instant(self, zone: str) -> dt.datetime:
        """The local date and time given; the current minute (the form's default) means now,
        to the second, so that a departure recorded right after a move or an admission in
        the same minute is not dated before it."""
        data = self.cleaned_data
        at = dt.datetime.combine(data["date"], data["time"], tzinfo=ZoneInfo(zone))
        current = timezone.now()
        if data["time"].second == 0 and at <= current < at + dt.timedelta(minutes=1):
            return current
        return at


class ReleaseForm(DepartureForm):
    reason = forms.ChoiceField(label=gettext_lazy("Reason"), choices=ReleaseReason.choices)
    destination = forms.CharField(
        label=gettext_lazy("Destination country (ISO code, e.g. SV)"), max_length=2, required=False
    )
    note = forms.CharField(label=gettext_lazy("Note"), max_length=500, required=False)

    def clean_destination(self) -> str:
        code = str(self.cleaned_data.get("destination") or "").strip().upper()
        if code and pycountry.countries.get(alpha_2=code) is None:
            raise forms.ValidationError(_("%(code)s is not a country code.") % {"code": code})
        return code


class TransferForm(DepartureForm):
    to = forms.ChoiceField(label=gettext_lazy("Destination facility"))
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=200, required=False)

    def __init__(self, *args: Any, facilities: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["to"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = facilities


def _initial(zone: str) -> dict[str, Any]:
    local = timezone.now().astimezone(ZoneInfo(zone))
    return {"date": local.date(), "time": local.time().replace(second=0, microsecond=0)}


def _housed(request: HttpRequest, person_id: int) -> Any:
    user = request.user
    try:
        housed = housed_get_for(user=user, person_id=person_id)
    except NotFound:
        raise Http404(_("Not found")) from None
    if not may_manage_housing(user):
        raise PermissionDenied(MSG_READ_ONLY)
    return housed


@role_required
def release(request: HttpRequest, person_id: int) -> HttpResponse:
    """Record a release (``custody_release``) after a confirmation showing the warnings of
    ``release_warnings`` (e.g. a sentence served before the projected release date)."""
    from habeas.custody.selectors import release_warnings
    from habeas.custody.services import custody_release

    housed = _housed(request, person_id)
    zone = housed.facility.timezone
    form = ReleaseForm(request.POST or None, initial=_initial(zone))
    context: dict[str, Any] = {"kind": "release", "zone": zone, "warnings": [], "error": ""}
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            at = form.instant(zone)
            context["at"] = at
            context["warnings"] = release_warnings(
                housed.person, reason=data["reason"], at=at, destination=data["destination"]
            )
            context["summary"] = [
                (_("Reason"), dict(ReleaseReason.choices)[data["reason"]]),
                (_("Destination country"), data["destination"] or "—"),
            ]
            if data["confirm"]:
                try:
                    custody_release(
                        actor=Actor.from_user(request.user),
                        person=housed.person,
                        reason=data["reason"],
                        at=at,
                        destination=data["destination"],
                        note=data["note"],
                    )
                except ApplicationError as exc:
                    context["error"] = exc.message
                    status = exc.status
                else:
                    messages.success(
                        request, _("%(name)s was released.") % {"name": housed.person.full_name}
                    )
                    return HttpResponseRedirect(reverse("web:person_detail", args=[person_id]))
            else:
                context["confirming"] = True
        else:
            status = 400
    return render(
        request,
        "housing/departure.html",
        {**context, "form": form, "person": housed.person, "facility": housed.facility},
        status=status,
    )


@role_required
def transfer(request: HttpRequest, person_id: int) -> HttpResponse:
    """Transfer to another facility of the registry (``custody_transfer``) after a
    confirmation; the facilities offered are those the person's agreement covers."""
    from habeas.housing.relocation import custody_transfer

    housed = _housed(request, person_id)
    zone = housed.facility.timezone
    candidates = Facility.objects.exclude(pk=housed.facility.pk)
    agreement_id = (
        housed.person.episodes.filter(pk=housed.episode_id)
        .values_list("agreement_id", flat=True)
        .first()
    )
    if agreement_id is not None:
        candidates = candidates.filter(agreements__pk=agreement_id)
    choices = [(f.code, f"{f.name} ({f.code})") for f in candidates.order_by("code")]
    form = TransferForm(request.POST or None, initial=_initial(zone), facilities=choices)
    context: dict[str, Any] = {"kind": "transfer", "zone": zone, "warnings": [], "error": ""}
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            at = form.instant(zone)
            target = Facility.objects.get(code=data["to"])
            context["at"] = at
            context["summary"] = [
                (_("Destination facility"), target.name),
                (_("Reason"), data["reason"] or "—"),
            ]
            if data["confirm"]:
                try:
                    custody_transfer(
                        actor=Actor.from_user(request.user),
                        person=housed.person,
                        facility=target,
                        at=at,
                        reason=data["reason"],
                    )
                except ApplicationError as exc:
                    context["error"] = exc.message
                    status = exc.status
                else:
                    messages.success(
                        request,
                        _("%(name)s was transferred to %(facility)s.")
                        % {"name": housed.person.full_name, "facility": target.name},
                    )
                    return HttpResponseRedirect(reverse("web:person_detail", args=[person_id]))
            else:
                context["confirming"] = True
        else:
            status = 400
    return render(
        request,
        "housing/departure.html",
        {**context, "form": form, "person": housed.person, "facility": housed.facility},
        status=status,
    )
