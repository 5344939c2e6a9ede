"""Choosing and checking cells (Mandela Rule 11; STANDARDS.md capacity terms).

Rules applied to every placement (admission, move and the housing planner):

* ``capacity:working`` — working capacity is the hard cap (HMPPS operational capacity);
* ``active`` — a deactivated cell holds nobody;
* ``separation:sex`` and ``separation:age`` — Mandela Rule 11(a) and (d): the module's
  population must match the person's sex and age group;
* ``separation:regime`` — Mandela Rule 11(c): someone held only on a removal order (a civil
  detainee) is never placed in a criminal-regime module, nor a sentenced person in a civil one;
* ``separation:trial`` — Mandela Rule 11(b): untried people never share a cell with convicted
  people. A person whose every criminal judgment is not yet final is untried (Mandela Rule
  111(2): presumed innocent until the judgment is final);
* ``keep_apart:cell`` — two people under an open keep-apart record never share a cell: never
  overridable, whatever the record's scope;
* ``keep_apart:module`` and ``keep_apart:facility`` — the same module (or facility) only with
  a facility admin's override and a reason, on the ledger.

Automatic choice prefers the least crowded cell relative to its certified capacity, so
overcrowding (allowed, but reported) is spread as thinly as the building allows.

Housing sits above custody and facilities (ARCHITECTURE.md, Layout): it reads cells,
episodes and legal bases through their models, and owns the placements.
"""

from __future__ import annotations

import calendar
import datetime as dt
import heapq
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Literal

from django.db import connection
from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from habeas.custody.models import CustodyEpisode, LegalBasis
from habeas.facilities.models import Cell, Facility
from habeas.housing.models import KeepApart, Placement

Regime = Literal["criminal", "civil"]

CRIMINAL_SENTENCE = "criminal_sentence"

MSG_INACTIVE = _("the cell is out of use")
MSG_WORKING = _("the cell is at its working capacity ({occupants}/{capacity})")
MSG_AGE = _("Mandela Rule 11(d): young people and adults are held apart")
MSG_SEX = _("Mandela Rule 11(a): men and women are held apart")
MSG_REGIME = _(
    "Mandela Rule 11(c): civil detainees and people held for a criminal offence are held apart"
)
MSG_TRIAL_UNTRIED = _(
    "Mandela Rule 11(b): untried people are held apart from convicted people, and this cell "
    "holds {n} convicted"
)
MSG_TRIAL_CONVICTED = _(
    "Mandela Rule 11(b): convicted people are held apart from untried people, and this cell "
    "holds {n} untried"
)
MSG_KEEP_APART_CELL = _("keep-apart record {ka}: person {other} is held in this cell")
MSG_KEEP_APART_MODULE = _(
    "keep-apart record {ka} ({scope} scope): person {other} is held in this module; a facility "
    "admin may override with a reason"
)
MSG_KEEP_APART_FACILITY = _(
    "keep-apart record {ka} (facility scope): person {other} is held in this facility; a "
    "facility admin may override with a reason"
)


#: Messages already translated during one :func:`ranked_cells` call (the active language
#: cannot change within it), so the rules are not translated again for every cell.
_TEXTS: ContextVar[dict[int, str] | None] = ContextVar("housing_texts", default=None)


def text(message: Any) -> str:
    """A rule's message (one of the ``MSG_*`` constants above) in the active language."""
    memo = _TEXTS.get()
    if memo is None:
        return str(message)
    found = memo.get(id(message))
    if found is None:
        found = memo[id(message)] = str(message)
    return found


@dataclass(frozen=True)
class Occupant:
    """What the housing rules need to know about a person. ``person_id`` enables the
    keep-apart rules; ``untried`` matters only in the criminal regime."""

    sex: str  # M | F | X
    youth: bool
    regime: Regime
    untried: bool = False
    person_id: int | None = None


@dataclass(frozen=True)
class Refusal:
    rule: str
    message: str
    overridable: bool = False
    keep_apart: int | None = None


@dataclass(frozen=True)
class Counterpart:
    """Where the other party of an open keep-apart record is held now (cell None: not held)."""

    keep_apart: int
    scope: str
    other: int
    cell: int | None
    module: int | None
    facility: int | None


@dataclass
class TrialMix:
    untried: int = 0
    convicted: int = 0


def is_untried(bases: Iterable[tuple[str, bool | None]]) -> bool:
    """Untried: held on criminal grounds and no criminal judgment is final (Mandela Rule
    111). ``bases`` are ``(kind, judgment_final)`` pairs; unknown finality counts as final."""
    finals = [final for kind, final in bases if kind == CRIMINAL_SENTENCE]
    return bool(finals) and all(final is False for final in finals)


def regime_of(kinds: Iterable[str]) -> Regime:
    """Mandela Rule 11(c): held only on removal orders → civil; any sentence → criminal."""
    return "criminal" if CRIMINAL_SENTENCE in set(kinds) else "civil"


def is_youth(date_of_birth: dt.date | None, precision: str, on: dt.date) -> bool:
    """Under 18 on ``on``; with a partial date of birth the latest possible birthday is used,
    so someone who may be a child is treated as one (CRC art. 1; Mandela Rule 11(d))."""
    if date_of_birth is None:
        return False
    dob = date_of_birth
    if precision == "year":
        dob = dt.date(dob.year, 12, 31)
    elif precision == "month":
        dob = dt.date(dob.year, dob.month, calendar.monthrange(dob.year, dob.month)[1])
    try:
        adult_on = dob.replace(year=dob.year + 18)
    except ValueError:  # 29 February
        adult_on = dt.date(dob.year + 18, 3, 1)
    return on < adult_on


def population_for(who: Occupant) -> list[str]:
    """Module populations that may hold ``who`` (sex X: either)."""
    age = "youth" if who.youth else "adult"
    sexes = {"M": ["male"], "F": ["female"]}.get(who.sex, ["male", "female"])
    return [f"{age}_{sex}" for sex in sexes]


def module_population_ok(population: str, who: Occupant) -> Refusal | None:
    age, _sep, sex = population.partition("_")
    if (age == "youth") != who.youth:
        return Refusal("separation:age", text(MSG_AGE))
    if (who.sex == "M" and sex != "male") or (who.sex == "F" and sex != "female"):
        return Refusal("separation:sex", text(MSG_SEX))
    return None


def static_refusals(cell: Cell, who: Occupant) -> list[Refusal]:
    """The rules that depend on the cell and the person only (not on who else is there)."""
    found: list[Refusal] = []
    if not cell.active:
        found.append(Refusal("active", text(MSG_INACTIVE)))
    population = module_population_ok(cell.module.population, who)
    if population:
        found.append(population)
    if cell.module.regime != who.regime:
        found.append(Refusal("separation:regime", text(MSG_REGIME)))
    return found


def trial_refusal(mix: TrialMix, who: Occupant) -> Refusal | None:
    if who.regime != "criminal":
        return None
    if who.untried and mix.convicted:
        return Refusal("separation:trial", text(MSG_TRIAL_UNTRIED).format(n=mix.convicted))
    if not who.untried and mix.untried:
        return Refusal("separation:trial", text(MSG_TRIAL_CONVICTED).format(n=mix.untried))
    return None


def keep_apart_refusals(cell: Cell, apart: Sequence[Counterpart]) -> list[Refusal]:
    found: list[Refusal] = []
    for cp in apart:
        if cp.cell is None:
            continue
        if cp.cell == cell.pk:
            found.append(
                Refusal(
                    "keep_apart:cell",
                    text(MSG_KEEP_APART_CELL).format(ka=cp.keep_apart, other=cp.other),
                    keep_apart=cp.keep_apart,
                )
            )
        elif cp.scope in {"module", "facility"} and cp.module == cell.module_id:
            found.append(
                Refusal(
                    "keep_apart:module",
                    text(MSG_KEEP_APART_MODULE).format(
                        ka=cp.keep_apart, other=cp.other, scope=cp.scope
                    ),
                    overridable=True,
                    keep_apart=cp.keep_apart,
                )
            )
        elif cp.scope == "facility" and cp.facility == cell.facility_id:
            found.append(
                Refusal(
                    "keep_apart:facility",
                    text(MSG_KEEP_APART_FACILITY).format(ka=cp.keep_apart, other=cp.other),
                    overridable=True,
                    keep_apart=cp.keep_apart,
                )
            )
    return found


def refusals(
    cell: Cell,
    occupants: int,
    who: Occupant,
    *,
    mix: TrialMix | None = None,
    apart: Sequence[Counterpart] | None = None,
) -> list[Refusal]:
    """Every rule that forbids placing ``who`` in ``cell`` holding ``occupants`` people.

    ``mix`` (untried/convicted held in the cell) and ``apart`` (where ``who``'s keep-apart
    counterparts are) are read from the database when not given."""
    found = static_refusals(cell, who)
    if occupants >= cell.working_capacity:
        found.insert(
            1 if not cell.active else 0,
            Refusal(
                "capacity:working",
                text(MSG_WORKING).format(occupants=occupants, capacity=cell.working_capacity),
            ),
        )
    if who.regime == "criminal" and cell.module.regime == "criminal":
        trial = trial_refusal(mix if mix is not None else trial_mix([cell.pk])[cell.pk], who)
        if trial:
            found.append(trial)
    if who.person_id is not None:
        if apart is None:
            apart = counterparts([who.person_id]).get(who.person_id, [])
        found.extend(keep_apart_refusals(cell, apart))
    return found


# --- reads of who is where -------------------------------------------------------------


def placement_model() -> type[Placement]:
    """The placement model (kept for the callers written when it was reached through a
    reverse relation, before placements moved to housing)."""
    return Placement


def occupancy(cells: list[int]) -> dict[int, int]:
    """Open placements per cell of ``cells`` (cell ids; 0 for an empty one), counted on the
    placements' (cell, ended_at) index alone: at 40,000 people a join from the cells read
    every placement row (80 ms for the dashboard's 256 cells; this reads the index only)."""
    found = dict.fromkeys(cells, 0)
    found.update(
        Placement.objects.filter(cell_id__in=cells, ended_at__isnull=True)
        .order_by()
        .values("cell_id")
        .annotate(n=Count("pk"))
        .values_list("cell_id", "n")
    )
    return found


#: Up to this many cells, :func:`cell_loads` looks up each open placement's legal bases
#: through the indexes (a handful of cells after a write); beyond, one join over them all.
FEW_CELLS = 8


def cell_loads(cells: list[int]) -> tuple[dict[int, int], defaultdict[int, TrialMix]]:
    """Who is held now per cell, in one query: the number of open placements and their
    untried/convicted mix (Mandela Rule 11(b)).

    Each open placement is reduced to two flags — held on a criminal sentence; at least one
    criminal judgment final or of unknown finality (see :func:`is_untried`) — summed per
    cell. For many cells, one GROUP BY over the open placements joined to their episodes'
    legal bases. For a few (:data:`FEW_CELLS`; the incremental refresh of
    :func:`habeas.housing.selectors.housing_snapshot` after a write), a correlated
    subquery per open placement instead, so every step is an index lookup (placements by
    cell, links by episode, bases by id): PostgreSQL would otherwise hash the whole link
    table for a single cell (25 ms against 2 ms at 40,000 people)."""
    count: dict[int, int] = {}
    mix: defaultdict[int, TrialMix] = defaultdict(TrialMix)
    if not cells:
        return count, mix
    placement = Placement
    bases: Any = CustodyEpisode._meta.get_field("legal_bases")
    basis = LegalBasis
    q = connection.ops.quote_name
    tables = {
        "placement": q(placement._meta.db_table),
        "through": q(bases.remote_field.through._meta.db_table),
        "basis": q(basis._meta.db_table),
        "episode_col": q(bases.m2m_column_name()),
        "basis_col": q(bases.m2m_reverse_name()),
        "marks": ", ".join(["%s"] * len(cells)),
    }
    params: list[Any] = [CRIMINAL_SENTENCE, True, *cells]
    if len(cells) <= FEW_CELLS:
        # level per placement: 0 no criminal basis, 1 criminal (none final), 2 a final one
        sql = (  # noqa: S608 - table names from the models' metadata, values as parameters
            'SELECT p."cell_id", (SELECT MAX(CASE WHEN b."kind" = %s THEN (CASE WHEN'
            ' b."judgment_final" IS NULL OR b."judgment_final" = %s THEN 2 ELSE 1 END)'
            ' ELSE 0 END) FROM {through} t JOIN {basis} b ON b."id" = t.{basis_col}'
            ' WHERE t.{episode_col} = p."episode_id")'
            ' FROM {placement} p WHERE p."ended_at" IS NULL AND p."cell_id" IN ({marks})'
        ).format(**tables)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            for pk, level in cursor.fetchall():
                count[pk] = count.get(pk, 0) + 1
                if level:
                    held = mix[pk]
                    if level >= 2:
                        held.convicted += 1
                    else:
                        held.untried += 1
        return count, mix
    sql = (  # noqa: S608 - table names from the models' metadata, values as parameters
        "SELECT per.cell_id, COUNT(*), SUM(per.criminal), SUM(per.final) FROM ("
        ' SELECT p."cell_id" AS cell_id,'
        ' MAX(CASE WHEN b."kind" = %s THEN 1 ELSE 0 END) AS criminal,'
        ' MAX(CASE WHEN b."kind" = %s AND (b."judgment_final" IS NULL'
        ' OR b."judgment_final" = %s) THEN 1 ELSE 0 END) AS final'
        " FROM {placement} p"
        ' LEFT JOIN {through} t ON t.{episode_col} = p."episode_id"'
        ' LEFT JOIN {basis} b ON b."id" = t.{basis_col}'
        ' WHERE p."ended_at" IS NULL AND p."cell_id" IN ({marks})'
        ' GROUP BY p."id", p."cell_id"'
        ") per GROUP BY per.cell_id"
    ).format(**tables)
    with connection.cursor() as cursor:
        cursor.execute(sql, [CRIMINAL_SENTENCE, *params])
        for pk, n, criminal, final in cursor.fetchall():
            count[pk] = int(n)
            if criminal:
                mix[pk] = TrialMix(untried=int(criminal) - int(final), convicted=int(final))
    return count, mix


def trial_mix(cells: list[int]) -> defaultdict[int, TrialMix]:
    """Untried and convicted people held now per cell (Mandela Rule 11(b))."""
    return cell_loads(cells)[1]


def positions(person_ids: Iterable[int]) -> dict[int, tuple[int, int, int]]:
    """person id → (cell, module, facility) of their open placement."""
    ids = list(set(person_ids))
    if not ids:
        return {}
    rows = (
        placement_model()
        .objects.filter(ended_at__isnull=True, episode__person_id__in=ids)
        .values_list("episode__person_id", "cell_id", "cell__module_id", "cell__facility_id")
    )
    return {person: (cell, module, facility) for person, cell, module, facility in rows}


@dataclass
class KeepApartIndex:
    """Open keep-apart records of some people: person → [(record id, scope, other person)]."""

    pairs: dict[int, list[tuple[int, str, int]]] = field(default_factory=dict)

    @classmethod
    def load(cls, person_ids: Iterable[int]) -> KeepApartIndex:
        ids = list(set(person_ids))
        index = cls({pid: [] for pid in ids})
        table = KeepApart._meta.db_table
        rows: list[tuple[int, str, int, int]] = []
        with connection.cursor() as cursor:  # plain reads: a batch asks for thousands of ids
            for chunk_start in range(0, len(ids), 500):
                chunk = ids[chunk_start : chunk_start + 500]
                marks = ", ".join(["%s"] * len(chunk))
                cursor.execute(
                    f"SELECT id, scope, person_a_id, person_b_id FROM {table} "  # noqa: S608 - the model's table
                    f"WHERE closed_at IS NULL AND (person_a_id IN ({marks}) "
                    f"OR person_b_id IN ({marks})) ORDER BY opened_at DESC, id DESC",
                    chunk + chunk,
                )
                rows += cursor.fetchall()
        for pk, scope, a, b in rows:
            for me, other in ((a, b), (b, a)):
                if me in index.pairs and (pk, scope, other) not in index.pairs[me]:
                    index.pairs[me].append((pk, scope, other))
        return index

    def others(self) -> set[int]:
        return {other for entries in self.pairs.values() for _, _, other in entries}


def counterparts(person_ids: Iterable[int]) -> dict[int, list[Counterpart]]:
    index = KeepApartIndex.load(person_ids)
    where = positions(index.others())
    return {
        pid: [
            Counterpart(pk, scope, other, *where.get(other, (None, None, None)))
            for pk, scope, other in entries
        ]
        for pid, entries in index.pairs.items()
    }


def crowding_key(cell: Cell, occupants: int) -> tuple[float, float, str]:
    certified = cell.certified_capacity
    after = occupants + 1
    ratio = after / certified if certified else float("inf")
    return (ratio, after / max(cell.working_capacity, 1), cell.code)


def ranked_cells(
    cells: Iterable[Cell],
    count: Mapping[int, int],
    mix: Mapping[int, TrialMix],
    apart: Sequence[Counterpart],
    who: Occupant,
) -> tuple[list[Cell], list[tuple[Cell, list[Refusal]]]]:
    """Every rule applied to every cell, in memory: the cells allowed, least crowded relative
    to certified capacity first, and the cells refused with all their reasons (in code
    order). ``count`` and ``mix`` are the cells' occupancy and untried/convicted mix,
    ``apart`` where ``who``'s keep-apart counterparts are held."""
    allowed: list[Cell] = []
    refused: list[tuple[Cell, list[Refusal]]] = []
    none = TrialMix()
    held = [cp for cp in apart if cp.cell is not None]  # the others are never in the way
    token = _TEXTS.set({})
    try:
        for cell in sorted(cells, key=lambda c: c.code):
            why = refusals(
                cell,
                count.get(cell.pk, 0),
                who,
                mix=mix.get(cell.pk, none) if who.regime == "criminal" else none,
                apart=held,
            )
            if why:
                refused.append((cell, why))
            else:
                allowed.append(cell)
    finally:
        _TEXTS.reset(token)
    allowed.sort(key=lambda c: crowding_key(c, count.get(c.pk, 0)))
    return allowed, refused


class Allocator:
    """In-transaction view of a facility's cells and their occupancy, for a batch of
    placements. On PostgreSQL the cells are locked (``SELECT … FOR UPDATE``) so concurrent
    batches queue; SQLite's IMMEDIATE transactions serialise writers already.

    Keep-apart records are read in bulk with :meth:`prepare` (or per person on demand), and
    the batch's own placements are tracked, so two people of one batch under a keep-apart
    record are held apart too."""

    def __init__(self, facility: Facility, *, lock: bool = True) -> None:
        qs = Cell.objects.filter(facility=facility).select_related("module").order_by("pk")
        if lock:
            qs = qs.select_for_update(of=("self",))
        self.facility = facility
        self.cells = {c.pk: c for c in qs}
        self.by_code = {c.code: c for c in self.cells.values()}
        self.count = defaultdict(int, occupancy(list(self.cells)))
        self._heaps: dict[tuple[str, Regime], list[tuple[tuple[float, float, str], int]]] = {}
        self._mix: defaultdict[int, TrialMix] | None = None
        self._index = KeepApartIndex()
        self._where: dict[int, tuple[int, int, int] | None] = {}

    # -- context --------------------------------------------------------------------------

    @property
    def mix(self) -> defaultdict[int, TrialMix]:
        if self._mix is None:
            self._mix = trial_mix(list(self.cells))
        return self._mix

    def prepare(self, person_ids: Iterable[int]) -> None:
        """Read the keep-apart records of a batch's people and where their counterparts are,
        in a few queries."""
        wanted = [p for p in set(person_ids) if p not in self._index.pairs]
        if not wanted:
            return
        loaded = KeepApartIndex.load(wanted)
        self._index.pairs.update(loaded.pairs)
        unknown = [p for p in loaded.others() if p not in self._where]
        where = positions(unknown)
        for p in unknown:
            self._where[p] = where.get(p)

    def apart(self, who: Occupant) -> list[Counterpart]:
        if who.person_id is None:
            return []
        self.prepare([who.person_id])
        found = []
        for pk, scope, other in self._index.pairs.get(who.person_id, []):
            pos = self._where.get(other)
            found.append(Counterpart(pk, scope, other, *(pos or (None, None, None))))
        return found

    def refusals(self, cell: Cell, who: Occupant) -> list[Refusal]:
        mix = self.mix[cell.pk] if who.regime == "criminal" else TrialMix()
        return refusals(cell, self.count[cell.pk], who, mix=mix, apart=self.apart(who))

    # -- choice ---------------------------------------------------------------------------

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

    def _dynamic_ok(self, cell: Cell, who: Occupant, apart: Sequence[Counterpart]) -> bool:
        if who.regime == "criminal" and trial_refusal(self.mix[cell.pk], who):
            return False
        return not keep_apart_refusals(cell, apart)

    def choose(self, who: Occupant) -> Cell | None:
        """The least crowded cell (relative to certified capacity) that every rule allows;
        overridable refusals count as refusals here (an override is a human decision)."""
        apart = self.apart(who)
        best: tuple[tuple[float, float, str], int] | None = None
        for population in population_for(who):
            heap = self._group(population, who.regime)
            while heap and self.count[heap[0][1]] >= self.cells[heap[0][1]].working_capacity:
                heapq.heappop(heap)  # full: out of the running for this batch
            if not heap:
                continue
            candidate: tuple[tuple[float, float, str], int] | None = None
            if self._dynamic_ok(self.cells[heap[0][1]], who, apart):
                candidate = heap[0]
            else:  # the top is refused for this person only: scan the group in order
                for entry in sorted(heap):
                    cell = self.cells[entry[1]]
                    if self.count[cell.pk] < cell.working_capacity and self._dynamic_ok(
                        cell, who, apart
                    ):
                        candidate = entry
                        break
            if candidate is not None and (best is None or candidate < best):
                best = candidate
        return None if best is None else self.cells[best[1]]

    def ranked(self, who: Occupant) -> tuple[list[Cell], list[tuple[Cell, list[Refusal]]]]:
        """Every cell of the facility: those allowed, least crowded first, and those refused
        with their reasons (:func:`ranked_cells` over this allocator's view)."""
        mix = self.mix if who.regime == "criminal" else {}
        return ranked_cells(self.cells.values(), self.count, mix, self.apart(who), who)

    # -- bookkeeping ----------------------------------------------------------------------

    def take(self, cell: Cell, who: Occupant | None = None) -> None:
        self.count[cell.pk] += 1
        self._track(cell, who, +1)
        self._reheap(cell)

    def leave(self, cell: Cell, who: Occupant | None = None) -> None:
        self.count[cell.pk] -= 1
        self._track(cell, who, -1)
        self._reheap(cell)

    def _track(self, cell: Cell, who: Occupant | None, step: int) -> None:
        if who is None:
            return
        if who.regime == "criminal" and self._mix is not None:
            mix = self._mix[cell.pk]
            if who.untried:
                mix.untried += step
            else:
                mix.convicted += step
        if who.person_id is not None:
            self._where[who.person_id] = (
                (cell.pk, cell.module_id, cell.facility_id) if step > 0 else None
            )

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
        for i, (_key, pk) in enumerate(heap):
            if pk == cell.pk:
                heap[i] = entry
                break
        else:
            heap.append(entry)
        heapq.heapify(heap)
