"""Occupancy reads (Mandela Rule 10: reliable data on occupancy rates; STANDARDS.md: occupancy
rate = population × 100 / certified capacity), scoped to the user."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from habeas.core.errors import NotFound
from habeas.facilities.models import Cell, Facility, FacilityQuerySet
from habeas.facilities.occupancy import occupants


def rate(population: int, capacity: int) -> Decimal | None:
    """Occupancy rate in percent, one decimal (None when the capacity is zero)."""
    if capacity <= 0:
        return None
    return (Decimal(population * 100) / Decimal(capacity)).quantize(
        Decimal("0.1"), rounding=ROUND_HALF_UP
    )


@dataclass
class CellOccupancy:
    id: int
    code: str
    population: int
    certified_capacity: int
    working_capacity: int
    max_capacity: int
    active: bool
    usable_area_m2: Decimal

    @property
    def over_certified(self) -> bool:
        return self.population > self.certified_capacity

    @property
    def rate_certified(self) -> Decimal | None:
        return rate(self.population, self.certified_capacity)

    @property
    def space_per_person(self) -> Decimal | None:
        if not self.population:
            return None
        return (self.usable_area_m2 / self.population).quantize(Decimal("0.01"))

    @property
    def band(self) -> str:
        """Colour band for the grid, relative to certified capacity."""
        if not self.active:
            return "inactive"
        if self.population == 0:
            return "empty"
        r = self.rate_certified
        if r is None or r > 200:
            return "severe"
        if r > 100:
            return "over"
        if r > 85:
            return "near"
        return "ok"


@dataclass
class ModuleOccupancy:
    id: int
    code: str
    population_kind: str
    regime: str
    cells: list[CellOccupancy] = field(default_factory=list)

    @property
    def population(self) -> int:
        return sum(c.population for c in self.cells)

    @property
    def certified_capacity(self) -> int:
        return sum(c.certified_capacity for c in self.cells if c.active)

    @property
    def working_capacity(self) -> int:
        return sum(c.working_capacity for c in self.cells if c.active)

    @property
    def cells_over_certified(self) -> int:
        return sum(1 for c in self.cells if c.over_certified)

    @property
    def rate_certified(self) -> Decimal | None:
        return rate(self.population, self.certified_capacity)

    @property
    def rate_working(self) -> Decimal | None:
        return rate(self.population, self.working_capacity)


@dataclass
class FacilityOccupancy:
    facility: Facility
    modules: list[ModuleOccupancy] = field(default_factory=list)

    @property
    def code(self) -> str:
        return self.facility.code

    @property
    def population(self) -> int:
        return sum(m.population for m in self.modules)

    @property
    def certified_capacity(self) -> int:
        return sum(m.certified_capacity for m in self.modules)

    @property
    def working_capacity(self) -> int:
        return sum(m.working_capacity for m in self.modules)

    @property
    def rate_certified(self) -> Decimal | None:
        return rate(self.population, self.certified_capacity)

    @property
    def rate_working(self) -> Decimal | None:
        return rate(self.population, self.working_capacity)

    @property
    def cells_over_certified(self) -> int:
        return sum(m.cells_over_certified for m in self.modules)

    @property
    def people_above_certified(self) -> int:
        return sum(
            max(0, c.population - c.certified_capacity) for m in self.modules for c in m.cells
        )


def facility_list(*, user: Any) -> FacilityQuerySet:
    return Facility.objects.visible_to(user).select_related("jurisdiction").order_by("code")


def facility_get_for(*, user: Any, code: str) -> Facility:
    facility = Facility.objects.visible_to(user).filter(code=code).first()
    if facility is None:
        raise NotFound("facility not found")
    return facility


def occupancy_for(facilities: list[Facility]) -> list[FacilityOccupancy]:
    """Population per cell from open placements (counted by housing through
    :mod:`habeas.facilities.occupancy`): one query for the cells, one for the counts."""
    cells = list(
        Cell.objects.filter(facility__in=facilities)
        .select_related("module")
        .order_by("facility_id", "module__code", "code")
    )
    held = occupants([cell.pk for cell in cells])
    by_facility = {f.pk: FacilityOccupancy(facility=f) for f in facilities}
    modules: dict[int, ModuleOccupancy] = {}
    for cell in cells:
        module = modules.get(cell.module_id)
        if module is None:
            module = ModuleOccupancy(
                id=cell.module_id,
                code=cell.module.code,
                population_kind=cell.module.population,
                regime=cell.module.regime,
            )
            modules[cell.module_id] = module
            by_facility[cell.facility_id].modules.append(module)
        module.cells.append(
            CellOccupancy(
                id=cell.pk,
                code=cell.code,
                population=held.get(cell.pk, 0),
                certified_capacity=cell.certified_capacity,
                working_capacity=cell.working_capacity,
                max_capacity=cell.max_capacity,
                active=cell.active,
                usable_area_m2=cell.floor_area_m2 - cell.sanitary_area_m2,
            )
        )
    return [by_facility[f.pk] for f in facilities]


def occupancy_list(*, user: Any) -> list[FacilityOccupancy]:
    return occupancy_for(list(facility_list(user=user)))


def cell_get_for(*, user: Any, facility_code: str, cell_code: str) -> Cell:
    cell = (
        Cell.objects.filter(
            facility__in=Facility.objects.visible_to(user),
            facility__code=facility_code,
            code=cell_code,
        )
        .select_related("module", "facility")
        .first()
    )
    if cell is None:
        raise NotFound("cell not found")
    return cell
