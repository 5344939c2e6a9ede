"""The demo's incidents and complaints (issue: "a serious-injury incident reported to the
authority; a confidential complaint followed by a move, so that the retaliation alert
shows"), loaded on a small facility."""

from __future__ import annotations

import datetime as dt
from typing import Any

from tests.conftest import admit, make_person


def test_demo_cases_report_the_injury_and_alert_oversight_only(
    world: dict[str, Any], users: dict[str, Any], actor: Any
) -> None:
    from habeas.conditions.alerts import alerts_for
    from habeas.conditions.cases_models import Complaint, Incident
    from habeas.conditions.demo_cases import load_demo_cases

    at = dt.datetime(2025, 3, 16, 14, 5, tzinfo=dt.UTC)
    for i in range(6):
        person = make_person(actor, given_names=f"Demo {i}")
        admit(actor, person, world["tec"], None, at=at + dt.timedelta(minutes=i))
    done = load_demo_cases(actor)
    assert done["moved"] is True
    injury = Incident.objects.get(kind="serious_injury")
    assert injury.authority_reference == "PDDH-SS-2025-0412"
    assert injury.kin_notified_at is not None
    assert injury.status == "closed"
    secret = Complaint.objects.get(confidential=True)
    (alert,) = alerts_for(user=users["oversight"], kinds=["retaliation"])
    assert alert.subject == f"complaint:{secret.pk}"
    assert alerts_for(user=users["staff"], kinds=["retaliation"]) == []
    assert Complaint.objects.visible_to(users["staff"]).filter(pk=secret.pk).count() == 0
