"""The contact pages: the gate's list of the day's visits (record that a visit took place,
confirm a public request, refuse or cancel with a reason), a person's contact page (book a
visit, log a call or letter, restrict a means of family contact for a limited time), and the
public visiting rules with the visit request (Mandela Rules 43(3), 58-62; VCCR art. 36)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.html import format_html_join
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from habeas.accounts.permissions import has_role, may_read_contacts, may_record_contacts
from habeas.contact.choices import VisitEndReason, VisitKind, VisitStatus
from habeas.contact.forms import (
    BookForm,
    LogForm,
    PublicRequestForm,
    RestrictForm,
    VisitActionForm,
)
from habeas.contact.public import public_request, visiting_facilities
from habeas.contact.schedule import dated_slots
from habeas.contact.selectors import (
    day_visits,
    facility_get_for,
    person_contact_history,
    visit_get_for,
)
from habeas.contact.services import (
    contact_log,
    contact_restrict,
    visit_book,
    visit_cancel,
    visit_confirm,
    visit_record_held,
    visit_refuse,
    visitor_register,
)
from habeas.contact.throttle import client_throttle, subject_throttle
from habeas.core import net
from habeas.core.actor import Actor
from habeas.core.clock import now
from habeas.core.errors import ApplicationError, NotFound
from habeas.custody.models import CustodyEpisode
from habeas.facilities.models import Facility
from habeas.people.selectors import person_get_for


def _reader(request: HttpRequest) -> Any:
    if not has_role(request.user) or not may_read_contacts(request.user):
        raise PermissionDenied(_("Your role may not see visits, calls or letters."))
    return request.user


def _writer(request: HttpRequest, facility: Facility) -> Actor:
    if not may_record_contacts(request.user):
        raise PermissionDenied(_("Your role may read visits but not record them."))
    return Actor.from_user(request.user)


def _aware(value: dt.datetime, facility: Facility) -> dt.datetime:
    """A form's naive date and time is the facility's local time."""
    if value.tzinfo is None:
        return value.replace(tzinfo=ZoneInfo(facility.timezone))
    return value


@login_required
def contact_home(request: HttpRequest) -> HttpResponse:
    """The gate's list of the first facility the user may see."""
    user = _reader(request)
    facility = Facility.objects.visible_to(user).order_by("code").first()
    if facility is None:
        raise Http404
    return redirect("contact:day", code=facility.code)


@login_required
def day_list(request: HttpRequest, code: str) -> HttpResponse:
    """The gate's list of one day's visits (``?day=YYYY-MM-DD``, default today, local)."""
    user = _reader(request)
    try:
        facility = facility_get_for(user, code)
    except NotFound:
        raise Http404 from None
    zone = ZoneInfo(facility.timezone)
    today = now().astimezone(zone).date()
    try:
        day = dt.date.fromisoformat(request.GET.get("day", "") or today.isoformat())
    except ValueError:
        day = today
    day = min(max(day, dt.date(1900, 1, 1)), dt.date(2199, 12, 30))
    visits = day_visits(user, facility, day)
    slots = dated_slots(facility, day, 1)
    taken: dict[dt.datetime, int] = {}
    for v in visits:
        if v.kind == VisitKind.FAMILY and v.status != VisitStatus.REFUSED:
            taken[v.starts_at] = taken.get(v.starts_at, 0) + 1
    return render(
        request,
        "contact/day.html",
        {
            "facility": facility,
            "day": day,
            "previous": day - dt.timedelta(days=1),
            "next": day + dt.timedelta(days=1),
            "visits": visits,
            "slots": [{"slot": s, "taken": taken.get(s.starts_at, 0)} for s in slots],
            "counts": [
                (label, n)
                for status, label in VisitStatus.choices
                if (n := sum(1 for v in visits if v.status == status))
            ],
            "may_record": may_record_contacts(user),
            # Rendered once for the whole list (a busy day holds thousands of rows).
            "reason_options": format_html_join(
                "",
                '<option value="{}">{}</option>',
                ((v, str(label)) for v, label in [("", "—"), *VisitEndReason.choices]),
            ),
            "action_url": reverse("contact:visit_action", args=[0]).removesuffix("0/"),
            "person_url": reverse("web:person_detail", args=[0]).removesuffix("0/"),
        },
    )


@login_required
@require_POST
def visit_action(request: HttpRequest, visit_id: int) -> HttpResponse:
    """Confirm, record as held, refuse or cancel one visit (a refusal needs its reason)."""
    user = _reader(request)
    try:
        visit = visit_get_for(user, visit_id)
    except NotFound:
        raise Http404 from None
    actor = _writer(request, visit.facility)
    form = VisitActionForm(request.POST)
    if not form.is_valid():
        return HttpResponse(_("Choose an action."), status=400)
    action = form.cleaned_data["action"]
    reason = form.cleaned_data["reason"]
    try:
        if action == "confirm":
            visit_confirm(actor=actor, visit=visit)
        elif action == "held":
            visit_record_held(actor=actor, visit=visit)
        elif not reason:
            return HttpResponse(_("A refusal or cancellation needs a reason."), status=400)
        elif action == "refuse":
            visit_refuse(actor=actor, visit=visit, reason=reason)
        else:
            visit_cancel(actor=actor, visit=visit, reason=reason)
    except ApplicationError as e:
        messages.error(request, str(e))
    day = visit.starts_at.astimezone(ZoneInfo(visit.facility.timezone)).date()
    return redirect(f"/contact/{visit.facility.code}/?day={day.isoformat()}")


@login_required
@require_http_methods(["GET", "POST"])
def person_contacts(request: HttpRequest, person_id: int) -> HttpResponse:
    """A person's contact page: book a visit, log a call or letter, restrict a means of family
    contact; their history below."""
    user = _reader(request)
    try:
        person = person_get_for(user=user, person_id=person_id)
    except NotFound:
        raise Http404 from None
    episode = (
        CustodyEpisode.objects.visible_to(user)
        .open()
        .filter(person=person)
        .select_related("facility")
        .first()
    )
    forms: dict[str, Any] = {"book": BookForm(), "log": LogForm(), "restrict": RestrictForm()}
    error = ""
    if request.method == "POST":
        if episode is None:
            raise Http404
        actor = _writer(request, episode.facility)
        which = request.POST.get("form", "")
        if which not in forms:
            return HttpResponse(_("Unknown form."), status=400)
        form = {"book": BookForm, "log": LogForm, "restrict": RestrictForm}[which](request.POST)
        forms[which] = form
        if not form.is_valid():
            return render(
                request,
                "contact/person.html",
                _person_context(person, episode, forms, user),
                status=400,
            )
        data = form.cleaned_data
        facility = episode.facility
        try:
            if which == "book":
                visitor = visitor_register(
                    actor=actor,
                    person=person,
                    kind=data["kind"],
                    name=data["visitor_name"],
                    relation=data["relation"],
                    id_document=data["id_document"],
                    country=data["country"],
                )
                visit_book(
                    actor=actor,
                    person=person,
                    visitor=visitor,
                    starts_at=_aware(data["starts_at"], facility),
                    note=data["note"],
                )
                messages.success(request, _("Visit booked."))
            elif which == "log":
                contact_log(
                    actor=actor,
                    person=person,
                    kind=data["kind"],
                    counterpart_kind=data["counterpart_kind"],
                    counterpart=data["counterpart"],
                    occurred_at=_aware(data["occurred_at"], facility),
                )
                messages.success(request, _("Contact logged."))
            else:
                contact_restrict(
                    actor=actor,
                    person=person,
                    means=data["means"],
                    reason=data["reason"],
                    starts_at=_aware(data["starts_at"], facility),
                    ends_at=_aware(data["ends_at"], facility),
                    note=data["note"],
                )
                messages.success(request, _("Restriction recorded."))
        except ApplicationError as e:
            error = str(e)
        else:
            return redirect("contact:person", person_id=person.pk)
    context = _person_context(person, episode, forms, user)
    context["error"] = error
    return render(request, "contact/person.html", context, status=409 if error else 200)


def _person_context(person: Any, episode: Any, forms: dict[str, Any], user: Any) -> dict[str, Any]:
    slots = []
    if episode is not None:
        zone = ZoneInfo(episode.facility.timezone)
        slots = dated_slots(episode.facility, now().astimezone(zone).date(), 14)
    return {
        "person": person,
        "episode": episode,
        "forms": forms,
        "slots": slots,
        "history": person_contact_history(person),
        "may_record": may_record_contacts(user) and episode is not None,
    }


# --- public ----------------------------------------------------------------------------------


def visiting(request: HttpRequest) -> HttpResponse:
    """Public: each facility's visiting rules (per language) and its slots of the next two
    weeks with the places left (Mandela Rule 58(1))."""
    return render(
        request,
        "contact/visiting.html",
        {"facilities": visiting_facilities(translation.get_language() or "en")},
    )


@require_http_methods(["GET", "POST"])
def visit_request(request: HttpRequest) -> HttpResponse:
    """Public: a family member asks for a visiting slot. The answer is the same whether or not
    the person is held there (nothing beyond what the locator shows); staff confirm it.
    Rate-limited per address and per reference on the shared cache."""
    facilities = visiting_facilities(translation.get_language() or "en")
    if request.method == "GET":
        form = PublicRequestForm(initial={"facility": request.GET.get("facility", "")[:32]})
        return render(request, "contact/request.html", {"form": form, "facilities": facilities})
    form = PublicRequestForm(request.POST)
    throttled = not client_throttle(net.client_address(request)).allowed
    if throttled:
        response = render(
            request,
            "contact/request.html",
            {"form": form, "facilities": facilities, "throttled": True},
            status=429,
        )
        response["Retry-After"] = "3600"
        return response
    if not form.is_valid():
        return render(
            request, "contact/request.html", {"form": form, "facilities": facilities}, status=400
        )
    data = form.cleaned_data
    if not subject_throttle(data["reference"]).allowed:
        response = render(
            request,
            "contact/request.html",
            {"form": form, "facilities": facilities, "throttled": True},
            status=429,
        )
        response["Retry-After"] = "3600"
        return response
    outcome = public_request(data)
    if outcome.error:
        form.add_error(None, outcome.error)
        return render(
            request, "contact/request.html", {"form": form, "facilities": facilities}, status=400
        )
    return render(request, "contact/request_received.html", {"facility": outcome.facility})
