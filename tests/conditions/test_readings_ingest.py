"""Ingesting readings (issue 14, item 1): the CSV command, idempotency on (cell, taken_at),
bad rows by row/column/reason, one ledger entry per batch and verify-ledger finding a
changed or removed reading."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from tests.conftest import run_cli

HEADER = "cell,taken_at,temperature_c,humidity_pct,co2_ppm\n"


def _csv(tmp_path: Path, body: str, name: str = "r.csv") -> str:
    path = tmp_path / name
    path.write_text(HEADER + body, encoding="utf-8")
    return str(path)


def _ledger_size() -> int:
    from habeas.ledger.services import ledger_size

    return ledger_size()


def _rows(n: int, cell: str = "TEC/M1-01", temp: float = 27.0) -> str:
    start = dt.datetime(2025, 6, 1, tzinfo=dt.UTC)
    return "".join(
        f"{cell},{(start + dt.timedelta(minutes=15 * i)).isoformat()},{temp},60,800\n"
        for i in range(n)
    )


def test_ingest_stores_readings_as_one_batch_entry(world: Any, tmp_path: Path) -> None:
    from habeas.conditions.readings_models import Reading, ReadingBatch
    from habeas.ledger.models import LedgerEntry

    before = _ledger_size()
    code, _out, err = run_cli("ingest-readings", _csv(tmp_path, _rows(8) + _rows(4, "M2-01")))
    assert code == 0, err
    assert Reading.objects.count() == 12
    assert ReadingBatch.objects.count() == 1
    assert _ledger_size() == before + 1
    entry = LedgerEntry.objects.order_by("-index").first()
    assert entry is not None
    assert entry.action == "conditions.readings_ingested"
    doc = json.loads(entry.canonical)["payload"]
    assert doc["count"] == 12
    assert [c["cell"] for c in doc["cells"]] == ["TEC/M1-01", "TEC/M2-01"]
    assert doc["cells"][0]["first"] == "2025-06-01T00:00:00Z"
    assert doc["cells"][0]["last"] == "2025-06-01T01:45:00Z"
    assert len(doc["cells"][0]["sha256"]) == 64


def test_reingesting_the_same_file_changes_nothing(world: Any, tmp_path: Path) -> None:
    from habeas.conditions.readings_models import Reading

    path = _csv(tmp_path, _rows(96, temp=34.0))
    assert run_cli("ingest-readings", path)[0] == 0
    size, count = _ledger_size(), Reading.objects.count()
    code, out, _err = run_cli("ingest-readings", path, "--json")
    assert code == 0
    report = json.loads(out)
    assert (report["stored"], report["unchanged"], report["batch"]) == (0, 96, None)
    assert (_ledger_size(), Reading.objects.count()) == (size, count)


def test_bad_rows_are_named_and_the_rest_stored(world: Any, tmp_path: Path) -> None:
    from habeas.conditions.readings_models import Reading

    body = (
        "TEC/M1-01,2025-06-01T00:00:00Z,27.5,60,\n"  # 1 good
        "TEC/X-99,2025-06-01T00:00:00Z,27.5,60,\n"  # 2 unknown cell
        "M1-02,,27.5,60,\n"  # 3 no time
        "M1-02,2025-06-01T00:00:00,27.5,60,\n"  # 4 no time zone
        "M1-02,2025-06-01T00:15:00Z,95,60,\n"  # 5 temperature out of range
        "M1-02,2025-06-01T00:30:00Z,27,101,\n"  # 6 humidity out of range
        "M1-02,2025-06-01T00:45:00Z,warm,60,\n"  # 7 not a number
        "OTH/A-01,2025-06-01T00:00:00-06:00,30,70,\n"  # 8 good, an offset
        "TEC/M1-01,2025-06-01T00:00:00Z,28.5,60,\n"  # 9 same cell and time, other values
    )
    code, out, err = run_cli("ingest-readings", _csv(tmp_path, body), "--json")
    assert code == 1
    errors = {(e["row"], e["column"]) for e in json.loads(out)["errors"]}
    assert errors == {
        (2, "cell"), (3, "taken_at"), (4, "taken_at"), (5, "temperature_c"),
        (6, "humidity_pct"), (7, "temperature_c"), (9, "taken_at"),
    }  # fmt: skip
    assert "row 4, column taken_at: time without a time zone" in err
    assert "row 2, column cell: unknown cell 'TEC/X-99'" in err
    assert Reading.objects.count() == 2
    stored = Reading.objects.get(cell__code="A-01")
    assert stored.taken_at == dt.datetime(2025, 6, 1, 6, tzinfo=dt.UTC)


def test_a_reading_stored_with_other_values_is_a_bad_row(world: Any, tmp_path: Path) -> None:
    assert run_cli("ingest-readings", _csv(tmp_path, _rows(2)))[0] == 0
    code, out, _err = run_cli(
        "ingest-readings", _csv(tmp_path, _rows(3, temp=28.0), "b.csv"), "--json"
    )
    assert code == 1
    report = json.loads(out)
    assert report["stored"] == 1
    assert [(e["row"], e["reason"]) for e in report["errors"]] == [
        (1, "a reading of this cell at this time is already stored with other values"),
        (2, "a reading of this cell at this time is already stored with other values"),
    ]


def test_a_file_that_is_not_readings_is_refused_whole(world: Any, tmp_path: Path) -> None:
    from habeas.conditions.readings_models import Reading

    path = tmp_path / "roll.csv"
    path.write_text("cell,counted,counted_at\nM1-01,3,2025-06-01T00:00:00Z\n")
    code, _out, err = run_cli("ingest-readings", str(path))
    assert code == 2
    assert "not a readings CSV" in err
    assert "taken_at" in err
    assert Reading.objects.count() == 0


def test_an_ambiguous_cell_code_needs_its_facility(world: Any, actor: Any) -> None:
    from habeas.conditions.readings import CellIndex

    index = CellIndex()
    assert isinstance(index.resolve("TEC/M1-01"), int)
    assert isinstance(index.resolve("M1-01"), int)
    assert CellIndex(facility="OTH").resolve("TEC/M1-01") == (
        "cell 'TEC/M1-01' is not in facility OTH (this sensor's scope)"
    )


def _verify() -> list[str]:
    from habeas.ledger.replay import compare

    return [f"{d.where}: {d.message}" for d in compare().differences]


@pytest.mark.parametrize(
    ("sql", "where"),
    [
        ("UPDATE conditions_reading SET temperature_c = temperature_c - 3 WHERE id = %s",
         ".sha256"),
        ("DELETE FROM conditions_reading WHERE id = %s", ".count"),
    ],
)  # fmt: skip
def test_verify_ledger_finds_a_changed_or_removed_reading(
    world: Any, tmp_path: Path, sql: str, where: str
) -> None:
    from habeas.conditions.readings_models import Reading
    from tests.conftest import direct_write

    assert run_cli("ingest-readings", _csv(tmp_path, _rows(20) + _rows(5, "M2-01")))[0] == 0
    assert _verify() == []
    target = Reading.objects.filter(cell__code="M1-01").order_by("taken_at")[7]
    batch = target.batch_id

    def tamper() -> None:
        with connection.cursor() as cursor:
            cursor.execute(sql, [target.pk])

    direct_write(tamper)
    found = _verify()
    assert any(f.startswith(f"conditions.Reading.{batch}:TEC/M1-01{where}") for f in found), found
    assert not any("M2-01" in f for f in found)
    code, out, _err = run_cli("verify-ledger", "--json")
    assert code == 1
    assert any(
        p["where"].startswith(f"conditions.Reading.{batch}:TEC/M1-01")
        for p in json.loads(out)["problems"]
    )


@pytest.mark.parametrize(
    "text",
    [
        "cell,taken_at,temperature_c,humidity_pct\nTEC/M1-01,2025-06-01T00:00:00Z,27,60\n"
        "M1-02,2025-06-01T00:15:00Z,27.5,61\n",
        # no final newline, CO₂ column first, a field with spaces
        "co2_ppm,cell,taken_at,temperature_c,humidity_pct\n800,M1-01, 2025-06-01T00:00:00Z,27,60",
        # a blank row and a short row: read by csv, the blank skipped, the short padded
        "cell,taken_at,temperature_c,humidity_pct\nM1-01,2025-06-01T00:00:00Z,27,60\n\n"
        "M1-02,2025-06-01T00:00:00Z\n",
        # quotes and CRLF: read by csv
        'cell,taken_at,temperature_c,humidity_pct\r\n"M1-01","2025-06-01T00:00:00Z",27,60\r\n',
        # a row with a field too many
        "cell,taken_at,temperature_c,humidity_pct\nM1-01,2025-06-01T00:00:00Z,27,60,x\n",
    ],
)
def test_read_csv_reads_what_the_csv_module_reads(text: str) -> None:
    """The whole-text split (a file without quotes) and the csv module give the same
    records, numbered the same."""
    import csv
    import io

    from habeas.conditions.readings import COLUMNS, read_csv

    rows = list(csv.reader(io.StringIO(text, newline="")))
    header = [h.strip() for h in rows[0]]
    pick = [header.index(c) for c in (*COLUMNS, "co2_ppm") if c in header]
    expected = []
    for number, row in enumerate(rows[1:], start=1):
        if not any(f.strip() for f in row):
            continue
        row = row + [""] * (len(header) - len(row))
        expected.append((number, tuple(row[k] for k in pick)))
    records = read_csv(io.StringIO(text, newline=""), "t.csv")
    assert [(n, tuple(r)) for n, r in records] == expected
