"""The housing planner (issue 4): its output re-checked by an independent validator, on
synthetic data and on a facility read from the database, and ``housing-plan --apply``."""

from __future__ import annotations

import json
import random
import sys
from collections import Counter
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from habeas.core.actor import Actor
from habeas.facilities.services import cell_certify
from habeas.housing.models import Placement
from habeas.housing.planner import (
    PlanCell,
    PlanPair,
    PlanPerson,
    Problem,
    order_moves,
    problem_for,
    solve,
)
from habeas.housing.services import keep_apart_open
from habeas.ledger.models import LedgerEntry
from tests.conftest import admit, make_person

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from bench_housing import synthetic, validate


def independent_check(problem: Problem, assignment: dict[int, int]) -> list[str]:
    """Re-derive every rule from the raw problem (no planner code)."""
    return validate(problem, assignment)


def small_problem(seed: int) -> Problem:
    rng = random.Random(seed)
    cells = [
        PlanCell(
            i,
            f"C{i}",
            module=1 + (i - 1) // 4,
            module_code=f"M{1 + (i - 1) // 4}",
            population="adult_male",
            regime="criminal" if i <= 8 else "civil",
            certified=rng.randint(2, 5),
            working=rng.randint(6, 9),
        )
        for i in range(1, 13)
    ]
    people = []
    count: Counter[int] = Counter()
    for pid in range(1, 61):
        regime = "criminal" if pid <= 36 else "civil"
        pool = [c for c in cells if c.regime == regime and count[c.id] < c.working]
        c = pool[0] if rng.random() < 0.5 else rng.choice(pool)
        count[c.id] += 1
        people.append(PlanPerson(pid, "M", False, regime, False, c.id))
    # untried people in one cell of their own
    pairs = []
    for k in range(12):
        a, b = sorted(rng.sample(range(1, 61), 2))
        if any((p.a, p.b) == (a, b) for p in pairs):
            continue
        if people[a - 1].cell == people[b - 1].cell:
            continue
        pairs.append(PlanPair(k + 1, a, b, rng.choice(["cell", "module"])))
    return Problem(cells=cells, people=people, pairs=pairs)


@pytest.mark.parametrize("seed", range(5))
def test_planner_output_passes_the_independent_validator(seed: int) -> None:
    problem = small_problem(seed)
    plan = solve(problem, time_limit=5)
    assert plan.status in {"optimal", "improved", "start"}
    assert independent_check(problem, plan.assignment) == []
    # Never worse than first-fit-decreasing, never better than the lower bound.
    assert plan.after.worst_excess <= plan.start.worst_excess
    assert plan.after.above_certified >= plan.lower_bound.above_certified
    assert plan.after.worst_excess >= plan.lower_bound.worst_excess
    # The moves can be carried out one by one without breaking a rule on the way.
    ordered = order_moves(problem, plan.moves)
    where = {p.id: p.cell for p in problem.people}
    for move in ordered:
        where[move.person] = move.to_cell
        assert max(Counter(where.values()).values()) <= max(c.working for c in problem.cells)
    assert where == plan.assignment


def test_planner_on_a_facility_with_keep_apart_pairs_at_scale() -> None:
    problem = synthetic(people=4_000, pairs=300, seed=3)
    plan = solve(problem, time_limit=5)
    assert independent_check(problem, plan.assignment) == []
    assert plan.after.above_certified >= plan.lower_bound.above_certified


def test_a_validator_catches_a_broken_plan() -> None:
    problem = small_problem(1)
    plan = solve(problem, time_limit=2)
    broken = dict(plan.assignment)
    pair = next(p for p in problem.pairs if p.scope == "cell")
    broken[pair.a] = broken[pair.b]
    assert independent_check(problem, broken)


def test_housing_plan_command_applies_moves_on_the_ledger(
    world: dict[str, Any], actor: Actor
) -> None:
    admin = Actor(name="dir", role="facility_admin")
    cell_certify(actor=admin, cell=_cell("M1-01"), working_capacity=6, max_capacity=6, reason="r")
    people = [make_person(actor) for _ in range(6)]
    for p in people:
        admit(actor, p, world["tec"], world["us"], cell="M1-01")
    keep_apart_open(actor=actor, person=people[0], other=people[1], scope="cell", reason="r")
    out = StringIO()
    call_command("housing-plan", "--facility", "TEC", "--json", "--time-limit", "3", stdout=out)
    doc = json.loads(out.getvalue())
    assert doc["before"]["worst_excess"] == 1
    assert doc["after"]["worst_excess"] == 0
    out = StringIO()
    call_command(
        "housing-plan", "--facility", "TEC", "--apply", "--json", "--time-limit", "3", stdout=out
    )
    doc = json.loads(out.getvalue())
    assert doc["applied"] == len(doc["moves"]) > 0
    problem = problem_for(world["tec"])
    assert independent_check(problem, {p.id: p.cell for p in problem.people}) == []
    counts = Counter(
        Placement.objects.filter(ended_at__isnull=True).values_list("cell__code", flat=True)
    )
    assert max(counts.values()) <= 5  # certified capacity of the M1 cells (ICRC, 18 m²)
    moved = LedgerEntry.objects.filter(action="placement.moved").count()
    assert moved == doc["applied"]
    assert LedgerEntry.objects.filter(action="facilities.plan_applied").count() == 1


def _cell(code: str) -> Any:
    from habeas.facilities.models import Cell

    return Cell.objects.select_related("facility", "module").get(code=code)
