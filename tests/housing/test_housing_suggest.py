"""Placement suggestion (issue 4): the aggregate reads (one GROUP BY for occupancy and the
untried/convicted mix, this person's keep-apart records only) give exactly what the rules
give cell by cell, and the per-facility snapshot is reused only while the ledger is
unchanged."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from habeas.core.actor import Actor
from habeas.core.errors import ApplicationError
from habeas.core.services import service
from habeas.custody.models import LegalBasis
from habeas.custody.services import LegalBasisSpec, custody_release
from habeas.facilities.models import Cell
from habeas.facilities.services import cell_certify, cell_deactivate, cell_reactivate
from habeas.housing import allocator as housing
from habeas.housing import selectors
from habeas.housing.allocator import (
    Occupant,
    TrialMix,
    cell_loads,
    crowding_key,
    occupancy,
    ranked_cells,
    refusals,
    trial_mix,
)
from habeas.housing.placements import placement_move
from habeas.housing.selectors import housing_snapshot, placement_suggest
from habeas.housing.services import keep_apart_open
from habeas.ledger.services import ledger_append
from tests.conftest import admit, make_person, removal_order, sentence

AT = dt.datetime(2025, 3, 16, 14, 5, tzinfo=dt.UTC)
LATER = AT + dt.timedelta(hours=1)
ACTOR = Actor(name="prop", role="facility_staff")


def untried() -> LegalBasisSpec:
    return dataclasses.replace(sentence(), judgment_final=False)


def unknown_finality() -> LegalBasisSpec:
    return dataclasses.replace(sentence(), judgment_final=None)


def per_cell(facility: Any, who: Occupant) -> tuple[list[str], dict[str, list[str]]]:
    """The naive reading: every cell with its own queries (refusals() reads the trial mix
    and the keep-apart counterparts itself when they are not given)."""
    allowed: list[tuple[Any, str]] = []
    refused: dict[str, list[str]] = {}
    for cell in Cell.objects.filter(facility=facility).select_related("module"):
        n = occupancy([cell.pk])[cell.pk]
        why = refusals(cell, n, who)
        if why:
            refused[cell.code] = [f"{r.rule}: {r.message}" for r in why]
        else:
            allowed.append((crowding_key(cell, n), cell.code))
    return [code for _key, code in sorted(allowed)], refused


def suggested(facility: Any, who: Occupant) -> tuple[list[str], dict[str, list[str]]]:
    s = placement_suggest(facility=facility, who=who)
    return (
        [c.code for c in s.allowed],
        {c.code: [f"{r.rule}: {r.message}" for r in why] for c, why in s.refused},
    )


@pytest.fixture
def mixed(world: dict[str, Any], actor: Actor) -> dict[str, Any]:
    """M1-01: two convicted (one of them also untried on a second case: a final judgment
    makes them convicted); M1-02: two untried (one on two cases); M1-03: empty after a
    release; M2-01: one civil detainee."""
    tec, us = world["tec"], world["us"]
    people = {}
    people["c1"] = make_person(actor)
    admit(actor, people["c1"], tec, us, cell="M1-01")
    people["c2"] = make_person(actor)
    admit(actor, people["c2"], tec, us, bases=[sentence(), untried()], cell="M1-01")
    people["u1"] = make_person(actor)
    admit(actor, people["u1"], tec, us, bases=[untried()], cell="M1-02")
    people["u2"] = make_person(actor)
    admit(actor, people["u2"], tec, us, bases=[untried(), untried()], cell="M1-02")
    people["civil"] = make_person(actor)
    admit(actor, people["civil"], tec, us, bases=[removal_order()], cell="M2-01")
    people["gone"] = make_person(actor)
    admit(actor, people["gone"], tec, us, cell="M1-03")
    custody_release(actor=actor, person=people["gone"], reason="other", at=LATER)
    return people


@pytest.fixture(params=["lookups", "join"])
def loads_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """:func:`cell_loads` both ways: index lookups per placement (a few cells) and one join
    (many cells)."""
    if request.param == "join":
        monkeypatch.setattr(housing, "FEW_CELLS", 0)
    return str(request.param)


def test_cell_loads_counts_open_placements_and_the_trial_mix(
    world: dict[str, Any], mixed: dict[str, Any], loads_path: str
) -> None:
    cells = {c.code: c.pk for c in Cell.objects.filter(facility=world["tec"])}
    count, mix = cell_loads(list(cells.values()))
    assert trial_mix(list(cells.values())) == mix
    assert count == {cells["M1-01"]: 2, cells["M1-02"]: 2, cells["M2-01"]: 1}
    assert mix[cells["M1-01"]] == TrialMix(untried=0, convicted=2)
    assert mix[cells["M1-02"]] == TrialMix(untried=2, convicted=0)
    assert mix[cells["M2-01"]] == TrialMix()  # civil: neither
    assert mix[cells["M1-03"]] == TrialMix()  # the released person is not held
    assert cell_loads([]) == ({}, {})


def test_judgment_of_unknown_finality_counts_as_convicted(
    world: dict[str, Any], actor: Actor, loads_path: str
) -> None:
    p = make_person(actor)
    admit(actor, p, world["tec"], world["us"], bases=[untried(), unknown_finality()])
    cell = Cell.objects.get(placements__episode__person=p)
    assert cell_loads([cell.pk])[1][cell.pk] == TrialMix(untried=0, convicted=1)


@pytest.mark.parametrize(
    "who",
    [
        Occupant(sex="M", youth=False, regime="criminal"),
        Occupant(sex="M", youth=False, regime="criminal", untried=True),
        Occupant(sex="M", youth=False, regime="civil"),
        Occupant(sex="F", youth=False, regime="civil"),
        Occupant(sex="X", youth=True, regime="criminal"),
    ],
)
def test_suggestion_matches_the_rules_applied_cell_by_cell(
    world: dict[str, Any], mixed: dict[str, Any], who: Occupant
) -> None:
    assert suggested(world["tec"], who) == per_cell(world["tec"], who)


def test_suggestion_reads_only_this_persons_keep_apart_records(
    world: dict[str, Any], actor: Actor, mixed: dict[str, Any]
) -> None:
    newcomer, outside, unrelated = (make_person(actor) for _ in range(3))
    keep_apart_open(actor=actor, person=newcomer, other=mixed["c1"], scope="cell", reason="threats")
    keep_apart_open(
        actor=actor, person=outside, other=newcomer, scope="facility", reason="not held"
    )
    keep_apart_open(
        actor=actor, person=unrelated, other=mixed["civil"], scope="facility", reason="other"
    )
    who = Occupant(sex="M", youth=False, regime="criminal", person_id=newcomer.pk)
    allowed, refused = suggested(world["tec"], who)
    assert (allowed, refused) == per_cell(world["tec"], who)
    assert any(r.startswith("keep_apart:cell") for r in refused["M1-01"])
    assert allowed == ["M1-03"]  # M1-02 holds untried people; the records elsewhere don't count
    who_mod = Occupant(sex="M", youth=False, regime="civil", person_id=mixed["c2"].pk)
    keep_apart_open(
        actor=actor, person=mixed["c2"], other=mixed["civil"], scope="module", reason="gang"
    )
    allowed, refused = suggested(world["tec"], who_mod)
    assert (allowed, refused) == per_cell(world["tec"], who_mod)
    assert [r.split(":")[0:2] for r in refused["M2-02"]] == [["keep_apart", "module"]]


def test_ranked_cells_sorts_allowed_cells_least_crowded_first(
    world: dict[str, Any], mixed: dict[str, Any]
) -> None:
    cells = list(Cell.objects.filter(facility=world["tec"]).select_related("module"))
    count, mix = cell_loads([c.pk for c in cells])
    who = Occupant(sex="M", youth=False, regime="civil")
    allowed, refused = ranked_cells(cells, count, mix, [], who)
    assert [c.code for c in allowed] == ["M2-02", "M2-01"]
    assert {c.code for c, _why in refused} == {"M1-01", "M1-02", "M1-03", "W1-01"}


# --- the snapshot ------------------------------------------------------------------------


@pytest.fixture
def reusable(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests run inside a transaction, where snapshots are never kept: pretend otherwise."""
    monkeypatch.setattr(selectors, "_snapshot_reusable", lambda: True)
    monkeypatch.setattr(selectors, "_SNAPSHOTS", {})


def test_snapshot_is_not_kept_inside_a_transaction(world: dict[str, Any], actor: Actor) -> None:
    selectors._SNAPSHOTS.clear()
    assert connection.in_atomic_block
    placement_suggest(facility=world["tec"], who=Occupant(sex="M", youth=False, regime="civil"))
    assert selectors._SNAPSHOTS == {}


def test_snapshot_is_reused_while_the_ledger_is_unchanged(
    world: dict[str, Any], actor: Actor, reusable: None
) -> None:
    who = Occupant(sex="M", youth=False, regime="criminal")
    first = placement_suggest(facility=world["tec"], who=who)
    with CaptureQueriesContext(connection) as ctx:
        again = placement_suggest(facility=world["tec"], who=who)
    assert again.counts == first.counts
    assert [c.code for c in again.allowed] == [c.code for c in first.allowed]
    assert not any("custody_placement" in q["sql"] for q in ctx.captured_queries)
    assert not any('"facilities_cell"' in q["sql"] for q in ctx.captured_queries)
    assert len(ctx.captured_queries) == 1  # the ledger version (no keep-apart: no person)


def test_snapshot_is_read_again_after_any_write(
    world: dict[str, Any], actor: Actor, reusable: None
) -> None:
    who = Occupant(sex="M", youth=False, regime="criminal")
    before = placement_suggest(facility=world["tec"], who=who)
    m1 = Cell.objects.get(code="M1-03")
    assert before.counts[m1.pk] == 0
    p = make_person(actor)
    admit(actor, p, world["tec"], world["us"], cell="M1-03")
    after = placement_suggest(facility=world["tec"], who=who)
    assert after.counts[m1.pk] == 1
    assert housing_snapshot(world["tec"]) is housing_snapshot(world["tec"])
    custody_release(actor=actor, person=p, reason="other", at=LATER)
    assert placement_suggest(facility=world["tec"], who=who).counts[m1.pk] == 0


def test_snapshot_version_is_the_ledger_hash_not_only_its_size(
    world: dict[str, Any], actor: Actor, reusable: None
) -> None:
    """A snapshot read at a version that was rolled back is never served for another
    transaction's entry at the same index."""
    p = make_person(actor)
    version = selectors.ledger_version()
    assert version is not None
    key = (connection.alias, str(connection.settings_dict["NAME"]), world["tec"].pk)
    stale = selectors.HousingSnapshot((version[0] + 1, "f" * 64), [], {}, {})
    selectors._SNAPSHOTS[key] = stale
    admit(actor, p, world["tec"], world["us"], cell="M1-01")
    assert selectors.ledger_version()[0] == version[0] + 1  # type: ignore[index]
    snap = housing_snapshot(world["tec"])
    assert snap is not stale
    assert sum(snap.count.values()) == 1


# --- incremental refresh: only the cells the new ledger entries name are read again -------


def snapshot_shape(snap: selectors.HousingSnapshot) -> Any:
    """What a suggestion reads from a snapshot, in a comparable form."""
    return (
        sorted(
            (
                c.pk,
                c.code,
                c.module_id,
                c.module.population,
                c.module.regime,
                c.active,
                c.certified_capacity,
                c.working_capacity,
                c.max_capacity,
                c.floor_area_m2,
                c.sanitary_area_m2,
            )
            for c in snap.cells
        ),
        {pk: n for pk, n in snap.count.items() if n},
        {pk: (m.untried, m.convicted) for pk, m in snap.mix.items() if m.untried or m.convicted},
    )


def from_scratch(facility: Any) -> Any:
    """Every cell read afresh, with the one-join form of :func:`cell_loads` (the snapshot's
    incremental refresh reads a few cells with the index-lookup form)."""
    cells = list(Cell.objects.filter(facility=facility).select_related("module"))
    few, housing.FEW_CELLS = housing.FEW_CELLS, 0
    try:
        count, mix = cell_loads([c.pk for c in cells])
    finally:
        housing.FEW_CELLS = few
    return snapshot_shape(selectors.HousingSnapshot(None, cells, count, dict(mix)))


@pytest.fixture
def refreshes(monkeypatch: pytest.MonkeyPatch, reusable: None) -> list[bool]:
    """Records, for every snapshot brought up to date, whether it was incremental (True) or
    had to be read afresh (False)."""
    seen: list[bool] = []
    real = selectors._refreshed

    def spy(*args: Any) -> Any:
        result = real(*args)
        seen.append(result is not None)
        return result

    monkeypatch.setattr(selectors, "_refreshed", spy)
    return seen


ADMIN = Actor(name="test:director", role="facility_admin")
WHO = [
    Occupant(sex="M", youth=False, regime="criminal"),
    Occupant(sex="M", youth=False, regime="criminal", untried=True),
    Occupant(sex="M", youth=False, regime="civil"),
    Occupant(sex="F", youth=False, regime="civil"),
]


@service
def judgment_finalise(*, actor: Actor, person: Any) -> None:
    """Stands for a write path the snapshot does not know (no service changes a legal basis
    after admission yet): a person's criminal judgments become final, with a ledger entry
    of an action the registry does not declare (:func:`selectors.housing_effect`)."""
    for basis in LegalBasis.objects.filter(person=person, kind="criminal_sentence"):
        basis.judgment_final = True
        basis.save(update_fields=["judgment_final"])
    ledger_append(
        actor=actor,
        action="custody.judgment_finalised",
        subject=f"person:{person.pk}",
        payload={"person": person.pk},
    )


def test_one_admission_reads_again_only_its_cell(
    world: dict[str, Any], actor: Actor, mixed: dict[str, Any], refreshes: list[bool]
) -> None:
    who = WHO[0]
    placement_suggest(facility=world["tec"], who=who)
    p = make_person(actor)
    admit(actor, p, world["tec"], world["us"], cell="M1-03")
    m103 = Cell.objects.get(code="M1-03")
    with CaptureQueriesContext(connection) as ctx:
        after = placement_suggest(facility=world["tec"], who=who)
    assert refreshes == [True]
    assert after.counts[m103.pk] == 1
    assert snapshot_shape(housing_snapshot(world["tec"])) == from_scratch(world["tec"])
    sqls = [q["sql"] for q in ctx.captured_queries]
    # the ledger version, the entries since, the placement's cell, that one cell's load
    assert len(sqls) == 4
    assert not any('"facilities_cell"' in s for s in sqls)
    (loads,) = [s for s in sqls if "judgment_final" in s]
    assert "GROUP BY" not in loads  # index lookups for this one cell, no join over them all
    assert f"IN ({m103.pk})" in loads


def test_moves_releases_and_other_facilities(
    world: dict[str, Any], actor: Actor, mixed: dict[str, Any], refreshes: list[bool]
) -> None:
    tec = world["tec"]
    placement_suggest(facility=tec, who=WHO[2])
    placement_move(
        actor=actor, person=mixed["civil"], cell=Cell.objects.get(code="M2-02"), at=LATER,
        reason="r",
    )  # fmt: skip
    custody_release(actor=actor, person=mixed["c1"], reason="other", at=LATER)
    elsewhere = make_person(actor)
    admit(actor, elsewhere, world["oth"], world["gt"], cell="A-01")
    for who in WHO:
        assert suggested(tec, who) == per_cell(tec, who)
    assert refreshes == [True]
    assert snapshot_shape(housing_snapshot(tec)) == from_scratch(tec)


def test_capacity_changes_read_the_cell_row_again(
    world: dict[str, Any], actor: Actor, mixed: dict[str, Any], refreshes: list[bool]
) -> None:
    tec = world["tec"]
    cell = Cell.objects.get(code="M2-02")
    assert placement_suggest(facility=tec, who=WHO[2]).allowed[0].code == "M2-02"
    cell_deactivate(actor=ADMIN, cell=cell, reason="damaged")
    s = placement_suggest(facility=tec, who=WHO[2])
    assert [c.code for c in s.allowed] == ["M2-01"]
    assert ("M2-02", ["active"]) in [(c.code, [r.rule for r in why]) for c, why in s.refused]
    cell_reactivate(actor=ADMIN, cell=cell)
    cell_certify(
        actor=ADMIN, cell=Cell.objects.get(code="M2-01"), working_capacity=1, max_capacity=6,
        reason="staff shortage",
    )  # fmt: skip
    for who in WHO:
        assert suggested(tec, who) == per_cell(tec, who)
    assert refreshes == [True, True]
    assert snapshot_shape(housing_snapshot(tec)) == from_scratch(tec)


@pytest.mark.tampers
def test_unknown_actions_and_long_gaps_read_everything_afresh(
    world: dict[str, Any], actor: Actor, mixed: dict[str, Any], refreshes: list[bool],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    tec = world["tec"]
    assert "M1-01" not in [c.code for c in placement_suggest(facility=tec, who=WHO[1]).allowed]
    judgment_finalise(actor=actor, person=mixed["u1"])
    judgment_finalise(actor=actor, person=mixed["u2"])
    s = placement_suggest(facility=tec, who=WHO[0])  # M1-02 now holds two convicted
    assert "M1-02" in [c.code for c in s.allowed]
    assert refreshes == [False]
    assert snapshot_shape(housing_snapshot(tec)) == from_scratch(tec)
    monkeypatch.setattr(selectors, "MAX_INCREMENTAL_ENTRIES", 2)
    for _ in range(3):
        make_person(actor)
    placement_suggest(facility=tec, who=WHO[0])
    assert refreshes == [False, False]


step = st.one_of(
    st.tuples(
        st.just("admit"),
        st.sampled_from(["conv", "untried", "civil", "woman", "elsewhere"]),
        st.sampled_from([None, "M1-01", "M1-02", "M1-03", "M2-01", "W1-01"]),
    ),
    st.tuples(
        st.just("move"),
        st.integers(0, 30),
        st.sampled_from(["M1-01", "M1-02", "M1-03", "M2-01", "M2-02", "W1-01"]),
    ),
    st.tuples(st.just("release"), st.integers(0, 30), st.none()),
    st.tuples(
        st.just("certify"),
        st.sampled_from(["M1-01", "M1-02", "M2-01", "W1-01"]),
        st.integers(0, 3),
    ),
    st.tuples(st.just("deactivate"), st.sampled_from(["M1-03", "M2-02"]), st.none()),
    st.tuples(st.just("reactivate"), st.sampled_from(["M1-03", "M2-02"]), st.none()),
    st.tuples(st.just("apart"), st.integers(0, 30), st.integers(0, 30)),
    st.tuples(st.just("finalise"), st.integers(0, 30), st.none()),
)


@pytest.mark.django_db
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(steps=st.lists(st.tuples(step, st.booleans()), min_size=1, max_size=20))
def test_incremental_snapshot_equals_one_read_from_scratch(
    world: dict[str, Any], refreshes: list[bool], steps: list[tuple[tuple[Any, Any, Any], bool]]
) -> None:
    """Any sequence of admissions (here and in another facility), moves, releases,
    certifications, deactivations, keep-apart records and a legal-basis change, with a
    suggestion after some of the steps (so one refresh may cover several entries): the
    snapshot equals the one read from scratch, and the suggestion the rules applied cell by
    cell."""
    from django.db import transaction

    tec = world["tec"]
    cell = {c.code: c for c in Cell.objects.filter(facility=tec)}
    sid = transaction.savepoint()
    selectors._SNAPSHOTS.clear()
    refreshes.clear()
    try:
        people: list[Any] = []
        clock = AT
        placement_suggest(facility=tec, who=WHO[0])
        for (kind, x, y), look in steps:
            clock += dt.timedelta(minutes=5)
            someone = people[x % len(people)] if people and isinstance(x, int) else None
            try:
                if kind == "admit":
                    person = make_person(ACTOR, sex="F" if x == "woman" else "M")
                    bases = {
                        "conv": [sentence()],
                        "untried": [untried()],
                        "elsewhere": [sentence()],
                    }.get(x, [removal_order()])
                    people.append(person)
                    if x == "elsewhere":
                        admit(ACTOR, person, world["oth"], world["gt"], bases=bases, at=clock)
                    else:
                        admit(ACTOR, person, tec, world["us"], bases=bases, at=clock, cell=y)
                elif kind == "move" and someone:
                    placement_move(
                        actor=ACTOR, person=someone, cell=cell[y], at=clock, reason="prop"
                    )
                elif kind == "release" and someone:
                    custody_release(actor=ACTOR, person=someone, reason="other", at=clock)
                elif kind == "certify":
                    c = Cell.objects.get(pk=cell[x].pk)
                    cell_certify(
                        actor=ADMIN, cell=c, working_capacity=min(y, c.max_capacity),
                        max_capacity=c.max_capacity, reason="prop", at=clock,
                    )  # fmt: skip
                elif kind == "deactivate":
                    cell_deactivate(actor=ADMIN, cell=cell[x], reason="damaged", at=clock)
                elif kind == "reactivate":
                    cell_reactivate(actor=ADMIN, cell=cell[x], at=clock)
                elif kind == "apart" and someone and len(people) > 1:
                    other = people[y % len(people)]
                    if other.pk != someone.pk:
                        keep_apart_open(
                            actor=ACTOR, person=someone, other=other, scope="cell", reason="p"
                        )
                elif kind == "finalise" and someone:
                    judgment_finalise(actor=ACTOR, person=someone)
            except ApplicationError:
                pass
            if look:
                for who in WHO:
                    assert suggested(tec, who) == per_cell(tec, who)
                assert snapshot_shape(housing_snapshot(tec)) == from_scratch(tec)
        assert suggested(tec, WHO[2]) == per_cell(tec, WHO[2])
        assert snapshot_shape(housing_snapshot(tec)) == from_scratch(tec)
        finalised = any(kind == "finalise" for (kind, _x, _y), _look in steps)
        assert finalised or all(refreshes)  # known actions never read everything afresh
    finally:
        transaction.savepoint_rollback(sid)
