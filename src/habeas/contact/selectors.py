"""Reads of outside contact, scoped to the user (HOUSE-STYLE: every selector starts from
``visible_to``): the receiving facility's staff see their facilities' visits and contacts,
oversight and auditors all; a sending state's liaison and finance officer none (Mandela Rules
9, 61). Outside scope answers exactly like missing."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Count, QuerySet

from habeas.accounts.permissions import may_read_contacts, scope_of
from habeas.contact.choices import VisitEndReason, VisitKind, VisitStatus
from habeas.contact.models import Contact, ContactRestriction, Visit
from habeas.contact.schedule import local_day_bounds
from habeas.core.errors import NotFound
from habeas.facilities.models import Facility
from habeas.people.models import ERASED_NAME

#: The person page's history: the latest rows of each kind.
HISTORY_LIMIT = 100
#: Rows of the gate's list a page shows (one slot of a busy day holds thousands of visits).
GATE_PAGE = 100


def _facility_scope(user: Any, qs: QuerySet[Any]) -> QuerySet[Any]:
    if not may_read_contacts(user):
        raise PermissionDenied
    scope = scope_of(user)
    if scope.everything:
        return qs
    if scope.facility_codes is not None:
        return qs.filter(facility__code__in=scope.facility_codes)
    return qs.none()


def visit_list(user: Any) -> QuerySet[Visit]:
    return _facility_scope(user, Visit.objects.all())


def contact_list(user: Any) -> QuerySet[Contact]:
    return _facility_scope(user, Contact.objects.all())


def facility_get_for(user: Any, code: str) -> Facility:
    found = Facility.objects.visible_to(user).filter(code=code).first()
    if found is None:
        raise NotFound("not found")
    return found


def visit_get_for(user: Any, visit_id: int) -> Visit:
    found = visit_list(user).filter(pk=visit_id).select_related("facility", "visitor").first()
    if found is None:
        raise NotFound("not found")
    return found


def day_visits(user: Any, facility: Facility, day: dt.date) -> list[Visit]:
    """The gate's list: the facility's visits of one local day, by time, with the visitor
    and the person (one query; the (facility, starts_at) index bounds it to the day)."""
    start, end = local_day_bounds(facility, day)
    return list(
        visit_list(user)
        .filter(facility=facility, starts_at__gte=start, starts_at__lt=end)
        .select_related("visitor", "person", "facility")
        .only(
            "facility__code", "facility__timezone", "person__erased_at",
            "facility_id", "person_id", "visitor_id", "kind", "status", "source", "starts_at",
            "took_place_at", "reason", "note", "visitor__name", "visitor__relation",
            "visitor__id_document", "visitor__country", "person__given_names",
            "person__first_surname", "person__second_surname",
        )
        .order_by("starts_at", "kind", "pk")
    )  # fmt: skip


def _day(user: Any, facility: Facility, day: dt.date) -> QuerySet[Visit]:
    start, end = local_day_bounds(facility, day)
    return visit_list(user).filter(facility=facility, starts_at__gte=start, starts_at__lt=end)


def day_counts(
    user: Any, facility: Facility, day: dt.date
) -> list[tuple[dt.datetime, str, str, int]]:
    """The day's visits counted by start, kind and status (one grouped query on the
    ``(facility, starts_at)`` index): the gate's slot occupancy and totals without reading
    the rows."""
    return [
        (starts_at, kind, status, n)
        for starts_at, kind, status, n in _day(user, facility, day)
        .order_by()
        .values_list("starts_at", "kind", "status")
        .annotate(n=Count("pk"))
    ]


@dataclass(frozen=True)
class GateRow:
    """One line of the gate's list, read as plain values (no model objects)."""

    pk: int
    starts_at: dt.datetime
    kind: str
    kind_label: str
    status: str
    status_label: str
    reason_label: str
    source: str
    person_id: int
    person_name: str
    visitor_name: str
    visitor_relation: str
    visitor_document: str


_GATE_FIELDS = (
    "pk", "starts_at", "kind", "status", "source", "reason", "person_id",
    "person__given_names", "person__first_surname", "person__second_surname",
    "person__erased_at", "visitor__name", "visitor__relation", "visitor__id_document",
)  # fmt: skip


def gate_rows(
    user: Any,
    facility: Facility,
    day: dt.date,
    *,
    slot_start: dt.datetime | None,
    slot_starts: list[dt.datetime],
    offset: int = 0,
    limit: int = GATE_PAGE,
) -> list[GateRow]:
    """One page of the gate's list of ``day``: the family visits of the slot starting at
    ``slot_start``, or (``slot_start`` None) every other visit of the day: lawyers and
    consular officers, received without delay outside the slots (Mandela Rule 61(1); VCCR
    art. 36(1)(c)), and any visit not at a slot's start. One query, in time order."""
    qs = _day(user, facility, day)
    if slot_start is not None:
        qs = qs.filter(kind=VisitKind.FAMILY, starts_at=slot_start)
    elif slot_starts:
        qs = qs.exclude(kind=VisitKind.FAMILY, starts_at__in=slot_starts)
    kinds = dict(VisitKind.choices)
    statuses = dict(VisitStatus.choices)
    reasons = dict(VisitEndReason.choices)
    erased = str(ERASED_NAME)
    rows = []
    for r in qs.order_by("starts_at", "kind", "pk").values_list(*_GATE_FIELDS)[
        offset : offset + limit
    ]:
        pk, starts_at, kind, status, source, reason, person_id, g, s1, s2, gone = r[:11]
        rows.append(
            GateRow(
                pk=pk,
                starts_at=starts_at,
                kind=kind,
                kind_label=str(kinds.get(kind, kind)),
                status=status,
                status_label=str(statuses.get(status, status)),
                reason_label=str(reasons.get(reason, reason)) if reason else "",
                source=source,
                person_id=person_id,
                person_name=erased if gone else " ".join(p for p in (g, s1, s2) if p),
                visitor_name=r[11],
                visitor_relation=r[12],
                visitor_document=r[13],
            )
        )
    return rows


def person_contact_history(person: Any) -> dict[str, Any]:
    """A person's visits, calls and letters, and restrictions, newest first (the caller has
    checked :func:`may_read_contacts` and the person's scope)."""
    visits = list(
        Visit.objects.filter(person=person)
        .select_related("visitor")
        .order_by("-starts_at", "-pk")[:HISTORY_LIMIT]
    )
    contacts = list(Contact.objects.filter(person=person)[:HISTORY_LIMIT])
    restrictions = list(ContactRestriction.objects.filter(person=person)[:HISTORY_LIMIT])
    return {"visits": visits, "contacts": contacts, "restrictions": restrictions}
