"""Rules A5 (heat) and A6 (sensor_silent): opened and closed as readings arrive, on the
ledger, listed by ``alerts``; the open/close logic never flaps inside the sustain window."""

from __future__ import annotations

import datetime as dt
import itertools
import json
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from habeas.conditions.readings import HEAT_LIMIT_C, HEAT_SUSTAIN, SILENCE, HeatState, heat_step
from tests.conftest import admit, make_person, run_cli, sentence

START = dt.datetime(2025, 6, 1, tzinfo=dt.UTC)


def _steps(values: list[tuple[int, float]]) -> list[tuple[dt.datetime, str]]:
    state = HeatState()
    at = START
    changes = []
    for minutes, hi in values:
        at += dt.timedelta(minutes=minutes)
        change = heat_step(state, at, hi)
        if change:
            changes.append((at, change))
    return changes


def test_heat_opens_after_thirty_minutes_at_or_above_the_limit() -> None:
    hot = HEAT_LIMIT_C
    # readings every 10 minutes: 0, 10, 20 above → not yet; 30 → opens
    assert _steps([(0, hot), (10, hot), (10, hot)]) == []
    assert _steps([(0, hot), (10, hot), (10, hot), (10, hot)]) == [
        (START + dt.timedelta(minutes=30), "opened")
    ]
    # just below the limit never opens
    assert _steps([(0, hot - 0.01)] + [(10, hot - 0.01)] * 20) == []


def test_heat_closes_after_thirty_minutes_below() -> None:
    hot, cool = 35.0, 30.0
    seq = [
        (0, hot),
        (30, hot),
        (10, cool),
        (10, cool),
        (10, hot),
        (10, cool),
        (20, cool),
        (10, cool),
    ]
    assert [c for _at, c in _steps(seq)] == ["opened", "closed"]
    at_close = _steps(seq)[1][0]
    assert at_close == START + dt.timedelta(minutes=100)


def test_a_gap_of_two_hours_restarts_the_window() -> None:
    hot = 35.0
    assert _steps([(0, hot), (int(SILENCE.total_seconds() // 60), hot)]) == []


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(min_value=1, max_value=150), st.floats(min_value=25, max_value=40)),
        max_size=80,
    )
)
def test_the_heat_alert_never_flaps_inside_the_sustain_window(
    values: list[tuple[int, float]],
) -> None:
    """Between two changes there are at least ``sustain`` minutes, and each change is backed
    by a run of readings on its side of the limit lasting ``sustain``."""
    state = HeatState()
    at = START
    readings: list[tuple[dt.datetime, float]] = []
    changes: list[tuple[dt.datetime, str]] = []
    for minutes, hi in values:
        at += dt.timedelta(minutes=minutes)
        readings.append((at, hi))
        change = heat_step(state, at, hi)
        if change:
            changes.append((at, change))
    for (a, ca), (b, cb) in itertools.pairwise(changes):
        assert ca != cb
        assert b - a > HEAT_SUSTAIN
    for when, change in changes:
        window = [(t, hi) for t, hi in readings if when - HEAT_SUSTAIN <= t <= when]
        above = change == "opened"
        assert all((hi >= HEAT_LIMIT_C) == above for _t, hi in window)
        # the run began at or before the window's start, with no silent gap inside it
        run = [t for t, _hi in readings if t <= when]
        start = when - HEAT_SUSTAIN
        earlier = [t for t in run if t <= start]
        assert earlier, "a change needs a reading at least sustain before it"


def _csv(tmp_path: Path, rows: list[tuple[str, dt.datetime, float, float]], name: str) -> str:
    path = tmp_path / name
    path.write_text(
        "cell,taken_at,temperature_c,humidity_pct\n"
        + "".join(f"{c},{t.isoformat()},{temp},{rh}\n" for c, t, temp, rh in rows)
    )
    return str(path)


def test_heat_alert_opens_and_closes_on_the_ledger(world: Any, tmp_path: Path) -> None:
    from habeas.conditions.alerts import alerts_for
    from habeas.conditions.readings_models import CellAlert
    from habeas.ledger.models import LedgerEntry

    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    t0 = now - dt.timedelta(hours=3)
    hot = [("TEC/M1-01", t0 + dt.timedelta(minutes=15 * i), 35.0, 50.0) for i in range(4)]
    code, out, err = run_cli("ingest-readings", _csv(tmp_path, hot, "hot.csv"), "--json")
    assert code == 0, err
    assert json.loads(out)["alerts_opened"] == ["heat:cell:TEC/M1-01"]
    alert = CellAlert.objects.get(kind="heat")
    assert alert.since == t0
    assert alert.opened_at == t0 + dt.timedelta(minutes=30)
    found = list(alerts_for(kinds=["heat"]))
    assert [(a.subject, a.value) for a in found] == [("cell:TEC/M1-01", "40.7")]
    assert LedgerEntry.objects.filter(action="conditions.cell_alert_opened").count() == 1
    cool = [("TEC/M1-01", t0 + dt.timedelta(minutes=60 + 15 * i), 27.0, 50.0) for i in range(3)]
    code, out, _err = run_cli("ingest-readings", _csv(tmp_path, cool, "cool.csv"), "--json")
    assert json.loads(out)["alerts_closed"] == ["heat:cell:TEC/M1-01"]
    assert alerts_for(kinds=["heat"]) == []
    assert LedgerEntry.objects.filter(action="conditions.cell_alert_closed").count() == 1
    doc = json.loads(run_cli("alerts", "--json", "--kind", "heat")[1])
    assert doc == {"alerts": []}


def test_sensor_silent_for_an_occupied_cell(world: Any, actor: Any, tmp_path: Path) -> None:
    from habeas.conditions.alerts import alerts_for
    from habeas.ledger.models import LedgerEntry

    person = make_person(actor)
    admit(actor, person, world["tec"], world["us"], bases=[sentence("P10Y")], cell="M1-02")
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    # M1-02 (occupied) last heard 2 h 5 min ago; M1-01 (empty) too: only M1-02 is silent
    old = [(c, now - dt.timedelta(minutes=125), 26.0, 50.0) for c in ("TEC/M1-02", "TEC/M1-01")]
    assert run_cli("ingest-readings", _csv(tmp_path, old, "old.csv"))[0] == 0
    silent = alerts_for(kinds=["sensor_silent"])
    assert [(a.subject, a.value) for a in silent] == [("cell:TEC/M1-02", "2.1")]
    _code, out, _err = run_cli("check-conditions", "--json")
    assert json.loads(out)["opened"] == ["sensor_silent:cell:TEC/M1-02"]
    # idempotent
    assert json.loads(run_cli("check-conditions", "--json")[1]) == {"opened": [], "closed": []}
    # heard from again: closed in the same ingest
    fresh = [("TEC/M1-02", now - dt.timedelta(minutes=5), 26.0, 50.0)]
    _code, out, _err = run_cli("ingest-readings", _csv(tmp_path, fresh, "new.csv"), "--json")
    assert json.loads(out)["alerts_closed"] == ["sensor_silent:cell:TEC/M1-02"]
    assert alerts_for(kinds=["sensor_silent"]) == []
    assert LedgerEntry.objects.filter(action="conditions.cell_alert_closed").count() == 1


def test_a_cell_heard_from_within_two_hours_is_not_silent(
    world: Any, actor: Any, tmp_path: Path
) -> None:
    from habeas.conditions.alerts import alerts_for

    person = make_person(actor)
    admit(actor, person, world["tec"], world["us"], bases=[sentence("P10Y")], cell="M1-02")
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    recent = [("TEC/M1-02", now - dt.timedelta(minutes=115), 26.0, 50.0)]
    assert run_cli("ingest-readings", _csv(tmp_path, recent, "r.csv"))[0] == 0
    assert alerts_for(kinds=["sensor_silent"]) == []


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(min_value=1, max_value=150),
            st.floats(min_value=25, max_value=40),
            st.booleans(),
        ),
        min_size=1,
        max_size=80,
    ),
    st.sampled_from([(HEAT_LIMIT_C, 30), (29.0, 45), (33.0, 15)]),
)
def test_the_run_by_run_evaluation_decides_as_heat_step(
    values: list[tuple[int, float, bool]], rule: tuple[float, int]
) -> None:
    """The ingest evaluates whole arrays run by run (``heat_runs``), batch after batch with
    the state carried between them as ``CellClimate`` keeps it; it must open and close at
    exactly the readings where ``heat_step``, reading by reading, does."""
    import numpy as np

    from habeas.conditions.readings import MICROSECOND, heat_runs, to_us

    limit, minutes = rule
    sustain = dt.timedelta(minutes=minutes)
    state = HeatState()
    at = START
    expected = []
    readings = []
    for delta, hi, new_batch in values:
        at += dt.timedelta(minutes=delta)
        readings.append((at, hi, new_batch))
        run_start = state.above_since
        change = heat_step(state, at, hi, limit_c=limit, sustain=sustain)
        if change:
            expected.append((at, change, run_start or at if change == "opened" else at))
    # the same readings in batches (a new batch where the flag says so)
    found = []
    is_open, above_since, below_since, last = False, None, None, None
    batches: list[list[tuple[dt.datetime, float]]] = []
    for when, hi, new_batch in readings:
        if new_batch or not batches:
            batches.append([])
        batches[-1].append((when, hi))
    gap = SILENCE // MICROSECOND
    for batch in batches:
        times = np.array([to_us(w) for w, _hi in batch], dtype=np.int64)
        his = np.array([hi for _w, hi in batch], dtype=np.float64)
        if last is not None and times[0] - last >= gap:
            above_since = below_since = None
        changes, is_open, above_since, below_since = heat_runs(
            times, his, is_open=is_open, above_since=above_since, below_since=below_since,
            limit_c=limit, sustain_us=sustain // MICROSECOND, gap_us=gap,
        )  # fmt: skip
        last = int(times[-1])
        for j, opened, since in changes:
            when = batch[j][0]
            found.append(
                (when, "opened" if opened else "closed", START + (since - to_us(START)) * MICROSECOND
                 if opened else when)
            )  # fmt: skip
    assert found == expected
    assert is_open == state.open
