"""The housing tables are replayed from the ledger (habeas.housing.events): after the normal
keep-apart, override, roll-count, plan and move flows ``verify-ledger`` is clean, and a row of
any housing table changed, added or removed behind the services is named as
``housing.<Model>.<id>`` (ARCHITECTURE.md, the one rule, item 4)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection

from habeas.core.actor import Actor
from habeas.core.clock import now
from habeas.custody.services import custody_release
from habeas.facilities.models import Cell
from habeas.housing.allocator import Refusal
from habeas.housing.models import KeepApart, KeepApartOverride, Placement, RollCount, RollCountLine
from habeas.housing.placements import placement_move
from habeas.housing.services import (
    RollLine,
    housing_plan_record,
    keep_apart_close,
    keep_apart_open,
    keep_apart_override,
    roll_count_record,
)
from habeas.ledger.verify import verify_ledger
from tests.conftest import admit, make_person

T0 = dt.datetime(2025, 3, 16, 14, 5, tzinfo=dt.UTC)
H = dt.timedelta(hours=1)
ADMIN = Actor(name="test:admin", role="facility_admin")

# The tamper tests change housing tables behind the services on purpose.
pytestmark = pytest.mark.tampers


def cell(code: str) -> Cell:
    return Cell.objects.select_related("facility", "module").get(facility__code="TEC", code=code)


@pytest.fixture
def flows(world: dict[str, Any], actor: Actor) -> dict[str, Any]:
    """Admissions, moves, a plan, keep-apart records (one closed, one overridden), a roll
    count and a release: every housing table holds rows written by the services."""
    people = [make_person(actor) for _ in range(4)]
    for p in people:
        admit(actor, p, world["tec"], world["us"], at=T0, cell="M1-01")
    placement_move(actor=actor, person=people[1], cell=cell("M1-02"), at=T0 + H, reason="moved")
    housing_plan_record(
        actor=actor,
        facility=world["tec"],
        document={"facility": "TEC", "cost": {"before": 3, "after": 1}, "moves": [{"p": 1}]},
        at=T0 + 2 * H,
    )
    placement_move(
        actor=actor, person=people[2], cell=cell("M1-03"), at=T0 + 2 * H, reason="housing plan"
    )
    closed = keep_apart_open(
        actor=actor, person=people[0], other=people[1], scope="cell", reason="threats"
    )
    keep_apart_close(actor=actor, keep_apart=closed, reason="resolved")
    overridden = keep_apart_open(
        actor=actor, person=people[0], other=people[3], scope="module", reason="rivals"
    )
    keep_apart_override(
        actor=ADMIN,
        refused=[
            Refusal(
                rule="keep_apart:module", message="x", overridable=True, keep_apart=overridden.pk
            )
        ],
        person_id=people[3].pk,
        cell=cell("M1-02"),
        reason="the only cell with a ramp",
        at=T0 + 3 * H,
    )
    roll_count_record(
        actor=actor,
        facility=world["tec"],
        counted_at=now(),
        lines=[RollLine(cell="M1-01", counted=1, row=1), RollLine(cell="M1-02", counted=2, row=2)],
    )
    custody_release(actor=actor, person=people[2], reason="repatriated", at=T0 + 4 * H)
    return {"people": people, "closed": closed, "overridden": overridden}


def sql(statement: str, params: list[Any]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def where(result: Any) -> list[str]:
    return [p.where for p in result.problems]


@pytest.mark.django_db
def test_housing_flows_verify_cleanly(flows: dict[str, Any]) -> None:
    assert Placement.objects.filter(ended_at__isnull=False).count() >= 3
    assert KeepApartOverride.objects.count() == 1
    assert RollCountLine.objects.count() == 2
    result = verify_ledger()
    assert result.ok, result.problems


#: model, a field to change with a new value, the row to copy (its id is the new row's)
CASES = [
    (Placement, "reason", "changed", lambda f: Placement.objects.filter(ended_at__isnull=False)),
    (KeepApart, "reason", "changed", lambda f: KeepApart.objects.filter(pk=f["closed"].pk)),
    (KeepApartOverride, "reason", "changed", lambda f: KeepApartOverride.objects.all()),
    (RollCount, "counted", 99, lambda f: RollCount.objects.all()),
    (RollCountLine, "counted", 99, lambda f: RollCountLine.objects.filter(cell__code="M1-01")),
]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("model", "name", "value", "rows"), CASES, ids=lambda c: getattr(c, "__name__", "")
)
def test_a_changed_housing_row_is_named(
    flows: dict[str, Any], model: Any, name: str, value: Any, rows: Any
) -> None:
    row = rows(flows).first()
    sql(f"UPDATE {model._meta.db_table} SET {name} = %s WHERE id = %s", [value, row.pk])
    assert f"housing.{model.__name__}.{row.pk}.{name}" in where(verify_ledger())


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("model", "name", "value", "rows"), CASES, ids=lambda c: getattr(c, "__name__", "")
)
def test_a_removed_housing_row_is_named(
    flows: dict[str, Any], model: Any, name: str, value: Any, rows: Any
) -> None:
    row = rows(flows).first()
    if model is RollCount:  # its lines first (the foreign key)
        sql("DELETE FROM facilities_rollcountline WHERE roll_count_id = %s", [row.pk])
    sql(f"DELETE FROM {model._meta.db_table} WHERE id = %s", [row.pk])
    found = where(verify_ledger())
    assert f"housing.{model.__name__}.{row.pk}" in found, found


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("model", "name", "value", "rows"), CASES, ids=lambda c: getattr(c, "__name__", "")
)
def test_an_added_housing_row_is_named(
    flows: dict[str, Any], model: Any, name: str, value: Any, rows: Any
) -> None:
    row = rows(flows).first()
    columns = [f.column for f in model._meta.concrete_fields if not f.primary_key]
    values = list(columns)
    if model is RollCountLine:  # one line per cell and count: the copy counts another cell
        values[columns.index("cell_id")] = str(cell("M1-03").pk)
    table = model._meta.db_table
    sql(
        f"INSERT INTO {table} ({', '.join(columns)}) "
        f"SELECT {', '.join(values)} FROM {table} WHERE id = %s",
        [row.pk],
    )
    added = model.objects.order_by("-pk").values_list("pk", flat=True).first()
    assert added != row.pk
    found = [w for w in where(verify_ledger()) if w.startswith(f"housing.{model.__name__}.")]
    assert f"housing.{model.__name__}.{added}" in found, found
