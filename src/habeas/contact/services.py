"""Writes of outside contact (Mandela Rules 43(3), 58-62; VCCR art. 36(1)(c); the one rule:
each writes its ledger entry in the same transaction).

Family visits are booked into the facility's weekly slots (the setup file's
``visiting_slots``), up to each slot's capacity. A lawyer's visit is granted without delay:
it is bound to no slot and no capacity, and whatever note is offered with it is never kept
(Rule 61(1): in full confidentiality). A consular officer's visit is likewise not bound to the
family slots (VCCR art. 36(1)(c)). A refusal or cancellation carries a reason from
:class:`~habeas.contact.choices.VisitEndReason`; a punishment is never one (Rule 43(3)).
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings

from habeas.contact.choices import (
    PENDING,
    ContactKind,
    Counterpart,
    RestrictionMeans,
    RestrictionReason,
    VisitEndReason,
    VisitKind,
    VisitSource,
    VisitStatus,
)
from habeas.contact.models import Contact, ContactRestriction, LastContact, Visit, Visitor
from habeas.contact.schedule import slot_at
from habeas.core.actor import Actor
from habeas.core.clock import now
from habeas.core.errors import Conflict, ValidationFailed
from habeas.core.services import service
from habeas.custody.models import CustodyEpisode
from habeas.facilities.models import Facility
from habeas.ledger.services import Event, ledger_append, ledger_append_many
from habeas.people.models import Person

MSG_NOT_HELD = "person {person} is not in custody"
MSG_NOT_A_SLOT = "{at} is not the start of a visiting slot of {facility}"
MSG_SLOT_FULL = "the visiting slot of {at} at {facility} is full ({capacity} visits)"
MSG_RESTRICTED = (
    "family visits to person {person} are restricted for {reason} until {until} "
    "(Mandela Rule 43(3))"
)
MSG_VISITOR_OF_OTHER = "visitor {visitor} is registered for another person"
MSG_NOT_PENDING = "visit {visit} is {status}: only a requested or booked visit can change"
MSG_NOT_REQUESTED = "visit {visit} is {status}: only a requested visit is confirmed"
MSG_REASON = "{reason!r} is not a reason for refusing or cancelling a visit; reasons are {known}"
MSG_PUNISHMENT = (
    "family contact may not be prohibited or restricted as a disciplinary sanction "
    "(Mandela Rule 43(3))"
)
MSG_RESTRICTION_TOO_LONG = (
    "a restriction of family contact is for a limited time: at most {days} days "
    "(Mandela Rule 43(3))"
)
MSG_RESTRICTION_ORDER = "a restriction ends after it starts"
MSG_RESTRICTION_LIFTED = "restriction {id} was lifted already"
MSG_FUTURE = "{what} is in the future"
MSG_CONSULAR_COUNTRY = "a consular officer's visitor entry names the consulate's country"

#: Reasons a refusal may be given as, that say a punishment: refused with Rule 43(3).
PUNISHMENT_WORDS = frozenset({"disciplinary", "punishment", "sanction", "discipline"})


def restriction_max_days() -> int:
    return int(getattr(settings, "HABEAS_CONTACT_RESTRICTION_MAX_DAYS", 14))


def _open_episode(person: Person) -> CustodyEpisode:
    episode = CustodyEpisode.objects.open().filter(person=person).select_related("facility").first()
    if episode is None:
        raise Conflict(MSG_NOT_HELD.format(person=person.pk))
    return episode


def _note_for(kind: str, note: str) -> str:
    """Rule 61(1): nothing of a lawyer's visit but the visit itself is kept."""
    return "" if kind == VisitKind.LAWYER else note


def _touch_last_contact(person_id: int, at: dt.datetime, *, consular: bool) -> None:
    """Keep :class:`LastContact` in step, in the caller's transaction."""
    row = LastContact.objects.select_for_update().filter(person_id=person_id).first()
    if row is None:
        row = LastContact(person_id=person_id)
    if row.last_contact_at is None or at > row.last_contact_at:
        row.last_contact_at = at
    if consular and (row.last_consular_at is None or at > row.last_consular_at):
        row.last_consular_at = at
    row.save()


def _visit_row(v: Visit) -> dict[str, Any]:
    return {
        "id": v.pk,
        "facility_id": v.facility_id,
        "person_id": v.person_id,
        "visitor_id": v.visitor_id,
        "kind": v.kind,
        "status": v.status,
        "source": v.source,
        "reason": v.reason,
        "note": v.note,
        "recorded_by": v.recorded_by,
        "starts_at": v.starts_at,
        "requested_at": v.requested_at,
        "decided_at": v.decided_at,
        "took_place_at": v.took_place_at,
    }


def active_restriction(person_id: int, means: str, at: dt.datetime) -> ContactRestriction | None:
    return (
        ContactRestriction.objects.filter(
            person_id=person_id,
            means=means,
            starts_at__lte=at,
            ends_at__gt=at,
            lifted_at__isnull=True,
        )
        .order_by("-ends_at")
        .first()
    )


@service
def visitor_register(
    *,
    actor: Actor,
    person: Person,
    kind: str,
    name: str,
    relation: str = "",
    id_document: str = "",
    country: str = "",
) -> Visitor:
    """Enter a visitor in the register (Mandela Rule 58(1); VCCR art. 36(1)(c) for a consular
    officer, who names the consulate's country). Name, relation and identity document are
    personal: on the ledger as commitments under the visited person's key."""
    kind = VisitKind(kind).value
    if kind == VisitKind.CONSULAR and not country:
        raise ValidationFailed(MSG_CONSULAR_COUNTRY)
    visitor = Visitor(
        person=person,
        kind=kind,
        name=name.strip(),
        relation=relation.strip(),
        id_document=id_document.strip(),
        country=country.upper(),
        registered_at=now(),
    )
    visitor.full_clean()
    visitor.save()
    ledger_append(
        actor=actor,
        action="contact.visitor_registered",
        subject=f"person:{person.pk}",
        payload={
            "visitor": {
                "id": visitor.pk,
                "person_id": person.pk,
                "kind": visitor.kind,
                "country": visitor.country,
                "name": visitor.name,
                "relation": visitor.relation,
                "id_document": visitor.id_document,
                "registered_at": visitor.registered_at,
            }
        },
    )
    return visitor


def family_slot_taken(facility: Facility, starts_at: dt.datetime) -> int:
    """Family visits requested, booked or held in the slot that starts at ``starts_at``."""
    return Visit.objects.filter(
        facility=facility,
        starts_at=starts_at,
        kind=VisitKind.FAMILY,
        status__in=[*PENDING, VisitStatus.TOOK_PLACE],
    ).count()


@service
def visit_book(
    *,
    actor: Actor,
    person: Person,
    visitor: Visitor,
    starts_at: dt.datetime,
    note: str = "",
    requested: bool = False,
    source: str = VisitSource.STAFF,
    requested_at: dt.datetime | None = None,
) -> Visit:
    """Book (or, from the public page, request) a visit.

    - Family and friends (Mandela Rule 58(1)): at the start of one of the facility's weekly
      slots, while the slot has room; refused while a security restriction of family visits
      is in force (Rule 43(3): limited in time).
    - A legal adviser (Rule 61(1)): without delay, at any time, bound to no slot or capacity;
      no note is kept.
    - A consular officer (VCCR art. 36(1)(c)): at any time, not bound to the family slots.

    ``requested_at`` is when the visit was asked for (a request by phone entered later),
    by default now.
    """
    if visitor.person_id != person.pk:
        raise ValidationFailed(MSG_VISITOR_OF_OTHER.format(visitor=visitor.pk))
    episode = _open_episode(person)
    facility = Facility.objects.select_for_update().get(pk=episode.facility_id)
    kind = visitor.kind
    if kind == VisitKind.FAMILY:
        slot = slot_at(facility, starts_at)
        if slot is None:
            local = starts_at.astimezone(ZoneInfo(facility.timezone))
            raise ValidationFailed(
                MSG_NOT_A_SLOT.format(at=local.strftime("%Y-%m-%d %H:%M"), facility=facility.code)
            )
        restriction = active_restriction(person.pk, RestrictionMeans.VISITS, starts_at)
        if restriction is not None:
            raise Conflict(
                MSG_RESTRICTED.format(
                    person=person.pk,
                    reason=restriction.reason,
                    until=restriction.ends_at.date().isoformat(),
                )
            )
        if family_slot_taken(facility, starts_at) >= slot.capacity:
            local = starts_at.astimezone(ZoneInfo(facility.timezone))
            raise Conflict(
                MSG_SLOT_FULL.format(
                    at=local.strftime("%Y-%m-%d %H:%M"),
                    facility=facility.code,
                    capacity=slot.capacity,
                )
            )
    at = now()
    if requested_at is not None and requested_at > at + dt.timedelta(minutes=5):
        raise ValidationFailed(MSG_FUTURE.format(what="the request's time"))
    asked = requested_at or at
    visit = Visit(
        facility=facility,
        person=person,
        visitor=visitor,
        kind=kind,
        status=VisitStatus.REQUESTED if requested else VisitStatus.BOOKED,
        source=VisitSource(source).value,
        starts_at=starts_at,
        requested_at=asked,
        decided_at=None if requested else at,
        note=_note_for(kind, note.strip()),
        recorded_by=actor.name,
    )
    visit.full_clean()
    visit.save()
    ledger_append(
        actor=actor,
        action="contact.visit_requested" if requested else "contact.visit_booked",
        subject=f"person:{person.pk}",
        payload={"visit": _visit_row(visit)},
        occurred_at=asked,
    )
    return visit


def _locked(visit: Visit) -> Visit:
    return Visit.objects.select_for_update().get(pk=visit.pk)


def _change(actor: Actor, visit: Visit, verb: str, at: dt.datetime, **extra: Any) -> Visit:
    visit.save()
    ledger_append(
        actor=actor,
        action=f"contact.visit_{verb}",
        subject=f"person:{visit.person_id}",
        payload={
            "id": visit.pk,
            "person_id": visit.person_id,
            "kind": visit.kind,
            "status": visit.status,
            "at": at,
            **extra,
        },
        occurred_at=at,
    )
    return visit


@service
def visit_confirm(*, actor: Actor, visit: Visit) -> Visit:
    """Staff confirm a visit requested on the public page (Mandela Rule 58(1))."""
    visit = _locked(visit)
    if visit.status != VisitStatus.REQUESTED:
        raise Conflict(MSG_NOT_REQUESTED.format(visit=visit.pk, status=visit.status))
    at = now()
    visit.status = VisitStatus.BOOKED
    visit.decided_at = at
    return _change(actor, visit, "confirmed", at)


@service
def visit_record_held(
    *, actor: Actor, visit: Visit, at: dt.datetime | None = None, note: str = ""
) -> Visit:
    """Record that a visit took place (the gate's list). For a lawyer's visit only that it
    happened is kept, never a note (Mandela Rule 61(1))."""
    visit = _locked(visit)
    if visit.status not in PENDING:
        raise Conflict(MSG_NOT_PENDING.format(visit=visit.pk, status=visit.status))
    at = at or now()
    if at > now() + dt.timedelta(minutes=5):
        raise ValidationFailed(MSG_FUTURE.format(what="the visit's time"))
    visit.status = VisitStatus.TOOK_PLACE
    visit.took_place_at = at
    kept = _note_for(visit.kind, note.strip())
    if kept:
        visit.note = kept
    visit.full_clean()
    _touch_last_contact(visit.person_id, at, consular=visit.kind == VisitKind.CONSULAR)
    return _change(actor, visit, "held", at, note=visit.note)


def check_reason(reason: str) -> str:
    """A reason of the fixed list; a punishment is refused with Mandela Rule 43(3)."""
    if reason.strip().lower() in PUNISHMENT_WORDS:
        raise ValidationFailed(MSG_PUNISHMENT)
    try:
        return VisitEndReason(reason).value
    except ValueError:
        known = ", ".join(VisitEndReason.values)
        raise ValidationFailed(MSG_REASON.format(reason=reason, known=known)) from None


@service
def visit_refuse(*, actor: Actor, visit: Visit, reason: str) -> Visit:
    """Refuse a requested or booked visit, with a reason of the fixed list (on the ledger)."""
    return _end(actor, visit, reason, VisitStatus.REFUSED, "refused")


@service
def visit_cancel(*, actor: Actor, visit: Visit, reason: str) -> Visit:
    """Cancel a requested or booked visit, with a reason of the fixed list (on the ledger)."""
    return _end(actor, visit, reason, VisitStatus.CANCELLED, "cancelled")


def _end(actor: Actor, visit: Visit, reason: str, status: str, verb: str) -> Visit:
    reason = check_reason(reason)
    visit = _locked(visit)
    if visit.status not in PENDING:
        raise Conflict(MSG_NOT_PENDING.format(visit=visit.pk, status=visit.status))
    at = now()
    visit.status = status
    visit.reason = reason
    visit.decided_at = at
    visit.full_clean()
    return _change(actor, visit, verb, at, reason=reason)


@service
def contact_log(
    *,
    actor: Actor,
    person: Person,
    kind: str,
    counterpart_kind: str,
    occurred_at: dt.datetime,
    counterpart: str = "",
) -> Contact:
    """Log a call or a letter (Mandela Rule 58(1)(a)): date, kind and counterpart, never its
    content. A call or letter with a consulate counts as consular access (VCCR art.
    36(1)(a), (c))."""
    episode = _open_episode(person)
    if occurred_at > now() + dt.timedelta(minutes=5):
        raise ValidationFailed(MSG_FUTURE.format(what="the contact's time"))
    contact = Contact(
        facility_id=episode.facility_id,
        person=person,
        kind=ContactKind(kind).value,
        counterpart_kind=Counterpart(counterpart_kind).value,
        counterpart=counterpart.strip(),
        occurred_at=occurred_at,
        recorded_by=actor.name,
    )
    contact.full_clean()
    contact.save()
    _touch_last_contact(
        person.pk, occurred_at, consular=contact.counterpart_kind == Counterpart.CONSULAR
    )
    ledger_append(
        actor=actor,
        action="contact.logged",
        subject=f"person:{person.pk}",
        payload={
            "contact": {
                "id": contact.pk,
                "facility_id": contact.facility_id,
                "person_id": person.pk,
                "kind": contact.kind,
                "counterpart_kind": contact.counterpart_kind,
                "counterpart": contact.counterpart,
                "occurred_at": occurred_at,
                "recorded_by": contact.recorded_by,
            }
        },
        occurred_at=occurred_at,
    )
    return contact


@service
def contact_restrict(
    *,
    actor: Actor,
    person: Person,
    means: str,
    reason: str,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    note: str = "",
) -> ContactRestriction:
    """Restrict one means of family contact for security or good order, for a limited time
    (Mandela Rule 43(3): "disciplinary sanctions or restrictive measures shall not include the
    prohibition of family contact"; its means only for a limited time and as strictly required
    for security and order). A disciplinary restriction is refused."""
    if reason.strip().lower() in PUNISHMENT_WORDS:
        raise ValidationFailed(MSG_PUNISHMENT)
    reason = RestrictionReason(reason).value
    means = RestrictionMeans(means).value
    if ends_at <= starts_at:
        raise ValidationFailed(MSG_RESTRICTION_ORDER)
    days = restriction_max_days()
    if ends_at - starts_at > dt.timedelta(days=days):
        raise ValidationFailed(MSG_RESTRICTION_TOO_LONG.format(days=days))
    _open_episode(person)
    restriction = ContactRestriction(
        person=person,
        means=means,
        reason=reason,
        note=note.strip(),
        starts_at=starts_at,
        ends_at=ends_at,
        decided_by=actor.name,
    )
    restriction.full_clean()
    restriction.save()
    ledger_append(
        actor=actor,
        action="contact.restricted",
        subject=f"person:{person.pk}",
        payload={
            "restriction": {
                "id": restriction.pk,
                "person_id": person.pk,
                "means": means,
                "reason": reason,
                "note": restriction.note,
                "decided_by": actor.name,
                "starts_at": starts_at,
                "ends_at": ends_at,
                "lifted_at": None,
            }
        },
        occurred_at=starts_at,
    )
    return restriction


@service
def contact_restriction_lift(
    *, actor: Actor, restriction: ContactRestriction, at: dt.datetime | None = None
) -> ContactRestriction:
    """End a restriction before its term (Mandela Rule 43(3): no longer than required)."""
    restriction = ContactRestriction.objects.select_for_update().get(pk=restriction.pk)
    if restriction.lifted_at is not None:
        raise Conflict(MSG_RESTRICTION_LIFTED.format(id=restriction.pk))
    at = at or now()
    restriction.lifted_at = at
    restriction.save()
    ledger_append(
        actor=actor,
        action="contact.restriction_lifted",
        subject=f"person:{restriction.person_id}",
        payload={"id": restriction.pk, "person_id": restriction.person_id, "lifted_at": at},
        occurred_at=at,
    )
    return restriction


@service
def visit_request_public(
    *,
    actor: Actor,
    person: Person,
    name: str,
    relation: str,
    id_document: str,
    starts_at: dt.datetime,
) -> Visit:
    """A family member's request from the public page (Mandela Rule 58(1)): the visitor
    entered in the register and the visit requested in one transaction; staff confirm it."""
    visitor = visitor_register(
        actor=actor,
        person=person,
        kind=VisitKind.FAMILY,
        name=name,
        relation=relation,
        id_document=id_document,
    )
    return visit_book(
        actor=actor,
        person=person,
        visitor=visitor,
        starts_at=starts_at,
        requested=True,
        source=VisitSource.PUBLIC,
    )


@service
def contact_log_many(*, actor: Actor, rows: list[dict[str, Any]]) -> int:
    """Log many calls and letters at once (an import from a telephone system's log, the
    demo): the same facts and ledger entries as :func:`contact_log`, written in bulk. Each
    row: ``person_id``, ``facility_id``, ``kind``, ``counterpart_kind``, ``counterpart``,
    ``occurred_at``; the people must be held (open episode in that facility)."""
    if not rows:
        return 0
    wanted = sorted({r["person_id"] for r in rows})
    held = {
        pair
        for i in range(0, len(wanted), 5000)
        for pair in CustodyEpisode.objects.open()
        .filter(person_id__in=wanted[i : i + 5000])
        .values_list("person_id", "facility_id")
    }
    contacts = []
    for r in rows:
        if (r["person_id"], r["facility_id"]) not in held:
            raise Conflict(MSG_NOT_HELD.format(person=r["person_id"]))
        contacts.append(
            Contact(
                facility_id=r["facility_id"],
                person_id=r["person_id"],
                kind=ContactKind(r["kind"]).value,
                counterpart_kind=Counterpart(r["counterpart_kind"]).value,
                counterpart=str(r.get("counterpart", "")).strip(),
                occurred_at=r["occurred_at"],
                recorded_by=actor.name,
            )
        )
    Contact.objects.bulk_create(contacts, batch_size=2000)
    events = [
        Event(
            action="contact.logged",
            subject=f"person:{c.person_id}",
            payload={
                "contact": {
                    "id": c.pk,
                    "facility_id": c.facility_id,
                    "person_id": c.person_id,
                    "kind": c.kind,
                    "counterpart_kind": c.counterpart_kind,
                    "counterpart": c.counterpart,
                    "occurred_at": c.occurred_at,
                    "recorded_by": c.recorded_by,
                }
            },
            occurred_at=c.occurred_at,
        )
        for c in contacts
    ]
    ledger_append_many(actor=actor, events=events)
    people = sorted({c.person_id for c in contacts})
    for i in range(0, len(people), 5000):  # bounded IN lists (SQLite's parameter limit)
        last_contact_rebuild(person_ids=people[i : i + 5000])
    return len(contacts)


@service
def last_contact_rebuild(*, person_ids: list[int] | None = None) -> int:
    """Recompute :class:`LastContact` from the visits that took place and the calls and
    letters (all people, or those given); nested, it joins the caller's transaction. The table is
    derived: this is its rebuild."""
    from django.db.models import Max

    visits = Visit.objects.filter(status=VisitStatus.TOOK_PLACE)
    contacts = Contact.objects.all()
    if person_ids is not None:
        visits = visits.filter(person_id__in=person_ids)
        contacts = contacts.filter(person_id__in=person_ids)
    last: dict[int, list[dt.datetime | None]] = {}

    def bump(pid: int, at: dt.datetime | None, i: int) -> None:
        row = last.setdefault(pid, [None, None])
        if at is not None and (row[i] is None or at > row[i]):  # type: ignore[operator]
            row[i] = at

    for pid, at in (
        visits.values("person_id").annotate(m=Max("took_place_at")).values_list("person_id", "m")
    ):
        bump(pid, at, 0)
    for pid, at in (
        contacts.values("person_id").annotate(m=Max("occurred_at")).values_list("person_id", "m")
    ):
        bump(pid, at, 0)
    for pid, at in (
        visits.filter(kind=VisitKind.CONSULAR)
        .values("person_id")
        .annotate(m=Max("took_place_at"))
        .values_list("person_id", "m")
    ):
        bump(pid, at, 1)
    for pid, at in (
        contacts.filter(counterpart_kind=Counterpart.CONSULAR)
        .values("person_id")
        .annotate(m=Max("occurred_at"))
        .values_list("person_id", "m")
    ):
        bump(pid, at, 1)
    stale = LastContact.objects.all()
    if person_ids is not None:
        stale = stale.filter(person_id__in=person_ids)
    stale.delete()
    LastContact.objects.bulk_create(
        [
            LastContact(person_id=pid, last_contact_at=a, last_consular_at=b)
            for pid, (a, b) in last.items()
        ],
        batch_size=5000,
    )
    return len(last)
