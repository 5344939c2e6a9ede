"""Choosing and checking cells (Mandela Rule 11; STANDARDS.md capacity terms).

Rules applied to every placement (admission and move):

* ``capacity:working`` — working capacity is the hard cap (HMPPS operational capacity);
* ``active`` — a deactivated cell holds nobody;
* ``separation:sex`` and ``separation:age`` — Mandela Rule 11(a) and (d): the module's
  population must match the person's sex and age group;
* ``separation:regime`` — Mandela Rule 11(c): someone held only on a removal order (a civil
  detainee) is never placed in a criminal-regime module, nor a sentenced person in a civil one.

Automatic choice prefers the least crowded cell relative to its certified capacity, so
overcrowding (allowed, but reported) is spread as thinly as the building allows.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from dataclasses import dataclass
from typing import Literal

from django.db.models import Count, Q

from habeas.facilities.models import Cell, Facility

Regime = Literal["criminal", "civil"]


@dataclass(frozen=True)
class Occupant:
    """What the housing rules need to know about a person."""

    sex: str  # M | F | X
    youth: bool
    regime: Regime


@dataclass(frozen=True)
class Refusal:
    rule: str
    message: str


def module_population_ok(population: str, who: Occupant) -> Refusal | None:
    age, _, sex = population.partition("_")
    if (age == "youth") != who.youth:
        return Refusal(
            "separation:age", "Mandela Rule 11(d): young people and adults are held apart"
        )
    if (who.sex == "M" and sex != "male") or (who.sex == "F" and sex != "female"):
        return Refusal("separation:sex", "Mandela Rule 11(a): men and women are held apart")
    return None


def refusals(cell: Cell, occupants: int, who: Occupant) -> list[Refusal]:
    """Every rule that forbids placing ``who`` in ``cell`` holding ``occupants`` people."""
    found: list[Refusal] = []
    if not cell.active:
        found.append(Refusal("active", "the cell is deactivated"))
    if occupants >= cell.working_capacity:
        found.append(
            Refusal(
                "capacity:working",
                f"the cell is at its working capacity ({occupants}/{cell.working_capacity})",
            )
        )
    population = module_population_ok(cell.module.population, who)
    if population:
        found.append(population)
    if cell.module.regime != who.regime:
        found.append(
            Refusal(
                "separation:regime",
                "Mandela Rule 11(c): civil detainees and people held for a criminal offence "
                "are held apart",
            )
        )
    return found


def crowding_key(cell: Cell, occupants: int) -> tuple[float, float, str]:
    certified = cell.certified_capacity
    after = occupants + 1
    ratio = after / certified if certified else float("inf")
    return (ratio, after / max(cell.working_capacity, 1), cell.code)


def occupancy(cells: list[int]) -> dict[int, int]:
    counts = (
        Cell.objects.filter(pk__in=cells)
        .annotate(n=Count("placements", filter=Q(placements__ended_at__isnull=True)))
        .values_list("pk", "n")
    )
    return dict(counts)


class Allocator:
    """In-transaction view of a facility's cells and their occupancy, for a batch of
    placements. On PostgreSQL the cells are locked (``SELECT … FOR UPDATE``) so concurrent
    batches queue; SQLite's IMMEDIATE transactions serialise writers already."""

    def __init__(self, facility: Facility, *, lock: bool = True) -> None:
        qs = Cell.objects.filter(facility=facility).select_related("module").order_by("pk")
        if lock:
            qs = qs.select_for_update(of=("self",))
        self.cells = {c.pk: c for c in qs}
        self.by_code = {c.code: c for c in self.cells.values()}
        self.count = defaultdict(int, occupancy(list(self.cells)))
        self._heaps: dict[tuple[str, Regime], list[tuple[tuple[float, float, str], int]]] = {}

    def _group(self, population: str, regime: Regime) -> list[tuple[tuple[float, float, str], int]]:
        key = (population, regime)
        if key not in self._heaps:
            heap = [
                (crowding_key(c, self.count[c.pk]), c.pk)
                for c in self.cells.values()
                if c.module.population == population and c.module.regime == regime and c.active
            ]
            heapq.heapify(heap)
            self._heaps[key] = heap
        return self._heaps[key]

    def refusals(self, cell: Cell, who: Occupant) -> list[Refusal]:
        return refusals(cell, self.count[cell.pk], who)

    def choose(self, who: Occupant) -> Cell | None:
        """The least crowded cell (relative to certified capacity) that every rule allows."""
        age = "youth" if who.youth else "adult"
        sexes = {"M": ["male"], "F": ["female"]}.get(who.sex, ["male", "female"])
        best: (
            tuple[tuple[float, float, str], int, list[tuple[tuple[float, float, str], int]]] | None
        ) = None
        for sex in sexes:
            heap = self._group(f"{age}_{sex}", who.regime)
            while heap:
                key, pk = heap[0]
                cell = self.cells[pk]
                if self.count[pk] >= cell.working_capacity:
                    heapq.heappop(heap)  # full: out of the running for this batch
                    continue
                if best is None or key < best[0]:
                    best = (key, pk, heap)
                break
        if best is None:
            return None
        return self.cells[best[1]]

    def take(self, cell: Cell) -> None:
        self.count[cell.pk] += 1
        self._reheap(cell)

    def leave(self, cell: Cell) -> None:
        self.count[cell.pk] -= 1
        self._reheap(cell)

    def _reheap(self, cell: Cell) -> None:
        key = (cell.module.population, cell.module.regime)
        heap = self._heaps.get(key)  # type: ignore[arg-type]
        if heap is None:
            return
        entry = (crowding_key(cell, self.count[cell.pk]), cell.pk)
        if heap and heap[0][1] == cell.pk:  # the common case: the cell just chosen
            heapq.heapreplace(heap, entry)
            return
        # Otherwise replace the cell's entry: linear, but only for moves and releases.
        for i, (_, pk) in enumerate(heap):
            if pk == cell.pk:
                heap[i] = entry
                break
        else:
            heap.append(entry)
        heapq.heapify(heap)
