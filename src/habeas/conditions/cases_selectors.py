"""Reads of incidents, sanctions and complaints, scoped to the user (HOUSE-STYLE: every
selector starts from ``visible_to``). Outside scope answers exactly like missing: a
confidential complaint looked up by a member of staff is "not found", never "forbidden".

Also the complaints' protected acts (:mod:`habeas.conditions.retaliation`) and the
``retaliation`` alert source (rule A7), registered by :func:`register` from the app's
``ready``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db.models import Q
from django.utils.translation import gettext as _

from habeas.accounts.permissions import is_oversight
from habeas.conditions.alerts import Alert, register_source
from habeas.conditions.cases_models import (
    Complaint,
    ComplaintQuerySet,
    ComplaintStatus,
    Incident,
    IncidentQuerySet,
    Sanction,
    SanctionQuerySet,
)
from habeas.conditions.retaliation import (
    ProtectedAct,
    possible_retaliation,
    register_protected_acts,
)
from habeas.core.clock import now
from habeas.core.errors import NotFound
from habeas.facilities.models import Facility
from habeas.people.models import Person

MSG_NOT_FOUND = "not found"


# --- incidents and sanctions ---------------------------------------------------------------


def incident_list(
    user: Any, *, facility: str = "", kind: str = "", status: str = "", person_id: int = 0
) -> IncidentQuerySet:
    found = Incident.objects.visible_to(user).select_related("facility")
    if facility:
        found = found.filter(facility__code=facility)
    if kind:
        found = found.filter(kind=kind)
    if status:
        found = found.filter(status=status)
    if person_id:
        found = found.filter(people__person_id=person_id).distinct()
    return found


def incident_get_for(user: Any, incident_id: int | str) -> Incident:
    try:
        pk = int(incident_id)
    except (TypeError, ValueError):
        raise NotFound(MSG_NOT_FOUND) from None
    found = incident_list(user).filter(pk=pk).first()
    if found is None:
        raise NotFound(MSG_NOT_FOUND)
    return found


def sanction_list(user: Any, *, person_id: int = 0) -> SanctionQuerySet:
    found = Sanction.objects.visible_to(user).select_related("facility", "person")
    if person_id:
        found = found.filter(person_id=person_id)
    return found


# --- complaints ------------------------------------------------------------------------------


def complaint_list(
    user: Any,
    *,
    q: str = "",
    status: str = "",
    facility: str = "",
    person_id: int = 0,
    overdue_only: bool = False,
) -> ComplaintQuerySet:
    """The complaints ``user`` may see (``Complaint.objects.visible_to``), searched by the
    person's name or registry number, or by the text."""
    found = Complaint.objects.visible_to(user).select_related("facility", "person")
    if status:
        found = found.filter(status=status)
    if facility:
        found = found.filter(facility__code=facility)
    if person_id:
        found = found.filter(person_id=person_id)
    if q.strip():
        term = q.strip()
        where = (
            Q(text__icontains=term)
            | Q(person__given_names__icontains=term)
            | Q(person__first_surname__icontains=term)
        )
        if term.isdigit():
            where |= Q(person_id=int(term)) | Q(pk=int(term))
        found = found.filter(where)
    if overdue_only:
        at = now()
        found = found.exclude(status__in=[ComplaintStatus.ANSWERED, ComplaintStatus.CLOSED]).filter(
            Q(answer_by__lt=at) | Q(acknowledged_at__isnull=True, acknowledge_by__lt=at)
        )
    return found


def complaint_get_for(user: Any, complaint_id: int | str) -> Complaint:
    try:
        pk = int(complaint_id)
    except (TypeError, ValueError):
        raise NotFound(MSG_NOT_FOUND) from None
    found = complaint_list(user).filter(pk=pk).first()
    if found is None:
        raise NotFound(MSG_NOT_FOUND)
    return found


def complaint_counts(user: Any) -> dict[str, int]:
    """Counts by status, and overdue, of what ``user`` may see."""
    visible = complaint_list(user)
    counts = dict.fromkeys(ComplaintStatus.values, 0)
    for status in visible.values_list("status", flat=True):
        counts[status] += 1
    counts["overdue"] = complaint_list(user, overdue_only=True).count()
    counts["total"] = sum(counts[s] for s in ComplaintStatus.values)
    return counts


# --- protected acts and the retaliation alert -------------------------------------------------


def complaint_acts(since: dt.datetime) -> Iterable[ProtectedAct]:
    """Every request or complaint received at or after ``since`` is a protected act (Mandela
    Rule 57(2): prisoners make requests or complaints safely)."""
    for pk, person_id, received_at, code in (
        Complaint.objects.filter(received_at__gte=since)
        .order_by("received_at", "pk")
        .values_list("pk", "person_id", "received_at", "facility__code")
    ):
        yield ProtectedAct(
            person_id=person_id,
            at=received_at,
            kind="complaint",
            reference=f"complaint:{pk}",
            facility=code,
        )


MEASURE_LABELS = {"move": "moved", "transfer": "transferred", "sanction": "sanctioned"}


def retaliation_alerts(facilities: list[Facility], user: Any, with_since: bool) -> list[Alert]:
    """Rule A7, for oversight only (the alert would reveal a confidential complaint or an
    interview to anyone else): one alert per protected act followed by an adverse measure."""
    if user is not None and not is_oversight(user):
        return []
    found = []
    pairs = possible_retaliation(now(), [f.code for f in facilities])
    names = {
        p.pk: p.full_name for p in Person.objects.filter(pk__in={a.person_id for a, _m in pairs})
    }
    for act, measure in pairs:
        days = (measure.at - act.at) / dt.timedelta(days=1)
        what = {
            "move": _("moved to another cell"),
            "transfer": _("transferred"),
            "sanction": _("sanctioned"),
        }[measure.kind]
        found.append(
            Alert(
                kind="retaliation",
                facility=act.facility,
                subject=act.reference,
                label=act.reference,
                value=measure.kind,
                since=measure.at,
                message=_(
                    "%(name)s (registry number %(person)s) was %(what)s %(days)s days after a "
                    "protected act (%(reference)s): possible retaliation"
                )
                % {
                    "name": names.get(act.person_id, ""),
                    "person": act.person_id,
                    "what": what,
                    "days": f"{days:.1f}",
                    "reference": act.reference,
                },
                person_id=act.person_id,
            )
        )
    return found


def register() -> None:
    """From ``ConditionsConfig.ready``: complaints as protected acts, and rule A7."""
    register_protected_acts(complaint_acts)
    register_source("retaliation", retaliation_alerts)
