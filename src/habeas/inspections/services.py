"""Writes of inspections (OPCAT arts. 4, 14, 20; Mandela Rules 83-85); each appends its
ledger entry in the same transaction (the one rule).

The gate (OPCAT art. 14(2); Mandela Rule 84(1)(b)): inspectors arrive unannounced; the
facility records when it admitted them. A refusal, or an admission more than
``HABEAS_INSPECTION_DELAY_MINUTES`` (default 30) after arrival, needs one of the four grounds
of art. 14(2), and either is an ``inspection`` alert (rule A9) for oversight and the body.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db.models import Max

from habeas.accounts.permissions import is_inspector, scope_of, works_in
from habeas.core.actor import Actor
from habeas.core.clock import now
from habeas.core.errors import Conflict, ValidationFailed
from habeas.core.services import service
from habeas.facilities.models import Facility
from habeas.inspections.events import interviewee
from habeas.inspections.models import (
    BodyKind,
    BodyMember,
    Finding,
    FindingKind,
    FindingStatus,
    GateReason,
    GateStatus,
    Inspection,
    InspectionBody,
    Interview,
    IntervieweeKind,
    Response,
)
from habeas.ledger.services import ledger_append
from habeas.people.models import Person

MSG_BODY_NAME = "an inspection body needs a name"
MSG_BODY_KIND = "unknown kind of inspection body {kind!r}: one of {kinds}"
MSG_BODY_TAKEN = "an inspection body named {name!r} is already registered"
MSG_NO_FACILITY = "no facility {code!r}"
MSG_NOT_INSPECTOR = "{username} is not an inspector account"
MSG_ALREADY_MEMBER = "{username} is already a member of {body}"
MSG_SCOPE = "{username}'s facilities {codes} are not all in {body}'s mandate"
MSG_NOT_IN_MANDATE = "{facility} is not in the mandate of {body}"
MSG_NO_INSPECTORS = "a visit needs at least one inspector of the body"
MSG_NOT_MEMBER = "{username} is not an inspector of {body}"
MSG_FUTURE = "{what} cannot be in the future"
MSG_GATE_DONE = "the gate already recorded {status} for this inspection"
MSG_BEFORE_ARRIVAL = "admission cannot be before the inspectors' arrival"
MSG_REASON_NEEDED = (
    "a refusal, or an admission more than {minutes} minutes after arrival, needs a reason "
    "(OPCAT art. 14(2)): one of {reasons}"
)
MSG_REASON_UNKNOWN = "unknown reason {reason!r}: one of {reasons}"
MSG_NOT_ADMITTED = "the inspectors have not been admitted: nothing happened inside yet"
MSG_ENDED = "this inspection has ended"
MSG_INTERVIEWEE = "an interview is with one prisoner or one staff member"
MSG_NOT_HELD = "the person interviewed is not held in {facility}"
MSG_NOT_STAFF = "{username} is not a member of staff of {facility}"
MSG_FINDING_KIND = "unknown kind {kind!r}: finding or recommendation"
MSG_TEXT = "a {what} needs its text"
MSG_OWNER = "a finding needs an owner at the facility"
MSG_RESPONSE = "unknown response {response!r}: one of {responses}"
MSG_RESPONSE_TEXT = "a response states what the facility will do, or why not"
MSG_ALREADY_RESPONDED = "the facility already responded to {ref}"
MSG_CLOSED = "{ref} is closed"
MSG_CLOSURE_NOTE = "closing needs a note: what was verified"
MSG_ALREADY_PUBLISHED = "the report of {ref} is already published"
MSG_NOT_ENDED = "a report is published once the inspection has ended"


def delay_minutes() -> int:
    """Minutes after arrival beyond which admission is a delay (rule A9)."""
    return int(getattr(settings, "HABEAS_INSPECTION_DELAY_MINUTES", 30))


def _past(at: dt.datetime, what: str) -> None:
    if at > now() + dt.timedelta(minutes=1):
        raise ValidationFailed(MSG_FUTURE.format(what=what))


@service
def inspection_body_register(
    *, actor: Actor, name: str, kind: str, mandate: str, facility_codes: Iterable[str]
) -> InspectionBody:
    """Register an inspection body (OPCAT art. 4; Mandela Rule 83(1)): its kind, mandate and
    the facilities it may visit. One ``inspections.body_registered`` entry."""
    name = name.strip()
    if not name:
        raise ValidationFailed(MSG_BODY_NAME)
    if kind not in BodyKind.values:
        raise ValidationFailed(MSG_BODY_KIND.format(kind=kind, kinds=", ".join(BodyKind.values)))
    codes = sorted(set(facility_codes))
    known = set(Facility.objects.filter(code__in=codes).values_list("code", flat=True))
    for code in codes:
        if code not in known:
            raise ValidationFailed(MSG_NO_FACILITY.format(code=code))
    if InspectionBody.objects.filter(name=name).exists():
        raise Conflict(MSG_BODY_TAKEN.format(name=name))
    at = now()
    body = InspectionBody(
        name=name, kind=kind, mandate=mandate.strip(), facility_codes=codes, registered_at=at
    )
    body.save()
    ledger_append(
        actor=actor,
        action="inspections.body_registered",
        subject=f"inspection-body:{body.pk}",
        occurred_at=at,
        payload={
            "id": body.pk, "name": name, "kind": kind, "mandate": body.mandate,
            "facility_codes": codes, "registered_at": at,
        },
    )  # fmt: skip
    return body


@service
def inspector_appoint(*, actor: Actor, body: InspectionBody, user: Any) -> BodyMember:
    """Make an inspector account a member of ``body``; its facilities must lie within the
    body's mandate (its scope is what the body may visit). One
    ``inspections.inspector_appointed`` entry."""
    if not is_inspector(user):
        raise ValidationFailed(MSG_NOT_INSPECTOR.format(username=user.username))
    if BodyMember.objects.filter(user=user).exists():
        raise Conflict(MSG_ALREADY_MEMBER.format(username=user.username, body=body.name))
    codes = list(scope_of(user).facility_codes or [])
    if not set(codes) <= set(body.facility_codes):
        raise ValidationFailed(
            MSG_SCOPE.format(username=user.username, codes=codes, body=body.name)
        )
    at = now()
    member = BodyMember(body=body, user=user, appointed_at=at)
    member.save()
    ledger_append(
        actor=actor,
        action="inspections.inspector_appointed",
        subject=f"inspection-body:{body.pk}",
        occurred_at=at,
        payload={"id": member.pk, "body": body.pk, "user": user.pk, "appointed_at": at},
    )
    return member


@service
def inspection_arrive(
    *,
    actor: Actor,
    body: InspectionBody,
    facility: Facility,
    inspectors: Iterable[str],
    arrived_at: dt.datetime,
    announced: bool = False,
) -> Inspection:
    """Log the inspectors' arrival at the gate (Mandela Rule 84(1)(b): unannounced visits;
    OPCAT art. 14(1)(e)). The team are the body's inspector accounts. One
    ``inspections.arrived`` entry."""
    if facility.code not in body.facility_codes:
        raise ValidationFailed(MSG_NOT_IN_MANDATE.format(facility=facility.code, body=body.name))
    team = sorted(set(inspectors))
    if not team:
        raise ValidationFailed(MSG_NO_INSPECTORS)
    members = set(BodyMember.objects.filter(body=body).values_list("user__username", flat=True))
    for username in team:
        if username not in members:
            raise ValidationFailed(MSG_NOT_MEMBER.format(username=username, body=body.name))
    _past(arrived_at, "an arrival")
    inspection = Inspection(
        body=body, facility=facility, announced=announced, arrived_at=arrived_at, inspectors=team
    )
    inspection.save()
    ledger_append(
        actor=actor,
        action="inspections.arrived",
        subject=f"inspection:{inspection.pk}",
        occurred_at=arrived_at,
        payload={
            "id": inspection.pk, "body": body.pk, "facility": facility.code,
            "announced": announced, "arrived_at": arrived_at, "inspectors": team,
        },
    )  # fmt: skip
    return inspection


@service
def inspection_gate_record(
    *,
    actor: Actor,
    inspection: Inspection,
    admitted: bool,
    at: dt.datetime | None = None,
    reason: str = "",
) -> Inspection:
    """The facility records at the gate that it admitted the inspectors at ``at``, or refused
    them. A refusal, or an admission more than :func:`delay_minutes` after arrival, needs a
    reason from :class:`GateReason` (OPCAT art. 14(2)); either opens an ``inspection`` alert.
    One ``inspections.gate_recorded`` entry."""
    if inspection.gate_status != GateStatus.ARRIVED:
        raise Conflict(MSG_GATE_DONE.format(status=inspection.gate_status))
    if reason and reason not in GateReason.values:
        raise ValidationFailed(
            MSG_REASON_UNKNOWN.format(reason=reason, reasons=", ".join(GateReason.values))
        )
    recorded = now()
    admitted_at = None
    delay = None
    if admitted:
        admitted_at = at or recorded
        _past(admitted_at, "an admission")
        if admitted_at < inspection.arrived_at:
            raise ValidationFailed(MSG_BEFORE_ARRIVAL)
        delay = int((admitted_at - inspection.arrived_at).total_seconds() // 60)
    if (not admitted or (delay or 0) > delay_minutes()) and not reason:
        raise ValidationFailed(
            MSG_REASON_NEEDED.format(minutes=delay_minutes(), reasons=", ".join(GateReason.values))
        )
    inspection.gate_status = GateStatus.ADMITTED if admitted else GateStatus.REFUSED
    inspection.admitted_at = admitted_at
    inspection.gate_reason = reason
    inspection.gate_recorded_by = actor.name
    inspection.save()
    ledger_append(
        actor=actor,
        action="inspections.gate_recorded",
        subject=f"inspection:{inspection.pk}",
        occurred_at=admitted_at or recorded,
        payload={
            "id": inspection.pk, "facility": inspection.facility.code,
            "gate_status": inspection.gate_status, "admitted_at": admitted_at,
            "gate_reason": reason, "delay_minutes": delay, "recorded_by": actor.name,
        },
    )  # fmt: skip
    return inspection


def _inside(inspection: Inspection) -> None:
    if inspection.gate_status != GateStatus.ADMITTED:
        raise Conflict(MSG_NOT_ADMITTED)
    if inspection.ended_at is not None:
        raise Conflict(MSG_ENDED)


@service
def interview_record(
    *,
    actor: Actor,
    inspection: Inspection,
    at: dt.datetime,
    person: Person | None = None,
    staff: Any = None,
) -> Interview:
    """Record that a private interview took place (OPCAT art. 14(1)(d); Mandela Rule
    84(1)(d)): with whom, when, in which inspection. Nothing of what was said is taken: there
    is nowhere to put it. The interviewee goes on the ledger only as a commitment under the
    inspection's key. One ``inspections.interview_recorded`` entry; the interview is a
    protected act for the retaliation alert (OPCAT art. 21(1))."""
    _inside(inspection)
    if (person is None) == (staff is None):
        raise ValidationFailed(MSG_INTERVIEWEE)
    code = inspection.facility.code
    if person is not None:
        from habeas.custody.models import CustodyEpisode

        held = CustodyEpisode.objects.filter(
            person=person, facility=inspection.facility, admitted_at__lte=at
        ).exclude(released_at__lt=at)
        if not held.exists():
            raise ValidationFailed(MSG_NOT_HELD.format(facility=code))
    elif not works_in(staff, [code]):
        raise ValidationFailed(MSG_NOT_STAFF.format(username=staff.username, facility=code))
    _past(at, "an interview")
    interview = Interview(
        inspection=inspection,
        kind=IntervieweeKind.PRISONER if person is not None else IntervieweeKind.STAFF,
        person=person,
        staff=staff,
        at=at,
        recorded_by=actor.name,
    )
    interview.save()
    ledger_append(
        actor=actor,
        action="inspections.interview_recorded",
        subject=f"inspection:{inspection.pk}",
        occurred_at=at,
        payload={
            "id": interview.pk,
            "inspection": inspection.pk,
            "kind": interview.kind,
            "interviewee": interviewee(interview.person_id, interview.staff_id),
            "at": at,
            "recorded_by": actor.name,
        },
    )
    return interview


@service
def inspection_end(*, actor: Actor, inspection: Inspection, at: dt.datetime) -> Inspection:
    """The visit is over (or, refused, the body closes it). One ``inspections.ended`` entry;
    a refused or delayed gate's alert stays open until then."""
    if inspection.ended_at is not None:
        raise Conflict(MSG_ENDED)
    _past(at, "the end of a visit")
    inspection.ended_at = max(at, inspection.admitted_at or inspection.arrived_at)
    inspection.save()
    ledger_append(
        actor=actor,
        action="inspections.ended",
        subject=f"inspection:{inspection.pk}",
        occurred_at=inspection.ended_at,
        payload={
            "id": inspection.pk,
            "facility": inspection.facility.code,
            "ended_at": inspection.ended_at,
        },
    )
    return inspection


@service
def finding_record(
    *,
    actor: Actor,
    inspection: Inspection,
    kind: str,
    text: str,
    owner: str,
    deadline: dt.date,
    citation: str = "",
) -> Finding:
    """A finding or recommendation (Mandela Rule 85(1)), with its owner at the facility and
    the deadline by which it is to be acted on. One ``inspections.finding_recorded`` entry
    (text and owner committed under the facility's key)."""
    if kind not in FindingKind.values:
        raise ValidationFailed(MSG_FINDING_KIND.format(kind=kind))
    text, owner = text.strip(), owner.strip()
    if not text:
        raise ValidationFailed(MSG_TEXT.format(what=kind))
    if not owner:
        raise ValidationFailed(MSG_OWNER)
    if inspection.gate_status == GateStatus.ARRIVED:
        raise Conflict(MSG_NOT_ADMITTED)
    Inspection.objects.select_for_update().filter(pk=inspection.pk).first()
    number = (inspection.findings.aggregate(m=Max("number"))["m"] or 0) + 1
    at = now()
    finding = Finding(
        inspection=inspection, number=number, kind=kind, text=text, citation=citation.strip(),
        owner=owner, deadline=deadline, recorded_at=at,
    )  # fmt: skip
    finding.save()
    ledger_append(
        actor=actor,
        action="inspections.finding_recorded",
        subject=f"inspection:{inspection.pk}",
        occurred_at=at,
        payload={
            "id": finding.pk, "inspection": inspection.pk,
            "facility": inspection.facility.code, "number": number, "kind": kind,
            "text": text, "citation": finding.citation, "owner": owner, "deadline": deadline,
            "recorded_at": at,
        },
    )  # fmt: skip
    return finding


@service
def finding_respond(*, actor: Actor, finding: Finding, response: str, text: str) -> Finding:
    """The facility's response (Mandela Rule 85(2): whether it will implement the
    recommendation): accepted, partially or rejected, with what it will do or why not. One
    ``inspections.finding_responded`` entry."""
    ref = str(finding)
    if response not in Response.values:
        raise ValidationFailed(
            MSG_RESPONSE.format(response=response, responses=", ".join(Response.values))
        )
    text = text.strip()
    if not text:
        raise ValidationFailed(MSG_RESPONSE_TEXT)
    if finding.status == FindingStatus.CLOSED:
        raise Conflict(MSG_CLOSED.format(ref=ref))
    if finding.status == FindingStatus.RESPONDED:
        raise Conflict(MSG_ALREADY_RESPONDED.format(ref=ref))
    at = now()
    finding.status = FindingStatus.RESPONDED
    finding.response = response
    finding.response_text = text
    finding.responded_at = at
    finding.responded_by = actor.name
    finding.save()
    ledger_append(
        actor=actor,
        action="inspections.finding_responded",
        subject=f"inspection:{finding.inspection_id}",
        occurred_at=at,
        payload={
            "id": finding.pk, "facility": finding.inspection.facility.code,
            "response": response, "response_text": text, "responded_at": at,
            "responded_by": actor.name,
        },
    )  # fmt: skip
    return finding


@service
def finding_close(*, actor: Actor, finding: Finding, note: str) -> Finding:
    """The body closes a finding after follow-up (Mandela Rule 85(2)), saying what it
    verified. One ``inspections.finding_closed`` entry; an overdue alert clears."""
    if finding.status == FindingStatus.CLOSED:
        raise Conflict(MSG_CLOSED.format(ref=str(finding)))
    note = note.strip()
    if not note:
        raise ValidationFailed(MSG_CLOSURE_NOTE)
    at = now()
    finding.status = FindingStatus.CLOSED
    finding.closed_at = at
    finding.closure_note = note
    finding.save()
    ledger_append(
        actor=actor,
        action="inspections.finding_closed",
        subject=f"inspection:{finding.inspection_id}",
        occurred_at=at,
        payload={
            "id": finding.pk, "facility": finding.inspection.facility.code, "closed_at": at,
            "closure_note": note,
        },
    )  # fmt: skip
    return finding


@service
def inspection_report_publish(*, actor: Actor, inspection: Inspection) -> Inspection:
    """The body publishes the public version of its report (OPCAT art. 23; Mandela Rule
    85(1)): listed on the public page from then on, without interviewees or personal data.
    One ``inspections.report_published`` entry."""
    if inspection.report_published_at is not None:
        raise Conflict(MSG_ALREADY_PUBLISHED.format(ref=inspection.reference))
    if inspection.ended_at is None:
        raise Conflict(MSG_NOT_ENDED)
    at = now()
    inspection.report_published_at = at
    inspection.save()
    ledger_append(
        actor=actor,
        action="inspections.report_published",
        subject=f"inspection:{inspection.pk}",
        occurred_at=at,
        payload={"id": inspection.pk, "facility": inspection.facility.code, "published_at": at},
    )
    return inspection
