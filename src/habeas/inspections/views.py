"""The inspection pages (OPCAT arts. 4, 14, 20; Mandela Rules 83-85): one workspace read by
role — the inspectors work their body's inspections (log an arrival, interviews, findings,
follow-up, the report), the facility records the gate and its responses to recommendations,
oversight reads — and the public page of published reports. Outside the user's scope answers
exactly like missing (404). Who was interviewed is shown to the body and oversight only."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from habeas.accounts.auth import role_required
from habeas.accounts.models import User
from habeas.accounts.permissions import (
    may_admit_inspectors,
    may_conduct_inspections,
    may_respond_to_findings,
    may_view_inspections,
    may_view_interviews,
    works_in,
)
from habeas.core.actor import Actor
from habeas.core.clock import now
from habeas.core.errors import ApplicationError
from habeas.facilities.models import Facility
from habeas.inspections.models import GateReason, GateStatus, Response
from habeas.inspections.reports import report_pdf
from habeas.inspections.selectors import (
    body_for,
    finding_get_for,
    finding_list,
    inspection_get_for,
    inspection_list,
    interview_list,
    published_reports,
)
from habeas.inspections.services import (
    delay_minutes,
    finding_close,
    finding_record,
    finding_respond,
    inspection_arrive,
    inspection_end,
    inspection_gate_record,
    inspection_report_publish,
    interview_record,
)
from habeas.people.models import Person


def _reader(request: HttpRequest) -> Any:
    if not may_view_inspections(request.user):
        raise PermissionDenied(_("Your role may not read inspections."))
    return request.user


def _when(value: str, field: str) -> dt.datetime:
    """A ``datetime-local`` value as UTC; a bad one is a clear error naming the field."""
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise ApplicationError(_("%(field)s: not a date and time") % {"field": field}) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _day(value: str, field: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ApplicationError(_("%(field)s: not a date") % {"field": field}) from None


@role_required
@require_http_methods(["GET", "POST"])
def inspection_home(request: HttpRequest) -> HttpResponse:
    """The workspace's list: the inspections the user may see; an inspector logs their
    body's arrival at a facility here (POST)."""
    user = _reader(request)
    body = body_for(user) if may_conduct_inspections(user) else None
    if request.method == "POST":
        if body is None:
            raise PermissionDenied(_("Only an inspection body's inspectors log a visit."))
        try:
            code = request.POST.get("facility", "")
            facility = Facility.objects.visible_to(user).filter(code=code).first()
            if facility is None:
                raise ApplicationError(_("facility: choose one of your body's facilities"))
            arrived = _when(request.POST.get("arrived_at", ""), _("arrival"))
            inspection = inspection_arrive(
                actor=Actor.from_user(user),
                body=body,
                facility=facility,
                inspectors=request.POST.getlist("inspectors") or [user.username],
                arrived_at=arrived,
                announced=request.POST.get("announced") == "on",
            )
        except ApplicationError as exc:
            messages.error(request, exc.message)
            return redirect("inspections:home")
        messages.success(request, _("Arrival logged at the gate."))
        return redirect("inspections:detail", inspection.pk)
    inspections = list(inspection_list(user))
    return render(
        request,
        "inspections/home.html",
        {
            "inspections": inspections,
            "body": body,
            "facilities": Facility.objects.visible_to(user).order_by("code") if body else [],
            "team": (
                list(body.members.select_related("user").order_by("user__username")) if body else []
            ),
            "now": now().strftime("%Y-%m-%dT%H:%M"),
            "open_findings": finding_list(user).exclude(status="closed").count(),
        },
    )


def _post(request: HttpRequest, user: Any, inspection: Any) -> str:
    """Apply one of the detail page's forms; returns the success message."""
    form = request.POST.get("form", "")
    actor = Actor.from_user(user)
    code = inspection.facility.code
    if form == "gate":
        if not (may_admit_inspectors(user) and works_in(user, [code])):
            raise PermissionDenied(_("The facility's staff record the gate."))
        admitted = request.POST.get("decision") != "refuse"
        at = request.POST.get("at", "")
        inspection_gate_record(
            actor=actor,
            inspection=inspection,
            admitted=admitted,
            at=_when(at, _("admitted at")) if at else None,
            reason=request.POST.get("reason", ""),
        )
        return _("Gate recorded.")
    if form == "respond":
        if not (may_respond_to_findings(user) and works_in(user, [code])):
            raise PermissionDenied(_("The facility admin responds to recommendations."))
        finding = finding_get_for(user, _int(request.POST.get("finding", "")))
        if finding.inspection_id != inspection.pk:
            raise Http404
        finding_respond(
            actor=actor,
            finding=finding,
            response=request.POST.get("response", ""),
            text=request.POST.get("text", ""),
        )
        return _("Response recorded.")
    if not may_conduct_inspections(user):
        raise PermissionDenied(_("Only the inspection body's inspectors do this."))
    if form == "interview":
        kind = request.POST.get("kind", "prisoner")
        person = staff = None
        who = request.POST.get("who", "").strip()
        if kind == "staff":
            staff = User.objects.filter(username=who).first()
            if staff is None:
                # the input is not echoed: nothing typed in the interview form is kept anywhere
                raise ApplicationError(_("staff: no such account"))
        else:
            person = Person.objects.visible_to(user).filter(pk=_int(who)).first()
            if person is None:
                raise ApplicationError(_("person: no such person in your scope"))
        interview_record(
            actor=actor,
            inspection=inspection,
            at=_when(request.POST.get("at", ""), _("interview time")),
            person=person,
            staff=staff,
        )
        return _("Interview recorded (that it happened; never what was said).")
    if form == "finding":
        finding_record(
            actor=actor,
            inspection=inspection,
            kind=request.POST.get("kind", ""),
            text=request.POST.get("text", ""),
            owner=request.POST.get("owner", ""),
            deadline=_day(request.POST.get("deadline", ""), _("deadline")),
            citation=request.POST.get("citation", ""),
        )
        return _("Recorded.")
    if form == "close":
        finding = finding_get_for(user, _int(request.POST.get("finding", "")))
        if finding.inspection_id != inspection.pk:
            raise Http404
        finding_close(actor=actor, finding=finding, note=request.POST.get("note", ""))
        return _("Closed.")
    if form == "end":
        inspection_end(actor=actor, inspection=inspection, at=now())
        return _("Visit ended.")
    if form == "publish":
        inspection_report_publish(actor=actor, inspection=inspection)
        return _("Report published.")
    raise ApplicationError(_("unknown form"))


def _int(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise Http404 from None


@role_required
@require_http_methods(["GET", "POST"])
def inspection_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One inspection: the gate, interviews (body and oversight only), findings and
    recommendations with responses and follow-up, the report."""
    user = _reader(request)
    inspection = inspection_get_for(user, pk)
    if request.method == "POST":
        try:
            messages.success(request, _post(request, user, inspection))
        except ApplicationError as exc:
            messages.error(request, exc.message)
            response = render(request, "inspections/detail.html", _context(user, inspection))
            response.status_code = 400
            return response
        return redirect("inspections:detail", inspection.pk)
    return render(request, "inspections/detail.html", _context(user, inspection))


def _context(user: Any, inspection: Any) -> dict[str, Any]:
    code = inspection.facility.code
    findings = list(finding_list(user, inspection))
    today = now().date()
    for f in findings:
        f.overdue = f.status != "closed" and f.deadline < today  # type: ignore[attr-defined]
    conduct = may_conduct_inspections(user) and inspection.ended_at is None
    return {
        "inspection": inspection,
        "findings": findings,
        "show_interviews": may_view_interviews(user),
        "interviews": list(interview_list(user, inspection)),
        "may_gate": may_admit_inspectors(user)
        and works_in(user, [code])
        and inspection.gate_status == GateStatus.ARRIVED,
        "may_respond": may_respond_to_findings(user) and works_in(user, [code]),
        "may_conduct": conduct and inspection.gate_status == GateStatus.ADMITTED,
        "may_finding": may_conduct_inspections(user)
        and inspection.gate_status != GateStatus.ARRIVED,
        "may_end": may_conduct_inspections(user)
        and inspection.ended_at is None
        and inspection.gate_status != GateStatus.ARRIVED,
        "may_publish": may_conduct_inspections(user)
        and inspection.ended_at is not None
        and inspection.report_published_at is None,
        "may_close": may_conduct_inspections(user),
        "reasons": GateReason.choices,
        "responses": Response.choices,
        "delay_minutes": delay_minutes(),
        "now": now().strftime("%Y-%m-%dT%H:%M"),
    }


@role_required
@require_GET
def inspection_report(request: HttpRequest, pk: int) -> HttpResponse:
    """The body's version of the report (findings, owners, responses, follow-up; the number
    of interviews, never who)."""
    user = _reader(request)
    inspection = inspection_get_for(user, pk)
    response = HttpResponse(report_pdf(inspection, public=False), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{inspection.reference}.pdf"'
    return response


@require_GET
def public_reports(request: HttpRequest) -> HttpResponse:
    """The public page of inspection reports their bodies published (anyone, signed in or
    not; OPCAT art. 23, Mandela Rule 85(1))."""
    reports = list(published_reports())
    return render(request, "inspections/public.html", {"reports": reports})


@require_GET
def public_report_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """The public version of a published report; any other answers 404."""
    inspection = published_reports().filter(pk=pk).first()
    if inspection is None:
        raise Http404
    response = HttpResponse(report_pdf(inspection, public=True), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{inspection.reference}-public.pdf"'
    return response
