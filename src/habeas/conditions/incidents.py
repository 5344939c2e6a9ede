"""Writes of incidents and deaths in custody (Mandela Rules 69, 71-72, 7(d)) and of
disciplinary sanctions (Mandela Rules 36-46). Each service is one transaction with its ledger
entries (ARCHITECTURE.md, the one rule).

Rules, each with its identifier (tests name them on both sides of the boundary):

* **I1** (Rule 71(1)) — a death or serious injury is not closed before the report to an
  independent authority is recorded: who, when, the authority's reference;
* **I2** (Rule 69) — nor before the next of kin are recorded as informed: who, how, when;
* **I3** (Rule 71(1); 7(c)) — a death in custody names exactly one deceased person, held in
  the facility, and releases them with reason ``death`` in the same transaction (the release
  queues the death notice to family and consulate: Rule 69, VCCR art. 37(a));
* **I4** (Rule 7(d)) — an admission record linked to an incident is the person's own and has
  injuries recorded;
* **S1** (Rules 43(1)(a), 43(1)(b), 44) — solitary confinement needs an end, at most 15
  consecutive days later;
* **S2** (Rule 43(3)) — family contact is never prohibited; its means may be restricted only
  for a limited time (an end is required);
* **S3** (Rule 43(1)(c)-(e), 43(2)) — dark or constantly lit cells, corporal punishment,
  reduced diet or water, collective punishment and restraints as a sanction are refused.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from django.db.models import Q

from habeas.conditions.cases_events import incident_key
from habeas.conditions.cases_models import (
    REPORTABLE_KINDS,
    Incident,
    IncidentKind,
    IncidentPerson,
    IncidentRole,
    IncidentStatus,
    Sanction,
    SanctionMeasure,
)
from habeas.core.actor import Actor
from habeas.core.clock import now
from habeas.core.errors import Conflict, ValidationFailed
from habeas.core.services import service
from habeas.custody.models import CustodyEpisode
from habeas.custody.services import custody_release
from habeas.facilities.models import Facility
from habeas.ledger.services import Event, ledger_append_many
from habeas.people.models import Person
from habeas.transfers.models import AdmissionRecord

MSG_KIND = "unknown incident kind {kind!r}"
MSG_ROLE = "unknown role {role!r} for person {person}"
MSG_DESCRIPTION = "an incident needs a description"
MSG_FUTURE = "{what} {at} is in the future"
MSG_NOT_HELD_THERE = "person {person} was not held in {facility} at {at}"
MSG_DEATH_ONE = "I3 (Mandela Rule 71(1)): a death in custody names exactly one deceased person"
MSG_CLOSED = "incident {id} is already closed"
MSG_NOT_REPORTED = (
    "I1 (Mandela Rule 71(1)): incident {id} ({kind}) cannot be closed before its report to "
    "an independent authority is recorded"
)
MSG_NOT_KIN = (
    "I2 (Mandela Rule 69): incident {id} ({kind}) cannot be closed before the next of kin "
    "are recorded as informed"
)
MSG_REPORT = "a report needs the authority and its reference"
MSG_KIN = "a notice to next of kin needs who was told and how"
MSG_ADMISSION = (
    "I4 (Mandela Rule 7(d)): admission record {record} is not one of person {person}'s with "
    "injuries recorded"
)
MSG_MEASURE = "unknown sanction measure {measure!r}"
MSG_REASON = "a sanction needs its reason (Mandela Rule 39(1))"
MSG_SOLITARY_END = (
    "S1 (Mandela Rules 43(1)(a), 44): indefinite solitary confinement is prohibited; give its end"
)
MSG_SOLITARY_LONG = (
    "S1 (Mandela Rules 43(1)(b), 44): solitary confinement beyond 15 consecutive days is "
    "prolonged solitary confinement, prohibited ({days} days asked)"
)
MSG_CONTACT = (
    "S2 (Mandela Rule 43(3)): family contact may never be prohibited; its means may be "
    "restricted only for a limited time: give the end"
)
MSG_PROHIBITED = "S3 ({citation}): {measure} is prohibited as a sanction"

#: Rule 44: solitary confinement for more than 15 consecutive days is prolonged.
SOLITARY_MAX_DAYS = 15

#: Measures Rule 43 prohibits outright, with the citation the refusal names.
PROHIBITED_MEASURES = {
    "dark_cell": "Mandela Rule 43(1)(c)",
    "constantly_lit_cell": "Mandela Rule 43(1)(c)",
    "corporal_punishment": "Mandela Rule 43(1)(d)",
    "reduced_diet": "Mandela Rule 43(1)(d)",
    "collective_punishment": "Mandela Rule 43(1)(e)",
    "restraints": "Mandela Rule 43(2)",
    "family_contact_prohibited": "Mandela Rule 43(3)",
}


@dataclass(frozen=True)
class Involved:
    person: Person
    role: str
    admission_record: AdmissionRecord | None = None


def _not_future(at: dt.datetime, what: str) -> None:
    if at > now():
        raise ValidationFailed(MSG_FUTURE.format(what=what, at=at.isoformat()))


def _held_at(person: Person, facility: Facility, at: dt.datetime) -> bool:
    return (
        CustodyEpisode.objects.filter(person=person, facility=facility, admitted_at__lte=at)
        .filter(Q(released_at__isnull=True) | Q(released_at__gte=at))
        .exists()
    )


@service
def incident_record(
    *,
    actor: Actor,
    facility: Facility,
    kind: str,
    occurred_at: dt.datetime,
    description: str,
    people: Sequence[Involved],
    place: str = "",
) -> Incident:
    """Record an incident and the people involved (Mandela Rules 71-72): one
    ``conditions.incident_recorded`` entry (the description as a commitment). A death (I3)
    also releases the deceased with reason ``death`` through
    :func:`habeas.custody.services.custody_release`, in this transaction."""
    if kind not in IncidentKind.values:
        raise ValidationFailed(MSG_KIND.format(kind=kind))
    text = description.strip()
    if not text:
        raise ValidationFailed(MSG_DESCRIPTION)
    _not_future(occurred_at, "the incident time")
    for inv in people:
        if inv.role not in IncidentRole.values:
            raise ValidationFailed(MSG_ROLE.format(role=inv.role, person=inv.person.pk))
        if not _held_at(inv.person, facility, occurred_at):
            raise ValidationFailed(
                MSG_NOT_HELD_THERE.format(
                    person=inv.person.pk, facility=facility.code, at=occurred_at.isoformat()
                )
            )
        record = inv.admission_record
        if record is not None and (
            record.episode.person_id != inv.person.pk or not record.visible_injuries.strip()
        ):
            raise ValidationFailed(MSG_ADMISSION.format(record=record.pk, person=inv.person.pk))
    deceased = [inv for inv in people if inv.role == IncidentRole.DECEASED]
    if kind == IncidentKind.DEATH and len(deceased) != 1:
        raise ValidationFailed(MSG_DEATH_ONE)
    at = now()
    incident = Incident(
        facility=facility,
        kind=kind,
        occurred_at=occurred_at,
        place=place.strip(),
        description=text,
        recorded_by=actor.name,
        recorded_at=at,
    )
    incident.save()
    rows = []
    for inv in people:
        link = IncidentPerson(
            incident=incident,
            person=inv.person,
            role=inv.role,
            admission_record=inv.admission_record,
        )
        link.save()
        rows.append(
            {
                "id": link.pk,
                "person_id": inv.person.pk,
                "role": inv.role,
                "admission_record": inv.admission_record.pk if inv.admission_record else None,
            }
        )
    ledger_append_many(
        actor=actor,
        events=[
            Event(
                action="conditions.incident_recorded",
                subject=incident_key(incident.pk),
                occurred_at=occurred_at,
                payload={
                    "id": incident.pk,
                    "facility": facility.code,
                    "kind": kind,
                    "occurred_at": occurred_at,
                    "place": incident.place,
                    "description": text,
                    "recorded_by": actor.name,
                    "recorded_at": at,
                    "people": rows,
                },
            )
        ],
    )
    if kind == IncidentKind.DEATH:
        custody_release(
            actor=actor,
            person=deceased[0].person,
            reason="death",
            at=occurred_at,
            note=f"incident {incident.pk}",
        )
    return incident


def _locked_open(incident: Incident) -> Incident:
    locked = Incident.objects.select_for_update().get(pk=incident.pk)
    if locked.status == IncidentStatus.CLOSED:
        raise Conflict(MSG_CLOSED.format(id=locked.pk))
    return locked


@service
def incident_report_authority(
    *, actor: Actor, incident: Incident, authority: str, reported_at: dt.datetime, reference: str
) -> Incident:
    """Mandela Rule 71(1): the report to an independent authority (who, when, reference).
    One ``conditions.incident_reported`` entry."""
    authority, reference = authority.strip(), reference.strip()
    if not authority or not reference:
        raise ValidationFailed(MSG_REPORT)
    _not_future(reported_at, "the report time")
    incident = _locked_open(incident)
    incident.authority = authority
    incident.authority_reported_at = reported_at
    incident.authority_reference = reference
    incident.save(update_fields=["authority", "authority_reported_at", "authority_reference"])
    ledger_append_many(
        actor=actor,
        events=[
            Event(
                action="conditions.incident_reported",
                subject=incident_key(incident.pk),
                occurred_at=reported_at,
                payload={
                    "id": incident.pk,
                    "authority": authority,
                    "reported_at": reported_at,
                    "reference": reference,
                },
            )
        ],
    )
    return incident


@service
def incident_notify_kin(
    *, actor: Actor, incident: Incident, notified: str, how: str, at: dt.datetime
) -> Incident:
    """Mandela Rule 69: the next of kin informed (who, how, when). Who is personal: its
    commitment only on the ledger. One ``conditions.incident_kin_notified`` entry."""
    notified, how = notified.strip(), how.strip()
    if not notified or not how:
        raise ValidationFailed(MSG_KIN)
    _not_future(at, "the notice time")
    incident = _locked_open(incident)
    incident.kin_notified = notified
    incident.kin_notified_how = how
    incident.kin_notified_at = at
    incident.save(update_fields=["kin_notified", "kin_notified_how", "kin_notified_at"])
    ledger_append_many(
        actor=actor,
        events=[
            Event(
                action="conditions.incident_kin_notified",
                subject=incident_key(incident.pk),
                occurred_at=at,
                payload={"id": incident.pk, "notified": notified, "how": how, "at": at},
            )
        ],
    )
    return incident


@service
def incident_close(*, actor: Actor, incident: Incident, note: str = "") -> Incident:
    """Close an incident; a death or serious injury only once I1 (Rule 71(1)) and I2 (Rule
    69) are met. One ``conditions.incident_closed`` entry."""
    incident = _locked_open(incident)
    if incident.kind in REPORTABLE_KINDS:
        kind = IncidentKind(incident.kind).label
        if not incident.reported:
            raise Conflict(MSG_NOT_REPORTED.format(id=incident.pk, kind=kind))
        if not incident.kin_informed:
            raise Conflict(MSG_NOT_KIN.format(id=incident.pk, kind=kind))
    at = now()
    incident.status = IncidentStatus.CLOSED
    incident.closed_at = at
    incident.closed_by = actor.name
    incident.closing_note = note.strip()
    incident.save(update_fields=["status", "closed_at", "closed_by", "closing_note"])
    ledger_append_many(
        actor=actor,
        events=[
            Event(
                action="conditions.incident_closed",
                subject=incident_key(incident.pk),
                occurred_at=at,
                payload={
                    "id": incident.pk,
                    "closed_at": at,
                    "closed_by": actor.name,
                    **({"note": incident.closing_note} if incident.closing_note else {}),
                },
            )
        ],
    )
    return incident


def check_measure(measure: str, starts_at: dt.datetime, ends_at: dt.datetime | None) -> None:
    """Rules S1-S3 (Mandela Rules 43-44): raise with the citation what a sanction may not be."""
    if measure in PROHIBITED_MEASURES:
        raise ValidationFailed(
            MSG_PROHIBITED.format(citation=PROHIBITED_MEASURES[measure], measure=measure)
        )
    if measure not in SanctionMeasure.values:
        raise ValidationFailed(MSG_MEASURE.format(measure=measure))
    if measure == SanctionMeasure.SOLITARY_CONFINEMENT:
        if ends_at is None:
            raise ValidationFailed(MSG_SOLITARY_END)
        if ends_at - starts_at > dt.timedelta(days=SOLITARY_MAX_DAYS):
            days = (ends_at - starts_at) / dt.timedelta(days=1)
            raise ValidationFailed(MSG_SOLITARY_LONG.format(days=f"{days:g}"))
    if measure == SanctionMeasure.CONTACT_RESTRICTED and ends_at is None:
        raise ValidationFailed(MSG_CONTACT)


@service
def sanction_impose(
    *,
    actor: Actor,
    person: Person,
    facility: Facility,
    measure: str,
    reason: str,
    starts_at: dt.datetime,
    ends_at: dt.datetime | None = None,
) -> Sanction:
    """A disciplinary sanction (Mandela Rules 36-46) on a person held in ``facility``, refused
    with its citation where Rules 43-44 forbid it (S1-S3). One
    ``conditions.sanction_imposed`` entry, under the person's subject (their history)."""
    reason = reason.strip()
    if not reason:
        raise ValidationFailed(MSG_REASON)
    check_measure(measure, starts_at, ends_at)
    if ends_at is not None and ends_at <= starts_at:
        raise ValidationFailed("a sanction ends after it starts")
    _not_future(starts_at, "the sanction start")
    if not _held_at(person, facility, starts_at):
        raise ValidationFailed(
            MSG_NOT_HELD_THERE.format(
                person=person.pk, facility=facility.code, at=starts_at.isoformat()
            )
        )
    sanction = Sanction(
        person=person,
        facility=facility,
        measure=measure,
        reason=reason,
        starts_at=starts_at,
        ends_at=ends_at,
        imposed_by=actor.name,
    )
    sanction.save()
    ledger_append_many(
        actor=actor,
        events=[
            Event(
                action="conditions.sanction_imposed",
                subject=f"person:{person.pk}",
                occurred_at=starts_at,
                payload={
                    "id": sanction.pk,
                    "person_id": person.pk,
                    "facility": facility.code,
                    "measure": measure,
                    "reason": reason,
                    "starts_at": starts_at,
                    "ends_at": ends_at,
                    "imposed_by": actor.name,
                },
            )
        ],
    )
    return sanction
