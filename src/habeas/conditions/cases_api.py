"""Incidents and complaints under /api/v1 (``/incidents``, ``/complaints``), scoped like
their pages: the facility's staff their facilities, oversight all (confidential complaints
only for oversight); a role without them (liaison, finance, auditor) 403; a row outside scope
— a confidential complaint asked for by staff — the same 404 as a missing one."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from habeas.accounts.auth import api_user
from habeas.accounts.permissions import (
    may_file_complaints,
    may_record_incidents,
    may_view_complaints,
    may_view_confidential_complaints,
    may_view_incidents,
)
from habeas.conditions.cases_models import Complaint, Incident
from habeas.conditions.cases_selectors import (
    complaint_get_for,
    complaint_list,
    incident_get_for,
    incident_list,
)
from habeas.conditions.complaints import complaint_file, overdue
from habeas.conditions.incidents import Involved, incident_record
from habeas.core.actor import Actor
from habeas.core.api import InstantStr, PlausibleInstant, SafeText, errors, instant_str
from habeas.core.errors import Forbidden, NotFound, ValidationFailed
from habeas.facilities.models import Facility
from habeas.people.selectors import person_get_for

router = Router(tags=["incidents and complaints"])

MSG_INCIDENTS = "incidents are for the facility's staff and oversight"
MSG_RECORD = "incidents are recorded by the facility's staff"
MSG_COMPLAINTS = "complaints are for the facility's staff and oversight"


class InvolvedOut(Schema):
    person: str
    role: str
    admission_record: str | None


class IncidentOut(Schema):
    id: str
    facility: str
    kind: str
    occurred_at: InstantStr
    place: str
    description: str
    status: str
    authority: str
    authority_reported_at: InstantStr | None
    authority_reference: str
    kin_notified_at: InstantStr | None
    closed_at: InstantStr | None
    people: list[InvolvedOut]


def _incident(i: Incident) -> dict[str, Any]:
    return {
        "id": str(i.pk),
        "facility": i.facility.code,
        "kind": i.kind,
        "occurred_at": instant_str(i.occurred_at),
        "place": i.place,
        "description": i.description,
        "status": i.status,
        "authority": i.authority,
        "authority_reported_at": instant_str(i.authority_reported_at),
        "authority_reference": i.authority_reference,
        "kin_notified_at": instant_str(i.kin_notified_at),
        "closed_at": instant_str(i.closed_at),
        "people": [
            {
                "person": str(p.person_id),
                "role": p.role,
                "admission_record": str(p.admission_record_id) if p.admission_record_id else None,
            }
            for p in i.people.all()
        ],
    }


class IncidentsOut(Schema):
    incidents: list[IncidentOut]


class IncidentsIn(Schema):
    kind: str = ""
    status: str = ""
    facility: str = ""


def _incidents_user(request: HttpRequest) -> Any:
    user = api_user(request)
    if not may_view_incidents(user):
        raise Forbidden(_(MSG_INCIDENTS))
    return user


@router.get(
    "/incidents",
    response={200: IncidentsOut, **errors(400, 401, 403, 404)},
    summary="Incidents in the caller's facilities (Mandela Rules 71-72)",
    operation_id="incidents_list",
)
def incidents_get(request: HttpRequest, params: Query[IncidentsIn]) -> Any:
    user = _incidents_user(request)
    found = incident_list(
        user, kind=params.kind, status=params.status, facility=params.facility
    ).prefetch_related("people")
    return {"incidents": [_incident(i) for i in found[:1000]]}


@router.get(
    "/incidents/{incident_id}",
    response={200: IncidentOut, **errors(400, 401, 403, 404)},
    summary="One incident",
    operation_id="incident_get",
)
def incident_get(request: HttpRequest, incident_id: str) -> Any:
    user = _incidents_user(request)
    return _incident(incident_get_for(user, incident_id))


class InvolvedIn(Schema):
    person: str
    role: str


class IncidentIn(Schema):
    facility: str
    kind: str
    occurred_at: PlausibleInstant
    place: str = ""
    description: SafeText = Field(..., min_length=1)
    people: list[InvolvedIn] = []


@router.post(
    "/incidents",
    response={201: IncidentOut, **errors(400, 401, 403, 404, 409)},
    summary="Record an incident (a death also releases the person with reason death)",
    operation_id="incident_record",
)
def incident_post(request: HttpRequest, body: IncidentIn) -> Any:
    user = _incidents_user(request)
    if not may_record_incidents(user):
        raise Forbidden(_(MSG_RECORD))
    facility = Facility.objects.visible_to(user).filter(code=body.facility).first()
    if facility is None:
        raise NotFound(_("facility not found"))
    people = []
    for p in body.people:
        try:
            person = person_get_for(user=user, person_id=p.person)
        except NotFound:
            raise ValidationFailed(_("unknown person"), details={"people": [p.person]}) from None
        people.append(Involved(person=person, role=p.role))
    incident = incident_record(
        actor=Actor.from_user(user),
        facility=facility,
        kind=body.kind,
        occurred_at=body.occurred_at,
        place=body.place,
        description=body.description,
        people=people,
    )
    return Status(201, _incident(incident))


class ComplaintOut(Schema):
    id: str
    person: str
    facility: str
    kind: str
    category: str
    filer: str
    confidential: bool
    text: str
    status: str
    received_at: InstantStr
    acknowledge_by: InstantStr
    answer_by: InstantStr
    acknowledged_at: InstantStr | None
    answered_at: InstantStr | None
    answer: str
    overdue: str


def _complaint(c: Complaint) -> dict[str, Any]:
    return {
        "id": str(c.pk),
        "person": str(c.person_id),
        "facility": c.facility.code,
        "kind": c.kind,
        "category": c.category,
        "filer": c.filer,
        "confidential": c.confidential,
        "text": c.text,
        "status": c.status,
        "received_at": instant_str(c.received_at),
        "acknowledge_by": instant_str(c.acknowledge_by),
        "answer_by": instant_str(c.answer_by),
        "acknowledged_at": instant_str(c.acknowledged_at),
        "answered_at": instant_str(c.answered_at),
        "answer": c.answer,
        "overdue": overdue(c),
    }


class ComplaintsOut(Schema):
    count: int
    complaints: list[ComplaintOut]


class ComplaintsIn(Schema):
    q: str = Field("", description="search the person's name, registry number or the text")
    status: str = ""
    person: int = 0
    overdue: bool = False


def _complaints_user(request: HttpRequest) -> Any:
    user = api_user(request)
    if not may_view_complaints(user):
        raise Forbidden(_(MSG_COMPLAINTS))
    return user


@router.get(
    "/complaints",
    response={200: ComplaintsOut, **errors(400, 401, 403, 404)},
    summary="Complaints and requests the caller may see (Mandela Rules 56-57)",
    operation_id="complaints_list",
)
def complaints_get(request: HttpRequest, params: Query[ComplaintsIn]) -> Any:
    user = _complaints_user(request)
    found = complaint_list(
        user,
        q=params.q,
        status=params.status,
        person_id=params.person,
        overdue_only=params.overdue,
    )
    return {"count": found.count(), "complaints": [_complaint(c) for c in found[:1000]]}


@router.get(
    "/complaints/{complaint_id}",
    response={200: ComplaintOut, **errors(400, 401, 403, 404)},
    summary="One complaint or request",
    operation_id="complaint_get",
)
def complaint_get(request: HttpRequest, complaint_id: str) -> Any:
    user = _complaints_user(request)
    return _complaint(complaint_get_for(user, complaint_id))


class ComplaintIn(Schema):
    person: str
    facility: str
    kind: str = "complaint"
    category: str
    filer: str = "person"
    text: SafeText = Field(..., min_length=1)
    confidential: bool = False


@router.post(
    "/complaints",
    response={201: ComplaintOut, **errors(400, 401, 403, 404)},
    summary="Register a complaint or request (confidential: oversight only)",
    operation_id="complaint_file",
)
def complaint_post(request: HttpRequest, body: ComplaintIn) -> Any:
    user = _complaints_user(request)
    if not may_file_complaints(user):
        raise Forbidden(_(MSG_COMPLAINTS))
    if body.confidential and not may_view_confidential_complaints(user):
        raise Forbidden(_("a confidential complaint is registered by oversight"))
    facility = Facility.objects.visible_to(user).filter(code=body.facility).first()
    if facility is None:
        raise NotFound(_("facility not found"))
    person = person_get_for(user=user, person_id=body.person)
    complaint = complaint_file(
        actor=Actor.from_user(user),
        person=person,
        facility=facility,
        kind=body.kind,
        category=body.category,
        filer=body.filer,
        text=body.text,
        confidential=body.confidential,
    )
    return Status(201, _complaint(complaint))
