"""Occupancy reads (Mandela Rule 10; STANDARDS.md: occupancy rate = population × 100 /
certified capacity), counted from open placements and scoped to the user (404 outside scope)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from habeas.core.actor import Actor
from habeas.core.errors import NotFound
from habeas.custody.services import custody_release
from habeas.facilities.models import Cell
from habeas.facilities.selectors import (
    cell_get_for,
    facility_get_for,
    occupancy_for,
    occupancy_list,
    rate,
)
from habeas.housing.placements import placement_move
from tests.conftest import admit, make_person, removal_order

T0 = dt.datetime(2025, 3, 16, 14, 5, tzinfo=dt.UTC)


def test_rate() -> None:
    assert rate(0, 0) is None
    assert rate(5, 0) is None
    assert rate(1, 3) == Decimal("33.3")
    assert rate(2, 3) == Decimal("66.7")  # half up
    assert rate(150, 29) == Decimal("517.2")


@pytest.mark.django_db
def test_occupancy_counts_open_placements_only(world: dict[str, Any], actor: Actor) -> None:
    a, b, c = (make_person(actor) for _ in range(3))
    admit(actor, a, world["tec"], world["us"], at=T0, cell="M1-01")
    admit(actor, b, world["tec"], world["us"], at=T0, cell="M1-01")
    admit(actor, c, world["tec"], world["us"], at=T0, bases=[removal_order()], cell="M2-01")
    placement_move(
        actor=actor,
        person=b,
        cell=Cell.objects.get(code="M1-02"),
        at=T0 + dt.timedelta(hours=1),
        reason="x",
    )
    custody_release(actor=actor, person=c, reason="repatriated", at=T0 + dt.timedelta(hours=2))

    (tec,) = occupancy_for([world["tec"]])
    cells = {cell.code: cell for m in tec.modules for cell in m.cells}
    assert cells["M1-01"].population == 1
    assert cells["M1-02"].population == 1
    assert cells["M2-01"].population == 0
    assert tec.population == 2
    # ICRC: 18 m² usable → 5 certified per cell; 3 + 2 + 1 cells (W1-01: 11 m² → 3).
    assert tec.certified_capacity == 5 * 5 + 3
    assert tec.working_capacity == 4 * 5 + 2
    assert tec.rate_certified == rate(2, 28)
    m1 = next(m for m in tec.modules if m.code == "M1")
    assert (m1.population, m1.certified_capacity, m1.cells_over_certified) == (2, 15, 0)
    assert cells["M1-01"].space_per_person == Decimal("18.00")
    assert cells["M2-01"].band == "empty"


@pytest.mark.django_db
def test_scoped_reads_give_not_found_outside_scope(
    world: dict[str, Any], users: dict[str, Any]
) -> None:
    staff_oth = users["staff_oth"]
    assert [f.code for f in occupancy_list(user=staff_oth)] == ["OTH"]
    with pytest.raises(NotFound) as missing:
        facility_get_for(user=staff_oth, code="NOPE")
    with pytest.raises(NotFound) as hidden:
        facility_get_for(user=staff_oth, code="TEC")
    assert missing.value.message == hidden.value.message
    with pytest.raises(NotFound):
        cell_get_for(user=staff_oth, facility_code="TEC", cell_code="M1-01")
    assert (
        cell_get_for(user=users["auditor"], facility_code="TEC", cell_code="M1-01").code == "M1-01"
    )
    assert occupancy_list(user=users["norole"]) == []
