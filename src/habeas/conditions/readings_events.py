"""Ledger actions of cell readings and their alerts (issue 14, items 1 and 3).

Readings are many (a facility of 256 cells read every 15 minutes takes 24,576 a day), so the
ledger holds no entry per reading: ``conditions.readings_ingested`` commits to a batch, per
cell, by count, first and last time and the SHA-256 of the canonical rows
(:func:`habeas.conditions.readings.canonical_line`). Its replay is that commitment, and the
snapshot of the ``conditions.Reading`` table recomputes it from the rows: a reading changed,
added or removed behind Habeas's back is named by its batch and cell
(``conditions.Reading.<batch>:<FACILITY/CELL>.sha256``).

The alerts (rules A5 ``heat`` and A6 ``sensor_silent``) are opened and closed by
``conditions.cell_alert_opened`` / ``conditions.cell_alert_closed``. No field is personal:
cells, times and measurements are facts about a place.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from habeas.core.events import (
    Action,
    Committed,
    Payload,
    State,
    covers,
    declare,
    derived,
    instant,
)

B = "conditions.ReadingBatch"
R = "conditions.Reading"
CA = "conditions.CellAlert"
ST = "conditions.SensorToken"
RU = "conditions.ReadingRollup"
RH = "conditions.ReadingHour"


class CellCommitmentPayload(Payload):
    cell: str
    count: int
    first: str
    last: str
    sha256: str


class ReadingsIngestedPayload(Payload):
    batch: int
    source: str
    name: str
    received_at: dt.datetime
    count: int
    first: dt.datetime
    last: dt.datetime
    sha256: str
    cells: list[CellCommitmentPayload]


class CellAlertPayload(Payload):
    id: int
    kind: str
    cell: str
    cell_id: int
    since: dt.datetime
    opened_at: dt.datetime
    value: str
    closed_at: dt.datetime | None = None


class SensorTokenRow(Payload):
    id: int
    facility: str
    facility_id: int
    name: str
    prefix: str
    digest: str | Committed
    created_at: dt.datetime
    created_by: str
    revoked_at: dt.datetime | None = None


class SensorTokenPayload(Payload):
    token: SensorTokenRow


def _sensor_token(state: State, p: dict[str, Any]) -> None:
    t = p["token"]
    state.setdefault(ST, {})[t["id"]] = {
        "facility": t["facility"],
        "facility_id": t["facility_id"],
        "name": t["name"],
        "prefix": t["prefix"],
        "digest": t["digest"],
        "created_at": instant(t["created_at"]),
        "created_by": t["created_by"],
        "revoked_at": instant(t.get("revoked_at")),
    }


class RolledUpGroupPayload(Payload):
    batch: int
    cell: str
    count: int
    sha256: str


class HoursCommitmentPayload(Payload):
    count: int
    sha256: str


class ReadingsRolledUpPayload(Payload):
    rollup: int
    run_at: dt.datetime
    cutoff: dt.datetime
    removed: int
    batches: list[RolledUpGroupPayload]
    hours: HoursCommitmentPayload


def _rolled_up(state: State, p: dict[str, Any]) -> None:
    """Retire each batch's commitment for the rows the rollup removed, only when the rollup's
    count and SHA-256 equal the batch's own: otherwise the commitment stays and verify-ledger
    finds its rows missing. Then the rollup and the commitment to its hourly rows."""
    readings = state.setdefault(R, {})
    for g in p["batches"]:
        key = f"{g['batch']}:{g['cell']}"
        promised = readings.get(key)
        if promised is not None and (promised["count"], promised["sha256"]) == (
            g["count"], g["sha256"],
        ):  # fmt: skip
            del readings[key]
    state.setdefault(RU, {})[p["rollup"]] = {
        "run_at": instant(p["run_at"]),
        "cutoff": instant(p["cutoff"]),
        "removed": p["removed"],
        "hours": p["hours"]["count"],
        "sha256": p["hours"]["sha256"],
    }
    state.setdefault(RH, {})[p["rollup"]] = {
        "count": p["hours"]["count"],
        "sha256": p["hours"]["sha256"],
    }


def _rolled_up_summary(payload: dict[str, Any], show_cells: bool) -> str:
    return _("%(count)s readings rolled up into %(hours)s hourly rows") % {
        "count": payload.get("removed", 0),
        "hours": payload.get("hours", {}).get("count", 0),
    }


def _ingested(state: State, p: dict[str, Any]) -> None:
    state.setdefault(B, {})[p["batch"]] = {
        "source": p["source"],
        "name": p["name"],
        "received_at": instant(p["received_at"]),
        "count": p["count"],
        "first_taken_at": instant(p["first"]),
        "last_taken_at": instant(p["last"]),
        "sha256": p["sha256"],
    }
    readings = state.setdefault(R, {})
    for c in p["cells"]:
        readings[f"{p['batch']}:{c['cell']}"] = {
            "count": c["count"],
            "first": c["first"],
            "last": c["last"],
            "sha256": c["sha256"],
        }


def _alert_row(p: dict[str, Any]) -> dict[str, Any]:
    return {
        "kind": p["kind"],
        "cell_id": p["cell_id"],
        "since": instant(p["since"]),
        "opened_at": instant(p["opened_at"]),
        "value": p["value"],
        "closed_at": instant(p.get("closed_at")),
    }


def _opened(state: State, p: dict[str, Any]) -> None:
    state.setdefault(CA, {})[p["id"]] = _alert_row(p)


def _closed(state: State, p: dict[str, Any]) -> None:
    state.setdefault(CA, {})[p["id"]] = _alert_row(p)


def _ingested_summary(payload: dict[str, Any], show_cells: bool) -> str:
    return _("%(count)s readings ingested") % {"count": payload.get("count", 0)}


def _opened_summary(payload: dict[str, Any], show_cells: bool) -> str:
    return _("Alert %(kind)s opened on cell %(cell)s") % {
        "kind": payload.get("kind", ""),
        "cell": payload.get("cell", "") if show_cells else "—",
    }


def _closed_summary(payload: dict[str, Any], show_cells: bool) -> str:
    return _("Alert %(kind)s closed on cell %(cell)s") % {
        "kind": payload.get("kind", ""),
        "cell": payload.get("cell", "") if show_cells else "—",
    }


declare(
    Action(
        "conditions.readings_ingested",
        schema=ReadingsIngestedPayload,
        label=pgettext_lazy("ledger action", "Readings ingested"),
        replay=_ingested,
        summary=_ingested_summary,
        housing=None,
    ),
    Action(
        "conditions.cell_alert_opened",
        schema=CellAlertPayload,
        label=pgettext_lazy("ledger action", "Cell alert opened"),
        replay=_opened,
        summary=_opened_summary,
        housing=None,
    ),
    Action(
        "conditions.cell_alert_closed",
        schema=CellAlertPayload,
        label=pgettext_lazy("ledger action", "Cell alert closed"),
        replay=_closed,
        summary=_closed_summary,
        housing=None,
    ),
)

declare(
    Action(
        "conditions.sensor_token_issued",
        schema=SensorTokenPayload,
        label=pgettext_lazy("ledger action", "Sensor token issued"),
        personal=("token.digest",),
        replay=_sensor_token,
        housing=None,
    ),
    Action(
        "conditions.readings_rolled_up",
        schema=ReadingsRolledUpPayload,
        label=pgettext_lazy("ledger action", "Readings rolled up"),
        replay=_rolled_up,
        summary=_rolled_up_summary,
        housing=None,
    ),
    Action(
        "conditions.sensor_token_revoked",
        schema=SensorTokenPayload,
        label=pgettext_lazy("ledger action", "Sensor token revoked"),
        personal=("token.digest",),
        replay=_sensor_token,
        housing=None,
    ),
)


@covers(ST, personal=("digest",), key=lambda tid, r: f"facility:{r['facility']}")
def _sensor_tokens() -> dict[Any, dict[str, Any]]:
    """A sensor token's digest is committed to, never shown (as an account's API token's):
    a token swapped or inserted behind Habeas's back is found."""
    from habeas.conditions.readings_models import SensorToken

    return {
        t["id"]: {
            "facility": t["facility__code"],
            "facility_id": t["facility_id"],
            "name": t["name"],
            "prefix": t["prefix"],
            "digest": t["digest"],
            "created_at": instant(t["created_at"]),
            "created_by": t["created_by"],
            "revoked_at": instant(t["revoked_at"]),
        }
        for t in SensorToken.objects.values(
            "id",
            "facility__code",
            "facility_id",
            "name",
            "prefix",
            "digest",
            "created_at",
            "created_by",
            "revoked_at",
        )
    }


derived(
    "conditions.CellClimate",
    "the latest reading of each cell and the heat evaluation's position: rebuilt from the "
    "readings, which the batch commitments cover",
)


@covers(B)
def _batches() -> dict[Any, dict[str, Any]]:
    from habeas.conditions.readings_models import ReadingBatch

    return {
        b["id"]: {
            "source": b["source"],
            "name": b["name"],
            "received_at": instant(b["received_at"]),
            "count": b["count"],
            "first_taken_at": instant(b["first_taken_at"]),
            "last_taken_at": instant(b["last_taken_at"]),
            "sha256": b["sha256"],
        }
        for b in ReadingBatch.objects.values(
            "id", "source", "name", "received_at", "count", "first_taken_at", "last_taken_at",
            "sha256",
        )
    }  # fmt: skip


@covers(R)
def _readings() -> dict[Any, dict[str, Any]]:
    """Each batch's commitment per cell, recomputed from the rows (in batches of 20,000)."""
    from habeas.conditions.readings import CellIndex, commitments
    from habeas.conditions.readings_models import Reading

    index = CellIndex()
    labels = {pk: index.label(pk) for pk in index.by_id}
    rows = (
        Reading.objects.order_by("batch_id", "cell_id", "taken_at")
        .values_list("batch_id", "cell_id", "taken_at", "temperature_c", "humidity_pct", "co2_ppm")
        .iterator(chunk_size=20_000)
    )
    found: dict[Any, dict[str, Any]] = {}
    current: int | None = None
    chunk: list[tuple[str, dt.datetime, float, float, int | None]] = []

    def flush() -> None:
        for cell, c in commitments(chunk).items():
            found[f"{current}:{cell}"] = c.document()

    for batch, cell_id, taken_at, t, h, co2 in rows:
        if batch != current:
            if chunk:
                flush()
            current, chunk = batch, []
        chunk.append((labels.get(cell_id, f"?/{cell_id}"), taken_at, t, h, co2))
    if chunk:
        flush()
    return found


@covers(CA)
def _cell_alerts() -> dict[Any, dict[str, Any]]:
    from habeas.conditions.readings_models import CellAlert

    return {
        a["id"]: {
            "kind": a["kind"],
            "cell_id": a["cell_id"],
            "since": instant(a["since"]),
            "opened_at": instant(a["opened_at"]),
            "value": a["value"],
            "closed_at": instant(a["closed_at"]),
        }
        for a in CellAlert.objects.values(
            "id", "kind", "cell_id", "since", "opened_at", "value", "closed_at"
        )
    }


@covers(RU)
def _rollups() -> dict[Any, dict[str, Any]]:
    from habeas.conditions.readings_models import ReadingRollup

    return {
        r["id"]: {
            "run_at": instant(r["run_at"]),
            "cutoff": instant(r["cutoff"]),
            "removed": r["removed"],
            "hours": r["hours"],
            "sha256": r["sha256"],
        }
        for r in ReadingRollup.objects.values(
            "id", "run_at", "cutoff", "removed", "hours", "sha256"
        )
    }


@covers(RH)
def _reading_hours() -> dict[Any, dict[str, Any]]:
    """Each rollup's commitment to its hourly rows, recomputed from the table."""
    from habeas.conditions.readings import CellIndex
    from habeas.conditions.readings_models import ReadingHour
    from habeas.conditions.retention import HOUR_VALUES, hours_digest

    index = CellIndex()
    labels = {pk: index.label(pk) for pk in index.by_id}
    per_rollup: dict[int, list[tuple[str, dt.datetime, tuple[Any, ...]]]] = {}
    for rollup, cell, hour, *values in ReadingHour.objects.values_list(
        "rollup_id", "cell_id", "hour", *HOUR_VALUES
    ).iterator(chunk_size=20_000):
        per_rollup.setdefault(rollup, []).append(
            (labels.get(cell, f"?/{cell}"), hour, tuple(values))
        )
    found = {}
    for rollup, rows in per_rollup.items():
        count, digest = hours_digest(rows)
        found[rollup] = {"count": count, "sha256": digest}
    return found
