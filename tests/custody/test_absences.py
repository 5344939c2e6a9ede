"""Temporary absences (court, hospital, Rule 70 leave): the services on both sides of every
boundary, the release of someone who is out, the roll view and the counted roll, the
``show --json`` extension and table-vs-ledger verification of the new table."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction

from habeas.core.actor import Actor
from habeas.core.clock import now
from habeas.core.errors import ApplicationError, Conflict, NotFound, ValidationFailed
from habeas.custody.absences import (
    MSG_ALREADY_ENDED,
    MSG_ALREADY_OUT,
    MSG_BEFORE,
    MSG_KIND,
    MSG_NEEDS,
    MSG_NOT_HELD,
    MSG_OTHER_NEEDS_TEXT,
    absence_end,
    absence_start,
    current_absence,
)
from habeas.custody.models import CustodyEpisode, TemporaryAbsence
from habeas.custody.services import custody_release
from habeas.housing.models import Placement
from habeas.housing.selectors import out_of_cells, roll_view
from habeas.housing.services import RollLine, roll_count_record
from habeas.ledger.models import LedgerEntry
from habeas.ledger.privacy import is_commitment
from habeas.ledger.services import ledger_size
from habeas.ledger.verify import verify_ledger
from tests.conftest import admit, direct_write, make_person, run_cli
from tests.ledger.test_verify import tamper

T0 = dt.datetime(2025, 3, 16, 14, 5, tzinfo=dt.UTC)
H = dt.timedelta(hours=1)
OFFICER = Actor(name="test:duty", role="facility_staff")


def state() -> dict[str, Any]:
    return {
        "absences": list(TemporaryAbsence.objects.order_by("pk").values()),
        "episodes": list(CustodyEpisode.objects.order_by("pk").values()),
        "placements": list(Placement.objects.order_by("pk").values()),
        "ledger": ledger_size(),
    }


def refused(call: Any, error: type[ApplicationError], message: str) -> None:
    """``call`` is refused with ``error`` whose message contains ``message``, and nothing
    was written."""
    before = state()
    with pytest.raises(error) as info:
        call()
    assert message in info.value.message, info.value.message
    assert state() == before


def court(person: Any, at: dt.datetime = T0 + 24 * H, **kw: Any) -> TemporaryAbsence:
    fields: dict[str, Any] = {
        "kind": "court",
        "destination": "Juzgado Primero de Sentencia, San Salvador",
        "authority": "citation 45/2025",
        "escort": "2 officers, van V-12",
        "started_at": at,
    }
    fields.update(kw)
    return absence_start(actor=OFFICER, person=person, **fields)


@pytest.fixture
def held(world: dict[str, Any], actor: Actor) -> Any:
    person = make_person(actor)
    admit(actor, person, world["tec"], world["us"], at=T0, cell="M1-01")
    return person


# --- starting ------------------------------------------------------------------------------


def test_start_records_the_absence_keeps_the_bed_and_writes_its_entry(held: Any) -> None:
    before = ledger_size()
    absence = court(held, expected_return_at=T0 + 30 * H, reason="hearing")
    assert absence.is_open
    assert absence.recorded_by == "test:duty"
    assert current_absence(held) == absence
    # the placement is kept: the bed still counts against working capacity
    assert Placement.objects.filter(episode__person=held, ended_at__isnull=True).count() == 1
    assert ledger_size() == before + 1
    entry = LedgerEntry.objects.order_by("-index").first()
    assert entry is not None
    assert (entry.action, entry.subject) == ("custody.absence_started", f"person:{held.pk}")
    assert entry.occurred_at == T0 + 24 * H
    payload = entry.payload["absence"]
    assert payload["kind"] == "court"
    # where to, why and with whom are personal: commitments on the ledger, text in the table
    assert is_commitment(payload["escort"])
    assert is_commitment(payload["destination"])
    assert absence.escort == "2 officers, van V-12"
    assert entry.payload["facility"] == "TEC"


def test_start_refuses_someone_not_in_custody(world: dict[str, Any], actor: Actor) -> None:
    never = make_person(actor)
    refused(lambda: court(never), Conflict, MSG_NOT_HELD.format(person=never.pk))
    released = make_person(actor)
    admit(actor, released, world["tec"], world["us"], at=T0)
    custody_release(actor=actor, person=released, reason="sentence_served", at=T0 + H)
    refused(lambda: court(released), Conflict, "is not in custody")


def test_start_refuses_someone_already_out(held: Any) -> None:
    first = court(held)
    refused(
        lambda: court(held, at=T0 + 25 * H, kind="hospital"),
        Conflict,
        MSG_ALREADY_OUT.format(person=held.pk, kind="court", since=first.started_at.isoformat()),
    )


def test_one_open_absence_per_episode_is_a_database_constraint(held: Any) -> None:
    absence = court(held)
    with pytest.raises(IntegrityError):
        direct_write(
            lambda: TemporaryAbsence.objects.create(
                episode=absence.episode,
                kind="hospital",
                destination="Hospital Rosales",
                authority="medical officer",
                started_at=T0 + 26 * H,
                recorded_by="x",
            )
        )


@pytest.mark.parametrize(
    ("ended", "ok"),
    [(T0 + 24 * H, True), (T0 + 24 * H - dt.timedelta(seconds=1), False)],
    ids=["equal", "before"],
)
def test_interval_constraint_ended_not_before_started(held: Any, ended: Any, ok: bool) -> None:
    absence = court(held)
    absence.ended_at = ended
    absence.ended_how = "returned"
    if ok:
        direct_write(absence.save)
    else:
        with pytest.raises(IntegrityError):
            direct_write(absence.save)


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"kind": "beach"}, MSG_KIND.split("{")[0]),
        ({"kind": "other"}, MSG_OTHER_NEEDS_TEXT),
        ({"kind": "other", "kind_other": "   "}, MSG_OTHER_NEEDS_TEXT),
        ({"destination": " "}, MSG_NEEDS.format(what="a destination")),
        ({"authority": ""}, "needs the authority"),
        ({"destination": "x" * 201}, "longer than 200"),
        ({"expected_return_at": T0 + 24 * H - dt.timedelta(minutes=1)}, "expected return"),
    ],
    ids=["kind", "other-empty", "other-blank", "destination", "authority", "long", "expected"],
)
def test_start_refuses_bad_input(held: Any, kw: dict[str, Any], message: str) -> None:
    refused(lambda: court(held, **kw), ValidationFailed, message)


def test_start_accepts_the_edges(held: Any) -> None:
    """Leaving at the admission instant, expected back at the departure instant, a described
    'other' kind, no escort (Mandela Rule 70: 'under escort or alone')."""
    absence = court(
        held,
        at=T0,
        kind="other",
        kind_other="identity parade at the police station",
        escort="",
        expected_return_at=T0,
    )
    assert absence.kind_label == "identity parade at the police station"
    assert absence.escort == ""


def test_start_refuses_times_out_of_order_or_in_the_future(held: Any) -> None:
    refused(
        lambda: court(held, at=T0 - dt.timedelta(seconds=1)),
        ValidationFailed,
        "before the admission",
    )
    refused(lambda: court(held, at=now() + dt.timedelta(minutes=6)), ValidationFailed, "future")
    # a few minutes of clock skew are tolerated
    court(held, at=now() + dt.timedelta(minutes=4))


def test_start_after_a_return_not_before_it(held: Any) -> None:
    first = court(held)
    absence_end(actor=OFFICER, absence=first, returned_at=T0 + 30 * H)
    refused(
        lambda: court(held, at=T0 + 30 * H - dt.timedelta(seconds=1)),
        ValidationFailed,
        "before the return from the previous absence",
    )
    second = court(held, at=T0 + 30 * H, kind="hospital")  # leaving again at the return
    assert second.kind == "hospital"


def test_funeral_leave_is_an_absence_kind(held: Any) -> None:
    """Mandela Rule 70: leave to attend a near relative's funeral."""
    absence = court(held, kind="funeral_or_family_visit", destination="Santa Ana", escort="")
    assert absence.get_kind_display() == "Funeral or family visit"


# --- ending --------------------------------------------------------------------------------


def test_end_records_the_return_once(held: Any) -> None:
    absence = court(held)
    before = ledger_size()
    ended = absence_end(actor=OFFICER, absence=absence, returned_at=T0 + 24 * H)  # same instant
    assert (ended.ended_at, ended.ended_how, ended.ended_by) == (
        T0 + 24 * H,
        "returned",
        "test:duty",
    )
    assert current_absence(held) is None
    assert ledger_size() == before + 1
    entry = LedgerEntry.objects.order_by("-index").first()
    assert entry is not None
    assert entry.action == "custody.absence_ended"
    assert entry.payload["absence"]["how"] == "returned"
    refused(
        lambda: absence_end(actor=OFFICER, absence=absence, returned_at=T0 + 25 * H),
        Conflict,
        MSG_ALREADY_ENDED.format(absence=absence.pk, at=ended.ended_at.isoformat()),
    )


def test_end_refuses_a_return_before_the_departure_or_in_the_future(held: Any) -> None:
    absence = court(held)
    refused(
        lambda: absence_end(
            actor=OFFICER, absence=absence, returned_at=T0 + 24 * H - dt.timedelta(seconds=1)
        ),
        ValidationFailed,
        MSG_BEFORE.split("{")[0] + "the return",
    )
    refused(
        lambda: absence_end(
            actor=OFFICER, absence=absence, returned_at=now() + dt.timedelta(minutes=6)
        ),
        ValidationFailed,
        "future",
    )


def test_end_of_a_missing_absence_is_not_found(held: Any) -> None:
    ghost = TemporaryAbsence(pk=999_999, episode_id=held.episodes.get().pk, started_at=T0)
    with pytest.raises(NotFound):
        absence_end(actor=OFFICER, absence=ghost, returned_at=T0 + H)


def test_absence_placements_survive_a_move_while_out(held: Any, actor: Actor) -> None:
    """The bed can be changed while the person is at court; the absence stays open."""
    from habeas.facilities.models import Cell
    from habeas.housing.placements import placement_move

    absence = court(held)
    placement_move(
        actor=actor,
        person=held,
        cell=Cell.objects.get(code="M1-02"),
        at=T0 + 25 * H,
        reason="cell repairs",
    )
    assert current_absence(held) == absence
    assert out_of_cells(facility=absence.episode.facility) == {
        Cell.objects.get(code="M1-02").pk: {"court": 1, "hospital": 0, "other": 0}
    }


# --- release while out -----------------------------------------------------------------------


@pytest.mark.parametrize("reason", ["court_order", "death", "sentence_served", "transferred"])
def test_release_while_out_closes_the_absence_in_the_same_entry(held: Any, reason: str) -> None:
    absence = court(held, kind="hospital")
    before = ledger_size()
    at = T0 + 26 * H
    custody_release(actor=OFFICER, person=held, reason=reason, at=at)
    absence.refresh_from_db()
    assert (absence.ended_at, absence.ended_how, absence.ended_by) == (at, "released", "test:duty")
    assert ledger_size() == before + 1  # one entry: the release, which says so
    entry = LedgerEntry.objects.order_by("-index").first()
    assert entry is not None
    assert entry.action == "custody.released"
    assert entry.payload["absence_ended"]["id"] == absence.pk
    assert entry.payload["absence_ended"]["how"] == "released"
    assert verify_ledger().ok, verify_ledger().problems


@pytest.mark.parametrize("reason", ["repatriated", "returned_to_sending_state", "other"])
def test_release_while_out_for_a_handover_is_refused(held: Any, reason: str) -> None:
    court(held)
    refused(
        lambda: custody_release(actor=OFFICER, person=held, reason=reason, at=T0 + 26 * H),
        Conflict,
        "record their return before a release",
    )


def test_release_while_out_not_before_the_departure(held: Any) -> None:
    court(held)
    refused(
        lambda: custody_release(
            actor=OFFICER,
            person=held,
            reason="court_order",
            at=T0 + 24 * H - dt.timedelta(seconds=1),
        ),
        ValidationFailed,
        "before the departure",
    )
    custody_release(actor=OFFICER, person=held, reason="court_order", at=T0 + 24 * H)


def test_release_not_inside_a_finished_absence(held: Any) -> None:
    """A release dated before the last return would put it inside the absence."""
    absence = court(held)
    absence_end(actor=OFFICER, absence=absence, returned_at=T0 + 30 * H)
    refused(
        lambda: custody_release(actor=OFFICER, person=held, reason="repatriated", at=T0 + 29 * H),
        ValidationFailed,
        "before the return from the last absence",
    )
    episode = custody_release(actor=OFFICER, person=held, reason="repatriated", at=T0 + 30 * H)
    assert episode.released_at == T0 + 30 * H
    entry = LedgerEntry.objects.order_by("-index").first()
    assert entry is not None
    assert "absence_ended" not in entry.payload


def test_release_without_absences_is_unchanged(held: Any) -> None:
    custody_release(actor=OFFICER, person=held, reason="repatriated", at=T0 + H)
    entry = LedgerEntry.objects.order_by("-index").first()
    assert entry is not None
    assert "absence_ended" not in entry.payload


# --- roll view and counted roll ------------------------------------------------------------


@pytest.fixture
def crowd(world: dict[str, Any], actor: Actor) -> dict[str, Any]:
    """M1-01: three people, one at court and one in hospital; M1-02: one at a funeral and
    one back from an appointment; M2-01: one in (civil)."""
    from tests.conftest import removal_order

    people = {}
    for name, cell in [
        ("court", "M1-01"),
        ("hospital", "M1-01"),
        ("in", "M1-01"),
        ("funeral", "M1-02"),
        ("back", "M1-02"),
    ]:
        people[name] = make_person(actor)
        admit(actor, people[name], world["tec"], world["us"], at=T0, cell=cell)
    people["civil"] = make_person(actor)
    admit(
        actor, people["civil"], world["tec"], world["us"], at=T0, cell="M2-01",
        bases=[removal_order()],
    )  # fmt: skip
    court(people["court"], at=T0 + 24 * H)
    court(people["hospital"], at=T0 + 20 * H, kind="hospital", destination="Hospital Rosales")
    court(people["funeral"], at=T0 + 22 * H, kind="funeral_or_family_visit", escort="")
    back = court(people["back"], at=T0 + 2 * H, kind="medical_appointment")
    absence_end(actor=OFFICER, absence=back, returned_at=T0 + 5 * H)
    return people


def test_roll_view_counts_out_by_kind(world: dict[str, Any], crowd: dict[str, Any]) -> None:
    rows = {r.code: r for r in roll_view(facility=world["tec"], on=T0.date())}
    m1 = rows["M1"]
    assert (m1.population, m1.out, m1.in_cell) == (5, 3, 2)
    assert (m1.out_court, m1.out_hospital, m1.out_other) == (1, 1, 1)
    assert m1.vacancies == 12 - 5  # people out keep their bed
    m2 = rows["M2"]
    assert (m2.population, m2.out, m2.in_cell) == (1, 0, 1)


def test_roll_view_medical_appointment_counts_as_hospital(
    world: dict[str, Any], crowd: dict[str, Any]
) -> None:
    court(crowd["back"], at=T0 + 30 * H, kind="medical_appointment")
    m1 = {r.code: r for r in roll_view(facility=world["tec"])}["M1"]
    assert (m1.out_court, m1.out_hospital, m1.out_other, m1.in_cell) == (1, 2, 1, 1)


def test_counted_roll_does_not_expect_people_who_are_out(
    world: dict[str, Any], crowd: dict[str, Any], actor: Actor
) -> None:
    """Counted at T0+25h: M1-01 holds three, two of them out (court, hospital) → one in
    the cell is no discrepancy; M1-02 holds two, one at a funeral → one."""
    roll = roll_count_record(
        actor=actor,
        facility=world["tec"],
        counted_at=T0 + 25 * H,
        lines=[RollLine("M1-01", 1, 1), RollLine("M1-02", 1, 2), RollLine("M2-01", 1, 3)],
    )
    assert (roll.expected, roll.counted, roll.discrepancies) == (3, 3, 0)


def test_counted_roll_still_finds_a_real_discrepancy_beside_people_out(
    world: dict[str, Any], crowd: dict[str, Any], actor: Actor
) -> None:
    """Counting the person at court as present in M1-01 is a discrepancy (+1): the registry
    says they are out."""
    roll = roll_count_record(
        actor=actor,
        facility=world["tec"],
        counted_at=T0 + 25 * H,
        lines=[RollLine("M1-01", 2, 1)],
    )
    assert (roll.expected, roll.counted, roll.discrepancies) == (1, 2, 1)
    line = roll.lines.get()
    assert (line.expected, line.counted) == (1, 2)


def test_counted_roll_uses_the_absences_at_the_count_time(
    world: dict[str, Any], crowd: dict[str, Any], actor: Actor
) -> None:
    """Counted at T0+3h (the appointment then under way, court and hospital not yet gone):
    M1-01 expects all three, M1-02 expects one of two; counted at the court departure
    instant the person at court is out."""
    early = roll_count_record(
        actor=actor,
        facility=world["tec"],
        counted_at=T0 + 3 * H,
        lines=[RollLine("M1-01", 3, 1), RollLine("M1-02", 1, 2)],
    )
    assert (early.expected, early.discrepancies) == (4, 0)
    at_departure = roll_count_record(
        actor=actor,
        facility=world["tec"],
        counted_at=T0 + 24 * H,
        lines=[RollLine("M1-01", 1, 1)],
    )
    assert (at_departure.expected, at_departure.discrepancies) == (1, 0)
    # back at the instant of the return: expected in the cell again
    at_return = roll_count_record(
        actor=actor, facility=world["tec"], counted_at=T0 + 5 * H, lines=[RollLine("M1-02", 2, 1)]
    )
    assert (at_return.expected, at_return.discrepancies) == (2, 0)


def test_roll_cli_with_someone_at_court(
    world: dict[str, Any], crowd: dict[str, Any], tmp_path: Any
) -> None:
    csv = tmp_path / "roll.csv"
    at = (T0 + 25 * H).isoformat()
    csv.write_text(f"cell,counted,counted_at\nM1-01,1,{at}\nM1-02,1,{at}\n")
    code, out, err = run_cli("roll-count", "--facility", "TEC", str(csv))
    assert code == 0, out + err  # exit 0: every count matches
    assert "expected 2, 0 discrepancies" in out
    csv.write_text(f"cell,counted,counted_at\nM1-01,3,{at}\n")  # the court case counted in
    code, out, _ = run_cli("roll-count", "--facility", "TEC", str(csv))
    assert code == 1
    assert "1 discrepancies" in out


# --- show --json and the ledger -------------------------------------------------------------


def test_show_json_says_where_the_person_is_while_out(held: Any) -> None:
    code, out, _ = run_cli("show", str(held.pk), "--json")
    assert code == 0
    assert json.loads(out)["absence"] is None
    court(held, expected_return_at=T0 + 30 * H)
    doc = json.loads(run_cli("show", str(held.pk), "--json")[1])
    assert doc["absence"] == {
        "kind": "court",
        "destination": "Juzgado Primero de Sentencia, San Salvador",
        "since": "2025-03-17T14:05:00Z",
        "expected_return_at": "2025-03-17T20:05:00Z",
    }
    assert doc["cell"] == "M1-01"  # the bed is kept


def test_verify_ledger_replays_absences(world: dict[str, Any], crowd: dict[str, Any]) -> None:
    custody_release(actor=OFFICER, person=crowd["court"], reason="court_order", at=T0 + 26 * H)
    result = verify_ledger()
    assert result.ok, result.problems


@pytest.mark.tampers
def test_verify_ledger_names_a_changed_absence(crowd: dict[str, Any]) -> None:
    absence = current_absence(crowd["court"])
    assert absence is not None
    tamper(
        "UPDATE custody_temporaryabsence SET destination = %s WHERE id = %s",
        ["nowhere", absence.pk],
    )
    tamper(
        "UPDATE custody_temporaryabsence SET ended_at = started_at, ended_how = 'returned' "
        "WHERE id = %s",
        [current_absence(crowd["hospital"]).pk],  # type: ignore[union-attr]
    )
    where = {p.where for p in verify_ledger().problems}
    assert f"custody.TemporaryAbsence.{absence.pk}.destination" in where
    hospital = TemporaryAbsence.objects.get(kind="hospital")
    assert f"custody.TemporaryAbsence.{hospital.pk}.ended_at" in where
    assert f"custody.TemporaryAbsence.{hospital.pk}.ended_how" in where


@pytest.mark.tampers
def test_verify_ledger_names_added_and_removed_absences(crowd: dict[str, Any]) -> None:
    absence = current_absence(crowd["court"])
    assert absence is not None
    tamper("DELETE FROM custody_temporaryabsence WHERE id = %s", [absence.pk])
    columns = ", ".join(
        f.column for f in TemporaryAbsence._meta.concrete_fields if not f.primary_key
    )
    back = TemporaryAbsence.objects.get(kind="medical_appointment")
    tamper(
        f"INSERT INTO custody_temporaryabsence ({columns}) "
        f"SELECT {columns} FROM custody_temporaryabsence WHERE id = %s",
        [back.pk],
    )
    added = TemporaryAbsence.objects.order_by("-pk").first()
    assert added is not None
    code, out, _ = run_cli("verify-ledger", "--json")
    assert code == 1
    problems = {p["where"]: p["message"] for p in json.loads(out)["problems"]}
    assert "removed" in problems[f"custody.TemporaryAbsence.{absence.pk}"]
    assert "added" in problems[f"custody.TemporaryAbsence.{added.pk}"]


def test_database_refuses_an_other_absence_without_description(held: Any) -> None:
    absence = court(held)
    with connection.cursor() as cursor, pytest.raises(IntegrityError), transaction.atomic():
        cursor.execute(
            "UPDATE custody_temporaryabsence SET kind = 'other', kind_other = '' WHERE id = %s",
            [absence.pk],
        )
