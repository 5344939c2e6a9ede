"""The ``no_contact`` alarm (A8; Mandela Rules 58(1), 62(1); VCCR art. 36(1)): each condition
opens on one side of its boundary and not on the other, closes when contact is recorded, and
shows wherever alerts show, in the person's scope."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.test import Client

from tests.conftest import run_cli
from tests.contact.conftest import add_held, days_ago


def _alarms(person: Any, user: Any = None) -> set[str]:
    from habeas.conditions.alerts import alerts_for

    return {
        a.rule_id for a in alerts_for(user=user, kinds=["no_contact"]) if a.person_id == person.pk
    }


def _log(actor: Any, person: Any, at: dt.datetime, counterpart_kind: str = "family") -> None:
    from habeas.contact.services import contact_log

    contact_log(
        actor=actor, person=person, kind="letter_received", counterpart_kind=counterpart_kind,
        occurred_at=at,
    )  # fmt: skip


# --- A8.1: no visit, call or letter for 30 days ---------------------------------------------


def test_no_contact_opens_thirty_days_after_admission_without_contact(
    slotted: Any, actor: Any
) -> None:
    person = add_held(slotted, actor, days=31, nationality="SV")
    assert _alarms(person) == {"A8.1"}


def test_no_contact_does_not_open_before_thirty_days(slotted: Any, actor: Any) -> None:
    person = add_held(slotted, actor, days=29, nationality="SV")
    assert _alarms(person) == set()


def test_no_contact_counts_from_the_last_contact(slotted: Any, actor: Any) -> None:
    person = add_held(slotted, actor, days=200, nationality="SV")
    _log(actor, person, days_ago(31))
    assert _alarms(person) == {"A8.1"}
    other = add_held(slotted, actor, days=200, nationality="SV")
    _log(actor, other, days_ago(29))
    assert _alarms(other) == set()


def test_no_contact_closes_when_a_visit_takes_place(slotted: Any, actor: Any) -> None:
    from habeas.contact.services import visit_book, visit_record_held, visitor_register

    person = add_held(slotted, actor, days=45, nationality="SV")
    assert _alarms(person) == {"A8.1"}
    lawyer = visitor_register(actor=actor, person=person, kind="lawyer", name="Lic. Ana Torres")
    visit = visit_book(actor=actor, person=person, visitor=lawyer, starts_at=days_ago(0.1))
    assert _alarms(person) == {"A8.1"}  # booked is not contact
    visit_record_held(actor=actor, visit=visit, at=days_ago(0.05))
    assert _alarms(person) == set()


def test_no_contact_limit_is_a_setting(slotted: Any, actor: Any, settings: Any) -> None:
    person = add_held(slotted, actor, days=10, nationality="SV")
    settings.HABEAS_NO_CONTACT_DAYS = 7
    assert _alarms(person) == {"A8.1"}


def test_a_released_person_raises_no_alarm(slotted: Any, actor: Any) -> None:
    from habeas.custody.services import custody_release

    person = add_held(slotted, actor, days=60, nationality="SV")
    custody_release(actor=actor, person=person, reason="court_order", at=days_ago(1))
    assert _alarms(person) == set()


# --- A8.2: the consulate neither notified nor in contact ------------------------------------


def test_consular_alarm_opens_for_a_foreign_national_not_notified(slotted: Any, actor: Any) -> None:
    person = add_held(slotted, actor, days=4, nationality="VE")
    assert _alarms(person) == {"A8.2"}


def test_consular_alarm_does_not_open_within_the_notice_period(slotted: Any, actor: Any) -> None:
    person = add_held(slotted, actor, days=2, nationality="VE")
    assert _alarms(person) == set()


def test_consular_alarm_does_not_open_for_a_national(slotted: Any, actor: Any) -> None:
    person = add_held(slotted, actor, days=4, nationality="SV")
    assert _alarms(person) == set()


def test_consular_alarm_closes_on_consular_contact(slotted: Any, actor: Any) -> None:
    person = add_held(slotted, actor, days=5, nationality="VE")
    _log(actor, person, days_ago(0.5), counterpart_kind="family")
    assert _alarms(person) == {"A8.2"}  # a family letter is not the consulate
    _log(actor, person, days_ago(0.4), counterpart_kind="consular")
    assert _alarms(person) == set()


def test_consular_alarm_closes_when_the_notice_was_delivered(slotted: Any, actor: Any) -> None:
    from habeas.custody.models import CustodyEpisode
    from habeas.notifications.models import Delivery
    from tests.conftest import direct_write

    person = add_held(slotted, actor, days=5, nationality="VE")
    episode = CustodyEpisode.objects.get(person=person)
    at = days_ago(4)
    direct_write(
        lambda: Delivery.objects.create(
            key="t-1", event="admission", audience="consular", channel="email", person=person,
            episode=episode, address="consul@example.org", language="es", subject="s", body="b",
            status="sent", next_attempt_at=at, sent_at=at, queued_at=at,
        )
    )  # fmt: skip
    assert _alarms(person) == set()


# --- A8.3: a consul asked to visit and was not received --------------------------------------


def _consular_request(actor: Any, person: Any, asked: float) -> Any:
    from habeas.contact.services import visit_book, visitor_register

    consul = visitor_register(
        actor=actor, person=person, kind="consular", name="Cónsul", country="VE"
    )
    return visit_book(
        actor=actor, person=person, visitor=consul, starts_at=days_ago(-1), requested=True,
        requested_at=days_ago(asked),
    )  # fmt: skip


def test_consular_access_alarm_opens_when_a_request_waits_past_the_period(
    slotted: Any, actor: Any
) -> None:
    person = add_held(slotted, actor, days=20, nationality="VE")
    _log(actor, person, days_ago(1), counterpart_kind="consular")  # notified, in contact
    _consular_request(actor, person, asked=0.5)
    assert _alarms(person) == set()
    other = add_held(slotted, actor, days=20, nationality="VE")
    _log(actor, other, days_ago(15), counterpart_kind="consular")
    _log(actor, other, days_ago(1))
    _consular_request(actor, other, asked=8)
    assert _alarms(other) == {"A8.3"}


def test_consular_access_alarm_opens_on_refusal_and_closes_when_received(
    slotted: Any, actor: Any
) -> None:
    from habeas.contact.services import visit_record_held, visit_refuse

    person = add_held(slotted, actor, days=20, nationality="VE")
    _log(actor, person, days_ago(15), counterpart_kind="consular")
    _log(actor, person, days_ago(1))
    visit = _consular_request(actor, person, asked=1)
    visit_refuse(actor=actor, visit=visit, reason="lockdown")
    assert _alarms(person) == {"A8.3"}
    second = _consular_request(actor, person, asked=0.5)
    visit_record_held(actor=actor, visit=second, at=days_ago(0.1))
    assert _alarms(person) == set()


# --- where it shows, and to whom ---------------------------------------------------------------


def test_no_contact_shows_in_the_alerts_command_and_the_person_file(
    slotted: Any, actor: Any
) -> None:
    from habeas.core import alarms

    person = add_held(slotted, actor, days=45, nationality="SV")
    code, out, _err = run_cli("alerts", "--json")
    assert code == 0
    found = [
        a
        for a in json.loads(out)["alerts"]
        if a["subject"] == f"person:{person.pk}" and a["kind"] == "no_contact"
    ]
    assert [(a["kind"], a["rule"]) for a in found] == [("no_contact", "A8")]
    assert "no visit, call or letter since admission 45 days ago" in found[0]["message"]
    assert [a["rule"] for a in alarms.for_person(person) if a["kind"] == "no_contact"] == ["A8.1"]


def test_no_contact_follows_the_person_scope(
    slotted: Any, actor: Any, users: dict[str, Any]
) -> None:
    person = add_held(slotted, actor, days=45, nationality="SV")
    assert _alarms(person, users["liaison_us"]) == {"A8.1"}
    assert _alarms(person, users["oversight"]) == {"A8.1"}
    assert _alarms(person, users["staff"]) == {"A8.1"}
    assert _alarms(person, users["liaison_gt"]) == set()
    assert _alarms(person, users["staff_oth"]) == set()


def test_no_contact_shows_on_the_dashboard_oversight_and_person_pages(
    slotted: Any, actor: Any, users: dict[str, Any]
) -> None:
    person = add_held(slotted, actor, days=45, nationality="SV")
    from habeas.web.attention import needs_attention

    urgent = next(a for a in needs_attention(users["staff"])["alerts"] if a["severity"] == "high")
    assert ("no_contact", 1) in urgent["kinds"]
    client = Client()
    client.force_login(users["staff"])
    page = client.get(f"/people/{person.pk}/").content.decode()
    assert "no visit, call or letter since admission" in page
    client.force_login(users["oversight"])
    assert "No outside contact" in client.get("/oversight/").content.decode()
    assert "No outside contact" in client.get("/alerts/").content.decode()
