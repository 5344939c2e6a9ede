"""The alerts cell readings raise, as :mod:`habeas.conditions.alerts` lists them:

- **A5 ``heat``**: the heat alerts open on the ledger (opened and closed as readings arrive,
  :func:`habeas.conditions.readings.heat_step`); the value is the cell's latest heat index in
  °C (INTERFACES.md ``alerts --json``).
- **A6 ``sensor_silent``**: an occupied cell of a facility whose cells report readings has
  had none for 2 hours (or never had one). Computed against the present, so it shows the
  moment the silence passes 2 hours; ``check-conditions`` also opens and closes it on the
  ledger (:func:`cell_silence_check`). Silence must not look like coolness.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.utils.formats import number_format
from django.utils.translation import gettext as _

from habeas.conditions.alerts import Alert, register_source
from habeas.conditions.heat import c_to_f
from habeas.conditions.readings import SILENCE, CellIndex, alert_event
from habeas.conditions.readings_models import CellAlert, CellAlertKind, CellClimate
from habeas.core.actor import Actor
from habeas.core.clock import now
from habeas.core.services import service
from habeas.facilities import occupancy
from habeas.facilities.models import Cell, Facility
from habeas.ledger.services import ledger_append_many


def heat_alerts(facilities: list[Facility], user: Any, with_since: bool) -> list[Alert]:
    """Rule A5: the open heat alerts of the facilities' cells."""
    rows = (
        CellAlert.objects.filter(
            kind=CellAlertKind.HEAT, closed_at__isnull=True, cell__facility__in=facilities
        )
        .select_related("cell", "cell__facility")
        .order_by("cell__facility__code", "cell__code")
    )
    latest = dict(
        CellClimate.objects.filter(cell__facility__in=facilities).values_list(
            "cell_id", "heat_index_c"
        )
    )
    found = []
    for a in rows:
        code = a.cell.facility.code
        value = latest.get(a.cell_id)
        shown = f"{value:.1f}" if value is not None else a.value
        found.append(
            Alert(
                kind="heat",
                facility=code,
                subject=f"cell:{code}/{a.cell.code}",
                label=a.cell.code,
                value=shown,
                since=a.since,
                message=_(
                    "Heat index %(hi)s °C in cell %(cell)s: at or above the limit of %(limit)s °C "
                    "(%(limit_f)s °F) since %(since)s"
                )
                % {
                    "hi": number_format(value, 1) if value is not None else shown,
                    "cell": a.cell.code,
                    "limit": number_format(float(a.cell.facility.heat_limit_c), 1),
                    "limit_f": f"{c_to_f(float(a.cell.facility.heat_limit_c)):.0f}",
                    "since": a.since.strftime("%Y-%m-%d %H:%M UTC"),
                },
            )
        )
    return found


def heat_count(facilities: list[Facility]) -> int:
    """How many heat alerts :func:`heat_alerts` lists: one count of the open rows."""
    return CellAlert.objects.filter(
        kind=CellAlertKind.HEAT, closed_at__isnull=True, cell__facility__in=facilities
    ).count()


@dataclass(frozen=True)
class Silent:
    cell: int
    facility: str
    code: str
    last: dt.datetime | None
    people: int


def silent_cells(facilities: list[Facility], at: dt.datetime | None = None) -> list[Silent]:
    """Rule A6: occupied cells of monitored facilities (any of whose cells has reported) with
    no reading since ``at`` − 2 hours."""
    at = at or now()
    monitored = set(
        CellClimate.objects.filter(cell__facility__in=facilities)
        .values_list("cell__facility_id", flat=True)
        .distinct()
    )
    if not monitored:
        return []
    cells = list(
        Cell.objects.filter(facility_id__in=monitored, active=True).values_list(
            "pk", "code", "facility__code"
        )
    )
    people = occupancy.occupants(pk for pk, _c, _f in cells)
    last = dict(
        CellClimate.objects.filter(cell__facility_id__in=monitored).values_list(
            "cell_id", "taken_at"
        )
    )
    found = []
    for pk, code, fcode in cells:
        seen = last.get(pk)
        if people.get(pk, 0) and (seen is None or at - seen >= SILENCE):
            found.append(Silent(pk, fcode, code, seen, people[pk]))
    return found


def _hours(silent: Silent, at: dt.datetime) -> str:
    if silent.last is None:
        return "never"
    return f"{(at - silent.last).total_seconds() / 3600:.1f}"


def silent_alerts(facilities: list[Facility], user: Any, with_since: bool) -> list[Alert]:
    at = now()
    found = []
    for s in silent_cells(facilities, at):
        hours = _hours(s, at)
        message = (
            _("No reading from cell %(cell)s (%(n)s people) for %(hours)s hours")
            % {"cell": s.code, "n": s.people, "hours": hours}
            if s.last is not None
            else _("No reading ever from cell %(cell)s (%(n)s people)")
            % {"cell": s.code, "n": s.people}
        )
        found.append(
            Alert(
                kind="sensor_silent",
                facility=s.facility,
                subject=f"cell:{s.facility}/{s.code}",
                label=s.code,
                value=hours,
                since=s.last + SILENCE if s.last is not None else None,
                message=message,
            )
        )
    return found


@dataclass
class SilenceReport:
    opened: list[str]
    closed: list[str]


@service
def cell_silence_check(*, actor: Actor, at: dt.datetime | None = None) -> SilenceReport:
    """Open a ``sensor_silent`` alert on the ledger for each cell silent now (rule A6) that
    has none open, and close those whose cell is no longer silent (emptied, or heard from:
    ingesting closes those too). Idempotent: run it again and nothing changes."""
    at = at or now()
    silent = {s.cell: s for s in silent_cells(list(Facility.objects.all()), at)}
    open_rows = {
        a.cell_id: a
        for a in CellAlert.objects.filter(kind=CellAlertKind.SENSOR_SILENT, closed_at__isnull=True)
    }
    index = CellIndex()
    events = []
    report = SilenceReport([], [])
    for cell, s in sorted(silent.items()):
        if cell in open_rows:
            continue
        alert = CellAlert(
            kind=CellAlertKind.SENSOR_SILENT,
            cell_id=cell,
            since=s.last + SILENCE if s.last is not None else at,
            opened_at=at,
            value=_hours(s, at),
        )
        alert.save()
        events.append(alert_event("conditions.cell_alert_opened", alert, index))
        report.opened.append(f"sensor_silent:cell:{index.label(cell)}")
    for cell, alert in sorted(open_rows.items()):
        if cell in silent:
            continue
        alert.closed_at = at
        alert.save(update_fields=["closed_at"])
        events.append(alert_event("conditions.cell_alert_closed", alert, index))
        report.closed.append(f"sensor_silent:cell:{index.label(cell)}")
    if events:
        ledger_append_many(actor=actor, events=events)
    return report


def register() -> None:
    register_source("heat", heat_alerts, heat_count)
    register_source("sensor_silent", silent_alerts)
