"""Ingesting cell readings (issue 14, item 1) and evaluating the heat alert as they arrive
(item 3): one service, :func:`readings_ingest`, behind the CSV command, the sensor API and
the MQTT listener.

- Idempotent on (cell, taken_at): a reading already stored with the same values is skipped;
  with other values it is a bad row (a sensor does not take two readings at one instant).
  A batch that stores nothing writes nothing, not even a ledger entry.
- A bad row (unknown cell, no time or no time zone, a value out of range) is reported by row,
  column and reason; the other rows are stored.
- One ledger entry per batch, ``conditions.readings_ingested``, committing to the stored rows
  per cell: count, first and last time, SHA-256 of the canonical rows
  (:func:`canonical_line`). ``verify-ledger`` recomputes the commitments from the table.
- Heat alert, rule A5 (STANDARDS.md "Heat"; Cole v. Collier): a heat index at or above the
  facility's limit (default 31.1 °C / 88 °F) sustained for its sustain time (default 30
  minutes; both in the setup file) opens a ``heat`` alert on the cell; the
  same time below closes it (:func:`heat_step`). Each opening and closing is a ledger entry.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import itertools
import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from operator import itemgetter, methodcaller
from typing import Any

import numpy as np
from django.db import connection
from numpy.typing import NDArray

from habeas.conditions.heat import HOUSING_LIMIT_F, f_to_c, heat_index_c_array
from habeas.conditions.readings_models import (
    CellAlert,
    CellAlertKind,
    CellClimate,
    Reading,
    ReadingBatch,
    ReadingHour,
)
from habeas.core.actor import Actor
from habeas.core.clock import now
from habeas.core.services import service
from habeas.facilities.models import Cell, Facility
from habeas.ledger.services import Event, ledger_append_many

#: Rule A5: the heat index limit in housing areas (Cole v. Collier, 2018 settlement: 88 °F,
#: shown as 31.1 °C).
HEAT_LIMIT_C = f_to_c(HOUSING_LIMIT_F)
#: Rule A5: how long the heat index must stay at or above (below) the limit to open (close).
HEAT_SUSTAIN = dt.timedelta(minutes=30)
#: Rule A6: an occupied cell without a reading for this long has a silent sensor; a gap this
#: long also restarts the heat evaluation's window (silence is neither heat nor coolness).
SILENCE = dt.timedelta(hours=2)

TEMPERATURE_RANGE = (-30.0, 70.0)
HUMIDITY_RANGE = (0.0, 100.0)
CO2_RANGE = (0, 100_000)
COLUMNS = ("cell", "taken_at", "temperature_c", "humidity_pct")
OPTIONAL_COLUMNS = ("co2_ppm",)

MSG_UNKNOWN_CELL = "unknown cell {cell!r}: give FACILITY/CELL or a cell code"
MSG_AMBIGUOUS_CELL = "cell code {cell!r} is used in several facilities: give FACILITY/CELL"
MSG_OTHER_FACILITY = "cell {cell!r} is not in facility {facility} (this sensor's scope)"
MSG_NOT_YOURS = "cell {cell!r} is not in your facilities"
MSG_NO_TIME = "no time given"
MSG_BAD_TIME = "not an ISO 8601 time: {value!r}"
MSG_NAIVE_TIME = "time without a time zone: {value!r} (add Z or an offset such as -06:00)"
MSG_FUTURE = "time in the future: {value!r}"
MSG_NUMBER = "not a number: {value!r}"
MSG_RANGE = "{value} is out of range {low}..{high}"
MSG_REQUIRED = "missing"
MSG_TWICE = "the same cell and time twice with different values (first at row {row})"
MSG_STORED = "a reading of this cell at this time is already stored with other values"


@dataclass(frozen=True, slots=True)
class RowError:
    row: int
    column: str
    reason: str

    def __str__(self) -> str:
        return f"row {self.row}, column {self.column}: {self.reason}"


@dataclass(frozen=True, slots=True)
class Row:
    """A valid reading, before storing: ``row`` is its number in the input (1 = first data
    row), ``cell`` the cell's id."""

    row: int
    cell: int
    taken_at: dt.datetime
    temperature_c: float
    humidity_pct: float
    co2_ppm: int | None


EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
MICROSECOND = dt.timedelta(microseconds=1)
#: An instant that could not be read (never a real reading's time).
NO_TIME = int(np.iinfo(np.int64).min)
READING_COLUMNS = ("row", "cell", "at", "t", "h", "co2")


def to_us(at: dt.datetime) -> int:
    """A time as microseconds since 1970 (UTC)."""
    return (at - EPOCH) // MICROSECOND


def from_us(us: int) -> dt.datetime:
    return EPOCH + dt.timedelta(microseconds=us)


@dataclass
class Readings:
    """Valid readings as columns (one array each, of one length): the row number in the input,
    the cell's id, the time in microseconds since 1970 (UTC), temperature, humidity and CO₂
    (``-1`` when not measured). A million readings are six arrays, not a million objects."""

    row: NDArray[np.int64]
    cell: NDArray[np.int64]
    at: NDArray[np.int64]
    t: NDArray[np.float64]
    h: NDArray[np.float64]
    co2: NDArray[np.int64]

    def __len__(self) -> int:
        return len(self.row)

    @classmethod
    def empty(cls) -> Readings:
        i, f = np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float64)
        return cls(i, i, i, f, f, i)

    @classmethod
    def from_rows(cls, rows: Sequence[Row]) -> Readings:
        n = len(rows)
        return cls(
            np.fromiter((r.row for r in rows), dtype=np.int64, count=n),
            np.fromiter((r.cell for r in rows), dtype=np.int64, count=n),
            np.fromiter((to_us(r.taken_at) for r in rows), dtype=np.int64, count=n),
            np.fromiter((r.temperature_c for r in rows), dtype=np.float64, count=n),
            np.fromiter((r.humidity_pct for r in rows), dtype=np.float64, count=n),
            np.fromiter((-1 if r.co2_ppm is None else r.co2_ppm for r in rows), np.int64, n),
        )

    @classmethod
    def concat(cls, parts: Sequence[Readings]) -> Readings:
        return cls(*(np.concatenate([getattr(p, f) for p in parts]) for f in READING_COLUMNS))

    def take(self, index: Any) -> Readings:
        """The readings at ``index`` (positions or a mask)."""
        return Readings(*(getattr(self, f)[index] for f in READING_COLUMNS))

    def rows(self) -> list[Row]:
        return [
            Row(n, c, from_us(a), t, h, None if co2 < 0 else co2)
            for n, c, a, t, h, co2 in zip(
                self.row.tolist(), self.cell.tolist(), self.at.tolist(), self.t.tolist(),
                self.h.tolist(), self.co2.tolist(), strict=True,
            )
        ]  # fmt: skip


@dataclass
class IngestReport:
    received: int = 0
    stored: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    batch: int | None = None
    opened: list[str] = field(default_factory=list)
    closed: list[str] = field(default_factory=list)

    def document(self) -> dict[str, Any]:
        return {
            "received": self.received,
            "stored": self.stored,
            "unchanged": self.unchanged,
            "batch": self.batch,
            "alerts_opened": self.opened,
            "alerts_closed": self.closed,
            "errors": [{"row": e.row, "column": e.column, "reason": e.reason} for e in self.errors],
        }


# --- cells ---------------------------------------------------------------------------------


class CellIndex:
    """Cells by ``FACILITY/CELL`` and by bare cell code (when only one facility has it),
    optionally limited to one facility (a sensor token's scope)."""

    def __init__(self, facility: str | None = None, facilities: list[str] | None = None) -> None:
        self.facility = facility
        self.facilities = None if facilities is None else set(facilities)
        self.by_id: dict[int, tuple[str, str, int]] = {}  # id → (facility, cell, facility id)
        self.by_name: dict[str, int] = {}
        codes: dict[str, list[int]] = defaultdict(list)
        for pk, code, fcode, fid in Cell.objects.values_list(
            "pk", "code", "facility__code", "facility_id"
        ):
            self.by_id[pk] = (fcode, code, fid)
            self.by_name[f"{fcode}/{code}"] = pk
            codes[code].append(pk)
        self.ambiguous = {c for c, ids in codes.items() if len(ids) > 1}
        for code, ids in codes.items():
            if len(ids) == 1:
                self.by_name.setdefault(code, ids[0])

    def label(self, cell_id: int) -> str:
        fcode, code, _fid = self.by_id[cell_id]
        return f"{fcode}/{code}"

    def heat_rule(self, cell_id: int) -> tuple[float, dt.timedelta]:
        """Rule A5 for the cell's facility: its heat index limit (°C) and sustain time."""
        rules = self.__dict__.get("_rules")
        if rules is None:
            rules = self._rules = facility_heat_rules()
        return rules.get(self.by_id[cell_id][2], (HEAT_LIMIT_C, HEAT_SUSTAIN))

    def resolve(self, text: str) -> int | str:
        """The cell's id, or why not."""
        text = text.strip()
        pk = self.by_name.get(text)
        if pk is None:
            if text in self.ambiguous:
                return MSG_AMBIGUOUS_CELL.format(cell=text)
            return MSG_UNKNOWN_CELL.format(cell=text)
        if self.facility is not None and self.by_id[pk][0] != self.facility:
            return MSG_OTHER_FACILITY.format(cell=text, facility=self.facility)
        if self.facilities is not None and self.by_id[pk][0] not in self.facilities:
            return MSG_NOT_YOURS.format(cell=text)
        return pk


def facility_heat_rules() -> dict[int, tuple[float, dt.timedelta]]:
    """Per facility id, rule A5's limit in °C and sustain time as its setup file declares them
    (default 31.1 °C = 88 °F, 30 minutes)."""
    return {
        pk: (float(limit), dt.timedelta(minutes=minutes))
        for pk, limit, minutes in Facility.objects.values_list(
            "pk", "heat_limit_c", "heat_sustain_minutes"
        )
    }


class RecordColumns:
    """Records already split into columns (a CSV read whole): the row numbers and one
    sequence per column, ``cell``, ``taken_at``, ``temperature_c``, ``humidity_pct`` and
    optionally ``co2_ppm``. Iterating gives ``(row number, record)`` like any records."""

    def __init__(self, numbers: list[int], columns: list[Sequence[Any]]) -> None:
        self.numbers, self.columns = numbers, columns

    def __len__(self) -> int:
        return len(self.numbers)

    def __iter__(self) -> Iterator[tuple[int, Sequence[Any]]]:
        return zip(self.numbers, zip(*self.columns, strict=True), strict=True)

    def record(self, k: int) -> tuple[Any, ...]:
        return tuple(c[k] for c in self.columns)


# --- validation ----------------------------------------------------------------------------


def _number(
    value: Any, column: str, row: int, low: float, high: float, errors: list[RowError]
) -> float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        errors.append(RowError(row, column, MSG_REQUIRED))
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        errors.append(RowError(row, column, MSG_NUMBER.format(value=value)))
        return None
    if math.isnan(number) or not low <= number <= high:
        errors.append(RowError(row, column, MSG_RANGE.format(value=value, low=low, high=high)))
        return None
    return number


class _Times:
    """ISO 8601 times parsed once each (a facility's sensors report at the same instants)."""

    def __init__(self) -> None:
        self.cache: dict[str, dt.datetime | str] = {}
        self.limit = now() + dt.timedelta(minutes=5)

    def parse(self, value: Any) -> dt.datetime | str:
        if isinstance(value, dt.datetime):
            text = value.isoformat()
        elif value is None or not str(value).strip():
            return MSG_NO_TIME
        else:
            text = str(value).strip()
        found = self.cache.get(text)
        if found is not None:
            return found
        try:
            parsed = dt.datetime.fromisoformat(text)
        except ValueError:
            result: dt.datetime | str = MSG_BAD_TIME.format(value=text)
        else:
            if parsed.tzinfo is None:
                result = MSG_NAIVE_TIME.format(value=text)
            else:
                parsed = parsed.astimezone(dt.UTC)
                result = MSG_FUTURE.format(value=text) if parsed > self.limit else parsed
        self.cache[text] = result
        return result


def _check_row(
    number: int,
    record: Sequence[Any],
    cells: CellIndex,
    times: _Times,
    resolved: dict[str, int | str],
    errors: list[RowError],
) -> Row | None:
    """One record checked field by field: a :class:`Row`, or ``None`` and its faults."""
    t_low, t_high = TEMPERATURE_RANGE
    h_low, h_high = HUMIDITY_RANGE
    before = len(errors)
    cell_text = str(record[0] or "").strip()
    cell = resolved.get(cell_text)
    if cell is None:
        cell = resolved[cell_text] = cells.resolve(cell_text) if cell_text else MSG_REQUIRED
    if isinstance(cell, str):
        errors.append(RowError(number, "cell", cell))
    taken = times.parse(record[1])
    if isinstance(taken, str):
        errors.append(RowError(number, "taken_at", taken))
    t = _number(record[2], "temperature_c", number, t_low, t_high, errors)
    h = _number(record[3], "humidity_pct", number, h_low, h_high, errors)
    co2: int | None = None
    raw = record[4] if len(record) > 4 else None
    if raw is not None and str(raw).strip():
        value = _number(raw, "co2_ppm", number, *CO2_RANGE, errors)
        co2 = None if value is None else round(value)
    if len(errors) != before:
        return None
    assert isinstance(cell, int)
    assert isinstance(taken, dt.datetime)
    assert t is not None
    assert h is not None
    return Row(number, cell, taken, round(t, 2), round(h, 2), co2)


def _floats(values: Sequence[Any]) -> NDArray[np.float64]:
    """The values as doubles, NaN where one is not a number (checked row by row later)."""
    try:
        return np.array(values, dtype=np.float64)
    except (TypeError, ValueError):
        out = np.empty(len(values), dtype=np.float64)
        for k, v in enumerate(values):
            try:
                out[k] = float(v)
            except (TypeError, ValueError):
                out[k] = math.nan
        return out


def _co2(values: Sequence[Any] | None, n: int) -> tuple[NDArray[np.int64], NDArray[np.bool_]]:
    """CO₂ values (``-1`` where not measured) and where one is bad (checked row by row);
    ``values`` is ``None`` when no record has the column."""
    co2 = np.full(n, -1, dtype=np.int64)
    bad = np.zeros(n, dtype=bool)
    if values is None or set(values) <= {None, ""}:
        return co2, bad
    for k, v in enumerate(values):
        if v is None or (isinstance(v, str) and not v.strip()):
            continue
        try:
            value = float(v)
        except (TypeError, ValueError):
            bad[k] = True
            continue
        if math.isnan(value) or not CO2_RANGE[0] <= value <= CO2_RANGE[1]:
            bad[k] = True
        else:
            co2[k] = round(value)
    return co2, bad


def _hashable(value: Any) -> Any:
    return value if value is None or isinstance(value, str | dt.datetime) else str(value)


def validate_rows(
    records: Iterable[tuple[int, Sequence[Any]]], cells: CellIndex
) -> tuple[Readings, list[RowError]]:
    """Check records ``(row number, (cell, taken_at, temperature_c, humidity_pct[, co2_ppm]))``:
    the valid ones as :class:`Readings` (columns), and every fault by row, column and reason.
    Whole columns are checked at once, each distinct cell and time resolved once; a record
    failing any check is checked again field by field (:func:`_check_row`) to name each
    fault."""
    columns: list[Sequence[Any]]
    record_of: Callable[[int], Sequence[Any]]
    if isinstance(records, RecordColumns):
        numbers, columns, record_of = records.numbers, records.columns, records.record
    else:
        pairs = list(records)
        numbers = list(map(itemgetter(0), pairs))
        fields: list[Sequence[Any]] = list(map(itemgetter(1), pairs))
        del pairs
        width = min(map(len, fields), default=4)
        columns = [list(map(itemgetter(k), fields)) for k in range(min(width, 5))]
        if width < 5 and any(len(r) > 4 for r in fields):
            columns.append([r[4] if len(r) > 4 else None for r in fields])
        record_of = fields.__getitem__
    n = len(numbers)
    errors: list[RowError] = []
    if not n:
        return Readings.empty(), errors
    cells_in, times_in = columns[0], columns[1]
    try:
        distinct_cells, distinct_times = set(cells_in), set(times_in)
    except TypeError:  # a JSON list or object where a text was expected: read as text
        cells_in, times_in = list(map(_hashable, cells_in)), list(map(_hashable, times_in))
        distinct_cells, distinct_times = set(cells_in), set(times_in)
    times = _Times()
    resolved: dict[str, int | str] = {}
    cell_of: dict[Any, int] = {}
    for value in distinct_cells:
        text = str(value or "").strip()
        found = resolved.get(text)
        if found is None:
            found = resolved[text] = cells.resolve(text) if text else MSG_REQUIRED
        cell_of[value] = found if isinstance(found, int) else -1
    cell = np.fromiter(map(cell_of.__getitem__, cells_in), dtype=np.int64, count=n)
    at_of: dict[Any, int] = {}
    for value in distinct_times:
        parsed = times.parse(value)
        at_of[value] = to_us(parsed) if isinstance(parsed, dt.datetime) else NO_TIME
    at = np.fromiter(map(at_of.__getitem__, times_in), dtype=np.int64, count=n)
    t = _floats(columns[2])
    h = _floats(columns[3])
    co2, co2_bad = _co2(columns[4] if len(columns) > 4 else None, n)
    with np.errstate(invalid="ignore"):
        good = (
            (cell >= 0)
            & (at != NO_TIME)
            & (t >= TEMPERATURE_RANGE[0]) & (t <= TEMPERATURE_RANGE[1])
            & (h >= HUMIDITY_RANGE[0]) & (h <= HUMIDITY_RANGE[1])
            & ~co2_bad
        )  # fmt: skip
    rows = np.array(numbers, dtype=np.int64)
    valid = Readings(
        rows[good], cell[good], at[good], np.round(t[good], 2), np.round(h[good], 2), co2[good]
    )
    if good.all():
        return valid, errors
    checked = [
        _check_row(numbers[k], record_of(k), cells, times, resolved, errors)
        for k in np.flatnonzero(~good).tolist()
    ]
    late = [r for r in checked if r is not None]
    if late:
        valid = Readings.concat([valid, Readings.from_rows(late)])
    return valid, errors


# --- the canonical rows ----------------------------------------------------------------------


def instant_text(at: dt.datetime) -> str:
    """A time as the canonical rows write it: UTC, ISO 8601, ``Z``."""
    at = at.astimezone(dt.UTC)
    text = at.strftime("%Y-%m-%dT%H:%M:%S")
    if at.microsecond:
        text += f".{at.microsecond:06d}"
    return text + "Z"


def canonical_line(cell: str, taken_at: str, t: float, h: float, co2: int | None) -> bytes:
    """One reading as committed to: ``FACILITY/CELL,time,temperature,humidity,co2\\n``
    (temperature and humidity with two decimals, CO₂ empty when not measured)."""
    return f"{cell},{taken_at},{t:.2f},{h:.2f},{'' if co2 is None else co2}\n".encode()


@dataclass
class Commitment:
    """What a batch commits to for one cell (or the whole batch)."""

    count: int = 0
    first: str = ""
    last: str = ""
    digest: Any = field(default_factory=hashlib.sha256)

    def add(self, line: bytes, at: str) -> None:
        if not self.count:
            self.first = at
        self.last = at
        self.count += 1
        self.digest.update(line)

    def document(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "first": self.first,
            "last": self.last,
            "sha256": self.digest.hexdigest(),
        }


def commitments(
    rows: Iterable[tuple[str, dt.datetime, float, float, int | None]],
) -> dict[str, Commitment]:
    """Per cell, the commitment to its rows; ``rows`` sorted by cell and time."""
    found: dict[str, Commitment] = {}
    texts: dict[dt.datetime, str] = {}
    for cell, taken_at, t, h, co2 in rows:
        at = texts.get(taken_at)
        if at is None:
            at = texts[taken_at] = instant_text(taken_at)
        c = found.get(cell)
        if c is None:
            c = found[cell] = Commitment()
        c.add(canonical_line(cell, at, t, h, co2), at)
    return found


# --- the heat alert (rule A5) ----------------------------------------------------------------


@dataclass
class HeatState:
    """Where a cell's heat evaluation stands: the last reading seen, the start of the current
    run at or above the limit (alert closed) or below it (alert open)."""

    open: bool = False
    last_at: dt.datetime | None = None
    above_since: dt.datetime | None = None
    below_since: dt.datetime | None = None


def heat_step(
    state: HeatState,
    at: dt.datetime,
    hi_c: float,
    *,
    limit_c: float = HEAT_LIMIT_C,
    sustain: dt.timedelta = HEAT_SUSTAIN,
    gap: dt.timedelta = SILENCE,
) -> str | None:
    """Advance ``state`` by one reading (in time order); ``"opened"`` or ``"closed"`` when
    the alert changes. It opens once every reading for ``sustain`` was at or above the limit
    and closes once every reading for ``sustain`` was below it, so it cannot change twice
    within ``sustain``. A gap of ``gap`` or more between readings restarts the run."""
    if state.last_at is not None and at - state.last_at >= gap:
        state.above_since = state.below_since = None
    state.last_at = at
    if hi_c >= limit_c:
        state.below_since = None
        if state.open:
            return None
        if state.above_since is None:
            state.above_since = at
        if at - state.above_since >= sustain:
            state.open = True
            state.above_since = None
            return "opened"
        return None
    state.above_since = None
    if not state.open:
        return None
    if state.below_since is None:
        state.below_since = at
    if at - state.below_since >= sustain:
        state.open = False
        state.below_since = None
        return "closed"
    return None


@dataclass(frozen=True)
class Transition:
    cell: int
    change: str
    at: dt.datetime
    since: dt.datetime
    hi_c: float


def heat_runs(
    at: NDArray[np.int64],
    hi: NDArray[np.float64],
    *,
    is_open: bool,
    above_since: int | None,
    below_since: int | None,
    limit_c: float,
    sustain_us: int,
    gap_us: int,
) -> tuple[list[tuple[int, bool, int]], bool, int | None, int | None]:
    """Rule A5 over one cell's readings (times in µs, ascending; heat index in °C), taken run
    by run: the same decisions as :func:`heat_step` reading by reading. A run is a stretch of
    readings on one side of the limit without a gap of ``gap_us``; the alert changes at the
    first reading of a run at least ``sustain_us`` after the run began, which may be before
    these readings (``above_since`` / ``below_since``, carried from the cell's last batch).
    Returns the changes ``(position, opened, run start)`` and the state after the last
    reading: open or not, and the start of the run not yet decided."""
    above = hi >= limit_c
    cuts = np.flatnonzero((above[1:] != above[:-1]) | (np.diff(at) >= gap_us)) + 1
    starts = [0, *cuts.tolist()]
    ends = [*cuts.tolist(), len(at)]
    changes: list[tuple[int, bool, int]] = []
    undecided: int | None = None
    for k, (s, e) in enumerate(zip(starts, ends, strict=True)):
        hot = bool(above[s])
        carried = above_since if hot else below_since
        run_start = carried if k == 0 and carried is not None else int(at[s])
        undecided = None
        if hot == is_open:
            continue  # above while open, below while closed: nothing to decide
        j = s + int(np.searchsorted(at[s:e], run_start + sustain_us, side="left"))
        if j < e:
            is_open = hot
            changes.append((j, hot, run_start))
        else:
            undecided = run_start
    last_hot = bool(above[-1])
    return (
        changes,
        is_open,
        undecided if last_hot else None,
        None if last_hot else undecided,
    )


def _evaluate(
    r: Readings, hi: NDArray[np.float64], open_heat: set[int], index: CellIndex
) -> tuple[list[Transition], list[CellClimate]]:
    """Rule A5 over each cell's new readings (sorted by cell and time), from its stored state:
    the same decisions as :func:`heat_step` reading by reading, taken run by run. A run is a
    stretch of readings on one side of the limit without a silent gap; the alert changes at
    the first reading of a run at least ``sustain`` after the run began (the run may have
    begun in an earlier batch). Readings not newer than the cell's last evaluated one are
    stored and shown but do not rewrite alert history."""
    if not len(r):
        return [], []
    cell_ids = np.unique(r.cell).tolist()
    stored = {
        cell: (to_us(at), above, below)
        for cell, at, above, below in CellClimate.objects.filter(cell_id__in=cell_ids).values_list(
            "cell_id", "taken_at", "above_since", "below_since"
        )
    }
    transitions: list[Transition] = []
    climates: list[CellClimate] = []
    gap = SILENCE // MICROSECOND
    bounds = np.flatnonzero(np.diff(r.cell)) + 1
    starts = [0, *bounds.tolist()]
    ends = [*bounds.tolist(), len(r)]
    for a, b in zip(starts, ends, strict=True):
        cell = int(r.cell[a])
        prior = stored.get(cell)
        above_since = below_since = None
        if prior is not None:
            prior_at, prior_above, prior_below = prior
            a += int(np.searchsorted(r.at[a:b], prior_at, side="right"))
            if a == b:
                continue
            if r.at[a] - prior_at < gap:
                above_since = None if prior_above is None else to_us(prior_above)
                below_since = None if prior_below is None else to_us(prior_below)
        limit_c, sustain = index.heat_rule(cell)
        changes, _open, above_since, below_since = heat_runs(
            r.at[a:b],
            hi[a:b],
            is_open=cell in open_heat,
            above_since=above_since,
            below_since=below_since,
            limit_c=limit_c,
            sustain_us=sustain // MICROSECOND,
            gap_us=gap,
        )
        for j, opened, since in changes:
            when = from_us(int(r.at[a + j]))
            transitions.append(
                Transition(
                    cell, "opened" if opened else "closed", when,
                    from_us(since) if opened else when, float(hi[a + j]),
                )
            )  # fmt: skip
        climates.append(
            CellClimate(
                cell_id=cell,
                taken_at=from_us(int(r.at[b - 1])),
                temperature_c=float(r.t[b - 1]),
                humidity_pct=float(r.h[b - 1]),
                heat_index_c=round(float(hi[b - 1]), 2),
                above_since=None if above_since is None else from_us(above_since),
                below_since=None if below_since is None else from_us(below_since),
            )
        )
    return transitions, climates


# --- the service -----------------------------------------------------------------------------


def _hour(at: NDArray[np.int64]) -> NDArray[np.int64]:
    return at - at % (3600 * 1_000_000)


def _new_rows(r: Readings, errors: list[RowError]) -> tuple[Readings, int]:
    """The readings not stored yet (sorted by cell and time), and how many were already
    stored with the same values; a clash (same cell and time, other values) is a bad row."""
    if not len(r):
        return r, 0
    r = r.take(np.lexsort((r.at, r.cell)))  # stable: the first sent of two stays first
    unchanged = 0
    same = (r.cell[1:] == r.cell[:-1]) & (r.at[1:] == r.at[:-1])
    if same.any():
        keep = np.ones(len(r), dtype=bool)
        first = 0
        for i in (np.flatnonzero(same) + 1).tolist():
            if i < 2 or not same[i - 2]:
                first = i - 1
            keep[i] = False
            if (r.t[i], r.h[i], r.co2[i]) == (r.t[first], r.h[first], r.co2[first]):
                unchanged += 1
            else:
                errors.append(
                    RowError(int(r.row[i]), "taken_at", MSG_TWICE.format(row=int(r.row[first])))
                )
        r = r.take(keep)
    first_at, last_at = from_us(int(r.at.min())), from_us(int(r.at.max()))
    cells = np.unique(r.cell).tolist()
    rolled = {
        (c, to_us(h))
        for c, h in ReadingHour.objects.filter(
            cell_id__in=cells,
            hour__gte=first_at.replace(minute=0, second=0, microsecond=0),
            hour__lte=last_at,
        ).values_list("cell_id", "hour")
    }
    if rolled:
        # An hour already rolled up (retention) keeps no raw readings to compare with: a
        # reading of it is not stored again, so re-ingesting an old file changes nothing.
        pairs = zip(r.cell.tolist(), _hour(r.at).tolist(), strict=True)
        keep = np.fromiter(((c, h) not in rolled for c, h in pairs), dtype=bool, count=len(r))
        unchanged += len(r) - int(keep.sum())
        r = r.take(keep)
        if not len(r):
            return r, unchanged
    existing = {
        (c, to_us(at)): (t, h, -1 if co2 is None else co2)
        for c, at, t, h, co2 in Reading.objects.filter(
            cell_id__in=cells, taken_at__gte=first_at, taken_at__lte=last_at
        )
        .values_list("cell_id", "taken_at", "temperature_c", "humidity_pct", "co2_ppm")
        .iterator(chunk_size=50_000)
    }
    if not existing:
        return r, unchanged
    keep = np.ones(len(r), dtype=bool)
    for i, key in enumerate(zip(r.cell.tolist(), r.at.tolist(), strict=True)):
        old = existing.get(key)
        if old is None:
            continue
        keep[i] = False
        if old == (r.t[i], r.h[i], r.co2[i]):
            unchanged += 1
        else:
            errors.append(RowError(int(r.row[i]), "taken_at", MSG_STORED))
    return r.take(keep), unchanged


def _instants(at: NDArray[np.int64], convert: Any) -> list[Any]:
    """``convert(datetime)`` of every time, computed once per distinct time."""
    distinct, inverse = np.unique(at, return_inverse=True)
    converted = np.array([convert(from_us(u)) for u in distinct.tolist()], dtype=object)
    result: list[Any] = converted[inverse].tolist()
    return result


#: Rows per INSERT statement: one statement binds and steps many rows, which costs SQLite
#: (and the driver) much less per row than one statement per row (measured: 40 % less for
#: 256,000 readings); 100 rows of 6 values stay far below both engines' parameter limits.
ROWS_PER_STATEMENT = 100


def _insert(batch_id: int, r: Readings) -> None:
    """Multi-row inserts through the database driver (``ROWS_PER_STATEMENT`` rows a
    statement), in chunks of 50,000: the ORM would build a million objects to write a
    million rows."""
    times = _instants(r.at, connection.ops.adapt_datetimefield_value)
    co2 = [None if c < 0 else c for c in r.co2.tolist()] if (r.co2 >= 0).any() else None
    table = connection.ops.quote_name(Reading._meta.db_table)
    columns = "batch_id, cell_id, taken_at, temperature_c, humidity_pct, co2_ppm"
    one = "(%s, %s, %s, %s, %s, %s)"
    head = f"INSERT INTO {table} ({columns}) VALUES "  # noqa: S608
    many = head + ", ".join([one] * ROWS_PER_STATEMENT)
    cells, ts, hs = r.cell.tolist(), r.t.tolist(), r.h.tolist()
    step = 50_000  # a multiple of ROWS_PER_STATEMENT
    width = 6 * ROWS_PER_STATEMENT
    with connection.cursor() as cursor:
        for start in range(0, len(r), step):
            stop = min(start + step, len(r))
            co2s = co2[start:stop] if co2 is not None else itertools.repeat(None, stop - start)
            flat = list(
                itertools.chain.from_iterable(
                    zip(itertools.repeat(batch_id), cells[start:stop], times[start:stop],
                        ts[start:stop], hs[start:stop], co2s)
                )
            )  # fmt: skip
            full = (stop - start) // ROWS_PER_STATEMENT * width
            if full:
                cursor.executemany(many, [flat[i : i + width] for i in range(0, full, width)])
            if full < len(flat):
                rest = (len(flat) - full) // 6
                cursor.execute(head + ", ".join([one] * rest), flat[full:])


def _commitments(r: Readings, label: Any) -> dict[str, Commitment]:
    """Per cell, the commitment to its readings (sorted by cell and time): the same as
    :func:`commitments`, one SHA-256 update per cell."""
    texts = _instants(r.at, instant_text)
    t_text = {v: f"{v:.2f}" for v in np.unique(r.t).tolist()}.__getitem__
    h_text = {v: f"{v:.2f}" for v in np.unique(r.h).tolist()}.__getitem__
    ts, hs = r.t.tolist(), r.h.tolist()
    co2 = ["" if c < 0 else str(c) for c in r.co2.tolist()] if (r.co2 >= 0).any() else None
    line = "{},{},{},{},{}\n".format
    found: dict[str, Commitment] = {}
    bounds = np.flatnonzero(np.diff(r.cell)) + 1
    for a, b in zip([0, *bounds.tolist()], [*bounds.tolist(), len(r)], strict=True):
        name = label(int(r.cell[a]))
        data = "".join(
            map(
                line,
                itertools.repeat(name, b - a),
                texts[a:b],
                map(t_text, ts[a:b]),
                map(h_text, hs[a:b]),
                co2[a:b] if co2 is not None else itertools.repeat("", b - a),
            )
        ).encode()
        c = Commitment(count=b - a, first=texts[a], last=texts[b - 1])
        c.digest.update(data)
        found[name] = c
    return found


def ingested_payload(batch: ReadingBatch, cells: dict[str, Commitment]) -> dict[str, Any]:
    return {
        "batch": batch.pk,
        "source": batch.source,
        "name": batch.name,
        "received_at": batch.received_at,
        "count": batch.count,
        "first": batch.first_taken_at,
        "last": batch.last_taken_at,
        "sha256": batch.sha256,
        "cells": [{"cell": label, **c.document()} for label, c in sorted(cells.items())],
    }


@service
def readings_ingest(
    *,
    actor: Actor,
    rows: Readings | list[Row],
    source: str,
    name: str = "",
    cells: CellIndex | None = None,
    errors: list[RowError] | None = None,
) -> IngestReport:
    """Store the readings not stored yet as one batch with one ``conditions.readings_ingested``
    entry, evaluate the heat alert of each cell they reach (rule A5), close the silent-sensor
    alert of each cell heard from again (rule A6), each change one more entry. Mandela Rule
    13 (climatic conditions); STANDARDS.md "Heat"."""
    index = cells or CellIndex()
    readings = rows if isinstance(rows, Readings) else Readings.from_rows(rows)
    report = IngestReport(errors=list(errors or []))
    report.received = len(readings) + len({e.row for e in report.errors})
    fresh, report.unchanged = _new_rows(readings, report.errors)
    report.errors.sort(key=lambda e: (e.row, e.column))
    if not len(fresh):
        return report
    per_cell = _commitments(fresh, index.label)
    whole = hashlib.sha256()
    for cell_label in sorted(per_cell):
        whole.update(per_cell[cell_label].digest.hexdigest().encode() + b"\n")
    received = now()
    batch = ReadingBatch(
        source=source,
        name=name[:200],
        received_at=received,
        count=len(fresh),
        first_taken_at=from_us(int(fresh.at.min())),
        last_taken_at=from_us(int(fresh.at.max())),
        sha256=whole.hexdigest(),
    )
    batch.save()
    _insert(batch.pk, fresh)
    report.batch, report.stored = batch.pk, len(fresh)
    events = [
        Event(
            action="conditions.readings_ingested",
            subject=f"readings:{batch.pk}",
            occurred_at=received,
            payload=ingested_payload(batch, per_cell),
        )
    ]
    events += _alert_changes(fresh, index, report)
    ledger_append_many(actor=actor, events=events)
    return report


CLIMATE_COLUMNS = (
    "cell_id", "taken_at", "temperature_c", "humidity_pct", "heat_index_c", "above_since",
    "below_since",
)  # fmt: skip


def _store_climates(climates: list[CellClimate]) -> None:
    """Each cell's climate row written or replaced, one statement for all (``INSERT … ON
    CONFLICT … DO UPDATE``, SQLite and PostgreSQL alike): the ORM's upsert costs a batch of
    one reading per cell more than its readings do."""
    if not climates:
        return
    adapt = connection.ops.adapt_datetimefield_value
    table = connection.ops.quote_name(CellClimate._meta.db_table)
    updates = ", ".join(f"{c} = excluded.{c}" for c in CLIMATE_COLUMNS[1:])
    sql = (
        f"INSERT INTO {table} ({', '.join(CLIMATE_COLUMNS)}) "  # noqa: S608
        f"VALUES ({', '.join(['%s'] * len(CLIMATE_COLUMNS))}) "
        f"ON CONFLICT (cell_id) DO UPDATE SET {updates}"
    )
    with connection.cursor() as cursor:
        cursor.executemany(
            sql,
            [
                (c.cell_id, adapt(c.taken_at), c.temperature_c, c.humidity_pct, c.heat_index_c,
                 adapt(c.above_since), adapt(c.below_since))
                for c in climates
            ],
        )  # fmt: skip


def _alert_changes(fresh: Readings, index: CellIndex, report: IngestReport) -> list[Event]:
    touched = np.unique(fresh.cell).tolist()
    open_alerts = {
        (a.kind, a.cell_id): a
        for a in CellAlert.objects.filter(cell_id__in=touched, closed_at__isnull=True)
    }
    hi = heat_index_c_array(fresh.t, fresh.h)
    transitions, climates = _evaluate(
        fresh, hi, {c for kind, c in open_alerts if kind == CellAlertKind.HEAT}, index
    )
    _store_climates(climates)
    # Heat alerts opened and closed in this batch are written together; the events follow
    # the order of the changes, each with the alert as it was at that change.
    changes: list[tuple[str, CellAlert, dt.datetime | None]] = []
    created: list[CellAlert] = []
    closed_before: list[CellAlert] = []
    for t in transitions:
        if t.change == "opened":
            alert = CellAlert(
                kind=CellAlertKind.HEAT,
                cell_id=t.cell,
                since=t.since,
                opened_at=t.at,
                value=f"{t.hi_c:.1f}",
            )
            created.append(alert)
            open_alerts[(CellAlertKind.HEAT, t.cell)] = alert
            changes.append(("conditions.cell_alert_opened", alert, None))
            report.opened.append(f"heat:cell:{index.label(t.cell)}")
        else:
            alert = open_alerts.pop((CellAlertKind.HEAT, t.cell))
            alert.closed_at = t.at
            if alert.pk is not None:
                closed_before.append(alert)
            changes.append(("conditions.cell_alert_closed", alert, t.at))
            report.closed.append(f"heat:cell:{index.label(t.cell)}")
    CellAlert.objects.bulk_update(closed_before, ["closed_at"], batch_size=1_000)
    CellAlert.objects.bulk_create(created, batch_size=1_000)
    events = [_change_event(action, alert, closed, index) for action, alert, closed in changes]
    # A6: a cell heard from within the last 2 hours is no longer silent.
    latest = dict(zip(touched, [0] * len(touched), strict=True))
    bounds = np.flatnonzero(np.diff(fresh.cell)) + 1
    for b in [*bounds.tolist(), len(fresh)]:
        latest[int(fresh.cell[b - 1])] = int(fresh.at[b - 1])
    current = now()
    for (kind, cell), alert in sorted(open_alerts.items(), key=lambda kv: kv[0][1]):
        if kind == CellAlertKind.SENSOR_SILENT and current - from_us(latest[cell]) < SILENCE:
            alert.closed_at = current
            alert.save(update_fields=["closed_at"])
            events.append(alert_event("conditions.cell_alert_closed", alert, index))
            report.closed.append(f"sensor_silent:cell:{index.label(cell)}")
    return events


def _change_event(
    action: str, alert: CellAlert, closed_at: dt.datetime | None, index: CellIndex
) -> Event:
    """The entry of one change of a heat alert, with the alert as it was at that change (an
    alert opened and closed in one batch is written once, closed)."""
    payload: dict[str, Any] = {
        "id": alert.pk,
        "kind": alert.kind,
        "cell": index.label(alert.cell_id),
        "cell_id": alert.cell_id,
        "since": alert.since,
        "opened_at": alert.opened_at,
        "value": alert.value,
    }
    if closed_at is not None:
        payload["closed_at"] = closed_at
    return Event(
        action=action,
        subject=f"cell:{index.label(alert.cell_id)}",
        occurred_at=closed_at or alert.opened_at,
        payload=payload,
    )


def alert_event(action: str, alert: CellAlert, index: CellIndex) -> Event:
    payload: dict[str, Any] = {
        "id": alert.pk,
        "kind": alert.kind,
        "cell": index.label(alert.cell_id),
        "cell_id": alert.cell_id,
        "since": alert.since,
        "opened_at": alert.opened_at,
        "value": alert.value,
    }
    if action == "conditions.cell_alert_closed":
        payload["closed_at"] = alert.closed_at
    return Event(
        action=action,
        subject=f"cell:{index.label(alert.cell_id)}",
        occurred_at=alert.closed_at or alert.opened_at,
        payload=payload,
    )


# --- files -----------------------------------------------------------------------------------

MSG_NOT_READINGS = (
    "{name}: not a readings CSV: the header must name the columns "
    "cell,taken_at,temperature_c,humidity_pct (and optionally co2_ppm); missing: {missing}"
)
MSG_UNREADABLE = "{name}: cannot be read as UTF-8 CSV ({error})"


def read_csv(text_lines: Iterable[str], name: str) -> RecordColumns:
    """The records of a readings CSV, read whole and split into columns (``cell``,
    ``taken_at``, ``temperature_c``, ``humidity_pct`` and ``co2_ppm`` when the file has it),
    row 1 being the first row after the header; a blank row is skipped, a short one padded.
    A file whose header lacks a column, or that is not UTF-8 CSV, is refused whole
    (:class:`~habeas.core.errors.ValidationFailed`).

    A file without quotes, carriage returns or NULs whose rows all have the header's number
    of fields (what sensors and gateways write) is split at its commas in a few passes over
    the whole text, the same fields the ``csv`` module would read; any other goes through
    ``csv``, row by row."""
    import csv

    from habeas.core.errors import ValidationFailed

    try:
        text = "".join(text_lines)
    except UnicodeDecodeError as exc:
        raise ValidationFailed(MSG_UNREADABLE.format(name=name, error=exc)) from None
    plain = '"' not in text and "\r" not in text and "\x00" not in text
    if plain:
        lines = text.split("\n")
        if lines[-1] == "":
            lines.pop()
        first = lines[0] if lines else ""
        header = [h.strip().lstrip("\ufeff") for h in first.split(",")] if first else []
        body = lines[1:]
    else:
        reader = csv.reader(io.StringIO(text, newline=""))
        try:
            header = [h.strip().lstrip("\ufeff") for h in next(reader, [])]
        except csv.Error as exc:
            raise ValidationFailed(MSG_UNREADABLE.format(name=name, error=exc)) from None
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise ValidationFailed(MSG_NOT_READINGS.format(name=name, missing=", ".join(missing)))
    positions = [header.index(c) for c in COLUMNS]
    co2 = header.index("co2_ppm") if "co2_ppm" in header else None
    width = len(header)
    # the columns in the order validate_rows reads them (CO₂ last, when the file has it)
    picked = [*positions, *([] if co2 is None else [co2])]
    if plain and body and set(map(methodcaller("count", ","), body)) == {width - 1}:
        fields = ",".join(body).split(",")
        return RecordColumns(list(range(1, len(body) + 1)), [fields[k::width] for k in picked])
    if plain:
        reader = csv.reader(body)
    try:
        rows = list(reader)
    except csv.Error as exc:
        raise ValidationFailed(MSG_UNREADABLE.format(name=name, error=exc)) from None
    numbers: list[int] = []
    complete: list[list[str]] = []
    for number, row in enumerate(rows, start=1):
        if len(row) < width:
            if not any(f.strip() for f in row):
                continue
            row = row + [""] * (width - len(row))
        numbers.append(number)
        complete.append(row)
    del rows
    columns = list(zip(*complete, strict=False)) if complete else [() for _ in range(width)]
    return RecordColumns(numbers, [columns[k] for k in picked])
