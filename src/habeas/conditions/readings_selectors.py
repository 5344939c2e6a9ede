"""Reads of the readings: the conditions board (the latest heat index of every cell, by
module) and the series of a cell or a module over a period, for the chart. Scoped like the
housing pages: the receiving prison's roles and oversight (cells are never shown to a sending
state's liaison or finance officer, Mandela Rule 9)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from habeas.conditions.heat import BAND_LABELS, band_of_f, c_to_f, heat_index_c
from habeas.conditions.readings import HEAT_LIMIT_C
from habeas.conditions.readings_alerts import silent_cells
from habeas.conditions.readings_models import (
    CellAlert,
    CellAlertKind,
    CellClimate,
    Reading,
    ReadingHour,
)
from habeas.core.clock import now
from habeas.facilities.models import Cell, Facility


@dataclass
class CellState:
    code: str
    module: str
    temperature_c: float | None = None
    humidity_pct: float | None = None
    heat_index_c: float | None = None
    taken_at: dt.datetime | None = None
    heat_alert: bool = False
    silent: bool = False
    people: int = 0

    @property
    def heat_index_f(self) -> float | None:
        return None if self.heat_index_c is None else round(c_to_f(self.heat_index_c), 1)

    @property
    def band(self) -> str:
        return "unknown" if self.heat_index_c is None else band_of_f(c_to_f(self.heat_index_c))

    @property
    def band_label(self) -> str:
        return str(BAND_LABELS.get(self.band, "—"))


@dataclass
class ModuleState:
    code: str
    cells: list[CellState] = field(default_factory=list)

    @property
    def hottest(self) -> float | None:
        values = [c.heat_index_c for c in self.cells if c.heat_index_c is not None]
        return max(values) if values else None

    @property
    def heat_alerts(self) -> int:
        return sum(1 for c in self.cells if c.heat_alert)

    @property
    def silent(self) -> int:
        return sum(1 for c in self.cells if c.silent)


def climate_board(facility: Facility) -> list[ModuleState]:
    """Every active cell of the facility by module, with its latest reading and heat index,
    whether a heat alert is open and whether its sensor is silent. Four queries whatever the
    number of cells or readings (the latest reading per cell is kept as it arrives)."""
    cells = list(
        Cell.objects.filter(facility=facility, active=True)
        .order_by("module__code", "code")
        .values_list("pk", "code", "module__code")
    )
    latest = {c.cell_id: c for c in CellClimate.objects.filter(cell__facility=facility)}
    hot = set(
        CellAlert.objects.filter(
            kind=CellAlertKind.HEAT, closed_at__isnull=True, cell__facility=facility
        ).values_list("cell_id", flat=True)
    )
    silent = {s.cell: s for s in silent_cells([facility])}
    modules: dict[str, ModuleState] = {}
    for pk, code, module in cells:
        state = CellState(code=code, module=module, heat_alert=pk in hot)
        c = latest.get(pk)
        if c is not None:
            state.temperature_c = c.temperature_c
            state.humidity_pct = c.humidity_pct
            state.heat_index_c = round(c.heat_index_c, 1)
            state.taken_at = c.taken_at
        s = silent.get(pk)
        if s is not None:
            state.silent, state.people = True, s.people
        modules.setdefault(module, ModuleState(module)).cells.append(state)
    return list(modules.values())


@dataclass
class Point:
    at: dt.datetime
    temperature_c: float
    heat_index_c: float


def climate_series(
    facility: Facility, *, cell: str | None = None, module: str | None = None, days: int = 7
) -> list[Point]:
    """The temperature (mean) and heat index (highest) of a cell or a module over the last
    ``days`` days: every reading of one cell up to 2 days, else hourly. Readings older than
    the retention period are read from their hourly rows (:mod:`habeas.conditions.retention`)."""
    end = now()
    start = end - dt.timedelta(days=days)
    qs = Reading.objects.filter(cell__facility=facility, taken_at__gte=start, taken_at__lte=end)
    hours = ReadingHour.objects.filter(cell__facility=facility, hour__gte=start, hour__lte=end)
    if cell is not None:
        qs = qs.filter(cell__code=cell)
        hours = hours.filter(cell__code=cell)
    elif module is not None:
        qs = qs.filter(cell__module__code=module)
        hours = hours.filter(cell__module__code=module)
    hourly = days > 2 or cell is None
    # per bucket: sum of temperatures, how many, highest heat index
    buckets: dict[dt.datetime, list[float]] = {}
    for at, t, h in qs.values_list("taken_at", "temperature_c", "humidity_pct").iterator(
        chunk_size=20_000
    ):
        key = at.replace(minute=0, second=0, microsecond=0) if hourly else at
        hi = heat_index_c(t, h)
        b = buckets.get(key)
        if b is None:
            buckets[key] = [t, 1, hi]
        else:
            b[0] += t
            b[1] += 1
            b[2] = max(b[2], hi)
    for at, n, mean, hi in hours.values_list(
        "hour", "count", "temperature_mean", "heat_index_max"
    ).iterator(chunk_size=20_000):
        b = buckets.get(at)
        if b is None:
            buckets[at] = [mean * n, n, hi]
        else:
            b[0] += mean * n
            b[1] += n
            b[2] = max(b[2], hi)
    return [
        Point(at, round(total / n, 2), round(hi, 2))
        for at, (total, n, hi) in sorted(buckets.items())
    ]


@dataclass
class Chart:
    width: int
    height: int
    temperature: str
    heat_index: str
    limit_y: float
    ticks: list[tuple[float, str]]
    days: list[tuple[float, str]]
    low: float
    high: float


def chart_of(
    points: list[Point], *, width: int = 760, height: int = 260, limit_c: float = HEAT_LIMIT_C
) -> Chart | None:
    """Polylines of temperature and heat index (°C) scaled into the SVG, with the facility's
    limit line (rule A5, default 31.1 °C = 88 °F) and a label per day."""
    if len(points) < 2:
        return None
    left, right, top, bottom = 44, width - 10, 12, height - 28
    values = [p.temperature_c for p in points] + [p.heat_index_c for p in points]
    low = min(min(values), limit_c) // 5 * 5
    high = (max(max(values), limit_c) // 5 + 1) * 5
    t0, t1 = points[0].at, points[-1].at
    span = (t1 - t0).total_seconds() or 1.0

    def x(at: dt.datetime) -> float:
        return round(left + (at - t0).total_seconds() / span * (right - left), 1)

    def y(v: float) -> float:
        return round(bottom - (v - low) / (high - low) * (bottom - top), 1)

    days = []
    day = t0.replace(hour=0, minute=0, second=0, microsecond=0) + dt.timedelta(days=1)
    step = max(1, round(span / 86400 / 10))
    while day < t1:
        days.append((x(day), day.strftime("%d/%m")))
        day += dt.timedelta(days=step)
    ticks = [(y(v), f"{v:g}") for v in range(int(low), int(high) + 1, 5)]
    return Chart(
        width=width,
        height=height,
        temperature=" ".join(f"{x(p.at)},{y(p.temperature_c)}" for p in points),
        heat_index=" ".join(f"{x(p.at)},{y(p.heat_index_c)}" for p in points),
        limit_y=y(limit_c),
        ticks=ticks,
        days=days,
        low=low,
        high=high,
    )
