"""Rule A5 per facility: the heat index limit and the sustain time are settable per facility
in the setup file, amended on the ledger, and used by the alert evaluation (both sides of the
boundary, with a limit and a sustain time other than the defaults)."""

from __future__ import annotations

import datetime as dt
import json
import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from habeas.core.errors import ValidationFailed
from tests.conftest import SMALL_SETUP, run_cli

LIMIT = 29.0  # °C, below the default 31.1
SUSTAIN = 45  # minutes, above the default 30


def _setup_with(limit: str | None, minutes: int | None) -> Any:
    from habeas.facilities.setup_schema import parse_setup

    extra = ""
    if limit is not None:
        extra += f"heat_limit_c = {limit}\n"
    if minutes is not None:
        extra += f"heat_sustain_minutes = {minutes}\n"
    text = SMALL_SETUP.replace('code = "TEC"\n', 'code = "TEC"\n' + extra, 1)
    assert text != SMALL_SETUP or not extra
    return parse_setup(tomllib.loads(text), name="heat.toml")


@pytest.fixture
def cooler(world: Any, actor: Any) -> Any:
    """TEC amended to a 29.0 °C limit sustained 45 minutes."""
    from habeas.facilities.setup import setup_apply

    report = setup_apply(actor=actor, document=_setup_with(str(LIMIT), SUSTAIN))
    assert report.amended == ["facility:TEC"]
    world["tec"].refresh_from_db()
    return world["tec"]


def _csv(tmp_path: Path, rows: list[tuple[dt.datetime, float]], name: str) -> str:
    path = tmp_path / name
    path.write_text(
        "cell,taken_at,temperature_c,humidity_pct\n"
        + "".join(f"TEC/M1-01,{t.isoformat()},{temp},40\n" for t, temp in rows)
    )
    return str(path)


def _series(start: dt.datetime, temps: list[float]) -> list[tuple[dt.datetime, float]]:
    return [(start + dt.timedelta(minutes=15 * i), t) for i, t in enumerate(temps)]


def test_defaults_are_31_1_and_30_minutes(world: Any) -> None:
    assert world["tec"].heat_limit_c == Decimal("31.1")
    assert world["tec"].heat_sustain_minutes == 30


def test_the_setup_file_sets_and_amends_the_limit_on_the_ledger(cooler: Any, actor: Any) -> None:
    from habeas.facilities.setup import setup_apply
    from habeas.ledger.models import LedgerEntry

    assert cooler.heat_limit_c == Decimal("29.0")
    assert cooler.heat_sustain_minutes == SUSTAIN
    entry = LedgerEntry.objects.filter(action="facilities.facility_amended").latest("index")
    assert entry.payload["changes"]["heat_limit_c"] == ["31.1", "29.0"]
    assert entry.payload["changes"]["heat_sustain_minutes"] == [30, SUSTAIN]
    # the same file again changes nothing
    again = setup_apply(actor=actor, document=_setup_with(str(LIMIT), SUSTAIN))
    assert not again.changed


@pytest.mark.parametrize(("limit", "minutes"), [("19.9", 30), ("31.1", 0), ("61", 30)])
def test_the_setup_file_refuses_an_absurd_limit(limit: str, minutes: int) -> None:
    with pytest.raises(ValidationFailed) as refused:
        _setup_with(limit, minutes)
    assert "heat_limit_c" in str(refused.value.details) or "heat_sustain_minutes" in str(
        refused.value.details
    )


def test_a_changed_limit_is_found_by_verify_ledger(cooler: Any) -> None:
    from habeas.facilities.models import Facility
    from tests.conftest import direct_write

    assert run_cli("verify-ledger", "--json")[0] == 0
    direct_write(lambda: Facility.objects.filter(pk=cooler.pk).update(heat_limit_c=Decimal("33.0")))
    code, out, _err = run_cli("verify-ledger", "--json")
    assert code == 1
    assert any(
        p["where"] == f"facilities.Facility.{cooler.pk}.heat_limit_c"
        for p in json.loads(out)["problems"]
    ), out


def test_the_facility_limit_opens_below_the_default(cooler: Any, tmp_path: Path) -> None:
    """Heat index ≈ 29.2 °C (30 °C, 40 %): at or above 29.0, below the default 31.1."""
    from habeas.conditions.heat import heat_index_c
    from habeas.conditions.readings_models import CellAlert

    assert LIMIT <= heat_index_c(30.0, 40) < 31.1
    start = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(hours=3)
    # 30 minutes at or above: the default would open, the facility's 45 do not
    code, out, err = run_cli(
        "ingest-readings", _csv(tmp_path, _series(start, [30.0] * 3), "a.csv"), "--json"
    )
    assert code == 0, err
    assert json.loads(out)["alerts_opened"] == []
    # 45 minutes: opens, since the first reading
    later = [(start + dt.timedelta(minutes=45), 30.0)]
    _code, out, _err = run_cli("ingest-readings", _csv(tmp_path, later, "b.csv"), "--json")
    assert json.loads(out)["alerts_opened"] == ["heat:cell:TEC/M1-01"]
    alert = CellAlert.objects.get(kind="heat")
    assert (alert.since, alert.opened_at) == (start, start + dt.timedelta(minutes=45))


def test_just_below_the_facility_limit_never_opens(cooler: Any, tmp_path: Path) -> None:
    from habeas.conditions.heat import heat_index_c

    temp = 29.3  # heat index just below 29.0 at 40 %
    assert heat_index_c(temp, 40) < LIMIT
    start = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(hours=4)
    rows = _series(start, [temp] * 12)
    _code, out, _err = run_cli("ingest-readings", _csv(tmp_path, rows, "c.csv"), "--json")
    assert json.loads(out)["alerts_opened"] == []


def test_it_closes_after_the_facility_sustain_time_below(cooler: Any, tmp_path: Path) -> None:
    start = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(hours=4)
    hot = _series(start, [33.0] * 4)  # 0..45 minutes: opens at 45
    cool = [(start + dt.timedelta(minutes=60 + 15 * i), 26.0) for i in range(4)]  # 60..105
    _code, out, _err = run_cli("ingest-readings", _csv(tmp_path, hot + cool[:3], "d.csv"), "--json")
    report = json.loads(out)
    # 30 minutes below (60 → 90) closes under the default, not under the facility's 45
    assert (report["alerts_opened"], report["alerts_closed"]) == (["heat:cell:TEC/M1-01"], [])
    _code, out, _err = run_cli("ingest-readings", _csv(tmp_path, cool[3:], "e.csv"), "--json")
    assert json.loads(out)["alerts_closed"] == ["heat:cell:TEC/M1-01"]


def test_the_default_limit_still_applies_to_other_facilities(cooler: Any, tmp_path: Path) -> None:
    from habeas.conditions.readings import CellIndex
    from habeas.facilities.models import Cell

    index = CellIndex()
    tec = Cell.objects.filter(facility__code="TEC").first()
    oth = Cell.objects.filter(facility__code="OTH").first()
    assert tec is not None
    assert oth is not None
    assert index.heat_rule(tec.pk) == (LIMIT, dt.timedelta(minutes=SUSTAIN))
    assert index.heat_rule(oth.pk) == (31.1, dt.timedelta(minutes=30))


def test_the_board_and_the_alert_say_the_facility_limit(cooler: Any, tmp_path: Path) -> None:
    from habeas.conditions.alerts import alerts_for

    start = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(hours=2)
    run_cli("ingest-readings", _csv(tmp_path, _series(start, [33.0] * 5), "f.csv"))
    [alert] = alerts_for(kinds=["heat"])
    assert "29.0 °C (84 °F)" in alert.message
    assert alert.value.replace(".", "").isdigit()  # the document's value stays a plain number


def test_spanish_texts_write_the_limit_with_a_decimal_comma(cooler: Any, tmp_path: Path) -> None:
    from django.utils import translation

    from habeas.conditions.alerts import alerts_for

    start = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(hours=2)
    run_cli("ingest-readings", _csv(tmp_path, _series(start, [33.0] * 5), "f.csv"))
    with translation.override("es"):
        [alert] = alerts_for(kinds=["heat"])
        assert "29,0 °C (84 °F)" in alert.message
    assert "." in alert.value  # the document's value is not localised
