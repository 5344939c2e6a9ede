"""The CLI through its stable interface (INTERFACES.md): exit codes, messages, JSON documents."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from habeas.ledger.services import ledger_size
from tests.conftest import (
    DEMO_SETUP,
    SMALL_SETUP,
    admit,
    make_person,
    removal_order,
    run_cli,
    sentence,
)


@pytest.fixture
def setup_file(tmp_path: Path) -> Path:
    path = tmp_path / "setup.toml"
    path.write_text(SMALL_SETUP, encoding="utf-8")
    return path


@pytest.mark.django_db
def test_apply_twice_is_idempotent(setup_file: Path) -> None:
    code, out, _ = run_cli("apply", str(setup_file))
    assert code == 0
    assert "declared" in out
    size = ledger_size()
    assert size > 0
    code, out, _ = run_cli("apply", str(setup_file))
    assert code == 0
    assert "nothing changed" in out
    assert ledger_size() == size


@pytest.mark.django_db
def test_apply_amendment_is_one_event(setup_file: Path) -> None:
    run_cli("apply", str(setup_file))
    size = ledger_size()
    setup_file.write_text(SMALL_SETUP.replace('phone = "+503 0000"', 'phone = "+503 1111"'))
    code, out, _ = run_cli("apply", str(setup_file))
    assert code == 0
    assert "1 amended" in out
    assert "facility:TEC" in out
    assert ledger_size() == size + 1


@pytest.mark.django_db
def test_apply_broken_toml_exits_2_naming_the_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text('[[jurisdiction]]\ncode = "US"\nname = "United States\n')
    code, _, err = run_cli("apply", str(path))
    assert code == 2
    assert "broken.toml" in err
    assert "line 3" in err
    assert ledger_size() == 0


@pytest.mark.django_db
def test_apply_invalid_value_names_file_table_and_key(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(
        SMALL_SETUP.replace("working_capacity = 4}", "working_capacity = 9}", 1).replace(
            'code = "GT"', 'code = "XX"'
        )
    )
    code, _, err = run_cli("apply", str(path))
    assert code == 2
    assert "bad.toml" in err
    assert "[[facility]] TEC → [[facility.module]] M1 → cell_block" in err
    assert "working_capacity must not exceed max_capacity" in err
    assert "'XX' is not an ISO 3166-1 alpha-2 country code" in err
    assert ledger_size() == 0


@pytest.mark.django_db
def test_apply_missing_file_exits_2(tmp_path: Path) -> None:
    code, _, err = run_cli("apply", str(tmp_path / "nope.toml"))
    assert code == 2
    assert "no such file" in err


@pytest.mark.django_db
def test_demo_setup_file_declares_the_facility_of_the_standards() -> None:
    code, _, _ = run_cli("apply", str(DEMO_SETUP))
    assert code == 0
    code, out, _ = run_cli("stats", "--json")
    doc = json.loads(out)
    (tec,) = doc["facilities"]
    assert len(tec["modules"]) == 8
    # 256 cells of 100 m² less 4 m² sanitary annex: 28 each under ICRC 3.4 m² (STANDARDS.md)
    assert tec["certified_capacity"] == 256 * 28
    assert tec["working_capacity"] == 256 * 157


@pytest.mark.django_db
def test_show_and_stats_documents(world: dict[str, Any], actor: Any) -> None:
    person = make_person(actor, given_names="María José", first_surname="Núñez", sex="F")
    admit(actor, person, world["tec"], world["us"], bases=[removal_order()], cell="W1-01")
    sentenced = make_person(actor)
    admit(actor, sentenced, world["tec"], world["us"], bases=[sentence("P2Y")])
    ref = person.identifiers.get().value
    code, out, _ = run_cli("show", ref, "--json")
    assert code == 0
    doc = json.loads(out)
    for key in (
        "id",
        "sending_refs",
        "names",
        "date_of_birth",
        "sex",
        "nationalities",
        "legal_bases",
        "custody",
        "cell",
        "release_date",
        "alarms",
    ):
        assert key in doc
    assert doc["names"]["given_names"] == "María José"
    assert doc["cell"] == "W1-01"
    assert doc["legal_bases"][0]["kind"] == "removal_order"
    assert doc["release_date"] is None
    other = json.loads(run_cli("show", str(sentenced.pk), "--json")[1])
    assert other["legal_bases"][0]["ends_on"] == "2026-01-01"
    assert other["release_date"] == "2026-01-01"
    assert other["cell"].startswith("M1-")
    code, out, _ = run_cli("stats", "--json")
    stats = json.loads(out)
    for key in ("facilities", "by_nationality", "by_sex", "by_legal_basis", "open_alerts"):
        assert key in stats
    tec = next(f for f in stats["facilities"] if f["code"] == "TEC")
    for key in (
        "code",
        "population",
        "certified_capacity",
        "working_capacity",
        "occupancy_rate_certified",
        "occupancy_rate_working",
        "modules",
    ):
        assert key in tec
    assert tec["population"] == 2
    assert stats["by_sex"] == {"F": 1, "M": 1}
    assert stats["by_legal_basis"] == {"criminal_sentence": 1, "removal_order": 1}


@pytest.mark.django_db
def test_show_unknown_person_exits_2(world: dict[str, Any]) -> None:
    code, _, err = run_cli("show", "NOPE-1")
    assert code == 2
    assert "NOPE-1" in err


@pytest.mark.django_db
def test_release_command(world: dict[str, Any], actor: Any) -> None:
    person = make_person(actor)
    admit(actor, person, world["tec"], world["us"])
    size = ledger_size()
    code, out, _ = run_cli(
        "release",
        str(person.pk),
        "--reason",
        "repatriated",
        "--at",
        "2025-04-01T10:00:00-06:00",
        "--destination",
        "ve",
    )
    assert code == 0, out
    assert ledger_size() == size + 1
    code, out, _ = run_cli("show", str(person.pk), "--json")
    custody = json.loads(out)["custody"][0]
    assert custody["release_reason"] == "repatriated"
    assert custody["release_destination"] == "VE"
    code, _, err = run_cli(
        "release",
        str(person.pk),
        "--reason",
        "repatriated",
        "--at",
        "2025-04-02T10:00:00-06:00",
    )
    assert code == 2
    assert "not in custody" in err


@pytest.mark.django_db
def test_release_needs_an_offset(world: dict[str, Any], actor: Any) -> None:
    person = make_person(actor)
    admit(actor, person, world["tec"], world["us"])
    code, _, err = run_cli(
        "release", str(person.pk), "--reason", "other", "--at", "2025-04-01T10:00:00"
    )
    assert code == 2
    assert "time zone" in err


@pytest.mark.django_db
def test_demo_then_verify_ledger() -> None:
    code, out, _ = run_cli("demo", "--no-serve")
    assert code == 0
    assert "staff-habeas-demo" in out
    code, out, _ = run_cli("verify-ledger", "--json")
    assert code == 0
    doc = json.loads(out)
    assert doc["ok"] is True
    assert doc["entries"] == ledger_size()
    assert len(doc["root"]) == 64
    assert doc["problems"] == []
    # a second demo keeps what is there
    code, out, _ = run_cli("demo", "--no-serve")
    assert "already loaded" in out
    assert json.loads(run_cli("verify-ledger", "--json")[1])["entries"] == doc["entries"]
