"""Inspections: the gate (OPCAT art. 14(2)), interviews recorded without content, findings
followed to closure (Mandela Rule 85(2)), and the retaliation provider (OPCAT art. 21(1))."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from habeas.core.errors import Conflict, ValidationFailed
from habeas.inspections import services as s
from habeas.inspections.models import Interview
from habeas.ledger.models import LedgerEntry
from tests.inspections.conftest import ARRIVED

pytestmark = pytest.mark.django_db


def test_interview_model_has_no_content_field() -> None:
    """OPCAT art. 14(1)(d): private interviews; there is nowhere to write what was said."""
    names = {f.name for f in Interview._meta.get_fields()}
    assert names <= {"id", "inspection", "kind", "person", "staff", "at", "recorded_by"}


def test_arrival_outside_the_mandate_is_refused(
    body: Any, scene: dict[str, Any], team: Any
) -> None:
    with pytest.raises(ValidationFailed, match="not in the mandate"):
        s.inspection_arrive(
            actor=team, body=body, facility=scene["oth"], inspectors=["inspector"],
            arrived_at=ARRIVED,
        )  # fmt: skip


def test_arrival_by_someone_not_of_the_body_is_refused(
    body: Any, scene: dict[str, Any], team: Any
) -> None:
    with pytest.raises(ValidationFailed, match="not an inspector of"):
        s.inspection_arrive(
            actor=team, body=body, facility=scene["tec"], inspectors=["staff"], arrived_at=ARRIVED
        )


def test_gate_admission_within_the_limit_needs_no_reason(visit: Any, gate: Any) -> None:
    done = s.inspection_gate_record(
        actor=gate, inspection=visit, admitted=True, at=ARRIVED + dt.timedelta(minutes=30)
    )
    assert done.gate_status == "admitted"
    assert done.gate_reason == ""


def test_gate_delay_past_the_limit_without_reason_is_refused(visit: Any, gate: Any) -> None:
    with pytest.raises(ValidationFailed, match=r"OPCAT art\. 14"):
        s.inspection_gate_record(
            actor=gate, inspection=visit, admitted=True, at=ARRIVED + dt.timedelta(minutes=31)
        )
    visit.refresh_from_db()
    assert visit.gate_status == "arrived"


def test_gate_refusal_without_reason_is_refused(visit: Any, gate: Any) -> None:
    with pytest.raises(ValidationFailed, match="needs a reason"):
        s.inspection_gate_record(actor=gate, inspection=visit, admitted=False)


def test_gate_reason_outside_the_fixed_list_is_refused(visit: Any, gate: Any) -> None:
    with pytest.raises(ValidationFailed, match="unknown reason"):
        s.inspection_gate_record(actor=gate, inspection=visit, admitted=False, reason="busy")


def test_gate_is_recorded_once(visit: Any, gate: Any) -> None:
    s.inspection_gate_record(actor=gate, inspection=visit, admitted=False, reason="public_safety")
    with pytest.raises(Conflict):
        s.inspection_gate_record(actor=gate, inspection=visit, admitted=True)


def test_delay_is_configurable(visit: Any, gate: Any, settings: Any) -> None:
    settings.HABEAS_INSPECTION_DELAY_MINUTES = 10
    with pytest.raises(ValidationFailed, match="10 minutes"):
        s.inspection_gate_record(
            actor=gate, inspection=visit, admitted=True, at=ARRIVED + dt.timedelta(minutes=11)
        )


def test_interview_before_admission_is_refused(
    visit: Any, team: Any, scene: dict[str, Any]
) -> None:
    with pytest.raises(Conflict, match="not been admitted"):
        s.interview_record(actor=team, inspection=visit, person=scene["people"]["us"], at=ARRIVED)


def test_interview_of_someone_not_held_there_is_refused(
    visit: Any, gate: Any, team: Any, scene: dict[str, Any]
) -> None:
    s.inspection_gate_record(actor=gate, inspection=visit, admitted=True, at=ARRIVED)
    with pytest.raises(ValidationFailed, match="not held in TEC"):
        s.interview_record(
            actor=team, inspection=visit, person=scene["people"]["gt_oth"],
            at=ARRIVED + dt.timedelta(hours=1),
        )  # fmt: skip


def test_interviewee_is_committed_on_the_ledger_never_in_clear(
    visit: Any, gate: Any, team: Any, scene: dict[str, Any]
) -> None:
    s.inspection_gate_record(actor=gate, inspection=visit, admitted=True, at=ARRIVED)
    person = scene["people"]["us"]
    s.interview_record(
        actor=team, inspection=visit, person=person, at=ARRIVED + dt.timedelta(hours=1)
    )
    entry = LedgerEntry.objects.filter(action="inspections.interview_recorded").get()
    payload = entry.payload
    assert payload["interviewee"].startswith("hmac-sha256:")
    assert f"person:{person.pk}" not in str(payload)
    assert entry.subject == f"inspection:{visit.pk}"


def test_protected_act_provider_returns_prisoner_interviews(
    visit: Any, gate: Any, team: Any, scene: dict[str, Any], users: dict[str, Any]
) -> None:
    """Rule A7 (OPCAT art. 21(1)): each private interview of a person held is a protected
    act; a staff interview is not an act of a person in custody."""
    from habeas.conditions.retaliation import protected_acts_since
    from habeas.inspections.selectors import interview_acts_since

    s.inspection_gate_record(actor=gate, inspection=visit, admitted=True, at=ARRIVED)
    person = scene["people"]["gt_tec"]
    at = ARRIVED + dt.timedelta(hours=2)
    interview = s.interview_record(actor=team, inspection=visit, person=person, at=at)
    s.interview_record(actor=team, inspection=visit, staff=users["staff"], at=at)
    (act,) = interview_acts_since(ARRIVED)
    assert (act.person_id, act.at, act.kind, act.reference, act.facility) == (
        person.pk, at, "inspection_interview", f"interview:{interview.pk}", "TEC",
    )  # fmt: skip
    assert interview_acts_since(at + dt.timedelta(seconds=1)) == []
    assert act in protected_acts_since(ARRIVED)


def test_finding_followed_to_closure(
    visit: Any, gate: Any, team: Any, users: dict[str, Any]
) -> None:
    from habeas.core.actor import Actor

    s.inspection_gate_record(actor=gate, inspection=visit, admitted=True, at=ARRIVED)
    f = s.finding_record(
        actor=team, inspection=visit, kind="recommendation", text="Ventilate M1",
        owner="Director", deadline=dt.date(2025, 5, 1), citation="Mandela Rule 13",
    )  # fmt: skip
    director = Actor.from_user(users["admin"])
    with pytest.raises(ValidationFailed):
        s.finding_respond(actor=director, finding=f, response="maybe", text="x")
    s.finding_respond(actor=director, finding=f, response="partially", text="Fans in May")
    with pytest.raises(Conflict):
        s.finding_respond(actor=director, finding=f, response="accepted", text="again")
    s.finding_close(actor=team, finding=f, note="Fans seen working")
    f.refresh_from_db()
    assert (f.status, f.response, f.number) == ("closed", "partially", 1)
    entry = LedgerEntry.objects.filter(action="inspections.finding_recorded").get()
    assert entry.payload["text"].startswith("hmac-sha256:")
    assert entry.payload["deadline"] == "2025-05-01"


def test_report_is_published_once_after_the_visit(visit: Any, gate: Any, team: Any) -> None:
    s.inspection_gate_record(actor=gate, inspection=visit, admitted=True, at=ARRIVED)
    with pytest.raises(Conflict, match="ended"):
        s.inspection_report_publish(actor=team, inspection=visit)
    s.inspection_end(actor=team, inspection=visit, at=ARRIVED + dt.timedelta(hours=8))
    s.inspection_report_publish(actor=team, inspection=visit)
    with pytest.raises(Conflict, match="already published"):
        s.inspection_report_publish(actor=team, inspection=visit)


def test_public_report_names_nobody(
    visit: Any, gate: Any, team: Any, scene: dict[str, Any], users: dict[str, Any]
) -> None:
    """OPCAT art. 21(1) and Mandela Rule 85: the public version keeps the findings,
    recommendations and responses, and leaves out interviewees, owners, officers and notes;
    the body's version has owners but still never who was interviewed."""
    from habeas.core.actor import Actor
    from habeas.inspections.reports import report_lines, report_pdf

    s.inspection_gate_record(actor=gate, inspection=visit, admitted=True, at=ARRIVED)
    person = scene["people"]["gt_tec"]
    s.interview_record(actor=team, inspection=visit, person=person, at=ARRIVED)
    f = s.finding_record(
        actor=team, inspection=visit, kind="recommendation", text="Ventilate M1",
        owner="Officer Ramírez", deadline=dt.date(2025, 5, 1),
    )  # fmt: skip
    s.finding_respond(
        actor=Actor.from_user(users["admin"]), finding=f, response="accepted", text="Fans in May"
    )
    s.finding_close(actor=team, finding=f, note="Seen by Officer Ramírez")
    s.inspection_end(actor=team, inspection=visit, at=ARRIVED + dt.timedelta(hours=3))
    public = " ".join(" ".join(line) for line in report_lines(visit, public=True))
    full = " ".join(" ".join(line) for line in report_lines(visit, public=False))
    for text in (public, full):
        assert "Ventilate M1" in text
        assert "Fans in May" in text
        assert person.given_names not in text
        assert str(person.pk) not in text.split()
        assert "Private interviews held 1" in text
    assert "Ramírez" not in public
    assert "inspector" not in public
    assert "Officer Ramírez" in full
    assert "inspector" in full
    assert report_pdf(visit, public=True).startswith(b"%PDF")
