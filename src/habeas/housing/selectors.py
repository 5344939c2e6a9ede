"""Housing reads: placement suggestions, the roll, who is out of their cell, keep-apart
records, roll counts and housing alerts (Mandela Rules 7(c), 11, 36; HMPPS establishment
roll), scoped to the user."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import Count, F, Q
from django.utils import timezone

from habeas.accounts.permissions import may_view_cells
from habeas.core import events as events_registry
from habeas.core.errors import NotFound
from habeas.facilities.models import Cell, Facility, FacilityQuerySet
from habeas.facilities.selectors import occupancy_for
from habeas.facilities.standards import MURSIC_MINIMUM_M2
from habeas.housing.allocator import (
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
from habeas.housing.models import KeepApart, KeepApartQuerySet, Placement, RollCount
from habeas.ledger.models import LedgerEntry
from habeas.people.selectors import person_get_for

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

#: What a ledger action changes in a housing snapshot (:func:`housing_snapshot`) is the
#: ``housing`` of its declaration (:class:`habeas.core.events.Action`): ``"placements"`` —
#: the occupancy and trial mix of the cells of the placements its payload opens or ends
#: (legal bases are written only with the admission that opens the placement, so they are
#: covered too); ``"cell"`` — the cell row its payload names (capacities, in or out of use,
#: area); ``None`` — nothing a snapshot holds (keep-apart records are read afresh for every
#: suggestion). Anything else — new cells, module or facility changes, an action not yet
#: classified (:data:`habeas.core.events.READ_AFRESH`) or not declared at all (for instance
#: one that changes a legal basis after admission) — makes the snapshot read afresh: an
#: unknown change can cost time, never correctness.
HOUSING_EFFECTS = frozenset({"placements", "cell", None})


def housing_effect(name: str) -> tuple[bool, str | None]:
    """Whether the housing effect of action ``name`` is known, and which it is."""
    declared = events_registry.action(name)
    if declared is None or declared.housing not in HOUSING_EFFECTS:
        return False, None
    return True, declared.housing


#: Beyond this many new ledger entries the snapshot is read afresh (a batch of admissions
#: touches most cells anyway).
MAX_INCREMENTAL_ENTRIES = 200


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


def _changed_since(
    since: tuple[int, str], until: tuple[int, str]
) -> tuple[set[int], set[int]] | None:
    """The cells whose occupancy (first set) or row (second set) the ledger entries after
    ``since`` up to ``until`` may have changed, or None when they cannot be told apart
    (too many entries, an action whose :func:`housing_effect` is unknown, a payload of another
    shape, or ``since`` no longer in the ledger: rolled back).

    The ledger is the change log shared by every process: indices are allocated under the
    ledger head's row lock held until commit, so entries become visible in index order and
    none can appear later below ``until``."""
    first, last = since[0], until[0]
    if last < first or last - first > MAX_INCREMENTAL_ENTRIES:
        return None
    rows = list(
        LedgerEntry.objects.filter(index__gte=first, index__lte=last)
        .order_by("index")
        .values_list("index", "action", "leaf_hash", "canonical")
    )
    if len(rows) != last - first + 1 or rows[0][2] != since[1] or rows[-1][2] != until[1]:
        return None
    placements: list[int] = []
    episodes: list[int] = []
    cells: set[int] = set()
    try:
        for _index, action, _hash, canonical in rows[1:]:
            known, effect = housing_effect(action)
            if not known:
                return None
            if effect is None:
                continue
            payload = json.loads(canonical)["payload"]
            if effect == "cell":
                cells.add(int(payload["cell"]["id"] if "cell" in payload else payload["id"]))
                continue
            for name in ("placement", "ended", "placement_ended"):
                if payload.get(name):
                    placements.append(int(payload[name]["id"]))
            if action == "custody.released" and "placement_ended" not in payload:
                # housing closed the episode's placement listening to the release
                episodes.append(int(payload["episode"]["id"]))
    except (KeyError, TypeError, ValueError):
        return None
    loads: set[int] = set()
    if placements:  # placements never change cell: the id names the cell for good
        model = placement_model()
        loads.update(model.objects.filter(pk__in=placements).values_list("cell_id", flat=True))
    if episodes:
        loads.update(
            Placement.objects.filter(episode_id__in=episodes).values_list("cell_id", flat=True)
        )
    return loads, cells


def _refreshed(
    facility: Facility, cached: HousingSnapshot, version: tuple[int, str]
) -> HousingSnapshot | None:
    """``cached`` brought up to ``version`` by reading again only the cells the ledger says
    changed (None: read everything afresh). A new snapshot: ``cached`` may be in use by
    another thread and is never changed."""
    assert cached.version is not None
    changed = _changed_since(cached.version, version)
    if changed is None:
        return None
    ours = {c.pk for c in cached.cells}
    loads, rows = (changed[0] & ours, changed[1] & ours)
    cells = cached.cells
    if rows:
        fresh = {
            c.pk: c
            for c in Cell.objects.filter(pk__in=rows, facility=facility).select_related("module")
        }
        if len(fresh) != len(rows):
            return None
        cells = [fresh.get(c.pk, c) for c in cells]
    count, mix = cached.count, cached.mix
    if loads:
        some_count, some_mix = cell_loads(sorted(loads))
        count = {pk: n for pk, n in count.items() if pk not in loads}
        count.update(some_count)
        mix = {pk: m for pk, m in mix.items() if pk not in loads}
        mix.update(some_mix)
    return HousingSnapshot(version, cells, count, mix)


def housing_snapshot(facility: Facility) -> HousingSnapshot:
    """The facility's cells, occupancy and trial mix, kept per process while the ledger is
    unchanged. Read afresh in two queries (the cells, then :func:`cell_loads`: one GROUP BY
    over the open placements joined to legal bases); after a write, only the cells named by
    the ledger entries appended since are read again (:func:`_changed_since`), so a
    suggestion right after an admission or a move costs a few indexed queries, not a scan
    of every open placement. The cells may be shared between calls: read them, never change
    them."""
    key = (connection.alias, str(connection.settings_dict["NAME"]), facility.pk)
    reusable = _snapshot_reusable()
    version = ledger_version() if reusable else None
    cached = _SNAPSHOTS.get(key) if version is not None else None
    if cached is not None and cached.version == version:
        return cached
    fresh = _refreshed(facility, cached, version) if cached and version else None
    if fresh is None:
        cells = list(Cell.objects.filter(facility=facility).select_related("module"))
        count, mix = cell_loads([c.pk for c in cells])
        fresh = HousingSnapshot(version, cells, count, dict(mix))
    if version is not None:
        _SNAPSHOTS[key] = fresh
    return fresh


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


@dataclass(frozen=True)
class OutNow:
    """One person out of the facility now (the duty officers' list beside the roll)."""

    person_id: int
    name: str
    cell: str
    module: str
    kind: str
    kind_other: str
    destination: str
    since: dt.datetime
    expected_return_at: dt.datetime | None

    @property
    def category(self) -> str:
        return OUT_COLUMN.get(self.kind, "other")

    @property
    def overdue(self) -> bool:
        return self.expected_return_at is not None and self.expected_return_at < timezone.now()


def out_now(*, facility: Facility) -> list[OutNow]:
    """Who is out of the facility now (open temporary absences of people placed in its
    cells), longest out first."""
    prefix = "episode__absences__"
    rows = (
        placement_model()
        .objects.filter(
            cell__facility=facility,
            ended_at__isnull=True,
            episode__absences__started_at__isnull=False,
            episode__absences__ended_at__isnull=True,
        )
        .select_related("episode__person", "cell__module")
        .annotate(
            **{
                f"a_{f}": F(prefix + f)
                for f in ("kind", "kind_other", "destination", "started_at", "expected_return_at")
            }
        )
        .order_by(prefix + "started_at", "pk")
    )
    return [
        OutNow(
            person_id=p.episode.person_id,
            name=p.episode.person.full_name,
            cell=p.cell.code,
            module=p.cell.module.code,
            kind=p.a_kind,
            kind_other=p.a_kind_other,
            destination=p.a_destination,
            since=p.a_started_at,
            expected_return_at=p.a_expected_return_at,
        )
        for p in rows
    ]


@dataclass
class ModuleRoll:
    """HMPPS establishment roll of one module: ``out`` (temporary absences: people who keep
    their bed) split into court, hospital and other; ``in_cell`` = population − out."""

    code: str
    population: int
    out_court: int
    out_hospital: int
    out_other: int
    arrived_today: int
    released_today: int
    certified_capacity: int
    working_capacity: int
    cells_over_certified: int
    people_over_certified: int

    @property
    def out(self) -> int:
        return self.out_court + self.out_hospital + self.out_other

    @property
    def in_cell(self) -> int:
        return self.population - self.out

    @property
    def vacancies(self) -> int:
        """Net vacancies against working capacity: people out keep their bed."""
        return self.working_capacity - self.population


#: The HMPPS roll's "out" columns and the temporary absence kinds each one counts.
OUT_COLUMN = {
    "court": "court",
    "hospital": "hospital",
    "medical_appointment": "hospital",
    "funeral_or_family_visit": "other",
    "other": "other",
}


def out_of_cells(*, facility: Facility, at: dt.datetime | None = None) -> dict[int, dict[str, int]]:
    """People held in the facility's cells who are out on a temporary absence at ``at``
    (now by default), per cell and roll column (court; hospital, medical appointments too;
    other). They keep their placement (their bed). Custody is read through the reverse
    relations it declares (``Cell.placements``, ``CustodyEpisode.absences``)."""
    at = at or timezone.now()
    rows = (
        placement_model()
        .objects.filter(cell__facility=facility, ended_at__isnull=True)
        .filter(
            Q(episode__absences__started_at__lte=at)
            & (Q(episode__absences__ended_at__isnull=True) | Q(episode__absences__ended_at__gt=at))
        )
        .values_list("cell_id", "episode__absences__kind")
    )
    found: dict[int, dict[str, int]] = {}
    for cell_id, kind in rows:
        per = found.setdefault(cell_id, {"court": 0, "hospital": 0, "other": 0})
        per[OUT_COLUMN.get(kind, "other")] += 1
    return found


def roll_view(*, facility: Facility, on: dt.date | None = None) -> list[ModuleRoll]:
    """Population, in cell, out (court, hospital, other: temporary absences open now),
    arrived and released on ``on`` (the facility's local day), net vacancies against
    working capacity, cells and people above certified capacity, per module."""
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
    out = out_of_cells(facility=facility)
    rows = []
    for m in occupancy.modules:
        per = {"court": 0, "hospital": 0, "other": 0}
        for c in m.cells:
            for column, n in out.get(c.id, {}).items():
                per[column] += n
        rows.append(
            ModuleRoll(
                code=m.code,
                population=m.population,
                out_court=per["court"],
                out_hospital=per["hospital"],
                out_other=per["other"],
                arrived_today=arrived.get(m.id, 0),
                released_today=released.get(m.id, 0),
                certified_capacity=m.certified_capacity,
                working_capacity=m.working_capacity,
                cells_over_certified=m.cells_over_certified,
                people_over_certified=sum(
                    max(0, c.population - c.certified_capacity) for c in m.cells
                ),
            )
        )
    return rows


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
    if not may_view_cells(user):
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


def current_placement(person: Any) -> Placement | None:
    return (
        Placement.objects.filter(
            episode__person=person, episode__released_at__isnull=True, ended_at__isnull=True
        )
        .select_related("cell", "cell__module", "cell__facility")
        .first()
    )
