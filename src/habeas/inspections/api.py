"""Inspections under /api/v1 (OPCAT arts. 4, 14, 20; Mandela Rules 83-85): the inspections
and findings the user may see, recording a finding or recommendation (the body's
inspectors), and the facility's response to one (its admin, Mandela Rule 85(2)). Reads are
scoped like the pages (outside the scope answers 404); interviews are listed for the body and
oversight only, as who and when — there is no content to list."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status

from habeas.accounts.auth import api_user
from habeas.accounts.permissions import (
    may_conduct_inspections,
    may_respond_to_findings,
    may_view_inspections,
    may_view_interviews,
    works_in,
)
from habeas.core.actor import Actor
from habeas.core.api import InstantStr, errors
from habeas.core.errors import NotFound
from habeas.inspections.models import Finding, Inspection
from habeas.inspections.selectors import (
    finding_get_for,
    finding_list,
    inspection_get_for,
    inspection_list,
    interview_list,
)
from habeas.inspections.services import finding_record, finding_respond

router = Router(tags=["inspections"])

MSG_MAY_NOT_READ = "your role may not read inspections"
MSG_MAY_NOT_RECORD = "only the inspection body's inspectors record findings"
MSG_MAY_NOT_RESPOND = "only the facility admin responds to findings"


class FindingOut(Schema):
    id: str
    inspection: str
    number: int
    kind: str
    text: str
    citation: str
    owner: str
    deadline: dt.date
    status: str
    response: str
    response_text: str
    responded_at: InstantStr | None
    closed_at: InstantStr | None


class InterviewOut(Schema):
    """That an interview happened: with whom and when (never what was said)."""

    kind: str
    person: str | None
    staff: str | None
    at: InstantStr


class InspectionOut(Schema):
    id: str
    reference: str
    body: str
    facility: str
    announced: bool
    arrived_at: InstantStr
    gate_status: str
    admitted_at: InstantStr | None
    gate_reason: str
    ended_at: InstantStr | None
    report_published_at: InstantStr | None


class InspectionDetailOut(InspectionOut):
    findings: list[FindingOut]
    #: ``None`` for a reader who may not know who was interviewed (the facility).
    interviews: list[InterviewOut] | None


class FindingIn(Schema):
    kind: str
    text: str
    owner: str
    deadline: dt.date
    citation: str = ""


class ResponseIn(Schema):
    response: str
    text: str


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


def _inspection(i: Inspection) -> dict[str, Any]:
    return {
        "id": str(i.pk),
        "reference": i.reference,
        "body": i.body.name,
        "facility": i.facility.code,
        "announced": i.announced,
        "arrived_at": i.arrived_at.isoformat(),
        "gate_status": i.gate_status,
        "admitted_at": _iso(i.admitted_at),
        "gate_reason": i.gate_reason,
        "ended_at": _iso(i.ended_at),
        "report_published_at": _iso(i.report_published_at),
    }


def _finding(f: Finding) -> dict[str, Any]:
    return {
        "id": str(f.pk),
        "inspection": f.inspection.reference,
        "number": f.number,
        "kind": f.kind,
        "text": f.text,
        "citation": f.citation,
        "owner": f.owner,
        "deadline": f.deadline,
        "status": f.status,
        "response": f.response,
        "response_text": f.response_text,
        "responded_at": _iso(f.responded_at),
        "closed_at": _iso(f.closed_at),
    }


def _reader(request: HttpRequest) -> Any:
    user = api_user(request)
    if not may_view_inspections(user):
        raise PermissionDenied(_(MSG_MAY_NOT_READ))
    return user


def _get(user: Any, inspection_id: int) -> Inspection:
    try:
        return inspection_get_for(user, inspection_id)
    except Http404:
        raise NotFound(_("not found")) from None


@router.get(
    "/inspections/",
    response={200: list[InspectionOut], **errors()},
    summary="Inspections of the facilities in scope",
    operation_id="inspections_list",
)
def inspections_list(request: HttpRequest) -> list[dict[str, Any]]:
    return [_inspection(i) for i in inspection_list(_reader(request))]


@router.get(
    "/inspections/{inspection_id}/",
    response={200: InspectionDetailOut, **errors()},
    summary="An inspection with its findings (and interviews, for the body and oversight)",
    operation_id="inspections_get",
)
def inspections_get(request: HttpRequest, inspection_id: int) -> dict[str, Any]:
    user = _reader(request)
    inspection = _get(user, inspection_id)
    interviews = None
    if may_view_interviews(user):
        interviews = [
            {
                "kind": v.kind,
                "person": str(v.person_id) if v.person_id else None,
                "staff": v.staff.username if v.staff else None,
                "at": v.at.isoformat(),
            }
            for v in interview_list(user, inspection)
        ]
    return {
        **_inspection(inspection),
        "findings": [_finding(f) for f in finding_list(user, inspection)],
        "interviews": interviews,
    }


@router.post(
    "/inspections/{inspection_id}/findings",
    response={201: FindingOut, **errors(400, 401, 403, 404, 409)},
    summary="Record a finding or recommendation (the body's inspectors)",
    operation_id="inspections_finding_record",
)
def inspections_finding_record(
    request: HttpRequest, inspection_id: int, body: FindingIn
) -> Status[Any]:
    user = _reader(request)
    inspection = _get(user, inspection_id)
    if not may_conduct_inspections(user):
        raise PermissionDenied(_(MSG_MAY_NOT_RECORD))
    finding = finding_record(
        actor=Actor.from_user(user),
        inspection=inspection,
        kind=body.kind,
        text=body.text,
        owner=body.owner,
        deadline=body.deadline,
        citation=body.citation,
    )
    return Status(201, _finding(finding))


@router.get(
    "/findings/",
    response={200: list[FindingOut], **errors()},
    summary="Findings and recommendations in scope",
    operation_id="findings_list",
)
def findings_list(request: HttpRequest, status: str | None = None) -> list[dict[str, Any]]:
    found = finding_list(_reader(request))
    if status:
        found = found.filter(status=status)
    return [_finding(f) for f in found]


@router.post(
    "/findings/{finding_id}/response",
    response={200: FindingOut, **errors(400, 401, 403, 404, 409)},
    summary="The facility's response to a recommendation (Mandela Rule 85(2))",
    operation_id="findings_respond",
)
def findings_respond(request: HttpRequest, finding_id: int, body: ResponseIn) -> dict[str, Any]:
    user = _reader(request)
    try:
        finding = finding_get_for(user, finding_id)
    except Http404:
        raise NotFound(_("not found")) from None
    if not (may_respond_to_findings(user) and works_in(user, [finding.inspection.facility.code])):
        raise PermissionDenied(_(MSG_MAY_NOT_RESPOND))
    done = finding_respond(
        actor=Actor.from_user(user), finding=finding, response=body.response, text=body.text
    )
    return _finding(done)
