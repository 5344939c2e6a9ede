"""Inspections in the demo (issue 16, demo: "an unannounced inspection with findings, one
overdue"): a national preventive mechanism with a mandate over TEC and its inspector; an
unannounced visit admitted at the gate within minutes; private interviews with two people
held and one officer (recorded as having happened, never their content); findings and
recommendations with the director's responses; one recommendation past its deadline and not
closed (so the ``inspection`` alert is open); the visit ended and its public report
published."""

from __future__ import annotations

import datetime as dt
from typing import Any

from habeas.accounts.models import User
from habeas.core.actor import Actor
from habeas.core.clock import now
from habeas.custody.models import CustodyEpisode
from habeas.facilities.models import Facility
from habeas.inspections.services import (
    finding_close,
    finding_record,
    finding_respond,
    inspection_arrive,
    inspection_body_register,
    inspection_end,
    inspection_gate_record,
    inspection_report_publish,
    inspector_appoint,
    interview_record,
)

BODY = "Mecanismo Nacional de Prevención de la Tortura"


def load_demo_inspections(*, actor: Actor) -> dict[str, Any]:
    """Load the inspection scene (the demo's ``inspector``, ``staff`` and ``director``
    accounts exist); returns the inspection's reference."""
    facility = Facility.objects.get(code="TEC")
    body = inspection_body_register(
        actor=actor,
        name=BODY,
        kind="npm",
        mandate=(
            "Regular and unannounced visits to every place of deprivation of liberty "
            "(OPCAT arts. 4, 17-23)."
        ),
        facility_codes=["TEC"],
    )
    inspector = User.objects.get(username="inspector")
    inspector_appoint(actor=actor, body=body, user=inspector)
    team = Actor.from_user(inspector)
    staff = User.objects.get(username="staff")
    arrived = (now() - dt.timedelta(days=60)).replace(hour=6, minute=40, second=0, microsecond=0)
    inspection = inspection_arrive(
        actor=team, body=body, facility=facility, inspectors=["inspector"], arrived_at=arrived
    )
    inspection_gate_record(
        actor=Actor.from_user(staff),
        inspection=inspection,
        admitted=True,
        at=arrived + dt.timedelta(minutes=12),
    )
    held = list(
        CustodyEpisode.objects.open()
        .filter(facility=facility, admitted_at__lt=arrived)
        .select_related("person")
        .order_by("pk")[:2]
    )
    for i, episode in enumerate(held):
        interview_record(
            actor=team,
            inspection=inspection,
            person=episode.person,
            at=arrived + dt.timedelta(hours=1 + i),
        )
    interview_record(
        actor=team, inspection=inspection, staff=staff, at=arrived + dt.timedelta(hours=4)
    )
    day = arrived.date()
    items = [
        ("finding", "Cells of module M1 reach 34 °C in the afternoon; no fans.",
         "Mandela Rule 13", "Director", day + dt.timedelta(days=90)),
        ("recommendation", "Install ventilation in module M1 and record temperatures daily.",
         "Mandela Rule 13", "Director", day + dt.timedelta(days=45)),
        ("recommendation", "Give every person held a copy of the prison rules in a language "
         "they understand on admission.", "Mandela Rule 55(1)", "Head of intake",
         day + dt.timedelta(days=20)),
        ("recommendation", "Extend outdoor exercise to one hour every day for everyone.",
         "Mandela Rule 23(1)", "Director", day + dt.timedelta(days=120)),
    ]  # fmt: skip
    findings = [
        finding_record(
            actor=team,
            inspection=inspection,
            kind=kind,
            text=text,
            citation=rule,
            owner=owner,
            deadline=deadline,
        )
        for kind, text, rule, owner, deadline in items
    ]
    director = Actor.from_user(User.objects.get(username="director"))
    finding_respond(
        actor=director, finding=findings[1], response="accepted",
        text="Fans ordered; daily readings start next week.",
    )  # fmt: skip
    finding_respond(
        actor=director, finding=findings[2], response="accepted",
        text="Translated rules printed in Spanish, English and K'iche'.",
    )  # fmt: skip
    finding_respond(
        actor=director, finding=findings[3], response="partially",
        text="One hour on weekdays; staffing does not allow weekends yet.",
    )  # fmt: skip
    finding_close(
        actor=team, finding=findings[2], note="Verified on a follow-up call: copies handed out."
    )
    inspection_end(actor=team, inspection=inspection, at=arrived + dt.timedelta(hours=9))
    inspection_report_publish(actor=team, inspection=inspection)
    return {"inspection": inspection.reference}
