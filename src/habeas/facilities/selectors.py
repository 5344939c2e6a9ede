"""Occupancy reads (Mandela Rule 10: reliable data on occupancy rates; STANDARDS.md: occupancy
rate = population × 100 / certified capacity), scoped to the user."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import Count, F, Q
from django.utils import timezone

from habeas.core.errors import NotFound
from habeas.facilities.housing import (
    Occupant,
    Refusal,
    TrialMix,
    cell_loads,
    counterparts,
    is_untried,
    is_youth,
    placement_model,
    ranked_cells,
    regime_of,
)
from habeas.facilities.models import (
    Cell,
    Facility,
    FacilityQuerySet,
    KeepApart,
    KeepApartQuerySet,
    RollCount,
)
from habeas.facilities.standards import MURSIC_MINIMUM_M2
from habeas.ledger.models import LedgerEntry
from habeas.people.selectors import person_get_for


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
    """Population per cell from open placements: one query for all the facilities' cells."""
    cells = (
        Cell.objects.filter(facility__in=facilities)
        .select_related("module")
        .annotate(n=Count("placements", filter=Q(placements__ended_at__isnull=True)))
        .order_by("facility_id", "module__code", "code")
    )
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
                population=cell.n,
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


# --- housing (issue 4): suggestion, roll, keep-apart, alerts ------------------------------


@dataclass
class Suggestion:
    """The best cell for one person by the housing rules, the other allowed cells (least
    crowded relative to certified capacity first) and why every other cell is refused."""

    best: Cell | None
    allowed: list[Cell]
    refused: list[tuple[Cell, list[Refusal]]]
    counts: dict[int, int]


@dataclass(frozen=True)
class HousingSnapshot:
    """A facility's cells (with their modules) and who is held in them: occupancy and
    untried/convicted mix per cell, as read at ``version`` of the ledger."""

    version: tuple[int, str] | None
    cells: list[Cell]
    count: dict[int, int]
    mix: dict[int, TrialMix]


#: The latest snapshot per database and facility (see :func:`housing_snapshot`).
_SNAPSHOTS: dict[tuple[str, str, int], HousingSnapshot] = {}


def ledger_version() -> tuple[int, str] | None:
    """The index and leaf hash of the newest committed ledger entry. Every write goes through
    a service that appends to the ledger in its own transaction (ARCHITECTURE.md, the one
    rule), so while this is unchanged no cell, placement or legal basis has changed either.
    The hash as well as the index: an index reused after a rolled-back transaction is
    another version."""
    row = LedgerEntry.objects.order_by("-index").values_list("index", "leaf_hash").first()
    return None if row is None else (int(row[0]), str(row[1]))


def _snapshot_reusable() -> bool:
    """Snapshots are kept only when read outside a transaction (a web request, the API):
    there the ledger version, read first, is never newer than what the loads then see.
    Inside a transaction a service may have written rows whose ledger entry is not yet
    appended, so everything is read afresh."""
    return not connection.in_atomic_block


def housing_snapshot(facility: Facility) -> HousingSnapshot:
    """The facility's cells, occupancy and trial mix in two queries (the cells, then
    :func:`cell_loads`: one GROUP BY over the open placements joined to legal bases), kept
    while the ledger is unchanged. The cells may be shared between calls: read them, never
    change them."""
    key = (connection.alias, str(connection.settings_dict["NAME"]), facility.pk)
    reusable = _snapshot_reusable()
    version = ledger_version() if reusable else None
    cached = _SNAPSHOTS.get(key) if version is not None else None
    if cached is None or cached.version != version:
        cells = list(Cell.objects.filter(facility=facility).select_related("module"))
        count, mix = cell_loads([c.pk for c in cells])
        cached = HousingSnapshot(version, cells, count, dict(mix))
        if version is not None:
            _SNAPSHOTS[key] = cached
    return cached


def placement_suggest(*, facility: Facility, who: Occupant) -> Suggestion:
    """Mandela Rule 11 and the keep-apart records applied to every cell of the facility
    (read-only; the placement service re-checks under lock). A few queries whatever the
    population: the cells with their occupancy and trial mix (:func:`housing_snapshot`),
    and this person's open keep-apart records with where the other people are held; then
    every rule is applied in memory (:func:`ranked_cells`)."""
    snap = housing_snapshot(facility)
    apart = counterparts([who.person_id]).get(who.person_id, []) if who.person_id else []
    allowed, refused = ranked_cells(snap.cells, snap.count, snap.mix, apart, who)
    return Suggestion(
        best=allowed[0] if allowed else None,
        allowed=allowed,
        refused=refused,
        counts={c.pk: snap.count.get(c.pk, 0) for c in snap.cells},
    )


@dataclass
class ModuleRoll:
    """HMPPS establishment roll of one module."""

    code: str
    population: int
    in_cell: int
    out: int
    arrived_today: int
    released_today: int
    certified_capacity: int
    working_capacity: int
    cells_over_certified: int
    people_over_certified: int

    @property
    def vacancies(self) -> int:
        return self.working_capacity - self.population


def roll_view(*, facility: Facility, on: dt.date | None = None) -> list[ModuleRoll]:
    """Population, in cell, out, arrived and released on ``on`` (the facility's local day),
    net vacancies against working capacity, cells and people above certified capacity, per
    module. Temporary absences (court, hospital) are not recorded yet, so ``out`` is 0 and
    everyone held is in their cell."""
    zone = ZoneInfo(facility.timezone)
    day = on or timezone.localtime(timezone.now(), zone).date()
    begin = dt.datetime.combine(day, dt.time.min, tzinfo=zone)
    end = begin + dt.timedelta(days=1)
    (occupancy,) = occupancy_for([facility])
    arrived = dict(
        Cell.objects.filter(
            facility=facility,
            placements__reason="admission",
            placements__started_at__gte=begin,
            placements__started_at__lt=end,
        )
        .values("module_id")
        .annotate(n=Count("placements"))
        .values_list("module_id", "n")
    )
    released = dict(
        Cell.objects.filter(
            facility=facility,
            placements__episode__released_at__gte=begin,
            placements__episode__released_at__lt=end,
            placements__ended_at=F("placements__episode__released_at"),
        )
        .values("module_id")
        .annotate(n=Count("placements"))
        .values_list("module_id", "n")
    )
    return [
        ModuleRoll(
            code=m.code,
            population=m.population,
            in_cell=m.population,
            out=0,
            arrived_today=arrived.get(m.id, 0),
            released_today=released.get(m.id, 0),
            certified_capacity=m.certified_capacity,
            working_capacity=m.working_capacity,
            cells_over_certified=m.cells_over_certified,
            people_over_certified=sum(max(0, c.population - c.certified_capacity) for c in m.cells),
        )
        for m in occupancy.modules
    ]


def keep_apart_list(*, user: Any, open_only: bool = False) -> KeepApartQuerySet:
    qs = KeepApart.objects.visible_to(user).select_related("person_a", "person_b")
    return qs.open() if open_only else qs


def keep_apart_get_for(*, user: Any, pk: int) -> KeepApart:
    ka = keep_apart_list(user=user).filter(pk=pk).first()
    if ka is None:
        raise NotFound("keep-apart record not found")
    return ka


def roll_count_list(*, user: Any, facility: Facility) -> Any:
    return RollCount.objects.filter(
        facility__in=Facility.objects.visible_to(user), facility=facility
    ).order_by("-counted_at", "-pk")


def housing_alerts(*, facilities: list[Facility]) -> list[dict[str, Any]]:
    """Open housing alerts in the ``alerts --json`` shape: ``space`` for every cell under
    3 m² per person (Muršić v. Croatia [GC] §138) and ``roll_count`` for every cell whose
    latest counted roll differed from the registry."""
    found: list[dict[str, Any]] = []
    for occ in occupancy_for(facilities):
        for module in occ.modules:
            for cell in module.cells:
                spp = cell.space_per_person
                if spp is not None and spp < MURSIC_MINIMUM_M2:
                    found.append(
                        {
                            "kind": "space",
                            "subject": f"cell:{occ.code}/{cell.code}",
                            "value": str(spp),
                            "message": f"{spp} m² per person in {cell.code}: below 3 m² "
                            "(Muršić v. Croatia [GC] §138)",
                            "status": "open",
                        }
                    )
        latest = RollCount.objects.filter(facility=occ.facility).order_by("-counted_at").first()
        if latest is not None:
            for line in latest.lines.select_related("cell").exclude(counted=F("expected")):
                found.append(
                    {
                        "kind": "roll_count",
                        "subject": f"cell:{occ.code}/{line.cell.code}",
                        "value": str(line.counted - line.expected),
                        "message": f"roll count {latest.pk}: counted {line.counted}, "
                        f"expected {line.expected}",
                        "since": latest.counted_at,
                        "status": "open",
                    }
                )
    return found


# --- a person's housing (API, move dialog) -------------------------------------------------

MSG_NOT_HELD = "person not held in a facility in your scope"


@dataclass
class Housed:
    """A person held now, as the housing rules see them: the facility, the current cell and
    the :class:`Occupant` (sex, age group, regime, untried) the placement service would use.
    Custody is read through the reverse relations it declares (``Person.episodes``,
    ``CustodyEpisode.placements``), never imported."""

    person: Any
    episode_id: int
    facility: Facility
    cell: Cell | None
    who: Occupant


def housed_get_for(*, user: Any, person_id: int | str) -> Housed:
    """The person and where they are held, if the user may see housing (not sending-state
    liaisons nor finance: Mandela Rule 9) and the facility is in their scope; otherwise the
    same 404 as a missing person."""
    if not getattr(user, "sees_housing", False):
        raise NotFound("person not found")
    person = person_get_for(user=user, person_id=person_id)
    episode = (
        person.episodes.filter(
            released_at__isnull=True, facility__in=Facility.objects.visible_to(user)
        )
        .select_related("facility")
        .first()
    )
    if episode is None:
        raise NotFound(MSG_NOT_HELD)
    bases = list(episode.legal_bases.values_list("kind", "judgment_final"))
    placement = (
        episode.placements.filter(ended_at__isnull=True).select_related("cell__module").first()
    )
    today = timezone.localtime(timezone.now(), ZoneInfo(episode.facility.timezone)).date()
    who = Occupant(
        sex=person.sex,
        youth=is_youth(person.date_of_birth, person.dob_precision, today),
        regime=regime_of(kind for kind, _final in bases),
        untried=is_untried(bases),
        person_id=person.pk,
    )
    return Housed(
        person=person,
        episode_id=episode.pk,
        facility=episode.facility,
        cell=placement.cell if placement is not None else None,
        who=who,
    )


def placements_of(*, person: Any, facilities: FacilityQuerySet) -> list[Any]:
    """A person's placements (every cell and when) in the given facilities, newest first."""
    return list(
        placement_model()
        .objects.filter(episode__person=person, episode__facility__in=facilities)
        .select_related("cell", "episode__facility")
        .order_by("-started_at", "-pk")
    )
