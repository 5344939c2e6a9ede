"""``habeas invoice`` and ``habeas reconcile`` (INTERFACES.md), and the exports."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

from habeas.billing.exports import amount_in_words, invoice_csv
from tests.conftest import admit, make_person, run_cli

UTC = dt.UTC


def _held(world: dict[str, Any], actor: Any) -> list[Any]:
    from habeas.custody.services import custody_release

    people = [
        make_person(actor, given_names="Ana", first_surname="Uno"),
        make_person(actor, given_names="Luis", first_surname="Núñez", second_surname="Peña"),
        make_person(actor, given_names="Carla", first_surname="Tres"),
    ]
    for person in people:
        admit(actor, person, world["tec"], world["us"], at=dt.datetime(2025, 3, 16, 14, tzinfo=UTC))
    custody_release(
        actor=actor,
        person=people[2],
        reason="repatriated",
        at=dt.datetime(2025, 4, 11, 15, tzinfo=UTC),
    )
    return people


def test_invoice_draft_issue_and_formats(world: dict[str, Any], actor: Any, tmp_path: Path) -> None:
    _held(world, actor)
    code, out, err = run_cli("invoice", "--agreement", "US-SV", "--period", "2025-04")
    assert code == 0, err
    draft = json.loads(out)
    assert draft["status"] == "draft"
    assert draft["number"] is None
    assert draft["total_days"] == 30 + 30 + 10
    code, out, _ = run_cli("invoice", "--agreement", "US-SV", "--period", "2025-04", "--issue")
    issued = json.loads(out)
    assert (issued["status"], issued["number"]) == ("issued", "US-SV/2025/0001")
    assert issued["lines"] == draft["lines"]
    code, again, _ = run_cli("invoice", "--agreement", "US-SV", "--period", "2025-04", "--issue")
    assert json.loads(again) == issued
    pdf = tmp_path / "inv.pdf"
    code, _, err = run_cli(
        "invoice", "--agreement", "US-SV", "--period", "2025-04", "--format", "pdf",
        "--output", str(pdf),
    )  # fmt: skip
    assert code == 0, err
    assert pdf.read_bytes().startswith(b"%PDF")
    code, out, _ = run_cli(
        "invoice", "--agreement", "US-SV", "--period", "2025-04", "--format", "csv"
    )
    rows = out.splitlines()
    assert rows[0].startswith("number,kind,sending_ref")
    assert len(rows) == 4
    assert all(r.startswith("US-SV/2025/0001,person_days,A") for r in rows[1:])


def test_invoice_refuses_bad_input(world: dict[str, Any]) -> None:
    code, _, err = run_cli("invoice", "--agreement", "NOPE", "--period", "2025-04")
    assert (code, "no agreement 'NOPE'" in err) == (2, True)
    code, _, err = run_cli("invoice", "--agreement", "US-SV", "--period", "2025-13")
    assert (code, "--period" in err) == (2, True)
    code, _, err = run_cli("invoice", "--agreement", "US-SV", "--period", "2099-01", "--issue")
    assert (code, "not over" in err) == (2, True)


def test_csv_neutralises_formulas() -> None:
    doc = {
        "number": "X/1",
        "currency": "USD",
        "lines": [
            {
                "kind": "person_days", "sending_ref": "=HYPERLINK(\"x\")", "person": "1",
                "name": "@SUM(A1)", "first_day": "2025-04-01", "last_day": "2025-04-02",
                "days": -2, "rate": "54.79", "amount": "-109.58",
            }
        ],
    }  # fmt: skip
    row = invoice_csv(doc).splitlines()[1]
    assert "'=HYPERLINK" in row
    assert "'@SUM(A1)" in row
    assert row.endswith(",-2,54.79,-109.58,USD")
    for start in ("=", "+", "-", "@", "\t", "\r"):
        line = {**doc["lines"][0], "name": start + "1+1"}
        rows = list(csv.reader(io.StringIO(invoice_csv({**doc, "lines": [line]}), newline="")))
        assert rows[1][4] == "'" + start + "1+1"


def test_amount_in_words() -> None:
    assert amount_in_words("876.64", "USD", "en") == (
        "eight hundred and seventy-six dollars, sixty-four cents"
    )
    assert amount_in_words("-602.69", "USD", "en").startswith("minus six hundred and two")
    assert "ochocientos setenta y seis" in amount_in_words("876.64", "USD", "es")


def test_reconcile_reports_each_kind_of_discrepancy(
    world: dict[str, Any], actor: Any, tmp_path: Path
) -> None:
    """Ana on their list with a reference typed differently and the same days; Luis under a
    mistyped reference and name spelt without accents, with two days fewer; Carla missing
    from their list; a stranger on their list only."""
    ana, luis, carla = _held(world, actor)
    ref = {p: p.identifiers.get().value for p in (ana, luis, carla)}
    theirs = tmp_path / "theirs.csv"
    theirs.write_text(
        "sending_ref,name,first_day,last_day\n"
        f"{ref[ana][0].lower()}-{ref[ana][1:]},Ana Uno,2025-04-01,2025-04-30\n"
        f"{ref[luis][:-1]}9,Luis Nunez Pena,2025-04-01,2025-04-28\n"
        "Z999,Pedro Nadie,2025-04-01,2025-04-30\n"
    )
    code, out, err = run_cli(
        "reconcile", "--agreement", "US-SV", "--period", "2025-04", str(theirs), "--json"
    )
    assert code == 0, err
    report = json.loads(out)
    assert report["counts"] == {
        "billed": 3, "theirs": 3, "matched": 2, "billed_not_theirs": 1,
        "theirs_not_billed": 1, "day_differences": 1,
    }  # fmt: skip
    assert [b["sending_ref"] for b in report["billed_not_theirs"]] == [ref[carla]]
    assert report["billed_not_theirs"][0]["episodes"][0]["release_reason"] == "repatriated"
    assert [t["sending_ref"] for t in report["theirs_not_billed"]] == ["Z999"]
    (diff,) = report["day_differences"]
    assert (diff["matched_by"], diff["difference"]) == ("name", 2)
    assert diff["billed"]["sending_ref"] == ref[luis]
    assert diff["episodes"][0]["facility"] == "TEC"
    code, out, _ = run_cli("reconcile", "--agreement", "US-SV", "--period", "2025-04", str(theirs))
    assert "theirs, not billed: row 4 Z999" in out


def test_reconcile_names_the_row_and_column_at_fault(world: dict[str, Any], tmp_path: Path) -> None:
    theirs = tmp_path / "theirs.csv"
    theirs.write_text("sending_ref,name,first_day,last_day\nA1,Ana,2025-04-01,2025-04-31\n")
    code, _, err = run_cli("reconcile", "--agreement", "US-SV", "--period", "2025-04", str(theirs))
    assert code == 2
    assert "row 2, column last_day: '2025-04-31' is not a date" in err
    theirs.write_text("sending_ref,name,first_day\n")
    code, _, err = run_cli("reconcile", "--agreement", "US-SV", "--period", "2025-04", str(theirs))
    assert (code, "column last_day is missing" in err) == (2, True)
