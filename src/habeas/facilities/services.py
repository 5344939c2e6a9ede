"""Facility writes: cell certification, deactivation and reactivation (STANDARDS.md capacity
terms; HMPPS locations model; Mandela Rule 6). Each service runs in one transaction and appends
its ledger entries in it.

Every payload carries the full new state of what it changed, so ``verify-ledger`` can replay
it against the tables. How many people a cell holds comes from :mod:`habeas.facilities.occupancy`
(housing, above facilities, counts its placements there).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from habeas.accounts.permissions import may_administer_facility
from habeas.core.actor import Actor
from habeas.core.clock import now
from habeas.core.errors import Conflict, Forbidden, ValidationFailed
from habeas.core.services import service
from habeas.facilities.choices import CellDeactivationReason
from habeas.facilities.models import Cell, CellCertification
from habeas.facilities.occupancy import occupants
from habeas.facilities.standards import certified_capacity
from habeas.ledger.services import Event, ledger_append_many

MSG_NOT_ADMIN = "only a facility admin may {what}"
MSG_REASON = "{what} needs a reason"
MSG_WORKING_ABOVE_MAX = "working capacity {working} is above maximum capacity {maximum}"
MSG_BELOW_OCCUPANCY = (
    "cell {cell}: {which} capacity {new} is below the {n} people it holds now "
    "(STANDARDS.md: capacity cannot be set below current occupancy)"
)
MSG_AREA = "the sanitary annex ({sanitary} m²) must be smaller than the floor area ({floor} m²)"
MSG_OCCUPIED = (
    "cell {cell} holds {n} people: a cell holding anyone cannot be taken out of use "
    "(move them first)"
)
MSG_ALREADY_INACTIVE = "cell {cell} is already out of use"
MSG_ALREADY_ACTIVE = "cell {cell} is in use"
MSG_OTHER_NEEDS_NOTE = "reason 'other' needs a note saying why"
MSG_UNKNOWN_REASON = "unknown deactivation reason {reason!r}"


def require_admin(actor: Actor, what: str) -> None:
    if not may_administer_facility(actor):
        raise Forbidden(MSG_NOT_ADMIN.format(what=what))


def _cell_label(cell: Cell) -> str:
    return f"{cell.facility.code}/{cell.code}"


def _occupants(cell: Cell) -> int:
    return occupants([cell.pk]).get(cell.pk, 0)


def _locked(cell: Cell) -> Cell:
    return (
        Cell.objects.select_for_update(of=("self",))
        .select_related("facility", "module")
        .get(pk=cell.pk)
    )


# --- capacity ----------------------------------------------------------------------------


@service
def cell_certify(
    *,
    actor: Actor,
    cell: Cell,
    working_capacity: int,
    max_capacity: int,
    reason: str,
    floor_area_m2: Decimal | None = None,
    sanitary_area_m2: Decimal | None = None,
    at: dt.datetime | None = None,
) -> CellCertification:
    """Certify a cell's capacities (HMPPS: certified normal accommodation, working and
    maximum capacity), approved by a facility admin. The certified capacity is computed from
    the usable floor area under the facility's space standard (STANDARDS.md); working ≤
    maximum; neither below the people held now."""
    require_admin(actor, "certify a cell")
    if not reason.strip():
        raise ValidationFailed(MSG_REASON.format(what="a certification"))
    locked = _locked(cell)
    floor = Decimal(str(floor_area_m2)) if floor_area_m2 is not None else locked.floor_area_m2
    sanitary = (
        Decimal(str(sanitary_area_m2)) if sanitary_area_m2 is not None else locked.sanitary_area_m2
    )
    if floor <= 0 or sanitary < 0 or sanitary > floor:
        raise ValidationFailed(MSG_AREA.format(sanitary=sanitary, floor=floor))
    if working_capacity < 0 or max_capacity < 0 or working_capacity > max_capacity:
        raise ValidationFailed(
            MSG_WORKING_ABOVE_MAX.format(working=working_capacity, maximum=max_capacity)
        )
    held = _occupants(locked)
    for which, value in (("working", working_capacity), ("maximum", max_capacity)):
        if value < held:
            raise Conflict(
                MSG_BELOW_OCCUPANCY.format(cell=locked.code, which=which, new=value, n=held)
            )
    standard = locked.facility.space_standard
    certified = certified_capacity(floor, sanitary, standard)
    at = at or now()
    before = {
        "floor_area_m2": locked.floor_area_m2,
        "sanitary_area_m2": locked.sanitary_area_m2,
        "certified_capacity": locked.certified_capacity,
        "working_capacity": locked.working_capacity,
        "max_capacity": locked.max_capacity,
    }
    locked.floor_area_m2 = floor
    locked.sanitary_area_m2 = sanitary
    locked.certified_capacity = certified
    locked.working_capacity = working_capacity
    locked.max_capacity = max_capacity
    locked.save(
        update_fields=[
            "floor_area_m2",
            "sanitary_area_m2",
            "certified_capacity",
            "working_capacity",
            "max_capacity",
        ]
    )
    certification = CellCertification(
        cell=locked,
        certified_at=at,
        approved_by_id=actor.user_id,
        approved_by_name=actor.name,
        space_standard=standard,
        floor_area_m2=floor,
        sanitary_area_m2=sanitary,
        certified_capacity=certified,
        working_capacity=working_capacity,
        max_capacity=max_capacity,
        reason=reason.strip(),
    )
    certification.save()
    ledger_append_many(
        actor=actor,
        events=[
            Event(
                action="facilities.cell_certified",
                subject=f"cell:{_cell_label(locked)}",
                occurred_at=at,
                payload={
                    "certification": certification.pk,
                    "certified_at": at,
                    "approved_by_id": actor.user_id,
                    "cell": {"id": locked.pk, **{k: getattr(locked, k) for k in before}},
                    "before": before,
                    "space_standard": standard,
                    "held": held,
                    "approved_by": actor.name,
                    "reason": certification.reason,
                },
            )
        ],
    )
    return certification


@service
def cell_deactivate(
    *, actor: Actor, cell: Cell, reason: str, note: str = "", at: dt.datetime | None = None
) -> Cell:
    """Take a cell out of use with a reason (HMPPS: a cell holding people cannot be
    deactivated)."""
    require_admin(actor, "take a cell out of use")
    if reason not in CellDeactivationReason.values:
        raise ValidationFailed(MSG_UNKNOWN_REASON.format(reason=reason))
    if reason == CellDeactivationReason.OTHER and not note.strip():
        raise ValidationFailed(MSG_OTHER_NEEDS_NOTE)
    locked = _locked(cell)
    if not locked.active:
        raise Conflict(MSG_ALREADY_INACTIVE.format(cell=locked.code))
    held = _occupants(locked)
    if held:
        raise Conflict(MSG_OCCUPIED.format(cell=locked.code, n=held))
    at = at or now()
    locked.active = False
    locked.deactivation_reason = reason
    locked.deactivation_note = note.strip()
    locked.deactivated_at = at
    locked.save(
        update_fields=["active", "deactivation_reason", "deactivation_note", "deactivated_at"]
    )
    ledger_append_many(
        actor=actor,
        events=[
            Event(
                action="facilities.cell_deactivated",
                subject=f"cell:{_cell_label(locked)}",
                occurred_at=at,
                payload={
                    "cell": {
                        "id": locked.pk,
                        "active": False,
                        "deactivation_reason": reason,
                        "deactivation_note": locked.deactivation_note,
                        "deactivated_at": at,
                    }
                },
            )
        ],
    )
    return locked


@service
def cell_reactivate(
    *, actor: Actor, cell: Cell, note: str = "", at: dt.datetime | None = None
) -> Cell:
    """Bring a cell back into use."""
    require_admin(actor, "bring a cell back into use")
    locked = _locked(cell)
    if locked.active:
        raise Conflict(MSG_ALREADY_ACTIVE.format(cell=locked.code))
    at = at or now()
    previous = {"reason": locked.deactivation_reason, "note": locked.deactivation_note}
    locked.active = True
    locked.deactivation_reason = ""
    locked.deactivation_note = ""
    locked.deactivated_at = None
    locked.save(
        update_fields=["active", "deactivation_reason", "deactivation_note", "deactivated_at"]
    )
    ledger_append_many(
        actor=actor,
        events=[
            Event(
                action="facilities.cell_reactivated",
                subject=f"cell:{_cell_label(locked)}",
                occurred_at=at,
                payload={
                    "cell": {"id": locked.pk, "active": True},
                    "was": previous,
                    "note": note.strip(),
                },
            )
        ],
    )
    return locked
