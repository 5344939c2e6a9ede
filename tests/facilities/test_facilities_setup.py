"""``habeas apply`` (INTERFACES.md, "Setup file"): declarative, idempotent, all or nothing, one
ledger entry per change; certified capacity computed from area and standard (STANDARDS.md);
capacity never set below current occupancy; errors name the file, the table and the key."""

from __future__ import annotations

import tomllib
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from habeas.agreements.models import Agreement, Jurisdiction
from habeas.core.actor import Actor
from habeas.core.errors import Conflict, ValidationFailed
from habeas.facilities.models import Cell, Facility, Module
from habeas.facilities.setup import MSG_BELOW_OCCUPANCY, setup_apply
from habeas.facilities.setup_schema import load_setup, parse_setup
from habeas.ledger.models import LedgerEntry
from habeas.ledger.services import ledger_root, ledger_size
from tests.conftest import DEMO_SETUP, SMALL_SETUP, admit, make_person, removal_order


def raw_small() -> dict[str, Any]:
    return tomllib.loads(SMALL_SETUP)


def doc(raw: dict[str, Any], name: str = "small.toml") -> Any:
    return parse_setup(raw, name=name)


def problems(raw: dict[str, Any], name: str = "small.toml") -> list[str]:
    with pytest.raises(ValidationFailed) as info:
        parse_setup(raw, name=name)
    assert info.value.message.startswith(f"{name}: ")
    return list(info.value.details.values())


def db_state() -> dict[str, Any]:
    return {
        "jurisdictions": list(Jurisdiction.objects.order_by("code").values()),
        "facilities": list(Facility.objects.order_by("code").values()),
        "modules": list(Module.objects.order_by("pk").values()),
        "cells": list(Cell.objects.order_by("pk").values()),
        "agreements": list(Agreement.objects.order_by("code").values()),
        "links": sorted(
            Facility.agreements.through.objects.values_list("facility_id", "agreement_id")
        ),
        "ledger": ledger_size(),
    }


# --- first apply -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_first_apply_declares_everything_with_one_entry_per_object(actor: Actor) -> None:
    report = setup_apply(actor=actor, document=doc(raw_small()))
    actions = Counter(LedgerEntry.objects.values_list("action", flat=True))
    assert actions == {
        "agreements.jurisdiction_declared": 3,
        "facilities.facility_declared": 2,
        "facilities.module_declared": 4,
        "facilities.cell_declared": 7,
        "agreements.agreement_declared": 2,
        "agreements.agreement_facilities_set": 2,
    }
    assert ledger_size() == sum(actions.values()) == len(report.events)
    assert report.changed
    assert not report.amended
    assert Cell.objects.count() == 7

    cell = Cell.objects.get(code="M1-02")
    entry = LedgerEntry.objects.get(subject="cell:TEC/M1-02")
    assert entry.action == "facilities.cell_declared"
    assert entry.document["actor"] == actor.name
    snap = entry.payload["cell"]
    assert snap["id"] == cell.pk
    assert (snap["facility"], snap["module"], snap["code"]) == ("TEC", "M1", "M1-02")
    assert snap["working_capacity"] == 4
    assert snap["max_capacity"] == 6
    assert snap["floor_area_m2"] == "20.0" or snap["floor_area_m2"] == "20.00"
    # ICRC: A = 20 − 2 = 18 m² → ⌊18 / 3.4⌋ = 5, computed here and never read from the file.
    assert snap["certified_capacity"] == cell.certified_capacity == 5
    # CPT: OTH A-01, 24 m² → 6.
    assert Cell.objects.get(code="A-01").certified_capacity == 6

    facilities = LedgerEntry.objects.get(
        action="agreements.agreement_facilities_set", subject="agreement:GT-SV"
    )
    assert facilities.payload["facilities"] == [[], ["OTH", "TEC"]]
    gt = Agreement.objects.get(code="GT-SV")
    assert sorted(gt.facilities.values_list("code", flat=True)) == ["OTH", "TEC"]


@pytest.mark.django_db
def test_certified_capacity_in_the_file_is_refused() -> None:
    raw = raw_small()
    raw["facility"][1]["module"][0]["cells"][0]["certified_capacity"] = 99
    (problem,) = problems(raw)
    assert "[[facility]] OTH" in problem
    assert "A-01" in problem
    assert "certified_capacity" in problem


# --- idempotence and amendments ----------------------------------------------------------------


@pytest.mark.django_db
def test_second_apply_changes_nothing(actor: Actor) -> None:
    setup_apply(actor=actor, document=doc(raw_small()))
    before = db_state()
    root = ledger_root()
    report = setup_apply(actor=actor, document=doc(raw_small()))
    assert not report.changed
    assert report.events == []
    assert report.created == []
    assert report.amended == []
    assert report.unchanged == 3 + 2 + 4 + 7 + 2
    assert db_state() == before
    assert ledger_root() == root


@pytest.mark.django_db
def test_demo_setup_applies_twice_without_change(actor: Actor) -> None:
    setup_apply(actor=actor, document=load_setup(DEMO_SETUP))
    size = ledger_size()
    assert Cell.objects.count() >= 256
    report = setup_apply(actor=actor, document=load_setup(DEMO_SETUP))
    assert not report.changed
    assert ledger_size() == size


@pytest.mark.django_db
def test_amended_value_writes_one_amended_event_with_old_and_new(actor: Actor) -> None:
    setup_apply(actor=actor, document=doc(raw_small()))
    size = ledger_size()
    raw = raw_small()
    raw["facility"][0]["name"] = "Renamed centre"
    raw["facility"][0]["module"][2]["cells"][0]["working_capacity"] = 3
    raw["agreement"][0]["max_persons"] = 250
    report = setup_apply(actor=actor, document=doc(raw))
    new = list(LedgerEntry.objects.filter(index__gte=size).order_by("index"))
    assert [(e.action, e.subject) for e in new] == [
        ("facilities.facility_amended", "facility:TEC"),
        ("facilities.cell_amended", "cell:TEC/W1-01"),
        ("agreements.agreement_amended", "agreement:US-SV"),
    ]
    assert new[0].payload["changes"] == {"name": ["Test centre", "Renamed centre"]}
    assert new[1].payload["changes"] == {"working_capacity": [2, 3]}
    assert new[1].payload["id"] == Cell.objects.get(code="W1-01").pk
    assert new[2].payload["changes"] == {"max_persons": [300, 250]}
    assert report.amended == ["facility:TEC", "cell:TEC/W1-01", "agreement:US-SV"]
    assert Facility.objects.get(code="TEC").name == "Renamed centre"
    assert Cell.objects.get(code="W1-01").working_capacity == 3
    # Applying the amended file again is a no-op.
    assert not setup_apply(actor=actor, document=doc(raw)).changed


@pytest.mark.django_db
def test_changed_area_recomputes_certified_capacity(actor: Actor) -> None:
    setup_apply(actor=actor, document=doc(raw_small()))
    raw = raw_small()
    raw["facility"][1]["module"][0]["cells"][0]["floor_area_m2"] = 18.0  # CPT: 24 → 18 m²
    setup_apply(actor=actor, document=doc(raw))
    entry = LedgerEntry.objects.get(action="facilities.cell_amended")
    assert entry.payload["changes"]["certified_capacity"] == [6, 4]
    assert entry.payload["changes"]["floor_area_m2"][0] in {"24.0", "24.00"}
    assert Cell.objects.get(code="A-01").certified_capacity == 4


@pytest.mark.django_db
def test_changed_space_standard_recomputes_every_cell(actor: Actor) -> None:
    setup_apply(actor=actor, document=doc(raw_small()))
    raw = raw_small()
    raw["facility"][0]["space_standard"] = "cpt"  # TEC cells: A = 18 → 4 under CPT
    setup_apply(actor=actor, document=doc(raw))
    assert set(
        Cell.objects.filter(facility__code="TEC", module__code="M1").values_list(
            "certified_capacity", flat=True
        )
    ) == {4}
    assert LedgerEntry.objects.filter(action="facilities.cell_amended").count() == 6


@pytest.mark.django_db
def test_working_capacity_below_occupancy_is_refused_and_nothing_written(
    world: dict[str, Any], actor: Actor
) -> None:
    for _ in range(3):
        admit(actor, make_person(actor), world["tec"], world["us"], cell="M1-01")
    before = db_state()
    raw = raw_small()
    raw["facility"][0]["name"] = "Renamed first, refused later"
    raw["facility"][0]["module"][0]["cells"] = [
        {
            "code": "M1-01",
            "floor_area_m2": 20.0,
            "sanitary_area_m2": 2.0,
            "bunks": 4,
            "max_capacity": 6,
            "working_capacity": 2,
        }
    ]
    raw["facility"][0]["module"][0]["cell_block"]["start"] = 2
    raw["facility"][0]["module"][0]["cell_block"]["count"] = 2
    with pytest.raises(Conflict) as info:
        setup_apply(actor=actor, document=doc(raw))
    assert info.value.message == MSG_BELOW_OCCUPANCY.format(cell="M1-01", new=2, n=3)
    assert info.value.status == 409
    assert db_state() == before
    # Equal to the occupancy is allowed.
    raw["facility"][0]["module"][0]["cells"][0]["working_capacity"] = 3
    setup_apply(actor=actor, document=doc(raw))
    assert Cell.objects.get(code="M1-01").working_capacity == 3


@pytest.mark.django_db
def test_occupied_module_cannot_change_population_or_regime(
    world: dict[str, Any], actor: Actor
) -> None:
    """Relabelling a men's module that holds men as a women's module (or a criminal module as
    civil) would break Mandela Rule 11 without anyone being moved."""
    admit(actor, make_person(actor), world["tec"], world["us"], cell="M1-01")
    before = db_state()
    for field, value in [("population", "adult_female"), ("regime", "civil")]:
        raw = raw_small()
        raw["facility"][0]["module"][0][field] = value
        with pytest.raises(Conflict):
            setup_apply(actor=actor, document=doc(raw))
        assert db_state() == before
    # An empty module may be redesignated.
    raw = raw_small()
    raw["facility"][0]["module"][1]["regime"] = "criminal"
    setup_apply(actor=actor, document=doc(raw))
    assert Module.objects.get(code="M2").regime == "criminal"


@pytest.mark.django_db
def test_occupied_cell_cannot_move_to_a_module_of_another_population(
    world: dict[str, Any], actor: Actor
) -> None:
    admit(
        actor, make_person(actor), world["tec"], world["us"], bases=[removal_order()], cell="M2-01"
    )
    before = db_state()
    raw = raw_small()
    # Declare the occupied civil men's cell M2-01 under the women's module W1.
    raw["facility"][0]["module"][1]["cell_block"]["start"] = 2
    raw["facility"][0]["module"][1]["cell_block"]["count"] = 1
    raw["facility"][0]["module"][2]["cells"].append(
        {
            "code": "M2-01",
            "floor_area_m2": 20.0,
            "sanitary_area_m2": 2.0,
            "bunks": 4,
            "max_capacity": 6,
            "working_capacity": 4,
        }
    )
    with pytest.raises(Conflict):
        setup_apply(actor=actor, document=doc(raw))
    assert db_state() == before


# --- all or nothing ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_agreement_naming_unknown_facility_writes_nothing(actor: Actor) -> None:
    raw = raw_small()
    raw["agreement"][1]["facilities"] = ["TEC", "NOPE"]
    before = db_state()
    with pytest.raises(ValidationFailed, match="agreement GT-SV: facility NOPE is not declared"):
        setup_apply(actor=actor, document=doc(raw))
    assert db_state() == before
    assert not Jurisdiction.objects.exists()  # not even the jurisdictions of the same file
    assert not Facility.objects.exists()
    assert ledger_size() == 0
    assert not LedgerEntry.objects.exists()


@pytest.mark.django_db
def test_facility_of_undeclared_jurisdiction_writes_nothing(actor: Actor) -> None:
    raw = raw_small()
    raw["jurisdiction"] = [j for j in raw["jurisdiction"] if j["code"] != "SV"]
    with pytest.raises(ValidationFailed, match="facility TEC: jurisdiction SV is not declared"):
        setup_apply(actor=actor, document=doc(raw))
    assert ledger_size() == 0
    assert not Jurisdiction.objects.exists()


@pytest.mark.django_db
def test_failure_after_the_ledger_append_rolls_everything_back(
    actor: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    import habeas.facilities.setup as setup_module
    from habeas.ledger.services import ledger_append_many as real

    def append_then_fail(**kwargs: Any) -> Any:
        real(**kwargs)
        assert ledger_size() > 0  # the entries were written in this transaction...
        raise RuntimeError("disk full")

    monkeypatch.setattr(setup_module, "ledger_append_many", append_then_fail)
    with pytest.raises(RuntimeError, match="disk full"):
        setup_apply(actor=actor, document=doc(raw_small()))
    assert ledger_size() == 0  # ...and rolled back with the change they recorded
    assert not LedgerEntry.objects.exists()
    assert not Jurisdiction.objects.exists()
    assert not Cell.objects.exists()


@pytest.mark.django_db
def test_facilities_missing_from_the_file_are_reported_not_deleted(actor: Actor) -> None:
    setup_apply(actor=actor, document=doc(raw_small()))
    raw = raw_small()
    raw["facility"] = raw["facility"][:1]
    raw["agreement"] = raw["agreement"][:1]
    report = setup_apply(actor=actor, document=doc(raw))
    assert report.not_in_file == ["facility:OTH"]
    assert Facility.objects.filter(code="OTH").exists()


# --- schema errors name the file, the table and the key ---------------------------------------


def test_cell_block_working_above_max_names_file_facility_module_and_block() -> None:
    raw = raw_small()
    raw["facility"][0]["module"][0]["cell_block"]["working_capacity"] = 9
    raw["facility"][0]["module"][1]["cell_block"]["count"] = 0  # a second problem, still listed
    found = problems(raw)
    assert len(found) == 2
    first = next(p for p in found if "M1" in p)
    assert first.startswith("small.toml: ")
    assert "[[facility]] TEC" in first
    assert "M1" in first
    assert "cell_block" in first
    assert "working_capacity" in first
    assert "max_capacity" in first
    second = next(p for p in found if "M2" in p)
    assert "cell_block" in second
    assert "count" in second


def test_single_cell_working_above_max_names_the_cell() -> None:
    raw = raw_small()
    raw["facility"][0]["module"][2]["cells"][0]["working_capacity"] = 9
    (problem,) = problems(raw)
    assert "[[facility]] TEC" in problem
    assert "W1" in problem
    assert "W1-01" in problem
    assert "working_capacity" in problem


def test_unknown_country_is_named() -> None:
    raw = raw_small()
    raw["jurisdiction"][0]["code"] = "XX"
    raw["agreement"][0]["sending"] = "XX"
    found = problems(raw, name="countries.toml")
    assert any(
        "countries.toml" in p and "[[jurisdiction]]" in p and "code" in p and "'XX'" in p
        for p in found
    )
    assert any("[[agreement]] US-SV" in p and "sending" in p and "'XX'" in p for p in found)


def test_bad_timezone_is_named() -> None:
    raw = raw_small()
    raw["facility"][1]["timezone"] = "Mars/Olympus_Mons"
    (problem,) = problems(raw)
    assert "[[facility]] OTH" in problem
    assert "timezone" in problem
    assert "Mars/Olympus_Mons" in problem


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda r: r["agreement"][0].update(ends="2025-01-01"), ["US-SV", "ends", "starts"]),
        (lambda r: r["agreement"][0].update(receiving="US"), ["US-SV", "different"]),
        (lambda r: r["agreement"][0].update(currency="ZZZ"), ["US-SV", "currency", "ZZZ"]),
        (lambda r: r["facility"][0].update(space_standard="nasa"), ["TEC", "space_standard"]),
        (lambda r: r["facility"][0]["module"][0].update(population="mixed"), ["M1", "population"]),
        (lambda r: r["facility"][0]["module"][0].update(colour="red"), ["M1", "colour"]),
        (
            lambda r: r["facility"][0]["module"][2]["cells"][0].update(sanitary_area_m2=99.0),
            ["W1-01", "sanitary_area_m2"],
        ),
        (
            lambda r: r["facility"][0]["module"].append(dict(r["facility"][0]["module"][0])),
            ["TEC", "module codes repeat"],
        ),
    ],
)
def test_other_schema_errors_are_located(change: Any, words: list[str]) -> None:
    raw = raw_small()
    change(raw)
    found = problems(raw)
    assert any(all(w in p for w in words) for p in found), found


def test_load_setup_names_the_file_for_bad_toml_and_bad_encoding(tmp_path: Path) -> None:
    bad = tmp_path / "broken.toml"
    bad.write_text("[[facility]]\ncode = \n", encoding="utf-8")
    with pytest.raises(ValidationFailed, match=r"^broken\.toml: not valid TOML"):
        load_setup(bad)
    latin = tmp_path / "latin.toml"
    latin.write_bytes('[[jurisdiction]]\ncode = "SV"\nname = "Espa\xf1a"\n'.encode("latin-1"))
    with pytest.raises(ValidationFailed, match=r"^latin\.toml: not UTF-8"):
        load_setup(latin)
