"""The housing planner (``habeas housing-plan``): a whole-facility placement that keeps every
housing rule (:mod:`habeas.housing.allocator`: working capacity, Mandela Rule 11 separation
of sex, age, regime, untried/convicted, keep-apart records) and minimises, in this order:

1. the people above certified capacity in the worst cell (the largest excess of one cell);
2. the people above certified capacity in all (STANDARDS.md: CNA may be exceeded, and that is
   reported as overcrowding);
3. the number of moves.

Method: a first-fit-decreasing start (most constrained people first; everyone stays where
they are while their cell is below the level the group can reach, the rest go to the least
crowded cell every rule allows), then OR-Tools CP-SAT within the time limit, hinted with the
start and with presolve bounded, because CP-SAT can stall in presolve on dense conflict
graphs. When the solver finds nothing better in time, the start is the plan.

People without keep-apart records are interchangeable within their class (eligible cells,
untried or convicted), so the model counts them per cell instead of placing each one; people
under keep-apart records are placed individually, among a few candidate cells each.

Pure data in, pure data out: :func:`problem_for` reads a facility, :func:`solve` plans,
:func:`order_moves` sequences the moves so that every intermediate state keeps the rules.
"""

from __future__ import annotations

import math
import os
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q
from ortools.sat.python import cp_model  # imported with the module: ~2 s, outside the limit

from habeas.core.clock import now
from habeas.facilities.models import Cell, Facility
from habeas.housing.allocator import (
    Occupant,
    is_untried,
    is_youth,
    placement_model,
    population_for,
    regime_of,
)
from habeas.housing.models import KeepApart

#: Candidate cells per person under a keep-apart record, besides current and start cells.
CANDIDATES = 4


@dataclass(frozen=True)
class PlanCell:
    id: int
    code: str
    module: int
    module_code: str
    population: str
    regime: str
    certified: int
    working: int
    active: bool = True


@dataclass(frozen=True)
class PlanPerson:
    id: int
    sex: str
    youth: bool
    regime: str
    untried: bool
    cell: int | None  # where the person is now

    @property
    def occupant(self) -> Occupant:
        return Occupant(
            sex=self.sex,
            youth=self.youth,
            regime="criminal" if self.regime == "criminal" else "civil",
            untried=self.untried,
            person_id=self.id,
        )


@dataclass(frozen=True)
class PlanPair:
    keep_apart: int
    a: int
    b: int
    scope: str  # cell | module | facility


@dataclass
class Problem:
    cells: list[PlanCell]
    people: list[PlanPerson]
    pairs: list[PlanPair] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.cell = {c.id: c for c in self.cells}
        self.person = {p.id: p for p in self.people}
        self._eligible: dict[tuple[str, bool, str], tuple[list[int], frozenset[int]]] = {}

    def _options(self, person: PlanPerson) -> tuple[list[int], frozenset[int]]:
        key = (person.sex, person.youth, person.regime)
        found = self._eligible.get(key)
        if found is None:
            populations = population_for(person.occupant)
            cells = [
                c.id
                for c in self.cells
                if c.active and c.population in populations and c.regime == person.regime
            ]
            found = self._eligible[key] = (cells, frozenset(cells))
        return found

    def eligible(self, person: PlanPerson) -> list[int]:
        """Active cells whose module population and regime may hold ``person``."""
        return self._options(person)[0]

    def may_hold(self, person: PlanPerson, cell: int) -> bool:
        return cell in self._options(person)[1]

    def group(self, person: PlanPerson) -> tuple[str, str]:
        """The (population, regime) group a person counts against (sex X: the first)."""
        age = "youth" if person.youth else "adult"
        sex = "female" if person.sex == "F" else "male"
        return (f"{age}_{sex}", person.regime)

    def grandfathered(self, pair: PlanPair) -> bool:
        """A pair already in one module (a facility admin's override): the planner does not
        separate them by module, but never puts them in one cell."""
        a, b = self.person[pair.a].cell, self.person[pair.b].cell
        return a is not None and b is not None and self.cell[a].module == self.cell[b].module


@dataclass(frozen=True)
class Move:
    person: int
    from_cell: int | None
    to_cell: int


@dataclass
class Figures:
    """Crowding of one assignment: people above certified capacity (sum and worst cell)."""

    population: int
    above_certified: int
    worst_excess: int
    cells_over_certified: int
    moves: int = 0

    def as_dict(self) -> dict[str, int]:
        return {
            "population": self.population,
            "above_certified": self.above_certified,
            "worst_excess": self.worst_excess,
            "cells_over_certified": self.cells_over_certified,
            "moves": self.moves,
        }


@dataclass
class Plan:
    assignment: dict[int, int]
    moves: list[Move]
    status: str  # optimal | improved | start | infeasible
    before: Figures
    start: Figures
    after: Figures
    lower_bound: Figures
    seconds: float
    solver: dict[str, Any] = field(default_factory=dict)
    unplaced: list[int] = field(default_factory=list)

    def document(self, problem: Problem) -> dict[str, Any]:
        code = {c.id: c.code for c in problem.cells}
        return {
            "status": self.status,
            "before": self.before.as_dict(),
            "first_fit_decreasing": self.start.as_dict(),
            "after": self.after.as_dict(),
            "lower_bound": self.lower_bound.as_dict(),
            "seconds": round(self.seconds, 3),
            "solver": self.solver,
            "unplaced": [str(p) for p in self.unplaced],
            "moves": [
                {
                    "person": str(m.person),
                    "from": code.get(m.from_cell) if m.from_cell else None,
                    "to": code[m.to_cell],
                }
                for m in self.moves
            ],
        }


# --- reading a facility ------------------------------------------------------------------


def problem_for(facility: Facility) -> Problem:
    """The facility's cells, the people held there now (through custody's reverse relations
    on :class:`Cell`) and the open keep-apart records between them."""
    cells = [
        PlanCell(
            id=c.pk,
            code=c.code,
            module=c.module_id,
            module_code=c.module.code,
            population=c.module.population,
            regime=c.module.regime,
            certified=c.certified_capacity,
            working=c.working_capacity,
            active=c.active,
        )
        for c in Cell.objects.filter(facility=facility).select_related("module").order_by("code")
    ]
    held = placement_model().objects.filter(cell__facility=facility, ended_at__isnull=True)
    rows = held.values_list(
        "cell_id",
        "episode_id",
        "episode__person_id",
        "episode__person__sex",
        "episode__person__date_of_birth",
        "episode__person__dob_precision",
    )
    bases: defaultdict[int, list[tuple[str, bool | None]]] = defaultdict(list)
    for episode, kind, final in held.values_list(
        "episode_id", "episode__legal_bases__kind", "episode__legal_bases__judgment_final"
    ):
        if kind is not None:
            bases[episode].append((kind, final))
    today = now().date()
    people = []
    for cell, episode, person, sex, dob, precision in rows:
        kinds = [k for k, _ in bases[episode]]
        people.append(
            PlanPerson(
                id=person,
                sex=sex,
                youth=is_youth(dob, precision, today),
                regime=regime_of(kinds),
                untried=regime_of(kinds) == "criminal" and is_untried(bases[episode]),
                cell=cell,
            )
        )
    ids = {p.id for p in people}
    pairs = (
        [
            PlanPair(pk, a, b, scope)
            for pk, a, b, scope in KeepApart.objects.open()
            .filter(Q(person_a_id__in=ids) & Q(person_b_id__in=ids))
            .values_list("pk", "person_a_id", "person_b_id", "scope")
        ]
        if ids
        else []
    )
    return Problem(cells=cells, people=people, pairs=pairs)


# --- figures -----------------------------------------------------------------------------


def figures(problem: Problem, assignment: dict[int, int]) -> Figures:
    counts = Counter(assignment.values())
    excess = [max(0, counts[c.id] - c.certified) for c in problem.cells]
    moves = sum(1 for p in problem.people if assignment.get(p.id) != p.cell)
    return Figures(
        population=len(assignment),
        above_certified=sum(excess),
        worst_excess=max(excess, default=0),
        cells_over_certified=sum(1 for e in excess if e > 0),
        moves=moves,
    )


def lower_bound(problem: Problem) -> Figures:
    """No plan can do better: per group of interchangeable cells (module population and
    regime), everyone beyond the group's certified capacity is above it somewhere, and the
    worst cell holds at least the average excess."""
    groups: defaultdict[tuple[str, str], list[PlanCell]] = defaultdict(list)
    for c in problem.cells:
        if c.active:
            groups[(c.population, c.regime)].append(c)
    demand: Counter[tuple[str, str]] = Counter(problem.group(p) for p in problem.people)
    total = 0
    worst = 0
    for key, n in demand.items():
        cells = groups.get(key, [])
        over = max(0, n - sum(c.certified for c in cells))
        total += over
        if cells:
            worst = max(worst, math.ceil(over / len(cells)))
    return Figures(len(problem.people), total, worst, 0, 0)


# --- rules, for the start and for sequencing moves ---------------------------------------


class State:
    """Counts, untried/convicted mix and positions of an assignment being built."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        self.count: Counter[int] = Counter()
        self.untried: Counter[int] = Counter()
        self.convicted: Counter[int] = Counter()
        self.where: dict[int, int] = {}
        self.partners: defaultdict[int, list[tuple[int, PlanPair]]] = defaultdict(list)
        for pair in problem.pairs:
            self.partners[pair.a].append((pair.b, pair))
            self.partners[pair.b].append((pair.a, pair))

    def allowed(self, person: PlanPerson, cell_id: int, *, ignore_capacity: bool = False) -> bool:
        cell = self.problem.cell[cell_id]
        if not ignore_capacity and self.count[cell_id] >= cell.working:
            return False
        if person.regime == "criminal":
            if person.untried and self.convicted[cell_id]:
                return False
            if not person.untried and self.untried[cell_id]:
                return False
        for other, pair in self.partners.get(person.id, ()):
            there = self.where.get(other)
            if there is None:
                continue
            if there == cell_id:
                return False
            if (
                pair.scope in {"module", "facility"}
                and self.problem.cell[there].module == cell.module
                and not (self.problem.grandfathered(pair) and cell_id == person.cell)
            ):
                # An overridden pair may stay as it is, but nobody moves next to the other
                # (the placement service would ask for a new override).
                return False
        return True

    def put(self, person: PlanPerson, cell_id: int) -> None:
        self.count[cell_id] += 1
        if person.regime == "criminal":
            (self.untried if person.untried else self.convicted)[cell_id] += 1
        self.where[person.id] = cell_id

    def remove(self, person: PlanPerson) -> None:
        cell_id = self.where.pop(person.id)
        self.count[cell_id] -= 1
        if person.regime == "criminal":
            (self.untried if person.untried else self.convicted)[cell_id] -= 1


def levels(problem: Problem) -> dict[int, int]:
    """Water-filling: per group of cells, the least uniform excess E such that the cells
    (each up to min(working, certified + E)) hold the group; the target of each cell."""
    groups: defaultdict[tuple[str, str], list[PlanCell]] = defaultdict(list)
    for c in problem.cells:
        if c.active:
            groups[(c.population, c.regime)].append(c)
    demand: Counter[tuple[str, str]] = Counter(problem.group(p) for p in problem.people)
    target: dict[int, int] = {}
    for key, cells in groups.items():
        n = demand[key]
        e = 0
        top = max((c.working for c in cells), default=0)
        while e < top and sum(min(c.working, c.certified + e) for c in cells) < n:
            e += 1
        for c in cells:
            target[c.id] = min(c.working, c.certified + e)
    return target


def first_fit_decreasing(problem: Problem) -> tuple[dict[int, int], list[int]]:
    """The start: most constrained first; stay while the cell is below its level, otherwise
    the least crowded allowed cell. Returns the assignment and anyone who fits nowhere."""
    state = State(problem)
    target = levels(problem)
    degree: Counter[int] = Counter()
    for pair in problem.pairs:
        degree[pair.a] += 1
        degree[pair.b] += 1
    order = sorted(problem.people, key=lambda p: (-degree[p.id], p.id))
    pending: list[PlanPerson] = []
    for person in order:
        cell = person.cell
        if (
            cell is not None
            and problem.may_hold(person, cell)
            and state.count[cell] < target.get(cell, 0)
            and state.allowed(person, cell)
        ):
            state.put(person, cell)
        else:
            pending.append(person)
    unplaced: list[int] = []
    for person in pending:
        best: tuple[tuple[float, float, int], int] | None = None
        for cell_id in problem.eligible(person):
            if not state.allowed(person, cell_id):
                continue
            c = problem.cell[cell_id]
            after = state.count[cell_id] + 1
            key = (
                max(0, after - c.certified) if c.certified else after,
                after / max(c.working, 1),
                cell_id,
            )
            if best is None or key < best[0]:
                best = (key, cell_id)
        if best is None:
            unplaced.append(person.id)
            continue
        state.put(person, best[1])
    return dict(state.where), unplaced


# --- CP-SAT ------------------------------------------------------------------------------


def _solve_cp(
    problem: Problem, start: dict[int, int], deadline: float, workers: int, bound: Figures
) -> tuple[dict[int, int] | None, dict[str, Any]]:
    """CP-SAT until ``deadline`` (a ``time.perf_counter()`` instant), hinted with the start."""
    model = cp_model.CpModel()
    individuals = {p for pair in problem.pairs for p in (pair.a, pair.b)}
    start_count = Counter(start.values())

    # Classes of interchangeable people: same eligible cells, same trial status.
    classes: defaultdict[tuple[tuple[int, ...], bool], list[PlanPerson]] = defaultdict(list)
    for person in problem.people:
        if person.id in individuals:
            continue
        key = (tuple(problem.eligible(person)), person.regime == "criminal" and person.untried)
        classes[key].append(person)

    load: defaultdict[int, list[Any]] = defaultdict(list)
    untried_load: defaultdict[int, list[Any]] = defaultdict(list)
    convicted_load: defaultdict[int, list[Any]] = defaultdict(list)
    criminal_cells = {c.id for c in problem.cells if c.regime == "criminal" and c.active}
    stays: list[Any] = []
    nvars: dict[tuple[int, int], Any] = {}

    for k, ((cells, untried), members) in enumerate(classes.items()):
        size = len(members)
        initial = Counter(p.cell for p in members)
        start_here = Counter(start[p.id] for p in members if p.id in start)
        vars_k = []
        for cell_id in cells:
            c = problem.cell[cell_id]
            n = model.new_int_var(0, min(c.working, size), f"n_{k}_{cell_id}")
            vars_k.append(n)
            load[cell_id].append(n)
            if cell_id in criminal_cells:
                (untried_load if untried else convicted_load)[cell_id].append(n)
            model.add_hint(n, start_here[cell_id])
            nvars[(k, cell_id)] = n
            if initial[cell_id]:
                s = model.new_int_var(0, initial[cell_id], f"s_{k}_{cell_id}")
                model.add(s <= n)
                stays.append(s)
                model.add_hint(s, min(initial[cell_id], start_here[cell_id]))
        model.add(sum(vars_k) == size)

    # Individuals: a few candidate cells each.
    x: dict[tuple[int, int], Any] = {}
    domain: dict[int, list[int]] = {}
    crowding = sorted(
        problem.cells, key=lambda c: (start_count[c.id] - c.certified, start_count[c.id], c.id)
    )
    individual_moves: list[Any] = []
    # Overridden pairs already in one module: each may stay put or leave that module.
    pinned: defaultdict[int, list[int]] = defaultdict(list)
    for pair in problem.pairs:
        if pair.scope in {"module", "facility"} and problem.grandfathered(pair):
            pinned[pair.a].append(pair.b)
            pinned[pair.b].append(pair.a)
    for pid in sorted(individuals):
        person = problem.person[pid]
        eligible = set(problem.eligible(person))
        options = [c for c in (person.cell, start.get(pid)) if c in eligible]
        for c in crowding:
            if len(options) >= CANDIDATES + 2:
                break
            if c.id in eligible and c.id not in options:
                options.append(c.id)
        options = list(dict.fromkeys(options))
        for pair_other in pinned.get(pid, ()):
            other_cell = problem.person[pair_other].cell
            if other_cell is not None:
                module = problem.cell[other_cell].module
                options = [
                    c for c in options if c == person.cell or problem.cell[c].module != module
                ]
        domain[pid] = options
        for cell_id in options:
            var = model.new_bool_var(f"x_{pid}_{cell_id}")
            x[(pid, cell_id)] = var
            load[cell_id].append(var)
            if cell_id in criminal_cells:
                (untried_load if person.untried else convicted_load)[cell_id].append(var)
            model.add_hint(var, 1 if start.get(pid) == cell_id else 0)
        model.add_exactly_one(x[(pid, c)] for c in options)
        if person.cell in options:
            individual_moves.append(1 - x[(pid, person.cell)])
        else:
            individual_moves.append(1)

    for pair in problem.pairs:
        shared = set(domain[pair.a]) & set(domain[pair.b])
        for cell_id in shared:
            model.add_at_most_one(x[(pair.a, cell_id)], x[(pair.b, cell_id)])
        if pair.scope in {"module", "facility"} and not problem.grandfathered(pair):
            modules_a: defaultdict[int, list[Any]] = defaultdict(list)
            modules_b: defaultdict[int, list[Any]] = defaultdict(list)
            for cell_id in domain[pair.a]:
                modules_a[problem.cell[cell_id].module].append(x[(pair.a, cell_id)])
            for cell_id in domain[pair.b]:
                modules_b[problem.cell[cell_id].module].append(x[(pair.b, cell_id)])
            for module in set(modules_a) & set(modules_b):
                model.add(sum(modules_a[module]) + sum(modules_b[module]) <= 1)

    excess = []
    worst = model.new_int_var(0, max((c.working for c in problem.cells), default=0), "worst")
    start_untried = Counter(
        start[p.id]
        for p in problem.people
        if p.id in start and p.regime == "criminal" and p.untried
    )
    for c in problem.cells:
        if not load[c.id]:
            continue
        total = sum(load[c.id])
        model.add(total <= c.working)
        e = model.new_int_var(0, max(0, c.working - c.certified), f"e_{c.id}")
        model.add(e >= total - c.certified)
        model.add(worst >= e)
        model.add_hint(e, max(0, start_count[c.id] - c.certified))
        excess.append(e)
        if c.id in criminal_cells and untried_load[c.id] and convicted_load[c.id]:
            u = model.new_bool_var(f"u_{c.id}")
            model.add(sum(untried_load[c.id]) <= c.working * u)
            model.add(sum(convicted_load[c.id]) <= c.working * (1 - u))
            model.add_hint(u, 1 if start_untried[c.id] else 0)
    start_fig = figures(problem, start)
    # Never worse than the start (it is feasible), never better than the lower bound: tight
    # domains let presolve and search spend their time on what can still improve.
    model.add(worst <= start_fig.worst_excess)
    model.add(worst >= min(bound.worst_excess, start_fig.worst_excess))
    model.add(sum(excess) <= start_fig.above_certified)
    model.add(sum(excess) >= min(bound.above_certified, start_fig.above_certified))
    model.add_hint(worst, start_fig.worst_excess)

    size = len(problem.people)
    w_sum = size + 1
    w_worst = w_sum * (size + 1)
    total_excess = cp_model.LinearExpr.sum(excess)
    moves = (
        (size - len(individuals))
        - cp_model.LinearExpr.sum(stays)
        + cp_model.LinearExpr.sum(individual_moves)
    )
    model.minimize(w_worst * worst + w_sum * total_excess + moves)

    solver = cp_model.CpSolver()
    params = solver.parameters
    # What is left of the limit once the model is built, less time to read the answer.
    params.max_time_in_seconds = max(0.1, deadline - time.perf_counter() - 0.3)
    params.num_workers = workers
    params.max_presolve_iterations = 1
    params.presolve_probing_deterministic_time_limit = 0.5
    params.random_seed = 7
    status = solver.solve(model)
    info: dict[str, Any] = {
        "status": solver.status_name(status),
        "wall_seconds": round(solver.wall_time, 3),
        "variables": len(model.proto.variables),
        "constraints": len(model.proto.constraints),
        "individuals": len(individuals),
        "classes": len(classes),
    }
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None, info
    info["optimal"] = status == cp_model.OPTIMAL

    return _assignment_from(classes, solver, nvars, x, domain), info


def _assignment_from(
    classes: dict[tuple[tuple[int, ...], bool], list[PlanPerson]],
    solver: Any,
    nvars: dict[tuple[int, int], Any],
    x: dict[tuple[int, int], Any],
    domain: dict[int, list[int]],
) -> dict[int, int]:
    """Counts back into people: whoever can stay stays, the rest fill the gaps."""
    assignment: dict[int, int] = {}
    for k, ((cells, _untried), members) in enumerate(classes.items()):
        want = {cell_id: int(solver.value(nvars[(k, cell_id)])) for cell_id in cells}
        movers: list[PlanPerson] = []
        for person in members:
            if person.cell is not None and want.get(person.cell, 0) > 0:
                want[person.cell] -= 1
                assignment[person.id] = person.cell
            else:
                movers.append(person)
        gaps = [cell_id for cell_id in cells for _ in range(want[cell_id])]
        for person, cell_id in zip(movers, gaps, strict=True):
            assignment[person.id] = cell_id
    for pid, options in domain.items():
        for cell_id in options:
            if solver.boolean_value(x[(pid, cell_id)]):
                assignment[pid] = cell_id
                break
    return assignment


def _key(f: Figures) -> tuple[int, int, int]:
    return (f.worst_excess, f.above_certified, f.moves)


def solve(
    problem: Problem,
    *,
    time_limit: float = 10.0,
    workers: int | None = None,
    use_solver: bool = True,
) -> Plan:
    """Plan the facility; never worse than the start, never breaking a rule the start
    keeps."""
    began = time.perf_counter()
    current = {p.id: p.cell for p in problem.people if p.cell is not None}
    before = figures(problem, current)
    start, unplaced = first_fit_decreasing(problem)
    bound = lower_bound(problem)
    start_fig = figures(problem, start)
    best, status = start, "start"
    info: dict[str, Any] = {}
    if unplaced:
        status = "infeasible"
    elif use_solver and problem.people:
        found, info = _solve_cp(
            problem, start, began + time_limit, workers or min(8, os.cpu_count() or 1), bound
        )
        if found is not None and len(found) == len(problem.people):
            found_fig = figures(problem, found)
            if _key(found_fig) <= _key(start_fig):
                best = found
                status = "optimal" if info.get("optimal") else "improved"
    after = figures(problem, best)
    moves = [
        Move(person=p.id, from_cell=p.cell, to_cell=best[p.id])
        for p in problem.people
        if p.id in best and best[p.id] != p.cell
    ]
    return Plan(
        assignment=best,
        moves=moves,
        status=status,
        before=before,
        start=start_fig,
        after=after,
        lower_bound=bound,
        seconds=time.perf_counter() - began,
        solver=info,
        unplaced=unplaced,
    )


class Stuck(Exception):
    """The moves cannot be sequenced without breaking a rule on the way."""


def order_moves(problem: Problem, moves: list[Move]) -> list[Move]:
    """Sequence ``moves`` so that every step keeps working capacity, untried/convicted
    separation and keep-apart records: repeatedly carry out every move whose target allows
    it now; a cycle (every target full) is broken by a detour through a cell with room."""
    state = State(problem)
    for p in problem.people:
        if p.cell is not None:
            state.put(p, p.cell)
    pending = list(moves)
    ordered: list[Move] = []
    while pending:
        progress = False
        rest: list[Move] = []
        for move in pending:
            person = problem.person[move.person]
            state.remove(person)
            if state.allowed(person, move.to_cell):
                state.put(person, move.to_cell)
                ordered.append(Move(move.person, state_from(ordered, move), move.to_cell))
                progress = True
            else:
                state.put(person, move.from_cell if move.from_cell is not None else move.to_cell)
                rest.append(move)
        pending = rest
        if progress or not pending:
            continue
        move = pending[0]
        person = problem.person[move.person]
        state.remove(person)
        detour = next(
            (
                c
                for c in problem.eligible(person)
                if c not in (move.from_cell, move.to_cell) and state.allowed(person, c)
            ),
            None,
        )
        if detour is None:
            state.put(person, move.from_cell)  # type: ignore[arg-type]
            raise Stuck(f"cannot sequence the move of person {move.person}")
        state.put(person, detour)
        ordered.append(Move(move.person, move.from_cell, detour))
        pending[0] = Move(move.person, detour, move.to_cell)
    return ordered


def state_from(ordered: list[Move], move: Move) -> int | None:
    for done in reversed(ordered):
        if done.person == move.person:
            return done.to_cell
    return move.from_cell
