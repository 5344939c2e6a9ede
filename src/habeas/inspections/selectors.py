"""Reads of inspections, scoped to the user (every one starts from ``visible_to``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from habeas.conditions.retaliation import ProtectedAct
from habeas.inspections.models import Finding, Inspection, InspectionBody, Interview


def inspection_list(user: Any) -> QuerySet[Inspection]:
    return (
        Inspection.objects.visible_to(user)
        .select_related("facility", "body")
        .order_by("-arrived_at", "-pk")
    )


def inspection_get_for(user: Any, pk: int) -> Inspection:
    """One inspection in the user's scope; 404 for one outside it, as for a missing one."""
    found = inspection_list(user).filter(pk=pk).first()
    if found is None:
        raise Http404
    return found


def finding_list(user: Any, inspection: Inspection | None = None) -> QuerySet[Finding]:
    found = Finding.objects.visible_to(user).select_related("inspection", "inspection__facility")
    if inspection is not None:
        found = found.filter(inspection=inspection)
    return found.order_by("inspection__arrived_at", "inspection_id", "number")


def finding_get_for(user: Any, pk: int) -> Finding:
    found = finding_list(user).filter(pk=pk).first()
    if found is None:
        raise Http404
    return found


def interview_list(user: Any, inspection: Inspection) -> QuerySet[Interview]:
    """Who was interviewed: empty for anyone but the body and oversight."""
    return (
        Interview.objects.visible_to(user)
        .filter(inspection=inspection)
        .select_related("person", "staff")
    )


def body_for(user: Any) -> InspectionBody | None:
    """The inspection body an inspector belongs to."""
    return InspectionBody.objects.filter(members__user=user).first()


def published_reports() -> QuerySet[Inspection]:
    """The reports their bodies published (the public page: anyone)."""
    return (
        Inspection.objects.filter(report_published_at__isnull=False)
        .select_related("facility", "body")
        .order_by("-report_published_at", "-pk")
    )


def interview_acts_since(since: dt.datetime) -> list[ProtectedAct]:
    """Protected acts for the retaliation alert (OPCAT art. 21(1); Mandela Rule 57(2)): each
    private interview of a prisoner at or after ``since``. Staff interviews are not acts of a
    person in custody and are left out."""
    rows = (
        Interview.objects.filter(at__gte=since, person__isnull=False)
        .values_list("pk", "person_id", "at", "inspection__facility__code")
        .order_by("at", "pk")
    )
    return [
        ProtectedAct(
            person_id=person_id,
            at=at,
            kind="inspection_interview",
            reference=f"interview:{pk}",
            facility=code,
        )
        for pk, person_id, at, code in rows
    ]
