"""Rule A9, kind ``inspection`` (OPCAT arts. 4, 14, 20; Mandela Rules 83-85): each alarm
opens on one side of its boundary and not on the other, and is seen by oversight and the
body, never by facility staff."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from habeas.conditions.alerts import alerts_for
from habeas.core.clock import now
from habeas.inspections import services as s
from tests.inspections.conftest import ARRIVED

pytestmark = pytest.mark.django_db


def _open(user: Any = None) -> list[Any]:
    return alerts_for(user=user, kinds=["inspection"])


def test_refusal_opens_the_alert_until_the_body_ends_the_inspection(
    visit: Any, gate: Any, team: Any
) -> None:
    s.inspection_gate_record(actor=gate, inspection=visit, admitted=False, reason="public_safety")
    (alert,) = _open()
    assert (alert.subject, alert.value, alert.rule.id) == (
        f"inspection:{visit.pk}",
        "refused",
        "A9",
    )
    assert "Public safety" in alert.message
    s.inspection_end(actor=team, inspection=visit, at=ARRIVED + dt.timedelta(hours=1))
    assert _open() == []


def test_admission_at_the_limit_opens_no_alert(visit: Any, gate: Any) -> None:
    s.inspection_gate_record(
        actor=gate, inspection=visit, admitted=True, at=ARRIVED + dt.timedelta(minutes=30)
    )
    assert _open() == []


def test_admission_past_the_limit_opens_the_alert(visit: Any, gate: Any) -> None:
    s.inspection_gate_record(
        actor=gate, inspection=visit, admitted=True, at=ARRIVED + dt.timedelta(minutes=31),
        reason="serious_disorder",
    )  # fmt: skip
    (alert,) = _open()
    assert alert.value == "delayed:31"


def test_inspectors_left_waiting_at_the_gate_open_the_alert(
    body: Any, scene: dict[str, Any], team: Any
) -> None:
    recent = now() - dt.timedelta(minutes=20)
    s.inspection_arrive(
        actor=team, body=body, facility=scene["tec"], inspectors=["inspector"], arrived_at=recent
    )
    assert _open() == []  # 20 minutes: not yet a delay
    s.inspection_arrive(
        actor=team, body=body, facility=scene["tec"], inspectors=["inspector"],
        arrived_at=now() - dt.timedelta(minutes=45),
    )  # fmt: skip
    (alert,) = _open()
    assert alert.value.startswith("waiting:")


def _finding(visit: Any, gate: Any, team: Any, deadline: dt.date) -> Any:
    s.inspection_gate_record(actor=gate, inspection=visit, admitted=True, at=ARRIVED)
    return s.finding_record(
        actor=team, inspection=visit, kind="recommendation", text="Ventilate M1",
        owner="Director", deadline=deadline,
    )  # fmt: skip


def test_finding_within_its_deadline_opens_no_alert(visit: Any, gate: Any, team: Any) -> None:
    _finding(visit, gate, team, now().date())
    assert _open() == []


def test_overdue_finding_opens_the_alert_and_closing_clears_it(
    visit: Any, gate: Any, team: Any, users: dict[str, Any]
) -> None:
    from habeas.core.actor import Actor

    deadline = now().date() - dt.timedelta(days=1)
    f = _finding(visit, gate, team, deadline)
    (alert,) = _open()
    assert (alert.subject, alert.since) == (f"finding:{f.pk}", now().date())
    # a response is not closure: the alert stays until the body verifies and closes it
    s.finding_respond(
        actor=Actor.from_user(users["admin"]), finding=f, response="accepted", text="Soon"
    )
    assert len(_open()) == 1
    s.finding_close(actor=team, finding=f, note="Verified")
    assert _open() == []


def test_alert_is_for_oversight_and_the_body_not_the_facility(
    visit: Any, gate: Any, users: dict[str, Any]
) -> None:
    s.inspection_gate_record(actor=gate, inspection=visit, admitted=False, reason="public_safety")
    assert len(_open(users["oversight"])) == 1
    assert len(_open(users["inspector"])) == 1
    assert _open(users["staff"]) == []
    assert _open(users["admin"]) == []
    assert _open(users["liaison_gt"]) == []
