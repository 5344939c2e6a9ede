"""Alert rules A1-A4 (habeas.conditions.alerts) on both sides of each boundary, through the
service layer, the ``alerts`` command, the API and the person's file."""

from __future__ import annotations

import datetime as dt
import json
import tomllib
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.utils import timezone

from tests.conftest import admit, make_person, make_user, removal_order, run_cli, sentence

#: One cell of 10 m² with a 1 m² annex: 9 m² usable. Muršić's 3 m² line falls at 3 people
#: (3.00 m² each: no alert) and 4 (2.25 m²: alert); ICRC certifies 2 (9 / 3.4).
TIGHT_SETUP = """
[[jurisdiction]]
code = "SV"
name = "El Salvador"

[[facility]]
code = "SMA"
name = "Small centre"
jurisdiction = "SV"
timezone = "America/El_Salvador"
space_standard = "icrc"

[[facility.module]]
code = "T"
population = "adult_male"
regime = "criminal"
cells = [{code = "T-01", floor_area_m2 = 10.0, sanitary_area_m2 = 1.0, max_capacity = 4, working_capacity = 4}]
"""


@pytest.fixture
def tight(world: dict[str, Any], actor: Any) -> Any:
    from habeas.facilities.models import Facility
    from habeas.facilities.setup import setup_apply
    from habeas.facilities.setup_schema import parse_setup

    setup_apply(actor=actor, document=parse_setup(tomllib.loads(TIGHT_SETUP), name="tight.toml"))
    return Facility.objects.get(code="SMA")


def _one(actor: Any, facility: Any, person: Any, at: dt.datetime) -> None:
    """Admit ``person`` into cell T-01 on a ten-year sentence (a live legal basis)."""
    admit(actor, person, facility, None, bases=[sentence("P10Y")], at=at, cell="T-01")


def _fill(actor: Any, facility: Any, n: int, start: dt.datetime) -> list[Any]:
    people = []
    for i in range(n):
        person = make_person(actor, given_names=f"Persona {i}")
        _one(actor, facility, person, start + dt.timedelta(hours=i))
        people.append(person)
    return people


def _kinds(facility: Any, kind: str) -> list[Any]:
    from habeas.conditions.alerts import alerts_for

    return alerts_for(facility=facility, kinds=[kind])


def _today_in(zone: str) -> dt.date:
    return timezone.localtime(timezone.now(), ZoneInfo(zone)).date()


def test_space_alert_below_three_square_metres_not_at_three(tight: Any, actor: Any) -> None:
    start = dt.datetime(2025, 3, 16, 8, tzinfo=dt.UTC)
    people = _fill(actor, tight, 3, start)
    assert _kinds(tight, "space") == []  # 9 m² / 3 = 3.00 m²: on the line, not below it
    fourth = make_person(actor, given_names="Cuarto")
    _one(actor, tight, fourth, start + dt.timedelta(days=1))
    (alert,) = _kinds(tight, "space")
    assert alert.id == "space:cell:SMA/T-01"
    assert alert.value == "2.25"
    assert alert.since == start + dt.timedelta(days=1)  # the arrival that crossed the line
    assert "Muršić" in alert.message
    assert alert.rule.id == "A1"
    assert people  # the three earlier occupants are still held


def test_space_alert_clears_when_someone_leaves(tight: Any, actor: Any) -> None:
    from habeas.custody.services import custody_release

    start = dt.datetime(2025, 3, 16, 8, tzinfo=dt.UTC)
    people = _fill(actor, tight, 4, start)
    assert len(_kinds(tight, "space")) == 1
    custody_release(
        actor=actor,
        person=people[0],
        reason="court_order",
        at=start + dt.timedelta(days=2),
    )
    assert _kinds(tight, "space") == []


def test_capacity_alert_above_certified_not_at_it(tight: Any, actor: Any) -> None:
    start = dt.datetime(2025, 3, 16, 8, tzinfo=dt.UTC)
    _fill(actor, tight, 2, start)
    assert _kinds(tight, "capacity") == []  # 2 held, certified 2: full, not overcrowded
    third = make_person(actor, given_names="Tercero")
    _one(actor, tight, third, start + dt.timedelta(days=3))
    (alert,) = _kinds(tight, "capacity")
    assert alert.subject == "module:SMA/T"
    assert alert.value == "150.0"
    assert alert.since == start + dt.timedelta(days=3)


def test_since_above_walks_back_to_the_crossing() -> None:
    from habeas.conditions.alerts import since_above

    t = [dt.datetime(2025, 1, d, tzinfo=dt.UTC) for d in range(1, 8)]
    # in, in, in (over 2 at t2), out (back to 2 at t3), in (over again at t4)
    events = [(t[0], 1), (t[1], 1), (t[2], 1), (t[3], -1), (t[4], 1)]
    assert since_above(events, 3, 2) == t[4]
    assert since_above(events[:3], 3, 2) == t[2]


def test_roll_count_alert_until_a_later_count_agrees(world: dict[str, Any], actor: Any) -> None:
    tec = world["tec"]
    person = make_person(actor)
    admit(actor, person, tec, None, cell="M1-01")
    code, _out, err = _roll(tec, "M1-01", 2, "2025-04-01T06:00:00Z")
    assert code == 1, err  # a discrepancy
    (alert,) = _kinds(tec, "roll_count")
    assert alert.subject == "cell:TEC/M1-01"
    assert alert.value == "+1"
    assert alert.since == dt.datetime(2025, 4, 1, 6, tzinfo=dt.UTC)
    code, _out, err = _roll(tec, "M1-01", 1, "2025-04-02T06:00:00Z")
    assert code == 0, err
    assert _kinds(tec, "roll_count") == []


def _roll(facility: Any, cell: str, counted: int, at: str) -> tuple[int, str, str]:
    import tempfile
    from pathlib import Path

    path = Path(tempfile.mkdtemp()) / "roll.csv"
    path.write_text(f"cell,counted,counted_at\n{cell},{counted},{at}\n")
    return run_cli("roll-count", "--facility", facility.code, str(path))


def _admit_sentenced(actor: Any, facility: Any, ends_on: dt.date, **names: str) -> Any:
    """A two-year sentence that ends on ``ends_on``."""
    start = ends_on.replace(year=ends_on.year - 2)
    person = make_person(actor, **names)
    admit(
        actor,
        person,
        facility,
        None,
        bases=[sentence("P2Y", start)],
        at=dt.datetime.combine(start, dt.time(12), tzinfo=dt.UTC),
    )
    return person


def test_legal_basis_alert_the_day_after_the_sentence_ends(
    world: dict[str, Any], actor: Any
) -> None:
    tec = world["tec"]
    today = _today_in(tec.timezone)
    due = _admit_sentenced(actor, tec, today, given_names="Debe Salir")
    past = _admit_sentenced(actor, tec, today - dt.timedelta(days=1), given_names="Ya Cumplió")
    alerts = _kinds(tec, "legal_basis")
    assert [a.subject for a in alerts] == [f"person:{past.pk}"]  # due out today: still lawful
    assert alerts[0].since == today
    assert alerts[0].value == (today - dt.timedelta(days=1)).isoformat()
    assert "Ya Cumplió" in alerts[0].message
    assert due.pk != past.pk


def test_a_removal_order_or_a_life_sentence_keeps_a_basis_live(
    world: dict[str, Any], actor: Any
) -> None:
    tec = world["tec"]
    old = dt.date(2020, 1, 1)
    both = make_person(actor, given_names="Con Orden")
    admit(actor, both, tec, None, bases=[sentence("P1Y", old), removal_order()])
    life = make_person(actor, given_names="Perpetua")
    admit(actor, life, tec, None, bases=[sentence("life", old)])
    # Live, so no A4.5; the removal order held past its removal period is another alarm.
    alarms = _kinds(tec, "legal_basis")
    assert [a.rule.id for a in alarms if a.rule.id == "A4.5"] == []
    assert {(a.subject, a.rule.id) for a in alarms} == {
        (f"person:{both.pk}", "A4.1"),
        (f"person:{both.pk}", "A4.2"),
    }


def test_show_lists_the_alarm_and_the_alerts_command_prints_the_document(
    world: dict[str, Any], actor: Any
) -> None:
    tec = world["tec"]
    today = _today_in(tec.timezone)
    person = _admit_sentenced(actor, tec, today - dt.timedelta(days=10))
    code, out, err = run_cli("show", str(person.pk), "--json")
    assert code == 0, err
    (alarm,) = [a for a in json.loads(out)["alarms"] if a["kind"] == "legal_basis"]
    assert alarm["since"] == (today - dt.timedelta(days=9)).isoformat()
    code, out, err = run_cli("alerts", "--open", "--json", "--kind", "legal_basis")
    assert code == 0, err
    (doc,) = json.loads(out)["alerts"]
    assert set(doc) >= {"id", "kind", "subject", "value", "since", "status", "message"}
    assert doc["status"] == "open"
    assert doc["subject"] == f"person:{person.pk}"
    code, out, err = run_cli("alerts")
    assert code == 0
    assert "legal_basis" in out
    code, _out, err = run_cli("alerts", "--facility", "NOPE")
    assert code == 2
    assert "NOPE" in err


def test_api_scopes_alerts_by_role(world: dict[str, Any], actor: Any, users: Any) -> None:
    tec = world["tec"]
    today = _today_in(tec.timezone)
    start = today - dt.timedelta(days=800)
    us_person = make_person(actor, given_names="Del Acuerdo")
    admit(
        actor,
        us_person,
        tec,
        world["us"],
        bases=[sentence("P2Y", start)],
        at=dt.datetime.combine(start, dt.time(12), tzinfo=dt.UTC),
    )
    roll_code, _o, _e = _roll(tec, "M1-02", 3, "2025-04-01T06:00:00Z")
    assert roll_code == 1

    def get(name: str | None, query: str = "") -> Any:
        client = Client()
        if name:
            client.force_login(users[name])
        return client.get(f"/api/v1/alerts{query}")

    assert get(None).status_code == 401
    staff = get("staff").json()["alerts"]
    # (people admitted here have had no outside contact: their no_contact alarms aside)
    assert {a["kind"] for a in staff} - {"no_contact"} == {"roll_count", "legal_basis"}
    seen = {a["kind"] for a in get("oversight").json()["alerts"]}
    assert seen - {"no_contact"} == {"roll_count", "legal_basis"}
    liaison = get("liaison_us").json()["alerts"]
    assert [(a["kind"], a["subject"]) for a in liaison if a["kind"] != "no_contact"] == [
        ("legal_basis", f"person:{us_person.pk}")
    ]
    assert get("liaison_gt").json()["alerts"] == []  # not their transferee
    assert get("staff_oth").json()["alerts"] == []  # not their facility
    only = get("staff", "?kind=roll_count").json()["alerts"]
    assert [a["kind"] for a in only] == ["roll_count"]
    assert get("staff", "?kind=nonsense").status_code == 400
    assert get("staff", "?facility=OTH").status_code == 404
    assert get("oversight", "?facility=OTH").json()["alerts"] == []


def test_stats_counts_open_alerts(tight: Any, actor: Any) -> None:
    _fill(actor, tight, 4, dt.datetime(2025, 3, 16, 8, tzinfo=dt.UTC))
    code, out, err = run_cli("stats", "--json")
    assert code == 0, err
    by_kind = json.loads(out)["open_alerts_by_kind"]
    assert (by_kind["space"], by_kind["capacity"]) == (1, 1)  # space in T-01, capacity in T
    assert json.loads(out)["open_alerts"] == sum(by_kind.values())
    tec = type(tight).objects.get(code="TEC")
    _admit_sentenced(actor, tec, dt.date(2025, 1, 1))  # long served: held with no basis
    code, out, err = run_cli("stats", "--json")
    assert json.loads(out)["open_alerts_by_kind"]["legal_basis"] == 1


def test_alerts_page_by_role(tight: Any, actor: Any, users: Any, world: dict[str, Any]) -> None:

    _fill(actor, tight, 4, dt.datetime(2025, 3, 16, 8, tzinfo=dt.UTC))
    served = _admit_sentenced(
        actor, world["tec"], dt.date(2025, 1, 1), given_names="Cumplida <b>Ya</b>"
    )
    boss = make_user(
        username="boss", password="pw-boss-long", role="facility_admin", facility_codes=["SMA"]
    )

    def page(user: Any, query: str = "") -> Any:
        client = Client()
        if user is not None:
            client.force_login(user)
        return client.get(f"/alerts/{query}")

    assert page(None).status_code == 302
    assert page(users["norole"]).status_code == 403
    html = page(boss).content.decode()
    assert "/housing/SMA/cells/T-01/" in html
    assert "Muršić" in html
    assert "Module T holds 4 people" in html
    assert "Cumplida" not in html  # another facility's prisoner
    only = page(boss, "?kind=capacity").content.decode()
    assert "Module T holds 4 people" in only
    assert "/housing/SMA/cells/T-01/" not in only
    html = page(users["staff"]).content.decode()
    assert "Cumplida &lt;b&gt;Ya&lt;/b&gt;" in html  # names escaped, exactly as given
    assert f"/people/{served.pk}/" in html
    html = page(users["liaison_us"]).content.decode()
    assert "T-01" not in html
    assert "Space per person" not in html
    spanish = Client()
    spanish.force_login(boss)
    html = spanish.get("/alerts/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "Alertas" in html
    html = Client()
    html.force_login(users["oversight"])
    home = html.get("/oversight/").content.decode()
    assert "/alerts/?kind=space" in home


def _ack_api(client: Client, alert: str, note: str = "two moved to M1-03 tomorrow") -> Any:
    return client.post(
        "/api/v1/alerts/acknowledgements",
        data=json.dumps({"alert": alert, "note": note}),
        content_type="application/json",
    )


def test_acknowledging_an_alert_keeps_it_listed_until_the_cause_is_fixed(
    tight: Any, actor: Any, users: Any
) -> None:
    from habeas.custody.services import custody_release

    start = dt.datetime(2025, 3, 16, 8, tzinfo=dt.UTC)
    people = _fill(actor, tight, 4, start)
    boss = make_user(
        username="boss", password="pw-boss-long", role="facility_admin", facility_codes=["SMA"]
    )
    client = Client()
    client.force_login(boss)
    assert _ack_api(client, "space:cell:SMA/T-01", note="  ").status_code == 400
    assert _ack_api(client, "space:cell:SMA/T-99").status_code == 404
    made = _ack_api(client, "space:cell:SMA/T-01")
    assert made.status_code == 201, made.content
    assert made.json()["since"] == "2025-03-16T11:00:00Z"  # the fourth arrival
    assert _ack_api(client, "space:cell:SMA/T-01").status_code == 409  # once per occurrence

    (space,) = _kinds(tight, "space")
    assert space.status == "acknowledged"
    assert space.acknowledged_by == "boss"
    assert space.acknowledgement.startswith("two moved")
    doc = client.get("/api/v1/alerts?kind=space").json()["alerts"][0]
    assert doc["status"] == "acknowledged"
    assert doc["acknowledged"]["by"] == "boss"
    assert client.get("/api/v1/alerts?open=true&kind=space").json()["alerts"] == []
    code, out, _err = run_cli("alerts", "--open", "--json", "--kind", "space")
    assert json.loads(out)["alerts"] == []

    # the cause is fixed: the alert is gone; when it comes back it is a new, open occurrence
    custody_release(
        actor=actor, person=people[0], reason="court_order", at=start + dt.timedelta(days=2)
    )
    assert _kinds(tight, "space") == []
    again = make_person(actor, given_names="Otra Vez")
    _one(actor, tight, again, start + dt.timedelta(days=3))
    (back,) = _kinds(tight, "space")
    assert back.status == "open"

    code, out, err = run_cli("verify-ledger", "--json")
    assert code == 0, out + err


def test_only_the_facility_staff_acknowledge(tight: Any, actor: Any, users: Any) -> None:
    _fill(actor, tight, 4, dt.datetime(2025, 3, 16, 8, tzinfo=dt.UTC))

    def ack_as(name: str) -> int:
        client = Client()
        client.force_login(users[name])
        return int(_ack_api(client, "space:cell:SMA/T-01").status_code)

    assert ack_as("oversight") == 403  # sees it, reads only
    assert ack_as("staff") == 404  # TEC's staff: not their facility
    assert ack_as("liaison_us") == 404  # never sees housing alerts
    assert Client().post("/api/v1/alerts/acknowledgements").status_code == 401


def test_acknowledge_on_the_page(tight: Any, actor: Any, users: Any) -> None:
    from habeas.conditions.models import AlertAcknowledgement

    _fill(actor, tight, 4, dt.datetime(2025, 3, 16, 8, tzinfo=dt.UTC))
    boss = make_user(
        username="boss", password="pw-boss-long", role="facility_admin", facility_codes=["SMA"]
    )
    client = Client()
    client.force_login(boss)
    html = client.get("/alerts/").content.decode()
    assert 'name="alert" value="space:cell:SMA/T-01"' in html
    done = client.post("/alerts/?kind=space", {"alert": "space:cell:SMA/T-01", "note": "<b>ok</b>"})
    assert done.status_code == 302
    assert done["Location"] == "/alerts/?kind=space"
    html = client.get("/alerts/").content.decode()
    assert "Acknowledged" in html
    assert "&lt;b&gt;ok&lt;/b&gt;" in html
    assert 'value="space:cell:SMA/T-01"' not in html  # no second form for the same occurrence
    watcher = Client()
    watcher.force_login(users["oversight"])
    assert 'name="note"' not in watcher.get("/alerts/").content.decode()
    refused = watcher.post("/alerts/", {"alert": "capacity:module:SMA/T", "note": "x"})
    assert refused.status_code == 403
    assert AlertAcknowledgement.objects.count() == 1


@pytest.mark.tampers
def test_verify_ledger_names_a_changed_acknowledgement(tight: Any, actor: Any) -> None:
    from habeas.conditions.models import AlertAcknowledgement
    from habeas.conditions.services import alert_acknowledge
    from habeas.ledger.verify import verify_ledger
    from tests.ledger.test_verify import tamper

    _fill(actor, tight, 4, dt.datetime(2025, 3, 16, 8, tzinfo=dt.UTC))
    boss = make_user(
        username="boss", password="pw-boss-long", role="facility_admin", facility_codes=["SMA"]
    )
    ack = alert_acknowledge(actor=actor, user=boss, alert_id="space:cell:SMA/T-01", note="moving")
    assert verify_ledger().ok
    tamper(
        "UPDATE conditions_alertacknowledgement SET note = %s WHERE id = %s", ["nothing", ack.pk]
    )
    where = {p.where for p in verify_ledger().problems}
    assert f"conditions.AlertAcknowledgement.{ack.pk}.note" in where
    assert AlertAcknowledgement.objects.get(pk=ack.pk).note == "nothing"


def test_the_panel_counts_legal_basis_alarms_as_the_list_does(
    world: dict[str, Any], actor: Any
) -> None:
    """The dashboard counts the ``legal_basis`` alarms in the database from the kept
    conditions (``legal_basis_open_summary``): the same count and oldest instant as the
    open alerts listed, an acknowledged occurrence left out of both."""
    from habeas.conditions.alerts import alerts_for, legal_basis_open_summary
    from habeas.conditions.services import alert_acknowledge
    from habeas.custody.standing import standing_refresh
    from habeas.web.attention import _alert_counts, open_alert_counts

    tec = world["tec"]
    today = _today_in(tec.timezone)
    oldest = _admit_sentenced(actor, tec, today - dt.timedelta(days=30), given_names="Hace Mes")
    _admit_sentenced(actor, tec, today - dt.timedelta(days=3), given_names="Hace Tres")
    nobody = make_person(actor, given_names="Sin Base")
    admit(actor, nobody, tec, None, bases=[])
    both = make_person(actor, given_names="Con Orden")
    admit(actor, both, tec, None, bases=[sentence("P1Y", dt.date(2020, 1, 1)), removal_order()])
    standing_refresh(timezone.now())  # the kept conditions name today
    boss = make_user(
        username="tec-boss", password="pw-boss-long", role="facility_admin", facility_codes=["TEC"]
    )

    def listed() -> tuple[int, Any]:
        found = [a for a in alerts_for(open_only=True) if a.kind == "legal_basis"]
        since = [a.since for a in found]
        instants = [
            s if isinstance(s, dt.datetime) else dt.datetime.combine(s, dt.time(), tzinfo=dt.UTC)
            for s in since
        ]
        return len(found), min(instants, default=None)

    assert legal_basis_open_summary(None) == listed()
    assert listed()[0] >= 5
    before = listed()
    assert open_alert_counts(None) == _alert_counts(alerts_for(open_only=True))
    # acknowledge the oldest: it leaves the count and the oldest moves
    alarm = next(a for a in alerts_for() if a.subject == f"person:{oldest.pk}")
    alert_acknowledge(actor=actor, user=boss, alert_id=alarm.id, note="court asked")
    assert legal_basis_open_summary(None) == listed()
    assert open_alert_counts(None) == _alert_counts(alerts_for(open_only=True))
    # and the alarm of someone held with no basis at all (dated from the admission)
    none = next(a for a in alerts_for() if a.subject == f"person:{nobody.pk}")
    alert_acknowledge(actor=actor, user=boss, alert_id=none.id, note="order requested")
    assert legal_basis_open_summary(None) == listed()
    assert listed()[0] == before[0] - 2
    assert open_alert_counts(boss) == _alert_counts(alerts_for(user=boss, open_only=True))
