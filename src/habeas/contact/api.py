"""Outside contact under /api/v1 (INTERFACES.md: every operation has its endpoint): visits
(book, confirm, record as held, refuse, cancel), calls and letters, restrictions of family
contact, and a person's contact history. Reads are for the receiving facility's staff and
oversight; writes for the facility's staff (Mandela Rules 9, 43(3), 58-62; VCCR art. 36)."""

from __future__ import annotations

from typing import Any, Literal

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status

from habeas.accounts.auth import api_user
from habeas.accounts.permissions import may_read_contacts, may_record_contacts
from habeas.contact.models import Contact, ContactRestriction, Visit
from habeas.contact.selectors import (
    contact_list,
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
from habeas.core.actor import Actor
from habeas.core.api import NameText, PlausibleDate, PlausibleInstant, SafeText, errors
from habeas.custody.models import CustodyEpisode
from habeas.people.selectors import person_get_for

router = Router(tags=["contact"])

MSG_MAY_NOT_RECORD = "only the facility's staff record visits, calls and letters"


class VisitOut(Schema):
    id: str
    facility: str
    person: str
    kind: str
    status: str
    source: str
    starts_at: str
    took_place_at: str | None
    reason: str
    visitor: dict[str, str]
    note: str


def _visit_out(v: Visit) -> dict[str, Any]:
    return {
        "id": str(v.pk),
        "facility": v.facility.code,
        "person": str(v.person_id),
        "kind": v.kind,
        "status": v.status,
        "source": v.source,
        "starts_at": v.starts_at.isoformat(),
        "took_place_at": v.took_place_at.isoformat() if v.took_place_at else None,
        "reason": v.reason,
        "visitor": {
            "id": str(v.visitor_id),
            "name": v.visitor.name,
            "relation": v.visitor.relation,
            "id_document": v.visitor.id_document,
            "country": v.visitor.country,
        },
        "note": v.note,
    }


class ContactOut(Schema):
    id: str
    person: str
    kind: str
    counterpart_kind: str
    counterpart: str
    occurred_at: str


def _contact_out(c: Contact) -> dict[str, Any]:
    return {
        "id": str(c.pk),
        "person": str(c.person_id),
        "kind": c.kind,
        "counterpart_kind": c.counterpart_kind,
        "counterpart": c.counterpart,
        "occurred_at": c.occurred_at.isoformat(),
    }


def _restriction_out(r: ContactRestriction) -> dict[str, Any]:
    return {
        "id": str(r.pk),
        "person": str(r.person_id),
        "means": r.means,
        "reason": r.reason,
        "starts_at": r.starts_at.isoformat(),
        "ends_at": r.ends_at.isoformat(),
        "lifted_at": r.lifted_at.isoformat() if r.lifted_at else None,
    }


def _reader(request: HttpRequest) -> Any:
    user = api_user(request)
    if not may_read_contacts(user):
        raise PermissionDenied(_("your role may not see visits, calls or letters"))
    return user


def _writer(request: HttpRequest) -> Actor:
    user = _reader(request)
    if not may_record_contacts(user):
        raise PermissionDenied(_(MSG_MAY_NOT_RECORD))
    return Actor.from_user(user)


def _held(user: Any, person_id: str) -> Any:
    person = person_get_for(user=user, person_id=person_id)
    return person


class VisitIn(Schema):
    person: str
    kind: Literal["family", "lawyer", "consular"]
    visitor_name: NameText
    relation: NameText = ""
    id_document: NameText = ""
    country: str = ""
    starts_at: PlausibleInstant
    note: SafeText = ""


class VisitActionIn(Schema):
    reason: str = ""


class ContactIn(Schema):
    person: str
    kind: Literal["phone_call", "video_call", "letter_sent", "letter_received"]
    counterpart_kind: Literal["family", "lawyer", "consular", "other"]
    counterpart: NameText = ""
    occurred_at: PlausibleInstant


class RestrictionIn(Schema):
    person: str
    means: Literal["visits", "calls", "letters"]
    reason: str
    starts_at: PlausibleInstant
    ends_at: PlausibleInstant
    note: SafeText = ""


@router.get(
    "/visits/",
    response={200: list[VisitOut], **errors()},
    summary="The day's visits of a facility (the gate's list)",
    operation_id="visits_list",
)
def visits_list(request: HttpRequest, facility: str, day: PlausibleDate) -> list[dict[str, Any]]:
    user = _reader(request)
    found = facility_get_for(user, facility)
    return [_visit_out(v) for v in day_visits(user, found, day)]


@router.post(
    "/visits/",
    response={201: VisitOut, **errors(400, 401, 403, 404, 409)},
    summary="Book a visit (a family visit in a slot; a lawyer or consul without delay)",
    operation_id="visits_book",
)
def visits_book(request: HttpRequest, body: VisitIn) -> Status[Any]:
    actor = _writer(request)
    user = api_user(request)
    person = _held(user, body.person)
    if not CustodyEpisode.objects.visible_to(user).open().filter(person=person).exists():
        raise PermissionDenied(_(MSG_MAY_NOT_RECORD))
    visitor = visitor_register(
        actor=actor,
        person=person,
        kind=body.kind,
        name=body.visitor_name,
        relation=body.relation,
        id_document=body.id_document,
        country=body.country,
    )
    visit = visit_book(
        actor=actor, person=person, visitor=visitor, starts_at=body.starts_at, note=body.note
    )
    return Status(201, _visit_out(visit))


@router.post(
    "/visits/{visit_id}/{action}",
    response={200: VisitOut, **errors(400, 401, 403, 404, 409)},
    summary="Confirm, record as held, refuse or cancel a visit (refusals with a reason)",
    operation_id="visits_action",
)
def visits_action(
    request: HttpRequest,
    visit_id: int,
    action: Literal["confirm", "held", "refuse", "cancel"],
    body: VisitActionIn,
) -> dict[str, Any]:
    visit = visit_get_for(_reader(request), visit_id)
    actor = _writer(request)
    if action == "confirm":
        visit = visit_confirm(actor=actor, visit=visit)
    elif action == "held":
        visit = visit_record_held(actor=actor, visit=visit)
    elif action == "refuse":
        visit = visit_refuse(actor=actor, visit=visit, reason=body.reason)
    else:
        visit = visit_cancel(actor=actor, visit=visit, reason=body.reason)
    return _visit_out(visit_get_for(api_user(request), visit.pk))


@router.get(
    "/contacts/",
    response={200: list[ContactOut], **errors()},
    summary="Calls and letters (of one person with ?person=)",
    operation_id="contacts_list",
)
def contacts_list(request: HttpRequest, person: str | None = None) -> list[dict[str, Any]]:
    user = _reader(request)
    found = contact_list(user)
    if person is not None:
        found = found.filter(person=person_get_for(user=user, person_id=person))
    return [_contact_out(c) for c in found[:500]]


@router.post(
    "/contacts/",
    response={201: ContactOut, **errors(400, 401, 403, 404, 409)},
    summary="Log a call or a letter (date, kind, counterpart; never content)",
    operation_id="contacts_log",
)
def contacts_log(request: HttpRequest, body: ContactIn) -> Status[Any]:
    actor = _writer(request)
    person = _held(api_user(request), body.person)
    contact = contact_log(
        actor=actor,
        person=person,
        kind=body.kind,
        counterpart_kind=body.counterpart_kind,
        counterpart=body.counterpart,
        occurred_at=body.occurred_at,
    )
    return Status(201, _contact_out(contact))


@router.post(
    "/contact-restrictions/",
    response={201: dict[str, Any], **errors(400, 401, 403, 404, 409)},
    summary="Restrict a means of family contact (security or order, limited in time)",
    operation_id="contact_restrictions_create",
)
def contact_restrictions_create(request: HttpRequest, body: RestrictionIn) -> Status[Any]:
    actor = _writer(request)
    person = _held(api_user(request), body.person)
    restriction = contact_restrict(
        actor=actor,
        person=person,
        means=body.means,
        reason=body.reason,
        starts_at=body.starts_at,
        ends_at=body.ends_at,
        note=body.note,
    )
    return Status(201, _restriction_out(restriction))


@router.get(
    "/persons/{person_id}/contacts",
    response={200: dict[str, Any], **errors()},
    summary="A person's visits, calls, letters and restrictions",
    operation_id="person_contacts",
)
def person_contacts(request: HttpRequest, person_id: str) -> dict[str, Any]:
    user = _reader(request)
    person = person_get_for(user=user, person_id=person_id)
    history = person_contact_history(person)
    return {
        "visits": [_visit_out(v) for v in history["visits"]],
        "contacts": [_contact_out(c) for c in history["contacts"]],
        "restrictions": [_restriction_out(r) for r in history["restrictions"]],
    }
