"""Housing endpoints (issue 4): keep-apart records, roll counts and the roll view, the
placement suggestion, moves, cell certification and deactivation, the housing plan.

Scope (Mandela Rule 9, need-to-know): facility staff and admins for the facilities they work
in; oversight and auditors read everything and write nothing; a sending state's liaison or
finance officer never sees housing (who is in which cell), so every housing endpoint answers
them 403. Objects outside the user's scope are the same 404 as missing ones. Certification and
deactivation are for facility admins (HMPPS: capacity is certified by the governor); the
services refuse anyone else. Every write goes through a service, on the ledger.
"""

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Any, Literal
from zoneinfo import ZoneInfo

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from habeas.accounts.auth import housing_user
from habeas.accounts.models import User
from habeas.core.actor import Actor
from habeas.core.api import (
    DateStr,
    DecimalStr,
    IdStr,
    InstantStr,
    Pagination,
    PlausibleDate,
    PlausibleInstant,
    date_str,
    decimal_str,
    errors,
    instant_str,
)
from habeas.core.clock import now
from habeas.core.errors import NotFound, ValidationFailed
from habeas.core.limits import ascii_id
from habeas.facilities.choices import RollCountSource
from habeas.facilities.models import Cell, CellCertification, Facility
from habeas.facilities.selectors import facility_get_for, rate
from habeas.facilities.services import cell_certify, cell_deactivate, cell_reactivate
from habeas.facilities.standards import usable_area
from habeas.housing.allocator import Refusal, placement_model
from habeas.housing.models import KeepApart, RollCount
from habeas.housing.planner import problem_for, solve
from habeas.housing.selectors import (
    housed_get_for,
    keep_apart_get_for,
    keep_apart_list,
    placement_suggest,
    placements_of,
    roll_count_list,
    roll_view,
)
from habeas.housing.services import (
    RollLine,
    keep_apart_close,
    keep_apart_open,
    roll_count_record_file,
)
from habeas.people.selectors import person_get_for

router = Router(tags=["housing"])

WRITE_ERRORS = (400, 401, 403, 404, 409)
MAX_PLAN_SECONDS = 30.0

MSG_NO_HOUSING = gettext_lazy("housing is for the receiving facility's staff and oversight")
MSG_READ_ONLY = gettext_lazy("your role may read housing but not change it")
MSG_NOT_YOUR_FACILITY = "facility not found"
MSG_CELL_NOT_FOUND = "cell not found"
MSG_KEEP_APART_NOT_FOUND = "keep-apart record not found"


# --- access ------------------------------------------------------------------------------


def housing_reader(request: HttpRequest) -> User:
    """The user, if they may read housing: facility roles and oversight (Mandela Rule 9)."""
    return housing_user(request, refused=str(MSG_NO_HOUSING))


def housing_writer(request: HttpRequest) -> User:
    """The user, if they may change housing: facility staff and admins (scoped later)."""
    return housing_user(request, refused=str(MSG_NO_HOUSING), read_only=str(MSG_READ_ONLY))


def facility_for(user: User, code: str) -> Facility:
    """A facility the user may see housing of (same 404 as a missing one)."""
    return facility_get_for(user=user, code=code)


def cell_for(user: User, code: str, cell_code: str) -> Cell:
    facility = facility_for(user, code)
    cell = (
        Cell.objects.filter(facility=facility, code=cell_code)
        .select_related("module", "facility")
        .first()
    )
    if cell is None:
        raise NotFound(MSG_CELL_NOT_FOUND)
    return cell


def _pk(text: str, message: str) -> int:
    pk = ascii_id(text)
    if pk is None:
        raise NotFound(message)
    return pk


# --- keep-apart records ------------------------------------------------------------------


class KeepApartOut(Schema):
    """Two people held apart (Mandela Rules 1 and 36); ``scope`` is cell, module or facility;
    closed records stay, with who closed them and why."""

    id: IdStr
    person_a: IdStr
    person_a_name: str
    role_a: str
    person_b: IdStr
    person_b_name: str
    role_b: str
    scope: str
    reason: str
    source: str
    source_ref: str
    open: bool
    opened_at: InstantStr
    opened_by: str
    closed_at: InstantStr | None
    closed_by: str
    close_reason: str


def keep_apart_document(ka: KeepApart) -> dict[str, Any]:
    return {
        "id": str(ka.pk),
        "person_a": str(ka.person_a_id),
        "person_a_name": ka.person_a.full_name,
        "role_a": ka.role_a,
        "person_b": str(ka.person_b_id),
        "person_b_name": ka.person_b.full_name,
        "role_b": ka.role_b,
        "scope": ka.scope,
        "reason": ka.reason,
        "source": ka.source,
        "source_ref": ka.source_ref,
        "open": ka.is_open,
        "opened_at": instant_str(ka.opened_at),
        "opened_by": ka.opened_by,
        "closed_at": instant_str(ka.closed_at),
        "closed_by": ka.closed_by,
        "close_reason": ka.close_reason,
    }


class KeepApartFilter(Schema):
    open: bool | None = None
    person: str | None = None


class KeepApartIn(Schema):
    person: IdStr
    other: IdStr
    scope: str = Field(..., examples=["cell"], description="cell | module | facility")
    reason: str
    role: str = "other"
    other_role: str = "other"


class KeepApartCloseIn(Schema):
    """``{"open": false, "reason": "…"}`` closes the record (the only change allowed)."""

    open: Literal[False]
    reason: str


@router.get(
    "/keep-aparts/",
    response={200: list[KeepApartOut], **errors()},
    summary="List keep-apart records",
    operation_id="keep_aparts_list",
)
@paginate(Pagination)
def keep_aparts_list(request: HttpRequest, filters: Query[KeepApartFilter]) -> list[Any]:
    """Records naming people ever held in the user's facilities (all, for oversight), newest
    first; ``open=true`` only open ones, ``open=false`` only closed ones; ``person=ID``."""
    qs = keep_apart_list(user=housing_reader(request), open_only=bool(filters.open))
    if filters.open is False:
        qs = qs.filter(closed_at__isnull=False)
    if filters.person:
        qs = qs.involving(_pk(filters.person, "person not found"))
    return [keep_apart_document(ka) for ka in qs]


@router.post(
    "/keep-aparts/",
    response={201: KeepApartOut, **errors(*WRITE_ERRORS)},
    summary="Open a keep-apart record",
    operation_id="keep_aparts_create",
)
def keep_aparts_create(request: HttpRequest, body: KeepApartIn) -> Status[Any]:
    """Facility staff open a record between two people they may see, with a reason, the
    role of each and the scope (``facilities.keep_apart_opened``)."""
    user = housing_writer(request)
    person = person_get_for(user=user, person_id=body.person)
    other = person_get_for(user=user, person_id=body.other)
    ka = keep_apart_open(
        actor=Actor.from_user(user),
        person=person,
        other=other,
        scope=body.scope,
        reason=body.reason,
        role=body.role,
        other_role=body.other_role,
    )
    return Status(201, keep_apart_document(keep_apart_get_for(user=user, pk=ka.pk)))


@router.get(
    "/keep-aparts/{ka_id}/",
    response={200: KeepApartOut, **errors()},
    summary="A keep-apart record",
    operation_id="keep_aparts_get",
)
def keep_aparts_get(request: HttpRequest, ka_id: str) -> dict[str, Any]:
    user = housing_reader(request)
    return keep_apart_document(
        keep_apart_get_for(user=user, pk=_pk(ka_id, MSG_KEEP_APART_NOT_FOUND))
    )


@router.patch(
    "/keep-aparts/{ka_id}/",
    response={200: KeepApartOut, **errors(*WRITE_ERRORS)},
    summary="Close a keep-apart record",
    operation_id="keep_aparts_close",
)
def keep_aparts_close(request: HttpRequest, ka_id: str, body: KeepApartCloseIn) -> dict[str, Any]:
    """Close with a reason (``facilities.keep_apart_closed``); the record stays in history."""
    user = housing_writer(request)
    ka = keep_apart_get_for(user=user, pk=_pk(ka_id, MSG_KEEP_APART_NOT_FOUND))
    keep_apart_close(actor=Actor.from_user(user), keep_apart=ka, reason=body.reason)
    return keep_apart_document(keep_apart_get_for(user=user, pk=ka.pk))


# --- roll --------------------------------------------------------------------------------


class ModuleRollOut(Schema):
    """HMPPS establishment roll of one module; ``out`` (temporary absences) is split into
    ``out_court``, ``out_hospital`` and ``out_other``, and ``in_cell`` = population − out."""

    module: str
    population: int
    in_cell: int
    out: int
    out_court: int
    out_hospital: int
    out_other: int
    arrived_today: int
    released_today: int
    certified_capacity: int
    working_capacity: int
    vacancies: int
    cells_over_certified: int
    people_over_certified: int


class RollViewOut(Schema):
    facility: str
    on: DateStr
    modules: list[ModuleRollOut]
    total: ModuleRollOut


class RollQuery(Schema):
    on: PlausibleDate | None = None


def roll_document(facility: Facility, on: dt.date | None) -> dict[str, Any]:
    day = on or timezone.localtime(timezone.now(), ZoneInfo(facility.timezone)).date()
    rows = roll_view(facility=facility, on=day)
    keys = [
        "population",
        "in_cell",
        "out",
        "out_court",
        "out_hospital",
        "out_other",
        "arrived_today",
        "released_today",
        "certified_capacity",
        "working_capacity",
        "vacancies",
        "cells_over_certified",
        "people_over_certified",
    ]
    modules = [{"module": r.code, **{k: getattr(r, k) for k in keys}} for r in rows]
    total = {"module": "", **{k: sum(m[k] for m in modules) for k in keys}}
    return {"facility": facility.code, "on": date_str(day), "modules": modules, "total": total}


@router.get(
    "/facilities/{code}/roll",
    response={200: RollViewOut, **errors()},
    summary="The roll view of a facility",
    operation_id="facilities_roll",
)
def facilities_roll(request: HttpRequest, code: str, query: Query[RollQuery]) -> dict[str, Any]:
    """Per module: population, in cell, out, arrived and released on the day (the facility's
    local day, today by default), net vacancies against working capacity, cells and people
    above certified capacity."""
    facility = facility_for(housing_reader(request), code)
    return roll_document(facility, query.on)


class RollLineIn(Schema):
    """One row of the ``roll-count`` CSV: ``cell,counted,counted_at``."""

    cell: str
    counted: int = Field(..., ge=0)
    counted_at: PlausibleInstant


class RollCountIn(Schema):
    lines: list[RollLineIn] = Field(..., min_length=1)


class DiscrepancyOut(Schema):
    cell: str
    expected: int
    counted: int


class RollCountOut(Schema):
    id: IdStr
    counted_at: InstantStr
    recorded_by: str
    source: str
    expected: int
    counted: int
    discrepancies: list[DiscrepancyOut]


class RollCountsOut(Schema):
    facility: str
    rolls: list[RollCountOut]


def roll_count_document(roll: RollCount) -> dict[str, Any]:
    return {
        "id": str(roll.pk),
        "counted_at": instant_str(roll.counted_at),
        "recorded_by": roll.recorded_by,
        "source": roll.source,
        "expected": roll.expected,
        "counted": roll.counted,
        "discrepancies": [
            {"cell": line.cell.code, "expected": line.expected, "counted": line.counted}
            for line in roll.lines.select_related("cell")
            if line.counted != line.expected
        ],
    }


@router.get(
    "/facilities/{code}/roll-counts/",
    response={200: list[RollCountOut], **errors()},
    summary="Counted rolls of a facility",
    operation_id="roll_counts_list",
)
@paginate(Pagination)
def roll_counts_list(request: HttpRequest, code: str) -> list[dict[str, Any]]:
    """Counted rolls, newest first, each with its discrepancies."""
    user = housing_reader(request)
    facility = facility_for(user, code)
    return [roll_count_document(r) for r in roll_count_list(user=user, facility=facility)]


@router.post(
    "/facilities/{code}/roll-counts/",
    response={201: RollCountsOut, **errors(*WRITE_ERRORS)},
    summary="Record a counted roll",
    operation_id="roll_counts_create",
)
def roll_counts_create(request: HttpRequest, code: str, body: RollCountIn) -> Status[Any]:
    """The ``roll-count`` CSV as JSON lines: lines sharing a ``counted_at`` are one roll; all
    the rolls are recorded or none. A discrepancy becomes a ``roll_count`` alert."""
    user = housing_writer(request)
    facility = facility_for(user, code)
    rolls: defaultdict[dt.datetime, list[RollLine]] = defaultdict(list)
    for row, line in enumerate(body.lines, 1):
        rolls[line.counted_at].append(RollLine(cell=line.cell, counted=line.counted, row=row))
    recorded = roll_count_record_file(
        actor=Actor.from_user(user), facility=facility, rolls=rolls, source=RollCountSource.API
    )
    return Status(
        201, {"facility": facility.code, "rolls": [roll_count_document(r) for r in recorded]}
    )


# --- cells -------------------------------------------------------------------------------


class CertificationOut(Schema):
    id: IdStr
    certified_at: InstantStr
    approved_by: str
    space_standard: str
    floor_area_m2: DecimalStr
    sanitary_area_m2: DecimalStr
    certified_capacity: int
    working_capacity: int
    max_capacity: int
    reason: str


class CellOut(Schema):
    """A cell's capacities (HMPPS locations model; certified from floor area under the
    facility's space standard, STANDARDS.md) and its occupancy now."""

    facility: str
    module: str
    code: str
    floor_area_m2: DecimalStr
    sanitary_area_m2: DecimalStr
    usable_area_m2: DecimalStr
    certified_capacity: int
    working_capacity: int
    max_capacity: int
    population: int
    space_per_person_m2: DecimalStr | None
    occupancy_rate_certified: DecimalStr | None
    active: bool
    deactivation_reason: str | None
    deactivation_note: str
    deactivated_at: InstantStr | None


def _held(cell: Cell) -> int:
    return int(placement_model().objects.filter(cell=cell, ended_at__isnull=True).count())


def cell_document(cell: Cell) -> dict[str, Any]:
    held = _held(cell)
    usable = usable_area(cell.floor_area_m2, cell.sanitary_area_m2)
    spp = (usable / held).quantize(Decimal("0.01")) if held else None
    return {
        "facility": cell.facility.code,
        "module": cell.module.code,
        "code": cell.code,
        "floor_area_m2": str(cell.floor_area_m2),
        "sanitary_area_m2": str(cell.sanitary_area_m2),
        "usable_area_m2": str(usable),
        "certified_capacity": cell.certified_capacity,
        "working_capacity": cell.working_capacity,
        "max_capacity": cell.max_capacity,
        "population": held,
        "space_per_person_m2": decimal_str(spp),
        "occupancy_rate_certified": decimal_str(rate(held, cell.certified_capacity)),
        "active": cell.active,
        "deactivation_reason": cell.deactivation_reason or None,
        "deactivation_note": cell.deactivation_note,
        "deactivated_at": instant_str(cell.deactivated_at),
    }


def certification_document(c: CellCertification) -> dict[str, Any]:
    return {
        "id": str(c.pk),
        "certified_at": instant_str(c.certified_at),
        "approved_by": c.approved_by_name,
        "space_standard": c.space_standard,
        "floor_area_m2": str(c.floor_area_m2),
        "sanitary_area_m2": str(c.sanitary_area_m2),
        "certified_capacity": c.certified_capacity,
        "working_capacity": c.working_capacity,
        "max_capacity": c.max_capacity,
        "reason": c.reason,
    }


@router.get(
    "/facilities/{code}/cells/{cell_code}/",
    response={200: CellOut, **errors()},
    summary="A cell with its capacities and occupancy",
    operation_id="cells_get",
)
def cells_get(request: HttpRequest, code: str, cell_code: str) -> dict[str, Any]:
    return cell_document(cell_for(housing_reader(request), code, cell_code))


@router.get(
    "/facilities/{code}/cells/{cell_code}/certifications/",
    response={200: list[CertificationOut], **errors()},
    summary="Certifications of a cell",
    operation_id="cell_certifications_list",
)
def cell_certifications_list(
    request: HttpRequest, code: str, cell_code: str
) -> list[dict[str, Any]]:
    """Every certification of the cell's capacities, newest first, with the approving user."""
    cell = cell_for(housing_reader(request), code, cell_code)
    return [certification_document(c) for c in cell.certifications.all()]


class CertificationIn(Schema):
    working_capacity: int = Field(..., ge=0)
    max_capacity: int = Field(..., ge=0)
    reason: str
    floor_area_m2: Decimal | None = None
    sanitary_area_m2: Decimal | None = None


@router.post(
    "/facilities/{code}/cells/{cell_code}/certifications/",
    response={201: CertificationOut, **errors(*WRITE_ERRORS)},
    summary="Certify a cell's capacities",
    operation_id="cell_certifications_create",
)
def cell_certifications_create(
    request: HttpRequest, code: str, cell_code: str, body: CertificationIn
) -> Status[Any]:
    """Facility admins only. The certified capacity is computed, never given; working ≤
    maximum; neither below the people held now (``facilities.cell_certified``)."""
    user = housing_writer(request)
    cell = cell_for(user, code, cell_code)
    certification = cell_certify(
        actor=Actor.from_user(user),
        cell=cell,
        working_capacity=body.working_capacity,
        max_capacity=body.max_capacity,
        reason=body.reason,
        floor_area_m2=body.floor_area_m2,
        sanitary_area_m2=body.sanitary_area_m2,
    )
    return Status(201, certification_document(certification))


class DeactivationIn(Schema):
    reason: str = Field(
        ..., description="damaged | maintenance | security_sealed | staff_shortage | other"
    )
    note: str = ""


class ReactivationIn(Schema):
    note: str = ""


@router.get(
    "/facilities/{code}/cells/{cell_code}/deactivation",
    response={200: CellOut, **errors()},
    summary="Whether a cell is out of use, and why",
    operation_id="cell_deactivation_get",
)
def cell_deactivation_get(request: HttpRequest, code: str, cell_code: str) -> dict[str, Any]:
    return cell_document(cell_for(housing_reader(request), code, cell_code))


@router.post(
    "/facilities/{code}/cells/{cell_code}/deactivation",
    response={200: CellOut, **errors(*WRITE_ERRORS)},
    summary="Take a cell out of use",
    operation_id="cell_deactivation_create",
)
def cell_deactivation_create(
    request: HttpRequest, code: str, cell_code: str, body: DeactivationIn
) -> dict[str, Any]:
    """Facility admins only; refused while the cell holds anyone (``facilities.cell_
    deactivated``)."""
    user = housing_writer(request)
    cell = cell_for(user, code, cell_code)
    cell_deactivate(actor=Actor.from_user(user), cell=cell, reason=body.reason, note=body.note)
    return cell_document(cell_for(user, code, cell_code))


@router.delete(
    "/facilities/{code}/cells/{cell_code}/deactivation",
    response={200: CellOut, **errors(*WRITE_ERRORS)},
    summary="Bring a cell back into use",
    operation_id="cell_deactivation_delete",
)
def cell_deactivation_delete(request: HttpRequest, code: str, cell_code: str) -> dict[str, Any]:
    """Facility admins only (``facilities.cell_reactivated``)."""
    user = housing_writer(request)
    cell = cell_for(user, code, cell_code)
    cell_reactivate(actor=Actor.from_user(user), cell=cell)
    return cell_document(cell_for(user, code, cell_code))


# --- placement suggestion and moves ------------------------------------------------------


class RuleOut(Schema):
    rule: str
    message: str
    overridable: bool


class CandidateOut(Schema):
    cell: str
    module: str
    population: int
    certified_capacity: int
    working_capacity: int


class RefusedOut(CandidateOut):
    rules: list[RuleOut]


class SuggestionOut(Schema):
    """The best cell for the person by every housing rule (least crowded relative to
    certified capacity), the other allowed cells in order, and why each other cell is
    refused (Mandela Rule 11; keep-apart records; working capacity)."""

    person: IdStr
    facility: str
    current_cell: str | None
    best: str | None
    allowed: list[CandidateOut]
    refused: list[RefusedOut]


def _rule(r: Refusal) -> dict[str, Any]:
    return {"rule": r.rule, "message": r.message, "overridable": r.overridable}


def _candidate(cell: Cell, counts: dict[int, int]) -> dict[str, Any]:
    return {
        "cell": cell.code,
        "module": cell.module.code,
        "population": counts.get(cell.pk, 0),
        "certified_capacity": cell.certified_capacity,
        "working_capacity": cell.working_capacity,
    }


@router.get(
    "/persons/{person_id}/placement-suggestion",
    response={200: SuggestionOut, **errors()},
    summary="Suggest a cell for a person",
    operation_id="placement_suggestion",
    tags=["housing"],
)
def placement_suggestion(request: HttpRequest, person_id: str) -> dict[str, Any]:
    """Every cell of the facility holding the person, checked against every rule (read
    only: the placement service checks again, under lock, when the move is made)."""
    housed = housed_get_for(user=housing_reader(request), person_id=person_id)
    found = placement_suggest(facility=housed.facility, who=housed.who)
    current = housed.cell.pk if housed.cell else None
    return {
        "person": str(housed.person.pk),
        "facility": housed.facility.code,
        "current_cell": housed.cell.code if housed.cell else None,
        "best": next((c.code for c in found.allowed if c.pk != current), None),
        "allowed": [_candidate(c, found.counts) for c in found.allowed if c.pk != current],
        "refused": [
            {**_candidate(c, found.counts), "rules": [_rule(r) for r in why]}
            for c, why in found.refused
            if c.pk != current
        ],
    }


class PlacementOut(Schema):
    """A stay in one cell (Mandela Rule 7(c): every transfer recorded)."""

    id: IdStr
    facility: str
    cell: str
    started_at: InstantStr
    ended_at: InstantStr | None
    reason: str


def placement_document(p: Any) -> dict[str, Any]:
    return {
        "id": str(p.pk),
        "facility": p.episode.facility.code,
        "cell": p.cell.code,
        "started_at": instant_str(p.started_at),
        "ended_at": instant_str(p.ended_at),
        "reason": p.reason,
    }


@router.get(
    "/persons/{person_id}/moves/",
    response={200: list[PlacementOut], **errors()},
    summary="A person's placements",
    operation_id="person_moves_list",
)
def person_moves_list(request: HttpRequest, person_id: str) -> list[dict[str, Any]]:
    """Every cell the person was held in, in the user's facilities, newest first."""
    user = housing_reader(request)
    person = person_get_for(user=user, person_id=person_id)
    facilities = Facility.objects.visible_to(user)
    return [placement_document(p) for p in placements_of(person=person, facilities=facilities)]


class MoveIn(Schema):
    cell: str = Field(..., max_length=64)
    reason: str = Field(..., max_length=200)
    at: PlausibleInstant | None = None
    override_reason: str = Field(
        "",
        description="facility admins: overrides module- or facility-scope keep-apart "
        "refusals (never any other rule), on the ledger",
    )


@router.post(
    "/persons/{person_id}/moves/",
    response={201: PlacementOut, **errors(*WRITE_ERRORS)},
    summary="Move a person to another cell",
    operation_id="person_moves_create",
)
def person_moves_create(request: HttpRequest, person_id: str, body: MoveIn) -> Status[Any]:
    """Through the placement service, under the same rules as admission; a refused target
    answers 409 with every rule that refused it (``details.rules``)."""
    # Custody sits above facilities: imported here, in the handler, never at module level.
    from habeas.housing.placements import placement_move

    user = housing_writer(request)
    housed = housed_get_for(user=user, person_id=person_id)
    cell = Cell.objects.filter(facility=housed.facility, code=body.cell).first()
    if cell is None:
        raise ValidationFailed(
            _("no cell %(cell)s in %(facility)s")
            % {"cell": body.cell, "facility": housed.facility.code}
        )
    placement = placement_move(
        actor=Actor.from_user(user),
        person=housed.person,
        cell=cell,
        at=body.at or now(),
        reason=body.reason,
        override_reason=body.override_reason,
    )
    placement = (
        placement_model().objects.select_related("cell", "episode__facility").get(pk=placement.pk)
    )
    return Status(201, placement_document(placement))


# --- housing plan ------------------------------------------------------------------------


class FiguresOut(Schema):
    population: int
    above_certified: int
    worst_excess: int
    cells_over_certified: int
    moves: int


class PlannedMoveOut(Schema):
    person: IdStr
    from_cell: str | None = Field(None, alias="from")
    to: str


class HousingPlanOut(Schema):
    """A whole-facility plan that keeps every rule and minimises people above certified
    capacity (the worst cell first), then the number of moves (``housing-plan --json``)."""

    facility: str
    status: str
    before: FiguresOut
    first_fit_decreasing: FiguresOut
    after: FiguresOut
    lower_bound: FiguresOut
    seconds: float
    unplaced: list[IdStr]
    moves: list[PlannedMoveOut]


class PlanQuery(Schema):
    time_limit: float = Field(5.0, gt=0, le=MAX_PLAN_SECONDS)


@router.get(
    "/facilities/{code}/housing-plan",
    response={200: HousingPlanOut, **errors()},
    summary="Plan the housing of a facility (dry run)",
    operation_id="facilities_housing_plan",
    by_alias=True,
)
def facilities_housing_plan(
    request: HttpRequest, code: str, query: Query[PlanQuery]
) -> dict[str, Any]:
    """A dry run of ``habeas housing-plan``: nothing is moved (apply it with the command)."""
    facility = facility_for(housing_reader(request), code)
    problem = problem_for(facility)
    plan = solve(problem, time_limit=query.time_limit)
    document = plan.document(problem)
    document.pop("solver", None)
    return {"facility": facility.code, **document}


# --- transfer to another facility (Mandela Rule 7(c)) ------------------------------------


class TransferIn(Schema):
    to: str = Field(..., description="the destination facility's code")
    at: PlausibleInstant = Field(..., description="ISO 8601 with offset")
    reason: str = ""


class TransferOut(Schema):
    person: str
    episode: str
    facility: str
    cell: str
    at: str


@router.post(
    "/persons/{person_id}/transfer",
    response={200: TransferOut, **errors(400, 401, 403, 404, 409)},
    summary="Transfer a person to another facility",
    operation_id="person_transfer",
    tags=["persons"],
)
def person_transfer(request: HttpRequest, person_id: str, body: TransferIn) -> dict[str, Any]:
    """``habeas transfer`` (``custody.transferred``): the episode goes on in the destination,
    in a cell chosen under the housing rules; the transfer notice is queued. Staff of the
    facility holding the person only (404 otherwise)."""
    from habeas.custody.api import staff_scope_check
    from habeas.housing.relocation import custody_transfer

    user = housing_writer(request)
    person = person_get_for(user=user, person_id=person_id)
    staff_scope_check(user, person)
    facility = Facility.objects.filter(code=body.to).first()
    if facility is None:
        raise ValidationFailed(_("no facility %(code)s") % {"code": body.to})
    placement = custody_transfer(
        actor=Actor.from_user(user),
        person=person,
        facility=facility,
        at=body.at,
        reason=body.reason,
    )
    return {
        "person": str(person.pk),
        "episode": str(placement.episode_id),
        "facility": facility.code,
        "cell": placement.cell.code,
        "at": instant_str(placement.started_at),
    }
