"""Writes of requests and complaints (Mandela Rules 56-57): filing, acknowledging, answering
and closing. Each is one transaction with its ledger entry; the text and the answer go on the
ledger as commitments only, under the subject ``complaint:<id>`` (never in a person's
history: :mod:`habeas.conditions.cases_events`).

Deadlines: a complaint is acknowledged within ``HABEAS_COMPLAINT_ACKNOWLEDGE_DAYS`` (default
2) and answered within ``HABEAS_COMPLAINT_ANSWER_DAYS`` (default 30) of its receipt (Rule
57(1): dealt with promptly and replied to without delay; the numbers are the facility's
policy, settings say them). Past its deadline it is overdue (:func:`overdue`).

Who may act on one: the facility's staff on the complaints they can see (not the confidential
ones), oversight on any — the views and API find the complaint through
``Complaint.objects.visible_to(user)`` first, so a confidential one is never reached by staff.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings

from habeas.conditions.cases_models import (
    Complaint,
    ComplaintCategory,
    ComplaintFiler,
    ComplaintKind,
    ComplaintStatus,
)
from habeas.core.actor import Actor
from habeas.core.clock import now
from habeas.core.errors import Conflict, ValidationFailed
from habeas.core.services import service
from habeas.custody.models import CustodyEpisode
from habeas.facilities.models import Facility
from habeas.ledger.services import Event, ledger_append_many
from habeas.people.models import Person

MSG_TEXT = "a complaint or request needs its text"
MSG_CHOICE = "unknown {what} {value!r}"
MSG_NOT_HELD = "person {person} is not held in {facility}"
MSG_FUTURE = "the time received {at} is in the future"
MSG_STEP = "complaint {id} is {status}: it cannot become {to}"
MSG_ANSWER = "an answer needs its text"

#: The statuses a complaint may go to from each (received → under review → answered →
#: closed; a request may be answered at once, and anything open may be closed).
NEXT = {
    ComplaintStatus.RECEIVED: {ComplaintStatus.UNDER_REVIEW, ComplaintStatus.ANSWERED,
                               ComplaintStatus.CLOSED},
    ComplaintStatus.UNDER_REVIEW: {ComplaintStatus.ANSWERED, ComplaintStatus.CLOSED},
    ComplaintStatus.ANSWERED: {ComplaintStatus.CLOSED},
    ComplaintStatus.CLOSED: set(),
}  # fmt: skip


def acknowledge_days() -> int:
    return int(getattr(settings, "HABEAS_COMPLAINT_ACKNOWLEDGE_DAYS", 2))


def answer_days() -> int:
    return int(getattr(settings, "HABEAS_COMPLAINT_ANSWER_DAYS", 30))


def overdue(complaint: Complaint, at: dt.datetime | None = None) -> str:
    """``acknowledge`` or ``answer`` when that deadline has passed without it, else ``""``."""
    at = at or now()
    if complaint.status in (ComplaintStatus.ANSWERED, ComplaintStatus.CLOSED):
        return ""
    if complaint.answer_by < at:
        return "answer"
    if complaint.acknowledged_at is None and complaint.acknowledge_by < at:
        return "acknowledge"
    return ""


def _check(value: str, choices: Any, what: str) -> None:
    if value not in choices.values:
        raise ValidationFailed(MSG_CHOICE.format(what=what, value=value))


@service
def complaint_file(
    *,
    actor: Actor,
    person: Person,
    facility: Facility,
    kind: str,
    category: str,
    text: str,
    filer: str = ComplaintFiler.PERSON,
    confidential: bool = False,
    received_at: dt.datetime | None = None,
) -> Complaint:
    """Register a request or complaint by or for a person held in ``facility`` (Mandela Rule
    56(1)-(3)); ``confidential``: for oversight's eyes only (Rule 56(3)). Its deadlines are
    set from the time received. One ``conditions.complaint_filed`` entry."""
    _check(kind, ComplaintKind, "kind")
    _check(category, ComplaintCategory, "category")
    _check(filer, ComplaintFiler, "filer")
    body = text.strip()
    if not body:
        raise ValidationFailed(MSG_TEXT)
    received = received_at or now()
    if received > now():
        raise ValidationFailed(MSG_FUTURE.format(at=received.isoformat()))
    if not CustodyEpisode.objects.open().filter(person=person, facility=facility).exists():
        raise ValidationFailed(MSG_NOT_HELD.format(person=person.pk, facility=facility.code))
    complaint = Complaint(
        person=person,
        facility=facility,
        kind=kind,
        category=category,
        filer=filer,
        confidential=confidential,
        text=body,
        received_at=received,
        recorded_by=actor.name,
        acknowledge_by=received + dt.timedelta(days=acknowledge_days()),
        answer_by=received + dt.timedelta(days=answer_days()),
    )
    complaint.save()
    ledger_append_many(
        actor=actor,
        events=[
            Event(
                action="conditions.complaint_filed",
                subject=f"complaint:{complaint.pk}",
                occurred_at=received,
                payload={
                    "id": complaint.pk,
                    "person_id": person.pk,
                    "facility": facility.code,
                    "kind": kind,
                    "category": category,
                    "filer": filer,
                    "confidential": confidential,
                    "text": body,
                    "received_at": received,
                    "recorded_by": actor.name,
                    "acknowledge_by": complaint.acknowledge_by,
                    "answer_by": complaint.answer_by,
                },
            )
        ],
    )
    return complaint


@service
def complaint_set_status(
    *, actor: Actor, complaint: Complaint, status: str, answer: str = ""
) -> Complaint:
    """Move a complaint on: ``under_review`` (acknowledged), ``answered`` (with the answer,
    Rule 57(1)), ``closed``. One ``conditions.complaint_status_changed`` entry."""
    _check(status, ComplaintStatus, "status")
    locked = Complaint.objects.select_for_update().get(pk=complaint.pk)
    if status not in NEXT[ComplaintStatus(locked.status)]:
        raise Conflict(MSG_STEP.format(id=locked.pk, status=locked.status, to=status))
    text = answer.strip()
    if status == ComplaintStatus.ANSWERED and not text:
        raise ValidationFailed(MSG_ANSWER)
    at = now()
    locked.status = status
    fields = ["status"]
    if status == ComplaintStatus.UNDER_REVIEW:
        locked.acknowledged_at = at
        fields.append("acknowledged_at")
    elif status == ComplaintStatus.ANSWERED:
        locked.answered_at = at
        locked.answer = text
        fields += ["answered_at", "answer"]
        if locked.acknowledged_at is None:
            locked.acknowledged_at = at
            fields.append("acknowledged_at")
    else:
        locked.closed_at = at
        fields.append("closed_at")
    locked.save(update_fields=fields)
    payload: dict[str, Any] = {
        "id": locked.pk,
        "person_id": locked.person_id,
        "status": status,
        "at": at,
    }
    if status == ComplaintStatus.ANSWERED:
        payload["answer"] = text
    ledger_append_many(
        actor=actor,
        events=[
            Event(
                action="conditions.complaint_status_changed",
                subject=f"complaint:{locked.pk}",
                occurred_at=at,
                payload=payload,
            )
        ],
    )
    return locked
