"""Replay of facility events for table-vs-ledger verification (habeas.ledger.replay)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from habeas.ledger.replay import State, amend, dec, handles, instant, snapshot

F = "facilities.Facility"
M = "facilities.Module"
C = "facilities.Cell"
FACILITY_FIELDS = (
    "code", "name", "jurisdiction_id", "timezone", "space_standard", "declared_capacity",
    "address", "phone", "visiting",
)  # fmt: skip
MODULE_FIELDS = ("facility_id", "code", "population", "regime")
CELL_FIELDS = (
    "facility_id", "module_id", "code", "floor_area_m2", "sanitary_area_m2", "height_m", "bunks",
    "window", "max_capacity", "working_capacity", "certified_capacity", "active",
    "deactivation_reason", "deactivation_note", "deactivated_at",
)  # fmt: skip
CELL_NORM: dict[str, Callable[[Any], Any]] = {
    "floor_area_m2": dec,
    "sanitary_area_m2": dec,
    "height_m": dec,
    "deactivated_at": instant,
    "deactivation_reason": lambda v: v or "",
    "deactivation_note": lambda v: v or "",
    "active": lambda v: True if v is None else v,
}


def _row(
    values: dict[str, Any], fields: tuple[str, ...], norm: dict[str, Any] | None = None
) -> dict[str, Any]:
    norm = norm or {}
    return {k: norm.get(k, lambda v: v)(values.get(k)) for k in fields}


@handles("facilities.facility_declared")
def _facility(state: State, p: dict[str, Any]) -> None:
    state.setdefault(F, {})[p["facility"]["id"]] = _row(p["facility"], FACILITY_FIELDS)


@handles("facilities.facility_amended")
def _facility_amended(state: State, p: dict[str, Any]) -> None:
    amend(state.setdefault(F, {}), p["id"], p["changes"])


@handles("facilities.module_declared")
def _module(state: State, p: dict[str, Any]) -> None:
    state.setdefault(M, {})[p["module"]["id"]] = _row(p["module"], MODULE_FIELDS)


@handles("facilities.module_amended")
def _module_amended(state: State, p: dict[str, Any]) -> None:
    amend(state.setdefault(M, {}), p["id"], p["changes"])


@handles("facilities.cell_declared")
def _cell(state: State, p: dict[str, Any]) -> None:
    state.setdefault(C, {})[p["cell"]["id"]] = _row(p["cell"], CELL_FIELDS, CELL_NORM)


@handles("facilities.cell_amended")
def _cell_amended(state: State, p: dict[str, Any]) -> None:
    amend(state.setdefault(C, {}), p["id"], p["changes"], CELL_NORM)


def _update_cell(state: State, values: dict[str, Any]) -> None:
    row = state.setdefault(C, {}).setdefault(values["id"], {})
    for name, value in values.items():
        if name in CELL_FIELDS:
            row[name] = CELL_NORM.get(name, lambda v: v)(value)


@handles("facilities.cell_certified")
def _cell_certified(state: State, p: dict[str, Any]) -> None:
    _update_cell(state, p["cell"])


@handles("facilities.cell_deactivated")
def _cell_deactivated(state: State, p: dict[str, Any]) -> None:
    _update_cell(state, p["cell"])


@handles("facilities.cell_reactivated")
def _cell_reactivated(state: State, p: dict[str, Any]) -> None:
    _update_cell(
        state,
        {
            "id": p["cell"]["id"],
            "active": True,
            "deactivation_reason": "",
            "deactivation_note": "",
            "deactivated_at": None,
        },
    )


@snapshot
def _tables() -> State:
    from habeas.facilities.models import Cell, Facility, Module

    return {
        F: {
            f["id"]: _row(f, FACILITY_FIELDS)
            for f in Facility.objects.values("id", *FACILITY_FIELDS)
        },
        M: {m["id"]: _row(m, MODULE_FIELDS) for m in Module.objects.values("id", *MODULE_FIELDS)},
        C: {
            c["id"]: _row(c, CELL_FIELDS, CELL_NORM)
            for c in Cell.objects.values("id", *CELL_FIELDS)
        },
    }
