"""Retention: raw readings kept 30 days, then hourly minimum, mean and maximum per cell, by
``rollup-readings`` (and the worker's daily job). One ledger entry per run commits to what it
removed (equal to the batches' commitments) and to the hourly rows; verify-ledger accepts
rolled-up batches and still finds a changed hourly row or a changed remaining reading."""

from __future__ import annotations

import datetime as dt
import json
import statistics
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from habeas.conditions.heat import heat_index_c
from tests.conftest import direct_write, run_cli

NOW = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
OLD = (NOW - dt.timedelta(days=40)).replace(minute=0)
RECENT = (NOW - dt.timedelta(days=2)).replace(minute=0)


def _rows(
    cell: str, start: dt.datetime, n: int, step: int = 10
) -> list[tuple[str, dt.datetime, float, float]]:
    return [
        (cell, start + dt.timedelta(minutes=step * i), 28.0 + (i % 7) * 0.75, 50.0 + (i % 5) * 3)
        for i in range(n)
    ]


def _csv(tmp_path: Path, rows: list[tuple[str, dt.datetime, float, float]], name: str) -> str:
    path = tmp_path / name
    path.write_text(
        "cell,taken_at,temperature_c,humidity_pct\n"
        + "".join(f"{c},{t.isoformat()},{temp},{rh}\n" for c, t, temp, rh in rows)
    )
    return str(path)


def _ingest(tmp_path: Path, rows: list[Any], name: str) -> dict[str, Any]:
    code, out, err = run_cli("ingest-readings", _csv(tmp_path, rows, name), "--json")
    assert code == 0, err
    return json.loads(out)


def _problems() -> list[str]:
    code, out, _err = run_cli("verify-ledger", "--json")
    return [] if code == 0 else [p["where"] for p in json.loads(out)["problems"]]


@pytest.fixture
def loaded(world: Any, tmp_path: Path) -> dict[str, Any]:
    old_a = _rows("TEC/M1-01", OLD, 15)  # 14:00..16:20 style: three hours
    old_b = _rows("TEC/M2-01", OLD, 6)
    recent = _rows("TEC/M1-01", RECENT, 12)
    batches = {
        "old": _ingest(tmp_path, old_a + old_b, "old.csv")["batch"],
        "recent": _ingest(tmp_path, recent, "recent.csv")["batch"],
    }
    return {"old": old_a + old_b, "old_a": old_a, "recent": recent, "batches": batches}


def test_rollup_replaces_old_readings_by_hourly_rows(loaded: dict[str, Any]) -> None:
    from habeas.conditions.readings_models import Reading, ReadingHour, ReadingRollup
    from habeas.ledger.models import LedgerEntry

    code, out, err = run_cli("rollup-readings", "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["removed"] == len(loaded["old"])
    assert doc["batches"] == 1
    assert Reading.objects.count() == len(loaded["recent"])
    rollup = ReadingRollup.objects.get()
    entry = LedgerEntry.objects.get(action="conditions.readings_rolled_up")
    assert entry.payload["removed"] == len(loaded["old"])
    # the removed rows' commitment equals the batch's own, per cell
    ingested = LedgerEntry.objects.get(subject=f"readings:{loaded['batches']['old']}")
    promised = {c["cell"]: (c["count"], c["sha256"]) for c in ingested.payload["cells"]}
    removed = {g["cell"]: (g["count"], g["sha256"]) for g in entry.payload["batches"]}
    assert removed == promised
    assert entry.payload["hours"] == {"count": rollup.hours, "sha256": rollup.sha256}
    # hourly minimum, mean and maximum, computed here independently
    by_hour: dict[tuple[str, dt.datetime], list[tuple[float, float]]] = {}
    for cell, at, t, h in loaded["old"]:
        by_hour.setdefault((cell.split("/")[1], at.replace(minute=0)), []).append((t, h))
    rows = {(r.cell.code, r.hour): r for r in ReadingHour.objects.select_related("cell")}
    assert set(rows) == set(by_hour)
    for key, values in by_hour.items():
        r = rows[key]
        ts, hs = [t for t, _h in values], [h for _t, h in values]
        assert r.count == len(values)
        assert (r.temperature_min, r.temperature_max) == (min(ts), max(ts))
        assert r.temperature_mean == pytest.approx(statistics.mean(ts), abs=0.005)
        assert (r.humidity_min, r.humidity_max) == (min(hs), max(hs))
        assert r.humidity_mean == pytest.approx(statistics.mean(hs), abs=0.005)
        assert r.heat_index_max == pytest.approx(
            max(heat_index_c(t, h) for t, h in values), abs=0.005
        )
    assert _problems() == []


def test_rollup_is_idempotent_and_re_ingesting_changes_nothing(
    loaded: dict[str, Any], tmp_path: Path
) -> None:
    from habeas.conditions.readings_models import Reading, ReadingHour
    from habeas.ledger.models import LedgerEntry

    assert run_cli("rollup-readings")[0] == 0
    entries = LedgerEntry.objects.count()
    hours = ReadingHour.objects.count()
    again = json.loads(run_cli("rollup-readings", "--json")[1])
    assert (again["removed"], again["hours"], again["rollup"]) == (0, 0, None)
    assert LedgerEntry.objects.count() == entries
    report = _ingest(tmp_path, loaded["old"], "old-again.csv")
    assert (report["stored"], report["unchanged"], report["batch"]) == (0, len(loaded["old"]), None)
    assert LedgerEntry.objects.count() == entries
    assert (ReadingHour.objects.count(), Reading.objects.count()) == (hours, len(loaded["recent"]))


def test_a_batch_still_inside_the_period_is_kept_whole(world: Any, tmp_path: Path) -> None:
    """A batch's rows of a cell are rolled up together or not at all: one reading 31 days
    old and one 29 days old in the same batch stay until both are older than 30 days."""
    from habeas.conditions.readings_models import Reading

    rows = [
        ("TEC/M1-01", NOW - dt.timedelta(days=31), 30.0, 50.0),
        ("TEC/M1-01", NOW - dt.timedelta(days=29), 30.0, 50.0),
        ("TEC/M1-02", NOW - dt.timedelta(days=31), 30.0, 50.0),
    ]
    _ingest(tmp_path, rows, "straddle.csv")
    doc = json.loads(run_cli("rollup-readings", "--json")[1])
    assert doc["removed"] == 1  # M1-02's only reading
    assert sorted(Reading.objects.values_list("cell__code", flat=True)) == ["M1-01", "M1-01"]
    assert _problems() == []


def test_verify_ledger_finds_a_changed_hourly_row(loaded: dict[str, Any]) -> None:
    from habeas.conditions.readings_models import ReadingHour, ReadingRollup

    run_cli("rollup-readings")
    rollup = ReadingRollup.objects.get()
    target = ReadingHour.objects.order_by("hour").first()
    assert target is not None

    def tamper() -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE conditions_readinghour SET temperature_max = temperature_max - 4 "
                "WHERE id = %s",
                [target.pk],
            )

    direct_write(tamper)
    assert f"conditions.ReadingHour.{rollup.pk}.sha256" in _problems()


def test_verify_ledger_finds_a_changed_remaining_reading(loaded: dict[str, Any]) -> None:
    from habeas.conditions.readings_models import Reading

    run_cli("rollup-readings")
    target = Reading.objects.order_by("taken_at").first()
    assert target is not None

    def tamper() -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE conditions_reading SET temperature_c = temperature_c + 2 WHERE id = %s",
                [target.pk],
            )

    direct_write(tamper)
    batch = loaded["batches"]["recent"]
    assert f"conditions.Reading.{batch}:TEC/M1-01.sha256" in _problems()


def test_a_changed_old_reading_is_not_rolled_up(loaded: dict[str, Any]) -> None:
    """Rolling up a changed reading would launder the change: the run is refused whole."""
    from habeas.conditions.readings_models import Reading, ReadingHour
    from habeas.conditions.retention import readings_rollup
    from habeas.core.actor import Actor
    from habeas.core.errors import Conflict

    target = Reading.objects.filter(taken_at__lt=NOW - dt.timedelta(days=30)).first()
    assert target is not None

    def tamper() -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE conditions_reading SET humidity_pct = 99 WHERE id = %s", [target.pk]
            )

    direct_write(tamper)
    with pytest.raises(Conflict, match="no longer match"):
        readings_rollup(actor=Actor.system("test"))
    assert ReadingHour.objects.count() == 0
    assert Reading.objects.count() == len(loaded["old"]) + len(loaded["recent"])


def test_the_chart_reads_hourly_rows_beyond_30_days(loaded: dict[str, Any]) -> None:
    from habeas.conditions.readings_selectors import climate_series
    from habeas.facilities.models import Facility

    tec = Facility.objects.get(code="TEC")
    before = climate_series(tec, cell="M1-01", days=90)
    run_cli("rollup-readings")
    after = climate_series(tec, cell="M1-01", days=90)
    assert [(p.at, p.temperature_c, p.heat_index_c) for p in after] == [
        (p.at, p.temperature_c, p.heat_index_c) for p in before
    ]
    assert any(p.at < NOW - dt.timedelta(days=30) for p in after)


def test_the_worker_daily_job_rolls_up(loaded: dict[str, Any]) -> None:
    from habeas.conditions.readings_models import ReadingRollup
    from habeas.notifications.tasks import daily_check_task

    counts = daily_check_task.call()
    assert counts["readings_rollup_removed"] == len(loaded["old"])
    assert ReadingRollup.objects.count() == 1
    assert daily_check_task.call()["readings_rollup_removed"] == 0
