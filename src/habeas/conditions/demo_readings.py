"""Readings in the demo (INTERFACES.md, demo scenario: "a week of cell readings with a heat
wave"): every cell of the demo facility read every 15 minutes for the last 7 days, one batch
per day. The cells of the windowless modules M3, M4 and M7 go through a heat wave over the
last 3 days, reaching 35 °C in the afternoon (the temperatures reported for the facility,
STANDARDS.md), so their heat alerts are open; one occupied cell's sensor stopped 5 hours ago.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from typing import Any

from django.conf import settings

from habeas.conditions.readings import CellIndex, Row, readings_ingest
from habeas.conditions.readings_alerts import cell_silence_check
from habeas.conditions.readings_models import ReadingSource
from habeas.core.actor import Actor
from habeas.core.clock import now
from habeas.facilities import occupancy
from habeas.facilities.models import Cell

HEAT_WAVE_MODULES = ("M3", "M4", "M7")
DAYS = 7


def _step() -> dt.timedelta:
    """Minutes between two readings of a cell: ``HABEAS_DEMO_READING_MINUTES`` (15, a usual
    sensor period; the test suite reads hourly, which keeps every alert of the demo and a
    quarter of its rows)."""
    return dt.timedelta(minutes=int(getattr(settings, "HABEAS_DEMO_READING_MINUTES", 15)))


def _climate(hour: float, day: int, hot: bool, noise: float) -> tuple[float, float]:
    """Temperature (°C) and humidity (%) at a local hour: coolest at 5:00, hottest at 15:00."""
    swing = (1 - math.cos((hour - 5) / 24 * 2 * math.pi)) / 2  # 0 at 5:00, 1 at 17:00
    if hot and day >= DAYS - 3:
        t = 31.5 + 3.5 * swing  # the heat wave: 31.5 °C at night, 35 °C in the afternoon
        h = 68 - 6 * swing
    else:
        t = 24.0 + 3.5 * swing
        h = 62 - 8 * swing
    return round(t + 0.3 * noise, 2), round(h + 2 * noise, 2)


def load_demo_readings(*, actor: Actor, facility: str = "TEC") -> dict[str, Any]:
    """Ingest the week's readings through the service, day by day, and open the silent
    sensor's alert."""
    rng = random.Random(14)
    noise = [rng.uniform(-1, 1) for _ in range(997)]
    cells = list(
        Cell.objects.filter(facility__code=facility, active=True)
        .order_by("module__code", "code")
        .values_list("pk", "module__code")
    )
    people = occupancy.occupants(pk for pk, _m in cells)
    silent = next((pk for pk, _m in cells if people.get(pk)), None)
    step = _step()
    end = now().replace(second=0, microsecond=0)
    end -= dt.timedelta(minutes=end.minute % (step.seconds // 60 or 1))
    start = end - dt.timedelta(days=DAYS) + step
    index = CellIndex()
    offset = -6  # America/El_Salvador
    stored = 0
    for day in range(DAYS):
        rows: list[Row] = []
        at = start + day * dt.timedelta(days=1)
        stop = min(at + dt.timedelta(days=1), end + step)
        n = 0
        while at < stop:
            hour = (at.hour + offset) % 24 + at.minute / 60
            for pk, module in cells:
                if pk == silent and end - at < dt.timedelta(hours=5):
                    continue
                t, h = _climate(hour, day, module in HEAT_WAVE_MODULES, noise[n % 997])
                rows.append(Row(n, pk, at, t, h, round(900 + 40 * h) if module == "M1" else None))
                n += 1
            at += step
        report = readings_ingest(
            actor=actor, rows=rows, source=ReadingSource.DEMO, name=f"demo day {day + 1}",
            cells=index,
        )  # fmt: skip
        stored += report.stored
    silence = cell_silence_check(actor=actor)
    return {"readings": stored, "silent": silence.opened}
