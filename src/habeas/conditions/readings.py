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
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection

from habeas.conditions.heat import HOUSING_LIMIT_F, f_to_c, heat_index_c
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


def validate_rows(
    records: Iterable[tuple[int, Sequence[Any]]], cells: CellIndex
) -> tuple[list[Row], list[RowError]]:
    """Check records ``(row number, (cell, taken_at, temperature_c, humidity_pct[, co2_ppm]))``:
    the valid ones as :class:`Row`, and every fault by row, column and reason."""
    rows: list[Row] = []
    errors: list[RowError] = []
    times = _Times()
    resolved: dict[str, int | str] = {}
    t_low, t_high = TEMPERATURE_RANGE
    h_low, h_high = HUMIDITY_RANGE
    for number, record in records:
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
        if len(errors) == before:
            assert isinstance(cell, int)
            assert isinstance(taken, dt.datetime)
            assert t is not None
            assert h is not None
            rows.append(Row(number, cell, taken, round(t, 2), round(h, 2), co2))
    return rows, errors


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


def _evaluate(
    rows: list[Row], open_heat: set[int], index: CellIndex
) -> tuple[list[Transition], list[CellClimate]]:
    """Walk each cell's new rows in time order from its stored state; readings older than
    the cell's last evaluated one are stored and shown but do not rewrite alert history."""
    cells = sorted({r.cell for r in rows})
    stored = CellClimate.objects.in_bulk(cells)
    transitions: list[Transition] = []
    climates: list[CellClimate] = []
    i = 0
    while i < len(rows):
        cell = rows[i].cell
        j = i
        while j < len(rows) and rows[j].cell == cell:
            j += 1
        prior = stored.get(cell)
        state = HeatState(open=cell in open_heat)
        if prior is not None:
            state.last_at = prior.taken_at
            state.above_since = prior.above_since
            state.below_since = prior.below_since
        last: Row | None = None
        last_hi = prior.heat_index_c if prior is not None else 0.0
        limit_c, sustain = index.heat_rule(cell)
        for r in rows[i:j]:
            if state.last_at is not None and r.taken_at <= state.last_at:
                continue
            hi = heat_index_c(r.temperature_c, r.humidity_pct)
            run_start = state.above_since
            change = heat_step(state, r.taken_at, hi, limit_c=limit_c, sustain=sustain)
            if change is not None:
                since = (run_start or r.taken_at) if change == "opened" else r.taken_at
                transitions.append(Transition(cell, change, r.taken_at, since, hi))
            last, last_hi = r, hi
        if last is not None:
            climates.append(
                CellClimate(
                    cell_id=cell,
                    taken_at=last.taken_at,
                    temperature_c=last.temperature_c,
                    humidity_pct=last.humidity_pct,
                    heat_index_c=round(last_hi, 2),
                    above_since=state.above_since,
                    below_since=state.below_since,
                )
            )
        i = j
    return transitions, climates


# --- the service -----------------------------------------------------------------------------


def _new_rows(rows: list[Row], errors: list[RowError]) -> tuple[list[Row], int]:
    """The rows not stored yet (sorted by cell and time), and how many were already stored
    with the same values; a clash (same cell and time, other values) is a bad row."""
    rows = sorted(rows, key=lambda r: (r.cell, r.taken_at))
    unique: list[Row] = []
    seen: dict[tuple[int, dt.datetime], Row] = {}
    unchanged = 0
    for r in rows:
        key = (r.cell, r.taken_at)
        first = seen.get(key)
        if first is None:
            seen[key] = r
            unique.append(r)
        elif (first.temperature_c, first.humidity_pct, first.co2_ppm) != (
            r.temperature_c, r.humidity_pct, r.co2_ppm,
        ):  # fmt: skip
            errors.append(RowError(r.row, "taken_at", MSG_TWICE.format(row=first.row)))
        else:
            unchanged += 1
    if not unique:
        return [], unchanged
    first, last = min(r.taken_at for r in unique), max(r.taken_at for r in unique)
    cells = {r.cell for r in unique}
    rolled = set(
        ReadingHour.objects.filter(
            cell_id__in=cells, hour__gte=first.replace(minute=0, second=0, microsecond=0),
            hour__lte=last,
        ).values_list("cell_id", "hour")
    )  # fmt: skip
    if rolled:
        # An hour already rolled up (retention) keeps no raw readings to compare with: a
        # reading of it is not stored again, so re-ingesting an old file changes nothing.
        kept = [
            r
            for r in unique
            if (r.cell, r.taken_at.replace(minute=0, second=0, microsecond=0)) not in rolled
        ]
        unchanged += len(unique) - len(kept)
        unique = kept
        if not unique:
            return [], unchanged
    existing = {
        (c, at): (t, h, co2)
        for c, at, t, h, co2 in Reading.objects.filter(
            cell_id__in={r.cell for r in unique},
            taken_at__gte=min(r.taken_at for r in unique),
            taken_at__lte=max(r.taken_at for r in unique),
        ).values_list("cell_id", "taken_at", "temperature_c", "humidity_pct", "co2_ppm")
    }
    if not existing:
        return unique, unchanged
    fresh = []
    for r in unique:
        old = existing.get((r.cell, r.taken_at))
        if old is None:
            fresh.append(r)
        elif old == (r.temperature_c, r.humidity_pct, r.co2_ppm):
            unchanged += 1
        else:
            errors.append(RowError(r.row, "taken_at", MSG_STORED))
    return fresh, unchanged


def _insert(batch_id: int, rows: list[Row]) -> None:
    """One multi-row insert through the database driver: the ORM would build a million
    objects to write a million rows."""
    adapt = connection.ops.adapt_datetimefield_value
    times: dict[dt.datetime, Any] = {}
    params = []
    for r in rows:
        at = times.get(r.taken_at)
        if at is None:
            at = times[r.taken_at] = adapt(r.taken_at)
        params.append((batch_id, r.cell, at, r.temperature_c, r.humidity_pct, r.co2_ppm))
    table = connection.ops.quote_name(Reading._meta.db_table)
    columns = "batch_id, cell_id, taken_at, temperature_c, humidity_pct, co2_ppm"
    sql = f"INSERT INTO {table} ({columns}) VALUES (%s, %s, %s, %s, %s, %s)"  # noqa: S608
    with connection.cursor() as cursor:
        for start in range(0, len(params), 50_000):
            cursor.executemany(sql, params[start : start + 50_000])


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
    rows: list[Row],
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
    report = IngestReport(errors=list(errors or []))
    report.received = len(rows) + len({e.row for e in report.errors})
    fresh, report.unchanged = _new_rows(rows, report.errors)
    report.errors.sort(key=lambda e: (e.row, e.column))
    if not fresh:
        return report
    label = index.label
    per_cell = commitments(
        (label(r.cell), r.taken_at, r.temperature_c, r.humidity_pct, r.co2_ppm) for r in fresh
    )
    whole = hashlib.sha256()
    for cell_label in sorted(per_cell):
        whole.update(per_cell[cell_label].digest.hexdigest().encode() + b"\n")
    received = now()
    batch = ReadingBatch(
        source=source,
        name=name[:200],
        received_at=received,
        count=len(fresh),
        first_taken_at=min(r.taken_at for r in fresh),
        last_taken_at=max(r.taken_at for r in fresh),
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


def _alert_changes(fresh: list[Row], index: CellIndex, report: IngestReport) -> list[Event]:
    touched = {r.cell for r in fresh}
    open_alerts = {
        (a.kind, a.cell_id): a
        for a in CellAlert.objects.filter(cell_id__in=touched, closed_at__isnull=True)
    }
    transitions, climates = _evaluate(
        fresh, {c for kind, c in open_alerts if kind == CellAlertKind.HEAT}, index
    )
    CellClimate.objects.bulk_create(
        climates,
        update_conflicts=True,
        unique_fields=["cell"],
        update_fields=[
            "taken_at", "temperature_c", "humidity_pct", "heat_index_c", "above_since",
            "below_since",
        ],
    )  # fmt: skip
    events: list[Event] = []
    for t in transitions:
        if t.change == "opened":
            alert = CellAlert(
                kind=CellAlertKind.HEAT,
                cell_id=t.cell,
                since=t.since,
                opened_at=t.at,
                value=f"{t.hi_c:.1f}",
            )
            alert.save()
            open_alerts[(CellAlertKind.HEAT, t.cell)] = alert
            events.append(alert_event("conditions.cell_alert_opened", alert, index))
            report.opened.append(f"heat:cell:{index.label(t.cell)}")
        else:
            alert = open_alerts.pop((CellAlertKind.HEAT, t.cell))
            alert.closed_at = t.at
            alert.save(update_fields=["closed_at"])
            events.append(alert_event("conditions.cell_alert_closed", alert, index))
            report.closed.append(f"heat:cell:{index.label(t.cell)}")
    # A6: a cell heard from within the last 2 hours is no longer silent.
    latest: dict[int, dt.datetime] = {}
    for r in fresh:
        if r.cell not in latest or r.taken_at > latest[r.cell]:
            latest[r.cell] = r.taken_at
    current = now()
    for (kind, cell), alert in sorted(open_alerts.items(), key=lambda kv: kv[0][1]):
        if kind == CellAlertKind.SENSOR_SILENT and current - latest[cell] < SILENCE:
            alert.closed_at = current
            alert.save(update_fields=["closed_at"])
            events.append(alert_event("conditions.cell_alert_closed", alert, index))
            report.closed.append(f"sensor_silent:cell:{index.label(cell)}")
    return events


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


def read_csv(text_lines: Iterable[str], name: str) -> Iterable[tuple[int, Sequence[Any]]]:
    """The records of a readings CSV as ``(row number, (cell, taken_at, temperature_c,
    humidity_pct, co2_ppm))``, row 1 being the first row after the header. A file whose header
    lacks a column is refused whole (:class:`~habeas.core.errors.ValidationFailed`)."""
    import csv

    from habeas.core.errors import ValidationFailed

    reader = csv.reader(text_lines)
    try:
        header = [h.strip().lstrip("\ufeff") for h in next(reader, [])]
    except (csv.Error, UnicodeDecodeError) as exc:
        raise ValidationFailed(MSG_UNREADABLE.format(name=name, error=exc)) from None
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise ValidationFailed(MSG_NOT_READINGS.format(name=name, missing=", ".join(missing)))
    positions = [header.index(c) for c in COLUMNS]
    co2 = header.index("co2_ppm") if "co2_ppm" in header else None
    width = len(header)
    a, b, c, d = positions

    def records() -> Iterable[tuple[int, Sequence[Any]]]:
        try:
            for number, fields in enumerate(reader, start=1):
                if len(fields) < width:
                    if not any(f.strip() for f in fields):
                        continue
                    fields = fields + [""] * (width - len(fields))
                yield number, (
                    fields[a], fields[b], fields[c], fields[d],
                    fields[co2] if co2 is not None else None,
                )  # fmt: skip
        except (csv.Error, UnicodeDecodeError) as exc:
            raise ValidationFailed(MSG_UNREADABLE.format(name=name, error=exc)) from None

    return records()
