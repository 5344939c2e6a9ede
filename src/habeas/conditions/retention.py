"""Retention of cell readings (issue 14, item 1): raw readings are kept 30 days, then rolled
up into hourly rows per cell (count, minimum, mean and maximum of temperature and humidity, the
highest heat index). Mandela Rule 13 asks that the climatic conditions be watched, not that
every reading be kept for ever; the hourly rows keep what the chart and an inquiry need.

The ledger still proves the readings were not altered (ARCHITECTURE.md, the one rule):

- The unit rolled up is a batch's rows of one cell, whole, once its last reading is older than
  30 days: exactly what the batch's ``conditions.readings_ingested`` entry committed to. Before
  removing them the rollup recomputes their count and SHA-256 and compares them with that
  commitment; rows that no longer match are refused (rolling them up would launder a change).
- One ledger entry per run, ``conditions.readings_rolled_up``, commits to what it removed (per
  batch and cell: count and SHA-256, equal to the batch's) and to the hourly rows it wrote
  (count and SHA-256 of their canonical lines, :func:`hour_line`). Its replay retires the
  batch's commitments only when they match, and ``verify-ledger`` recomputes the hourly rows'
  commitment from the table, so a changed hourly row is found as a changed reading is.
- Idempotent: a run with nothing older than 30 days writes nothing, not even an entry.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Max

from habeas.conditions.heat import heat_index_c
from habeas.conditions.readings import CellIndex, commitments, instant_text
from habeas.conditions.readings_models import Reading, ReadingHour, ReadingRollup
from habeas.core.actor import Actor
from habeas.core.clock import now
from habeas.core.errors import Conflict
from habeas.core.services import service
from habeas.ledger.models import LedgerEntry
from habeas.ledger.services import ledger_append

#: Raw readings are kept this long, then rolled up into hourly rows.
RETENTION = dt.timedelta(days=30)

MSG_TAMPERED = (
    "the stored readings of batch {batch}, cell {cell} no longer match what the batch "
    "committed to; they are not rolled up (run verify-ledger)"
)


def hour_line(
    cell: str, hour: str, row: tuple[int, float, float, float, float, float, float, float]
) -> bytes:
    """One hourly row as committed to: ``FACILITY/CELL,hour,count,tmin,tmean,tmax,hmin,hmean,
    hmax,hi_max\\n`` (values with two decimals, the hour in UTC with ``Z``)."""
    count, *values = row
    return (f"{cell},{hour},{count}," + ",".join(f"{v:.2f}" for v in values) + "\n").encode()


HOUR_VALUES = (
    "count", "temperature_min", "temperature_mean", "temperature_max", "humidity_min",
    "humidity_mean", "humidity_max", "heat_index_max",
)  # fmt: skip


def hours_digest(rows: list[tuple[str, dt.datetime, tuple[Any, ...]]]) -> tuple[int, str]:
    """Count and SHA-256 of hourly rows ``(cell label, hour, values)``, sorted by cell and
    hour."""
    digest = hashlib.sha256()
    for cell, hour, values in sorted(rows, key=lambda r: (r[0], r[1])):
        digest.update(hour_line(cell, instant_text(hour), values))
    return len(rows), digest.hexdigest()


@dataclass
class RollupReport:
    rollup: int | None = None
    removed: int = 0
    hours: int = 0
    groups: list[dict[str, Any]] = field(default_factory=list)

    def document(self) -> dict[str, Any]:
        return {
            "rollup": self.rollup,
            "removed": self.removed,
            "hours": self.hours,
            "batches": len({g["batch"] for g in self.groups}),
        }


def _committed(batches: set[int]) -> dict[tuple[int, str], dict[str, Any]]:
    """What each batch committed to per cell, read from its ``readings_ingested`` entry."""
    found: dict[tuple[int, str], dict[str, Any]] = {}
    for canonical in LedgerEntry.objects.filter(
        action="conditions.readings_ingested", subject__in=[f"readings:{b}" for b in batches]
    ).values_list("canonical", flat=True):
        payload = json.loads(canonical)["payload"]
        for c in payload["cells"]:
            found[(payload["batch"], c["cell"])] = c
    return found


class _Hour:
    __slots__ = ("count", "h_max", "h_min", "h_sum", "hi_max", "t_max", "t_min", "t_sum")

    def __init__(self) -> None:
        self.count = 0
        self.t_min = self.h_min = float("inf")
        self.t_max = self.h_max = self.hi_max = float("-inf")
        self.t_sum = self.h_sum = 0.0

    def add(self, t: float, h: float) -> None:
        self.count += 1
        self.t_min, self.t_max = min(self.t_min, t), max(self.t_max, t)
        self.h_min, self.h_max = min(self.h_min, h), max(self.h_max, h)
        self.t_sum += t
        self.h_sum += h
        self.hi_max = max(self.hi_max, heat_index_c(t, h))

    def values(self) -> tuple[int, float, float, float, float, float, float, float]:
        n = self.count
        return (
            n, round(self.t_min, 2), round(self.t_sum / n, 2), round(self.t_max, 2),
            round(self.h_min, 2), round(self.h_sum / n, 2), round(self.h_max, 2),
            round(self.hi_max, 2),
        )  # fmt: skip


@service
def readings_rollup(*, actor: Actor, at: dt.datetime | None = None) -> RollupReport:
    """Roll up every batch's rows of a cell whose last reading is older than 30 days into
    hourly rows, remove them, and write one ``conditions.readings_rolled_up`` entry (see the
    module). Mandela Rule 13; the ledger's commitments (Mandela Rule 6)."""
    at = at or now()
    cutoff = at - RETENTION
    report = RollupReport()
    groups = {
        (g["batch_id"], g["cell_id"])
        for g in Reading.objects.values("batch_id", "cell_id")
        .annotate(last=Max("taken_at"))
        .filter(last__lt=cutoff)
    }
    if not groups:
        return report
    index = CellIndex()
    label = index.label
    committed = _committed({b for b, _c in groups})
    rows: dict[tuple[int, int], list[tuple[str, dt.datetime, float, float, int | None]]]
    rows = defaultdict(list)
    for batch, cell, taken_at, t, h, co2 in (
        Reading.objects.filter(taken_at__lt=cutoff)
        .order_by("batch_id", "cell_id", "taken_at")
        .values_list("batch_id", "cell_id", "taken_at", "temperature_c", "humidity_pct", "co2_ppm")
        .iterator(chunk_size=20_000)
    ):
        if (batch, cell) in groups:
            rows[(batch, cell)].append((label(cell), taken_at, t, h, co2))
    hours: dict[tuple[int, dt.datetime], _Hour] = defaultdict(_Hour)
    for (batch, cell), group in sorted(rows.items()):
        cell_label = label(cell)
        found = commitments(group)[cell_label].document()
        promised = committed.get((batch, cell_label))
        if promised is None or (promised["count"], promised["sha256"]) != (
            found["count"], found["sha256"],
        ):  # fmt: skip
            raise Conflict(MSG_TAMPERED.format(batch=batch, cell=cell_label))
        report.groups.append(
            {"batch": batch, "cell": cell_label, "count": found["count"],
             "sha256": found["sha256"]}
        )  # fmt: skip
        report.removed += found["count"]
        for _l, taken_at, t, h, _co2 in group:
            hours[(cell, taken_at.replace(minute=0, second=0, microsecond=0))].add(t, h)
    written = [(label(cell), hour, h.values()) for (cell, hour), h in hours.items()]
    count, digest = hours_digest(written)
    rollup = ReadingRollup(
        run_at=at, cutoff=cutoff, removed=report.removed, hours=count, sha256=digest
    )
    rollup.save()
    ReadingHour.objects.bulk_create(
        [
            ReadingHour(
                rollup=rollup,
                cell_id=cell,
                hour=hour,
                **dict(zip(HOUR_VALUES, h.values(), strict=True)),
            )
            for (cell, hour), h in hours.items()
        ],
        batch_size=5_000,
    )
    by_batch: dict[int, list[int]] = defaultdict(list)
    for batch, cell in rows:
        by_batch[batch].append(cell)
    for batch, cells in sorted(by_batch.items()):
        Reading.objects.filter(batch_id=batch, cell_id__in=cells, taken_at__lt=cutoff).delete()
    report.rollup, report.hours = rollup.pk, count
    ledger_append(
        actor=actor,
        action="conditions.readings_rolled_up",
        subject=f"rollup:{rollup.pk}",
        occurred_at=at,
        payload={
            "rollup": rollup.pk,
            "run_at": at,
            "cutoff": cutoff,
            "removed": report.removed,
            "batches": report.groups,
            "hours": {"count": count, "sha256": digest},
        },
    )
    return report


def daily_rollup(actor: Actor) -> dict[str, int]:
    """The worker's daily run (:mod:`habeas.core.daily`)."""
    report = readings_rollup(actor=actor)
    return {"removed": report.removed, "hours": report.hours}
