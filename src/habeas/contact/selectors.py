"""Reads of outside contact, scoped to the user (HOUSE-STYLE: every selector starts from
``visible_to``): the receiving facility's staff see their facilities' visits and contacts,
oversight and auditors all; a sending state's liaison and finance officer none (Mandela Rules
9, 61). Outside scope answers exactly like missing."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet

from habeas.accounts.permissions import may_read_contacts, scope_of
from habeas.contact.models import Contact, ContactRestriction, Visit
from habeas.contact.schedule import local_day_bounds
from habeas.core.errors import NotFound
from habeas.facilities.models import Facility

#: The person page's history: the latest rows of each kind.
HISTORY_LIMIT = 100


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
