"""Rule A9, kind ``inspection`` (:mod:`habeas.conditions.alerts`; OPCAT arts. 4, 14 and 20;
Mandela Rules 83-85), evaluated here and registered with ``register_source``:

* **obstructed**: inspectors refused at the gate, admitted more than
  ``HABEAS_INSPECTION_DELAY_MINUTES`` (default 30) after they arrived, or still waiting past
  that time (OPCAT art. 14(1)(c), (e): access to all places, unannounced). Open until the
  body ends the inspection: the obstruction is taken up, not forgotten;
* **overdue**: a finding or recommendation past its deadline and not closed (Mandela Rule
  85(2): follow-up of each recommendation). Closing it clears the alert.

Seen by oversight and the inspection body (its inspectors, for their body's inspections);
the server's own CLI sees all. Facility staff do not: the alert is the body's lever.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils.translation import gettext as _

from habeas.accounts.permissions import is_inspector, sees_everything
from habeas.conditions.alerts import Alert
from habeas.core.clock import now
from habeas.facilities.models import Facility
from habeas.inspections.models import Finding, FindingStatus, GateStatus, Inspection
from habeas.inspections.services import delay_minutes


def _visible(facilities: list[Facility], user: Any) -> Any:
    inspections = Inspection.objects.filter(facility__in=facilities)
    if user is None or sees_everything(user):
        return inspections
    if is_inspector(user):
        return inspections.filter(pk__in=Inspection.objects.visible_to(user))
    return inspections.none()


def _gate_alert(i: Inspection, at: dt.datetime, limit: int) -> Alert | None:
    code = i.facility.code

    def alert(value: str, message: str) -> Alert:
        return Alert(
            kind="inspection",
            facility=code,
            subject=f"inspection:{i.pk}",
            label=i.reference,
            since=i.arrived_at,
            value=value,
            message=message,
        )

    if i.gate_status == GateStatus.REFUSED:
        return alert(
            "refused",
            _("Inspectors of %(body)s were refused entry to %(facility)s (reason: %(reason)s)")
            % {"body": i.body.name, "facility": code, "reason": i.get_gate_reason_display()},
        )
    if i.gate_status == GateStatus.ADMITTED and i.admitted_at is not None:
        minutes = int((i.admitted_at - i.arrived_at).total_seconds() // 60)
        if minutes <= limit:
            return None
        return alert(
            f"delayed:{minutes}",
            _(
                "Inspectors of %(body)s were admitted to %(facility)s %(minutes)s minutes after "
                "they arrived (reason: %(reason)s)"
            )
            % {
                "body": i.body.name,
                "facility": code,
                "minutes": minutes,
                "reason": i.get_gate_reason_display(),
            },
        )
    waiting = int((at - i.arrived_at).total_seconds() // 60)
    if i.gate_status == GateStatus.ARRIVED and waiting > limit:
        return alert(
            f"waiting:{waiting}",
            _(
                "Inspectors of %(body)s have been waiting at the gate of %(facility)s for "
                "%(minutes)s minutes"
            )
            % {"body": i.body.name, "facility": code, "minutes": waiting},
        )
    return None


def inspection_alerts(facilities: list[Facility], user: Any, with_since: bool) -> list[Alert]:
    """The open ``inspection`` alerts (rule A9) in ``facilities`` that ``user`` may see."""
    inspections = _visible(facilities, user)
    at = now()
    limit = delay_minutes()
    found: list[Alert] = []
    for i in inspections.filter(ended_at__isnull=True).select_related("facility", "body"):
        gate = _gate_alert(i, at, limit)
        if gate is not None:
            found.append(gate)
    overdue = (
        Finding.objects.filter(inspection__in=inspections, deadline__lt=at.date())
        .exclude(status=FindingStatus.CLOSED)
        .select_related("inspection", "inspection__facility")
    )
    for f in overdue:
        code = f.inspection.facility.code
        found.append(
            Alert(
                kind="inspection",
                facility=code,
                subject=f"finding:{f.pk}",
                label=str(f),
                value=f.deadline.isoformat(),
                since=f.deadline + dt.timedelta(days=1),
                message=_(
                    "%(kind)s %(ref)s of the inspection of %(facility)s is past its deadline "
                    "%(deadline)s and not closed (%(status)s)"
                )
                % {
                    "kind": f.get_kind_display(),
                    "ref": str(f),
                    "facility": code,
                    "deadline": f.deadline.isoformat(),
                    "status": f.get_status_display(),
                },
            )
        )
    return found
