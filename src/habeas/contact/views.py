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
    GATE_PAGE,
    day_counts,
    facility_get_for,
    gate_rows,
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


def _selection(
    request: HttpRequest,
    slots: list[Any],
    counts: list[tuple[dt.datetime, str, str, int]],
    now_at: dt.datetime,
) -> tuple[str, list[dict[str, Any]]]:
    """The gate's tabs (each slot of the day, then the visits outside the slots) and the one
    chosen: ``?slot=HH:MM`` or ``?slot=other``; by default the slot in progress (or the next
    one) when it has visits, else the first tab that has any."""
    starts = {s.starts_at for s in slots}
    per_slot: dict[dt.datetime, int] = {}
    taken: dict[dt.datetime, int] = {}
    other = 0
    for starts_at, kind, status, n in counts:
        if kind == VisitKind.FAMILY and starts_at in starts:
            per_slot[starts_at] = per_slot.get(starts_at, 0) + n
            if status != VisitStatus.REFUSED:
                taken[starts_at] = taken.get(starts_at, 0) + n
        else:
            other += n
    tabs = [
        {
            "key": s.starts_at.strftime("%H:%M"),
            "slot": s,
            "visits": per_slot.get(s.starts_at, 0),
            "taken": taken.get(s.starts_at, 0),
        }
        for s in slots
    ]
    tabs.append({"key": "other", "slot": None, "visits": other, "taken": 0})
    keys = [t["key"] for t in tabs]
    asked = request.GET.get("slot", "")
    if asked in keys:
        return asked, tabs
    current = next((t for t in tabs[:-1] if t["slot"].ends_at > now_at), None)
    if current is not None and current["visits"]:
        return current["key"], tabs
    busy = next((t for t in tabs if t["visits"]), tabs[0])
    return busy["key"], tabs


@login_required
def day_list(request: HttpRequest, code: str) -> HttpResponse:
    """The gate's list of one day's visits (``?day=YYYY-MM-DD``, default today, local), one
    slot at a time (``?slot=``) and one page at a time (``?page=``): a slot of a busy day
    holds thousands of visits."""
    user = _reader(request)
    try:
        facility = facility_get_for(user, code)
    except NotFound:
        raise Http404 from None
    zone = ZoneInfo(facility.timezone)
    now_at = now()
    today = now_at.astimezone(zone).date()
    try:
        day = dt.date.fromisoformat(request.GET.get("day", "") or today.isoformat())
    except ValueError:
        day = today
    day = min(max(day, dt.date(1900, 1, 1)), dt.date(2199, 12, 30))
    slots = dated_slots(facility, day, 1)
    counts = day_counts(user, facility, day)
    chosen, tabs = _selection(request, slots, counts, now_at)
    tab = next(t for t in tabs if t["key"] == chosen)
    pages = max(1, -(-tab["visits"] // GATE_PAGE))
    try:
        page = min(max(int(request.GET.get("page", "1")[:6]), 1), pages)
    except ValueError:
        page = 1
    slot = tab["slot"]
    visits = gate_rows(
        user,
        facility,
        day,
        slot_start=slot.starts_at if slot is not None else None,
        slot_starts=[s.starts_at for s in slots],
        offset=(page - 1) * GATE_PAGE,
        limit=GATE_PAGE,
    )
    totals: dict[str, int] = {}
    for _start, _kind, status, n in counts:
        totals[status] = totals.get(status, 0) + n
    return render(
        request,
        "contact/day.html",
        {
            "facility": facility,
            "day": day,
            "previous": day - dt.timedelta(days=1),
            "next": day + dt.timedelta(days=1),
            "visits": visits,
            "tabs": tabs,
            "tab": tab,
            "slots": [t for t in tabs if t["slot"] is not None],
            "total": sum(totals.values()),
            "page": page,
            "pages": pages,
            "first_row": (page - 1) * GATE_PAGE + 1,
            "last_row": (page - 1) * GATE_PAGE + len(visits),
            "counts": [
                (label, totals[status])
                for status, label in VisitStatus.choices
                if totals.get(status)
            ],
            "may_record": may_record_contacts(user),
            # Rendered once for the whole list (a page holds up to GATE_PAGE rows).
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
    local = visit.starts_at.astimezone(ZoneInfo(visit.facility.timezone))
    slot = local.strftime("%H:%M") if visit.kind == VisitKind.FAMILY else "other"
    return redirect(f"/contact/{visit.facility.code}/?day={local.date().isoformat()}&slot={slot}")


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
