"""Ledger actions of facilities: facilities, modules and cells as the setup document declares
them, cell certifications (HMPPS certified normal accommodation; STANDARDS.md, space
standards), taking cells out of use and back, and the facilities an agreement covers.

Nothing here is personal: codes, areas, capacities, a facility's public address and phone,
the reason a cell is out of use and the certifying officer (an actor, in clear on every entry
already) are facts about buildings and decisions. ``agreements.agreement_facilities_set``
keeps the name it was first recorded with; its table is facilities' own
(``Facility.agreements``), named ``agreements.Agreement.facilities`` in ``table.row.field``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.utils.translation import pgettext_lazy

from habeas.core.events import (
    READ_AFRESH,
    Action,
    Payload,
    State,
    amend,
    covers,
    dec,
    declare,
    instant,
)

F = "facilities.Facility"
M = "facilities.Module"
C = "facilities.Cell"
CC = "facilities.CellCertification"
AF = "agreements.Agreement.facilities"
FACILITY_FIELDS = (
    "code", "name", "jurisdiction_id", "timezone", "space_standard", "declared_capacity",
    "address", "phone", "visiting", "visiting_translations", "visiting_slots", "heat_limit_c",
    "heat_sustain_minutes",
)  # fmt: skip
#: Rule A5's defaults, for facilities declared before the heat limit was settable.
DEFAULT_HEAT_LIMIT_C = "31.1"
DEFAULT_HEAT_SUSTAIN_MINUTES = 30
#: Facilities declared before texts per language (or a heat limit) have none.
FACILITY_NORM: dict[str, Callable[[Any], Any]] = {
    "visiting_translations": lambda v: v or {},
    "visiting_slots": lambda v: v or [],
    "heat_limit_c": lambda v: dec(DEFAULT_HEAT_LIMIT_C if v is None else v),
    "heat_sustain_minutes": lambda v: DEFAULT_HEAT_SUSTAIN_MINUTES if v is None else int(v),
}
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
AREAS = ("floor_area_m2", "sanitary_area_m2")
CAPACITIES = ("certified_capacity", "working_capacity", "max_capacity")

#: A new facility, module or cell, or a changed facility or module, reaches every housing
#: snapshot of its facility: read afresh (``habeas.housing.selectors``).
AFRESH = READ_AFRESH


def _row(
    values: dict[str, Any], fields: tuple[str, ...], norm: dict[str, Any] | None = None
) -> dict[str, Any]:
    norm = norm or {}
    return {k: norm.get(k, lambda v: v)(values.get(k)) for k in fields}


# --- replays ------------------------------------------------------------------------------


def _facility(state: State, p: dict[str, Any]) -> None:
    state.setdefault(F, {})[p["facility"]["id"]] = _row(
        p["facility"], FACILITY_FIELDS, FACILITY_NORM
    )


def _facility_amended(state: State, p: dict[str, Any]) -> None:
    amend(state.setdefault(F, {}), p["id"], p["changes"], FACILITY_NORM)


def _module(state: State, p: dict[str, Any]) -> None:
    state.setdefault(M, {})[p["module"]["id"]] = _row(p["module"], MODULE_FIELDS)


def _module_amended(state: State, p: dict[str, Any]) -> None:
    amend(state.setdefault(M, {}), p["id"], p["changes"])


def _cell(state: State, p: dict[str, Any]) -> None:
    state.setdefault(C, {})[p["cell"]["id"]] = _row(p["cell"], CELL_FIELDS, CELL_NORM)


def _cell_amended(state: State, p: dict[str, Any]) -> None:
    amend(state.setdefault(C, {}), p["id"], p["changes"], CELL_NORM)


def _update_cell(state: State, values: dict[str, Any]) -> None:
    row = state.setdefault(C, {}).setdefault(values["id"], {})
    for name, value in values.items():
        if name in CELL_FIELDS:
            row[name] = CELL_NORM.get(name, lambda v: v)(value)


def _cell_certified(state: State, p: dict[str, Any]) -> None:
    """The cell's new areas and capacities, and the certification that set them."""
    cell = p["cell"]
    _update_cell(state, cell)
    state.setdefault(CC, {})[p["certification"]] = {
        "cell_id": cell["id"],
        "certified_at": instant(p["certified_at"]),
        "approved_by_id": p["approved_by_id"],
        "approved_by_name": p["approved_by"],
        "space_standard": p["space_standard"],
        **{k: dec(cell[k]) for k in AREAS},
        **{k: cell[k] for k in CAPACITIES},
        "reason": p["reason"],
    }


def _cell_deactivated(state: State, p: dict[str, Any]) -> None:
    _update_cell(state, p["cell"])


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


def _agreement_facilities(state: State, p: dict[str, Any]) -> None:
    state.setdefault(AF, {})[p["id"]] = {"facilities": sorted(p["facilities"][1])}


# --- payload schemas (Action.schema) -------------------------------------------------------


class Changes(Payload):
    """An ``…_amended`` payload: the row and its ``{"field": [old, new]}`` changes."""

    id: int
    changes: dict[str, list[Any]]


class FacilityRow(Payload):
    id: int
    code: str
    name: str
    jurisdiction_id: int
    timezone: str
    space_standard: str
    declared_capacity: int | None
    address: str
    phone: str
    visiting: str
    visiting_translations: dict[str, str] = {}
    visiting_slots: list[dict[str, Any]] = []
    heat_limit_c: Decimal | None = None
    heat_sustain_minutes: int | None = None


class FacilityDeclaredPayload(Payload):
    facility: FacilityRow


class FacilityAmendedPayload(Changes):
    pass


class ModuleRow(Payload):
    id: int
    facility_id: int
    code: str
    population: str
    regime: str


class ModuleDeclaredPayload(Payload):
    module: ModuleRow


class ModuleAmendedPayload(Changes):
    pass


class CellRow(Payload):
    id: int
    facility: str
    facility_id: int
    module: str
    module_id: int
    active: bool
    code: str
    floor_area_m2: Decimal
    sanitary_area_m2: Decimal
    height_m: Decimal | None
    bunks: int
    window: bool
    max_capacity: int
    working_capacity: int
    certified_capacity: int


class CellDeclaredPayload(Payload):
    cell: CellRow


class CellAmendedPayload(Changes):
    pass


class CellCapacity(Payload):
    floor_area_m2: Decimal
    sanitary_area_m2: Decimal
    max_capacity: int
    working_capacity: int
    certified_capacity: int


class CertifiedCell(CellCapacity):
    id: int


class CellCertifiedPayload(Payload):
    certification: int
    certified_at: dt.datetime
    approved_by_id: int | None
    cell: CertifiedCell
    before: CellCapacity
    space_standard: str
    held: int
    approved_by: str
    reason: str


class DeactivatedCell(Payload):
    id: int
    active: bool
    deactivation_reason: str
    deactivation_note: str
    deactivated_at: dt.datetime


class CellDeactivatedPayload(Payload):
    cell: DeactivatedCell


class ReactivatedCell(Payload):
    id: int
    active: bool


class Deactivation(Payload):
    reason: str
    note: str


class CellReactivatedPayload(Payload):
    cell: ReactivatedCell
    was: Deactivation
    note: str


class AgreementFacilitiesSetPayload(Payload):
    """The agreement's facility codes ``[before, after]``."""

    id: int
    facilities: list[list[str]]


declare(
    Action(
        "facilities.facility_declared",
        schema=FacilityDeclaredPayload,
        label=pgettext_lazy("ledger action", "Facility declared"),
        replay=_facility,
        housing=AFRESH,
    ),
    Action(
        "facilities.facility_amended",
        schema=FacilityAmendedPayload,
        label=pgettext_lazy("ledger action", "Facility amended"),
        replay=_facility_amended,
        housing=AFRESH,
    ),
    Action(
        "facilities.module_declared",
        schema=ModuleDeclaredPayload,
        label=pgettext_lazy("ledger action", "Module declared"),
        replay=_module,
        housing=AFRESH,
    ),
    Action(
        "facilities.module_amended",
        schema=ModuleAmendedPayload,
        label=pgettext_lazy("ledger action", "Module amended"),
        replay=_module_amended,
        housing=AFRESH,
    ),
    Action(
        "facilities.cell_declared",
        schema=CellDeclaredPayload,
        label=pgettext_lazy("ledger action", "Cell declared"),
        replay=_cell,
        housing=AFRESH,
    ),
    Action(
        "facilities.cell_amended",
        schema=CellAmendedPayload,
        label=pgettext_lazy("ledger action", "Cell amended"),
        replay=_cell_amended,
        housing="cell",
    ),
    Action(
        "facilities.cell_certified",
        schema=CellCertifiedPayload,
        label=pgettext_lazy("ledger action", "Cell certified"),
        replay=_cell_certified,
        housing="cell",
    ),
    Action(
        "facilities.cell_deactivated",
        schema=CellDeactivatedPayload,
        label=pgettext_lazy("ledger action", "Cell taken out of use"),
        replay=_cell_deactivated,
        housing="cell",
    ),
    Action(
        "facilities.cell_reactivated",
        schema=CellReactivatedPayload,
        label=pgettext_lazy("ledger action", "Cell back in use"),
        replay=_cell_reactivated,
        housing="cell",
    ),
    Action(
        "agreements.agreement_facilities_set",
        schema=AgreementFacilitiesSetPayload,
        label=pgettext_lazy("ledger action", "Facilities of an agreement set"),
        replay=_agreement_facilities,
        housing=None,
    ),
)


# --- snapshots ----------------------------------------------------------------------------


@covers(F)
def _facilities() -> dict[Any, dict[str, Any]]:
    from habeas.facilities.models import Facility

    return {
        f["id"]: _row(f, FACILITY_FIELDS, FACILITY_NORM)
        for f in Facility.objects.values("id", *FACILITY_FIELDS)
    }


@covers(M)
def _modules() -> dict[Any, dict[str, Any]]:
    from habeas.facilities.models import Module

    return {m["id"]: _row(m, MODULE_FIELDS) for m in Module.objects.values("id", *MODULE_FIELDS)}


@covers(C)
def _cells() -> dict[Any, dict[str, Any]]:
    from habeas.facilities.models import Cell

    return {
        c["id"]: _row(c, CELL_FIELDS, CELL_NORM)
        for c in Cell.objects.values("id", *CELL_FIELDS).iterator(chunk_size=5000)
    }


@covers(CC)
def _certifications() -> dict[Any, dict[str, Any]]:
    from habeas.facilities.models import CellCertification

    rows = {}
    for c in CellCertification.objects.values(
        "id", "cell_id", "certified_at", "approved_by_id", "approved_by_name", "space_standard",
        *AREAS, *CAPACITIES, "reason",
    ):  # fmt: skip
        c["certified_at"] = instant(c["certified_at"])
        for k in AREAS:
            c[k] = dec(c[k])
        rows[c.pop("id")] = c
    return rows


@covers(AF, models=("facilities.Facility_agreements",))
def _agreement_facilities_table() -> dict[Any, dict[str, Any]]:
    """Per agreement, the codes of the facilities it covers (agreements covering none are
    absent)."""
    from habeas.facilities.models import Facility

    links: dict[int, list[str]] = {}
    through = Facility.agreements.through
    for agreement_id, code in through.objects.values_list("agreement_id", "facility__code"):
        links.setdefault(agreement_id, []).append(code)
    return {a: {"facilities": sorted(codes)} for a, codes in links.items()}
