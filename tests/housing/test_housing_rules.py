"""Housing rules and services (issue 4): certification, deactivation, keep-apart records and
overrides, untried/convicted separation, roll counts, suggestion — both sides of each
boundary, each write on the ledger."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from habeas.core.actor import Actor
from habeas.core.errors import ApplicationError, Conflict, Forbidden, ValidationFailed
from habeas.custody.services import LegalBasisSpec, custody_release
from habeas.facilities.models import Cell, CellCertification
from habeas.facilities.services import cell_certify, cell_deactivate, cell_reactivate
from habeas.housing.allocator import Occupant
from habeas.housing.models import KeepApart, Placement, RollCount
from habeas.housing.placements import placement_move
from habeas.housing.selectors import housing_alerts, placement_suggest, roll_view
from habeas.housing.services import (
    RollLine,
    keep_apart_close,
    keep_apart_merge,
    keep_apart_open,
    roll_count_record,
)
from habeas.ledger.models import LedgerEntry
from tests.conftest import admit, make_person, sentence

ADMIN = Actor(name="test:director", role="facility_admin")
AT = dt.datetime(2025, 3, 16, 14, 5, tzinfo=dt.UTC)
LATER = AT + dt.timedelta(hours=2)


def cell(code: str) -> Cell:
    return Cell.objects.select_related("module", "facility").get(code=code)


def cell_of(person: Any) -> str:
    return str(Placement.objects.get(episode__person=person, ended_at__isnull=True).cell.code)


def actions() -> list[str]:
    return list(LedgerEntry.objects.order_by("index").values_list("action", flat=True))


def untried() -> LegalBasisSpec:
    return dataclasses.replace(sentence(), judgment_final=False)


# --- capacity ----------------------------------------------------------------------------


def test_certify_computes_certified_capacity_and_records_the_approver(
    world: dict[str, Any], users: dict[str, Any]
) -> None:
    actor = Actor.from_user(users["admin"])
    c = cell_certify(
        actor=actor,
        cell=cell("M1-01"),
        working_capacity=5,
        max_capacity=6,
        floor_area_m2=Decimal("30"),
        sanitary_area_m2=Decimal("2.8"),
        reason="resurveyed",
    )
    # ICRC: 27.2 / 3.4 = 8 exactly.
    assert c.certified_capacity == 8
    assert c.approved_by == users["admin"]
    assert cell("M1-01").certified_capacity == 8
    assert actions()[-1] == "facilities.cell_certified"


def test_certify_refuses_staff(world: dict[str, Any], actor: Actor) -> None:
    with pytest.raises(Forbidden):
        cell_certify(
            actor=actor, cell=cell("M1-01"), working_capacity=4, max_capacity=6, reason="x"
        )


def test_capacity_can_equal_but_never_go_below_occupancy(
    world: dict[str, Any], actor: Actor
) -> None:
    for _ in range(2):
        admit(actor, make_person(actor), world["tec"], world["us"], cell="M1-01")
    cell_certify(actor=ADMIN, cell=cell("M1-01"), working_capacity=2, max_capacity=2, reason="r")
    before = LedgerEntry.objects.count()
    with pytest.raises(Conflict, match="below the 2 people"):
        cell_certify(
            actor=ADMIN, cell=cell("M1-01"), working_capacity=1, max_capacity=2, reason="r"
        )
    assert LedgerEntry.objects.count() == before
    assert CellCertification.objects.count() == 1


def test_working_above_maximum_is_refused(world: dict[str, Any]) -> None:
    with pytest.raises(ValidationFailed):
        cell_certify(
            actor=ADMIN, cell=cell("M1-01"), working_capacity=7, max_capacity=6, reason="r"
        )


def test_deactivation_refused_while_anyone_is_held_then_allowed(
    world: dict[str, Any], actor: Actor
) -> None:
    person = make_person(actor)
    admit(actor, person, world["tec"], world["us"], cell="M1-01")
    with pytest.raises(Conflict, match="holds 1 people"):
        cell_deactivate(actor=ADMIN, cell=cell("M1-01"), reason="damaged")
    custody_release(actor=actor, person=person, reason="other", at=LATER)
    cell_deactivate(actor=ADMIN, cell=cell("M1-01"), reason="damaged", at=LATER)
    c = cell("M1-01")
    assert not c.active
    assert c.deactivation_reason == "damaged"
    with pytest.raises(ApplicationError) as refused:
        admit(actor, make_person(actor), world["tec"], world["us"], cell="M1-01")
    assert "active" in refused.value.details["rules"]
    cell_reactivate(actor=ADMIN, cell=c)
    admit(actor, make_person(actor), world["tec"], world["us"], cell="M1-01")
    assert "facilities.cell_deactivated" in actions()
    assert "facilities.cell_reactivated" in actions()


def test_deactivation_reason_other_needs_a_note(world: dict[str, Any]) -> None:
    with pytest.raises(ValidationFailed):
        cell_deactivate(actor=ADMIN, cell=cell("M1-02"), reason="other")
    with pytest.raises(ValidationFailed):
        cell_deactivate(actor=ADMIN, cell=cell("M1-02"), reason="flooded")
    cell_deactivate(actor=ADMIN, cell=cell("M1-02"), reason="other", note="pest control")


# --- untried / convicted (Mandela Rule 11(b)) --------------------------------------------


def test_untried_never_shares_a_cell_with_convicted(world: dict[str, Any], actor: Actor) -> None:
    admit(actor, make_person(actor), world["tec"], world["us"], cell="M1-01")
    with pytest.raises(Conflict) as refused:
        admit(actor, make_person(actor), world["tec"], world["us"], bases=[untried()], cell="M1-01")
    assert refused.value.details["rules"] == "separation:trial"
    # Another untried person may join the first untried one.
    u1 = make_person(actor)
    admit(actor, u1, world["tec"], world["us"], bases=[untried()], cell="M1-02")
    admit(actor, make_person(actor), world["tec"], world["us"], bases=[untried()], cell="M1-02")
    # The automatic choice keeps them apart too.
    u3 = make_person(actor)
    admit(actor, u3, world["tec"], world["us"], bases=[untried()])
    assert cell_of(u3) in {"M1-02", "M1-03"}
    c = make_person(actor)
    admit(actor, c, world["tec"], world["us"])
    assert cell_of(c) not in {cell_of(u3), "M1-02"}


def test_a_final_judgment_besides_a_pending_one_is_convicted(
    world: dict[str, Any], actor: Actor
) -> None:
    admit(actor, make_person(actor), world["tec"], world["us"], cell="M1-01")
    admit(
        actor,
        make_person(actor),
        world["tec"],
        world["us"],
        bases=[untried(), sentence()],
        cell="M1-01",
    )


# --- keep apart --------------------------------------------------------------------------


def test_keep_apart_cell_scope_is_never_broken(world: dict[str, Any], actor: Actor) -> None:
    a, b = make_person(actor), make_person(actor)
    admit(actor, a, world["tec"], world["us"], cell="M1-01")
    ka = keep_apart_open(
        actor=actor,
        person=b,
        other=a,
        scope="cell",
        reason="threats",
        role="victim",
        other_role="aggressor",
    )
    assert (ka.person_a_id, ka.role_a) == (a.pk, "aggressor")  # ordered pair, roles follow
    with pytest.raises(Conflict) as refused:
        admit(actor, b, world["tec"], world["us"], cell="M1-01")
    assert refused.value.details["rules"] == "keep_apart:cell"
    admit(actor, b, world["tec"], world["us"])  # the automatic choice avoids M1-01
    assert cell_of(b) != "M1-01"
    # Not even a facility admin with a reason may put them in one cell.
    with pytest.raises(Conflict):
        placement_move(
            actor=ADMIN, person=b, cell=cell("M1-01"), at=LATER, reason="r", override_reason="ok"
        )
    # Same module, other cell: allowed for a cell scope.
    placement_move(actor=actor, person=b, cell=cell("M1-03"), at=LATER, reason="r")


def test_keep_apart_module_scope_needs_an_admin_override_with_a_reason(
    world: dict[str, Any], actor: Actor
) -> None:
    a, b = make_person(actor), make_person(actor)
    admit(actor, a, world["tec"], world["us"], cell="M1-01")
    admit(actor, b, world["tec"], world["gt"], bases=[removal_order_basis()], cell="M2-01")
    keep_apart_open(actor=actor, person=a, other=b, scope="module", reason="gang rivalry")
    c = make_person(actor)
    admit(actor, c, world["tec"], world["us"], cell="M1-02")
    keep_apart_open(actor=actor, person=c, other=a, scope="module", reason="witness")
    with pytest.raises(Conflict) as refused:
        placement_move(actor=actor, person=c, cell=cell("M1-03"), at=LATER, reason="r")
    assert refused.value.details["rules"] == "keep_apart:module"
    with pytest.raises(Forbidden):
        placement_move(
            actor=actor, person=c, cell=cell("M1-03"), at=LATER, reason="r", override_reason="x"
        )
    placement_move(
        actor=ADMIN,
        person=c,
        cell=cell("M1-03"),
        at=LATER,
        reason="r",
        override_reason="only cell free after the flood",
    )
    assert actions()[-2:] == ["facilities.keep_apart_overridden", "placement.moved"]


def removal_order_basis() -> LegalBasisSpec:
    return LegalBasisSpec(kind="removal_order", ref="RO-1", authority="US")


def test_keep_apart_facility_scope_refuses_every_cell_of_the_facility(
    world: dict[str, Any], actor: Actor
) -> None:
    a, b = make_person(actor), make_person(actor)
    admit(actor, a, world["tec"], world["us"])
    keep_apart_open(actor=actor, person=a, other=b, scope="facility", reason="co-accused")
    with pytest.raises(Conflict, match="no cell"):
        admit(actor, b, world["tec"], world["gt"])
    admit(actor, b, world["oth"], world["gt"])  # another facility is fine


def test_keep_apart_in_one_admission_batch(world: dict[str, Any], actor: Actor) -> None:
    from habeas.custody.services import AdmissionSpec
    from habeas.housing.placements import admit_and_place_many

    people = [make_person(actor) for _ in range(3)]
    keep_apart_open(actor=actor, person=people[0], other=people[1], scope="cell", reason="r")
    keep_apart_open(actor=actor, person=people[1], other=people[2], scope="cell", reason="r")
    admit_and_place_many(
        actor=actor,
        facility=world["tec"],
        agreement=world["us"],
        admissions=[
            AdmissionSpec(person=p, legal_bases=[sentence()], admitted_at=AT) for p in people
        ],
    )
    cells = [cell_of(p) for p in people]
    assert cells[0] != cells[1]
    assert cells[1] != cells[2]


def test_keep_apart_closed_stays_in_history_and_no_longer_refuses(
    world: dict[str, Any], actor: Actor
) -> None:
    a, b = make_person(actor), make_person(actor)
    admit(actor, a, world["tec"], world["us"], cell="M1-01")
    ka = keep_apart_open(actor=actor, person=a, other=b, scope="cell", reason="r")
    with pytest.raises(Conflict, match="already have an open"):
        keep_apart_open(actor=actor, person=b, other=a, scope="module", reason="r")
    keep_apart_close(actor=actor, keep_apart=ka, reason="resolved by mediation")
    admit(actor, b, world["tec"], world["us"], cell="M1-01")
    assert KeepApart.objects.count() == 1
    assert KeepApart.objects.get().closed_at is not None
    again = keep_apart_open(actor=actor, person=a, other=b, scope="module", reason="new threats")
    assert KeepApart.objects.count() == 2
    assert again.is_open
    with pytest.raises(ValidationFailed):
        keep_apart_open(actor=actor, person=a, other=a, scope="cell", reason="r")


def test_keep_apart_merge_moves_records_to_the_kept_person(
    world: dict[str, Any], actor: Actor
) -> None:
    kept, dup, x, y = (make_person(actor) for _ in range(4))
    keep_apart_open(actor=actor, person=dup, other=x, scope="module", reason="r1")
    keep_apart_open(actor=actor, person=dup, other=kept, scope="cell", reason="nonsense now")
    keep_apart_open(actor=actor, person=kept, other=y, scope="facility", reason="r2")
    keep_apart_open(actor=actor, person=dup, other=y, scope="cell", reason="r3")
    keep_apart_merge(actor=actor, kept=kept, merged=dup)
    open_ = {(k.other(kept.pk), k.scope) for k in KeepApart.objects.open()}
    assert open_ == {(x.pk, "module"), (y.pk, "facility")}
    assert not KeepApart.objects.open().filter(person_a=dup).exists()
    assert not KeepApart.objects.open().filter(person_b=dup).exists()


# --- suggestion ----------------------------------------------------------------------------


def test_suggestion_names_the_best_cell_and_why_others_are_refused(
    world: dict[str, Any], actor: Actor
) -> None:
    for _ in range(4):
        admit(actor, make_person(actor), world["tec"], world["us"], cell="M1-01")
    admit(actor, make_person(actor), world["tec"], world["us"], cell="M1-02")
    who = Occupant(sex="M", youth=False, regime="criminal")
    s = placement_suggest(facility=world["tec"], who=who)
    assert s.best is not None
    assert s.best.code == "M1-03"
    assert [c.code for c in s.allowed] == ["M1-03", "M1-02"]
    reasons = {c.code: [r.rule for r in rs] for c, rs in s.refused}
    assert reasons["M1-01"] == ["capacity:working"]
    assert reasons["M2-01"] == ["separation:regime"]
    assert set(reasons["W1-01"]) == {"separation:sex", "separation:regime"}


# --- roll count ----------------------------------------------------------------------------


def test_roll_count_records_expected_figures_and_discrepancies(
    world: dict[str, Any], actor: Actor
) -> None:
    for _ in range(2):
        admit(actor, make_person(actor), world["tec"], world["us"], cell="M1-01")
    roll = roll_count_record(
        actor=actor,
        facility=world["tec"],
        counted_at=LATER,
        lines=[RollLine("M1-01", 2, 2), RollLine("M1-02", 1, 3)],
    )
    assert (roll.expected, roll.counted, roll.discrepancies) == (2, 3, 1)
    alerts = housing_alerts(facilities=[world["tec"]])
    assert [(a["kind"], a["subject"], a["value"]) for a in alerts if a["kind"] == "roll_count"] == [
        ("roll_count", "cell:TEC/M1-02", "1")
    ]
    assert actions()[-1] == "facilities.roll_counted"
    with pytest.raises(ApplicationError, match="row 7: no cell NOPE"):
        roll_count_record(
            actor=actor, facility=world["tec"], counted_at=LATER, lines=[RollLine("NOPE", 1, 7)]
        )
    assert RollCount.objects.count() == 1


def test_roll_view_per_module(world: dict[str, Any], actor: Actor) -> None:
    for _ in range(3):
        admit(actor, make_person(actor), world["tec"], world["us"], cell="M1-01")
    rows = {r.code: r for r in roll_view(facility=world["tec"], on=AT.date())}
    m1 = rows["M1"]
    assert (m1.population, m1.in_cell, m1.out) == (3, 3, 0)
    assert m1.vacancies == 12 - 3
    assert m1.arrived_today == 3


def test_space_alert_below_three_square_metres(world: dict[str, Any], actor: Actor) -> None:
    # W1-01: 11 m² usable, working 2 → 5.5 m²: no alert.
    assert not [a for a in housing_alerts(facilities=[world["tec"]]) if a["kind"] == "space"]
    cell_certify(actor=ADMIN, cell=cell("M1-01"), working_capacity=6, max_capacity=6, reason="r")
    for _ in range(6):  # 18 m² / 6 = 3.00 m²: on the line, no alert
        admit(actor, make_person(actor), world["tec"], world["us"], cell="M1-01")
    assert not [a for a in housing_alerts(facilities=[world["tec"]]) if a["kind"] == "space"]
    cell_certify(
        actor=ADMIN,
        cell=cell("M1-01"),
        working_capacity=6,
        max_capacity=6,
        reason="r",
        sanitary_area_m2=Decimal("2.1"),
    )
    space = [a for a in housing_alerts(facilities=[world["tec"]]) if a["kind"] == "space"]
    assert [(a["subject"], a["value"]) for a in space] == [("cell:TEC/M1-01", "2.98")]
