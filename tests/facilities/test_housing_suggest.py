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

from habeas.core.actor import Actor
from habeas.custody.services import LegalBasisSpec, custody_release
from habeas.facilities import selectors
from habeas.facilities.housing import (
    Occupant,
    TrialMix,
    cell_loads,
    crowding_key,
    occupancy,
    ranked_cells,
    refusals,
    trial_mix,
)
from habeas.facilities.models import Cell
from habeas.facilities.selectors import housing_snapshot, placement_suggest
from habeas.facilities.services import keep_apart_open
from tests.conftest import admit, make_person, removal_order, sentence

AT = dt.datetime(2025, 3, 16, 14, 5, tzinfo=dt.UTC)
LATER = AT + dt.timedelta(hours=1)


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


def test_cell_loads_counts_open_placements_and_the_trial_mix(
    world: dict[str, Any], mixed: dict[str, Any]
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
    world: dict[str, Any], actor: Actor
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
