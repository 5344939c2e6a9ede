"""The custody lifecycle through its services and the CLI: amendments of a legal basis with
their events, the timeline of which order held the person, alarms A4.1-A4.5 opened and
closed by ``check-custody`` (idempotent), ``show --json`` ``release_date``."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from habeas.core.clock import now
from habeas.core.errors import ValidationFailed
from habeas.custody.amendments import (
    NewSentence,
    basis_timeline,
    basis_vacate,
    credit_change,
    protection_record,
    sentence_change,
    sentence_convert,
)
from habeas.custody.check import custody_check
from habeas.custody.models import CustodyAlarm, LegalBasis, ReleaseCalculation
from habeas.custody.services import custody_release
from habeas.ledger.models import LedgerEntry
from tests.conftest import admit, make_person, removal_order, run_cli, sentence


def _today() -> dt.date:
    """Today where the test facility is (America/El_Salvador): the alarms count days in the
    facility's local time, so between 00:00 and 06:00 UTC this is still yesterday's date."""
    return timezone.localtime(now(), ZoneInfo("America/El_Salvador")).date()


def _rules(episode: Any) -> set[str]:
    return set(
        CustodyAlarm.objects.filter(episode=episode, status="open").values_list("rule", flat=True)
    )


def _admit(actor: Any, world: dict[str, Any], bases: list[Any], agreement: str = "us") -> Any:
    person = make_person(actor)
    at = dt.datetime.combine(_today() - dt.timedelta(days=400), dt.time(12), tzinfo=dt.UTC)
    return admit(actor, person, world["tec"], world[agreement], bases=bases, at=at)


def _amend_agreements(actor: Any, setup_doc: Any, changes: dict[str, dict[str, Any]]) -> None:
    """Change agreements as an operator does: the setup file applied again."""
    from habeas.facilities.setup import setup_apply

    doc = setup_doc.model_copy(
        update={
            "agreement": [a.model_copy(update=changes.get(a.code, {})) for a in setup_doc.agreement]
        }
    )
    setup_apply(actor=actor, document=doc)


def _years_ago(years: int, days: int = 0) -> dt.date:
    t = _today()
    return t.replace(year=t.year - years) + dt.timedelta(days=days)


@pytest.mark.django_db
def test_a_court_changes_a_sentence_and_the_release_date_is_recalculated(
    world: dict[str, Any], actor: Any
) -> None:
    episode = _admit(actor, world, [sentence("P10Y", _years_ago(1))])
    basis = episode.legal_bases.get()
    first = ReleaseCalculation.objects.filter(episode=episode).get()
    on = _today() - dt.timedelta(days=10)
    new = sentence_change(actor=actor, basis=basis, new=NewSentence("P5Y", _years_ago(1)), on=on)
    basis.refresh_from_db()
    assert basis.status == "superseded"
    assert basis.ended_on == on
    assert new.supersedes_id == basis.pk
    assert new.status == "active"
    assert set(episode.legal_bases.values_list("pk", flat=True)) == {basis.pk, new.pk}
    latest = ReleaseCalculation.objects.filter(episode=episode).order_by("-pk").first()
    assert latest is not None
    assert latest.pk != first.pk
    assert latest.release_date is not None
    assert first.release_date is not None
    assert latest.release_date < first.release_date
    assert latest.inputs["sentences"][0]["basis"] == new.pk
    actions = list(LedgerEntry.objects.order_by("-index").values_list("action", flat=True)[:2])
    assert actions == ["custody.release_calculated", "custody.sentence_changed"]
    timeline = basis_timeline(episode)
    assert timeline[0]["bases"] == [basis.pk]
    assert timeline[-1]["bases"] == [new.pk]
    assert timeline[-1]["from"] == on


@pytest.mark.django_db
def test_a_conversion_longer_than_the_original_is_refused(
    world: dict[str, Any], actor: Any
) -> None:
    episode = _admit(actor, world, [sentence("P5Y", _years_ago(1))])
    basis = episode.legal_bases.get()
    size = LedgerEntry.objects.count()
    with pytest.raises(ValidationFailed, match=r"ETS 112 art\. 10"):
        sentence_convert(
            actor=actor, basis=basis, new=NewSentence("P5Y1D", _years_ago(1)), on=_today()
        )
    with pytest.raises(ValidationFailed, match=r"ETS 112 art\. 10"):
        sentence_convert(
            actor=actor, basis=basis, new=NewSentence("life", _years_ago(1)), on=_today()
        )
    assert LedgerEntry.objects.count() == size
    same = sentence_convert(
        actor=actor, basis=basis, new=NewSentence("P5Y", _years_ago(1)), on=_today()
    )
    assert same.supersedes_id == basis.pk


@pytest.mark.django_db
@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    years=st.integers(0, 20),
    months=st.integers(0, 11),
    shift=st.integers(-400, 400),
)
def test_a_converted_sentence_is_never_longer_than_the_original(
    world: dict[str, Any], actor: Any, years: int, months: int, shift: int
) -> None:
    if years == 0 and months == 0:
        months = 1
    start = dt.date(2020, 1, 1)
    episode = _admit(actor, world, [sentence("P8Y", start)])
    basis = episode.legal_bases.get()
    new_start = start + dt.timedelta(days=shift)
    try:
        converted = sentence_convert(
            actor=actor,
            basis=basis,
            new=NewSentence(f"P{years}Y{months}M", new_start),
            on=dt.date(2021, 1, 1),
        )
    except ValidationFailed:
        converted = None
    finally:  # free the bed for the next example
        custody_release(actor=actor, person=episode.person, reason="court_order", at=now())
    if converted is not None:
        assert converted.ends_on is not None
        assert converted.ends_on <= dt.date(2028, 1, 1)


@pytest.mark.django_db
def test_forfeited_and_restored_credit_are_events_that_move_the_date(
    world: dict[str, Any], actor: Any, setup_doc: Any
) -> None:
    _amend_agreements(actor, setup_doc, {"US-SV": {"sentence_rules": "us_federal"}})
    episode = _admit(actor, world, [sentence("P3Y", _years_ago(1))])
    custody_check(actor=actor)
    basis = episode.legal_bases.get()

    def current() -> Any:
        return ReleaseCalculation.objects.filter(episode=episode).order_by("-pk").first()

    before = current().release_date
    credit_change(
        actor=actor, basis=basis, change="forfeited", days=20, on=_today(), reason="fight"
    )
    after = current().release_date
    assert after > before
    credit_change(
        actor=actor, basis=basis, change="restored", days=20, on=_today(), reason="review"
    )
    assert current().release_date == before
    with pytest.raises(ValidationFailed):
        credit_change(actor=actor, basis=basis, change="restored", days=1, on=_today(), reason="x")
    with pytest.raises(ValidationFailed):
        credit_change(
            actor=actor, basis=basis, change="forfeited", days=1000, on=_today(), reason="x"
        )
    assert LedgerEntry.objects.filter(action="custody.credit_changed").count() == 2


# --- alarms: each opens, and does not open on the other side of its line ---------------------


@pytest.mark.django_db
def test_alarm_release_date_passed(world: dict[str, Any], actor: Any) -> None:
    passed = _admit(actor, world, [sentence("P2Y", _years_ago(2, days=-1)), removal_order()])
    due_today = _admit(actor, world, [sentence("P2Y", _years_ago(2))])
    custody_check(actor=actor)
    assert "A4.1" in _rules(passed)
    assert "A4.1" not in _rules(due_today)


@pytest.mark.django_db
def test_alarm_removal_period_exceeded(world: dict[str, Any], settings: Any, actor: Any) -> None:
    from habeas.custody.services import LegalBasisSpec

    def order(days_ago: int) -> Any:
        return LegalBasisSpec(
            kind="removal_order", ref="RO", authority="US",
            order_date=_today() - dt.timedelta(days=days_ago),
        )  # fmt: skip

    over = _admit(actor, world, [order(91)])
    within = _admit(actor, world, [order(90)])
    custody_check(actor=actor)
    assert "A4.2" in _rules(over)
    assert "A4.2" not in _rules(within)
    settings.HABEAS_REMOVAL_PERIOD_DAYS = 120
    custody_check(actor=actor)
    assert "A4.2" not in _rules(over)  # closed: the period is configurable


@pytest.mark.django_db
def test_alarm_protection_order(world: dict[str, Any], actor: Any) -> None:
    protected = _admit(actor, world, [removal_order()])
    other = _admit(actor, world, [removal_order()])
    basis = protected.legal_bases.get()
    protection_record(actor=actor, basis=basis, on=_today(), authority="US District Court")
    custody_check(actor=actor)
    assert "A4.3" in _rules(protected)
    assert "A4.3" not in _rules(other)


@pytest.mark.django_db
def test_alarm_agreement_ended(world: dict[str, Any], actor: Any, setup_doc: Any) -> None:
    _amend_agreements(
        actor,
        setup_doc,
        {"US-SV": {"ends": _today() - dt.timedelta(days=1)}, "GT-SV": {"ends": _today()}},
    )
    under_ended = _admit(actor, world, [sentence("P10Y", _years_ago(1))], agreement="us")
    under_running = _admit(actor, world, [sentence("P10Y", _years_ago(1))], agreement="gt")
    custody_check(actor=actor)
    assert "A4.4" in _rules(under_ended)
    assert "A4.4" not in _rules(under_running)


@pytest.mark.django_db
def test_alarm_agreement_ending_within_the_notice_period(
    world: dict[str, Any], actor: Any, setup_doc: Any, settings: Any
) -> None:
    """A4.6 warns from the notice period's first day (the term's end 30 days ahead) to the
    term's last day; the day after, A4.4 replaces it (closed, and A4.4 opened)."""
    settings.HABEAS_AGREEMENT_NOTICE_DAYS = 30
    _amend_agreements(
        actor,
        setup_doc,
        {
            "US-SV": {"ends": _today() + dt.timedelta(days=30)},
            "GT-SV": {"ends": _today() + dt.timedelta(days=31)},
        },
    )
    ending = _admit(actor, world, [sentence("P10Y", _years_ago(1))], agreement="us")
    not_yet = _admit(actor, world, [sentence("P10Y", _years_ago(1))], agreement="gt")
    custody_check(actor=actor)
    assert _rules(ending) == {"A4.6"}
    assert _rules(not_yet) == set()
    alarm = CustodyAlarm.objects.get(episode=ending, rule="A4.6", status="open")
    assert alarm.value == (_today() + dt.timedelta(days=30)).isoformat()
    assert alarm.since == _today()
    assert alarm.citation == "Mandela Rule 7(b); the agreement's term"
    # the term's last day: still the warning, not yet ended
    _amend_agreements(actor, setup_doc, {"US-SV": {"ends": _today()}})
    custody_check(actor=actor)
    assert _rules(ending) == {"A4.6"}
    # over: A4.4 replaces the warning
    _amend_agreements(actor, setup_doc, {"US-SV": {"ends": _today() - dt.timedelta(days=1)}})
    report = custody_check(actor=actor).document()
    assert _rules(ending) == {"A4.4"}
    assert {(c["person"], c["rule"]) for c in report["closed"]} == {(ending.person_id, "A4.6")}
    from habeas.conditions.alerts import legal_basis_alerts
    from habeas.custody.models import CustodyEpisode

    shown = legal_basis_alerts(CustodyEpisode.objects.filter(pk__in=[ending.pk, not_yet.pk]))
    assert [(a.person_id, a.rule_id) for a in shown] == [(ending.person_id, "A4.4")]


@pytest.mark.django_db
def test_alarm_no_live_basis_after_an_order_is_vacated(world: dict[str, Any], actor: Any) -> None:
    vacated = _admit(actor, world, [sentence("P10Y", _years_ago(1))])
    kept = _admit(actor, world, [sentence("P10Y", _years_ago(1))])
    basis_vacate(
        actor=actor, basis=vacated.legal_bases.get(), on=_today(), authority="Supreme Court"
    )
    custody_check(actor=actor)
    assert _rules(vacated) == {"A4.5"}
    assert _rules(kept) == set()
    code, out, err = run_cli("show", str(vacated.person_id), "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["release_date"] is None
    assert doc["legal_bases"][0]["status"] == "vacated"
    assert [a["rule"] for a in doc["alarms"] if a["kind"] == "legal_basis"] == ["A4.5"]


@pytest.mark.django_db
def test_check_custody_is_idempotent_and_closes_what_cleared(
    world: dict[str, Any], actor: Any
) -> None:
    episode = _admit(actor, world, [sentence("P1Y", _years_ago(2))])
    code, out, err = run_cli("check-custody", "--json")
    assert code == 0, err
    first = json.loads(out)
    assert {"episode": episode.pk, "person": episode.person_id, "rule": "A4.5"} in first["opened"]
    size = LedgerEntry.objects.count()
    code, out, _err = run_cli("check-custody", "--json")
    again = json.loads(out)
    assert again["opened"] == []
    assert again["closed"] == []
    assert again["recalculated"] == 0
    assert LedgerEntry.objects.count() == size  # nothing changed, nothing written
    basis = episode.legal_bases.get()
    sentence_change(actor=actor, basis=basis, new=NewSentence("P5Y", _years_ago(2)), on=_today())
    code, out, _err = run_cli("check-custody", "--json")
    closed = json.loads(out)["closed"]
    assert {"episode": episode.pk, "person": episode.person_id, "rule": "A4.5"} in closed
    assert LedgerEntry.objects.filter(action="custody.alarm_closed").count() == 1


@pytest.mark.django_db
def test_show_json_gives_the_projected_release_date(world: dict[str, Any], actor: Any) -> None:
    episode = _admit(actor, world, [sentence("P10Y", dt.date(2020, 1, 6))])
    code, out, err = run_cli("show", str(episode.person_id), "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["release_date"] == "2030-01-06"  # plain rules: the full term
    assert doc["legal_bases"][0]["ends_on"] == "2030-01-06"
    assert LegalBasis.objects.get(pk=episode.legal_bases.get().pk).ends_on == dt.date(2030, 1, 6)


@pytest.mark.django_db
def test_releases_due_are_scoped_and_downloadable(
    world: dict[str, Any], actor: Any, users: dict[str, Any]
) -> None:
    from django.test import Client

    end = _today() + dt.timedelta(days=10)
    start = end.replace(year=end.year - 2)
    us = _admit(actor, world, [sentence("P2Y", start)], agreement="us")
    gt = _admit(actor, world, [sentence("P2Y", start)], agreement="gt")
    _admit(actor, world, [sentence("P2Y", start + dt.timedelta(days=40))], agreement="us")

    def fetch(user: str, path: str) -> Any:
        client = Client()
        client.force_login(users[user])
        return client.get(path)

    rows = fetch("staff", "/api/v1/releases-due").json()
    assert {r["person"] for r in rows} == {str(us.person_id), str(gt.person_id)}
    assert rows[0]["release_date"] == end.isoformat()
    liaison = fetch("liaison_us", "/api/v1/releases-due").json()
    assert [r["person"] for r in liaison] == [str(us.person_id)]
    csv_text = fetch("liaison_us", "/releases-due.csv").content.decode()
    assert csv_text.splitlines()[0].startswith("release_date,person,name")
    assert len(csv_text.splitlines()) == 2
    page = fetch("liaison_us", "/releases-due/").content.decode()
    assert f"/people/{us.person_id}/" in page
    assert f"/people/{gt.person_id}/" not in page


@pytest.mark.django_db
def test_the_demo_agreement_term_ends_within_the_notice_period(actor: Any) -> None:
    """Demo: the 2025 agreement's term (as reported, 2025-03-15 to 2026-03-14) is extended,
    through the setup file applied again, to end three weeks after the demo's day: inside
    A4.6's notice period, whenever the demo is loaded."""
    from habeas.agreements.models import Agreement
    from habeas.custody.check import agreement_notice_days
    from habeas.facilities.setup import setup_apply
    from habeas.facilities.setup_schema import load_setup
    from habeas.web.demo import DEMO_TERM_LEFT_DAYS, SETUP, _term_ending_soon

    document = load_setup(SETUP)
    setup_apply(actor=actor, document=document)
    declared = Agreement.objects.get(code="US-SV-2025")
    assert declared.ends == dt.date(2026, 3, 14)
    _term_ending_soon(actor, document)
    agreement = Agreement.objects.get(code="US-SV-2025")
    assert agreement.starts == dt.date(2025, 3, 15)
    assert agreement.ends == _today() + dt.timedelta(days=DEMO_TERM_LEFT_DAYS)
    assert 0 < DEMO_TERM_LEFT_DAYS <= agreement_notice_days()
    last = LedgerEntry.objects.order_by("-index").first()
    assert last is not None
    assert (last.action, last.subject) == ("agreements.agreement_amended", "agreement:US-SV-2025")
    size = LedgerEntry.objects.count()
    _term_ending_soon(actor, document)  # already extended: nothing changes
    assert LedgerEntry.objects.count() == size


@pytest.mark.django_db
def test_unchanged_inputs_are_recognised_in_the_database(world: dict[str, Any], actor: Any) -> None:
    """The inputs' key text the database puts together hashes as ``inputs_sha`` does, for one
    sentence, two, a vacated one and none in force: after a check no episode is a candidate
    for recalculation; a credit change makes its episode one, and nothing else."""
    from habeas.custody.calculations import changed_candidates

    one = _admit(actor, world, [sentence("P10Y", _years_ago(1))])
    two = _admit(
        actor, world, [sentence("P10Y", _years_ago(1)), sentence("P13M", _years_ago(0, -30))]
    )
    vacated = _admit(actor, world, [sentence("P5Y", _years_ago(1)), removal_order()])
    basis_vacate(
        actor=actor,
        basis=vacated.legal_bases.get(kind="criminal_sentence"),
        on=_today(),
        authority="Supreme Court",
    )
    _admit(actor, world, [removal_order()])  # no sentence: no calculation
    custody_check(actor=actor)
    assert changed_candidates(None) == []
    assert changed_candidates([one.pk, two.pk, vacated.pk]) == []
    credit_change(
        actor=actor,
        basis=two.legal_bases.order_by("pk").first(),
        change="forfeited",
        days=5,
        on=_today(),
        reason="Disciplinary finding",
    )
    # the service recalculated at once: nothing left for the check
    assert changed_candidates(None) == []
    from django.db import connection

    table = LegalBasis._meta.db_table
    pk = one.legal_bases.get().pk
    with connection.cursor() as cursor:  # an input changed outside the services, then undone
        cursor.execute(f"UPDATE {table} SET custody_credit_days = 7 WHERE id = %s", [pk])
        assert changed_candidates(None) == [one.pk]
        cursor.execute(f"UPDATE {table} SET custody_credit_days = 0 WHERE id = %s", [pk])
    assert changed_candidates(None) == []
