"""Benchmark: cell readings (docs/benchmarks.md; issue 14).

Data (untimed): the demo setup (facility TEC, 8 modules × 32 cells = 256 cells) and a CSV of
1,000,000 readings: every cell every 15 minutes for about 41 days (3,907 readings a cell), a
heat wave in three modules so heat alerts open and close as the rows are evaluated.

Measured (Habeas), on a fresh database each run:

- ``ingest``: ``habeas ingest-readings`` as the command does it — the CSV read and checked
  row by row (``read_csv`` + ``validate_rows``), the readings stored as one batch
  (``readings_ingest``: duplicates looked up, rows inserted, the per-cell SHA-256 commitments,
  the heat evaluation of every reading of every cell, the alert changes and the ledger
  entries), in one transaction;
- ``board``: the conditions board page of the 256 cells (view and template, as served to an
  oversight user) once the 41 days are stored.

Baseline, in the same process, on the same rows: raw ``executemany`` of the same 1,000,000
parsed rows into a table of the same shape (unique index on cell and time) through the
database driver, in one transaction.

- ``mqtt``: ``mqtt-listen`` (the :class:`~habeas.conditions.mqtt.Listener`, its defaults:
  QoS 1 over MQTT v5, each message acknowledged once stored, batches of 2,000 messages or
  250 ms each with its ledger entry and heat evaluation) subscribed to the local Mosquitto
  (127.0.0.1:1883) while a paho client in another process publishes the readings (QoS 1, as
  fast as it can): from the start until every reading is stored. The publisher reports how
  many it published; the readings published and not stored are reported as lost. The CPU
  time is the listener's process (paho's network thread and the flusher), not the
  publisher's nor the broker's. Two shapes: one reading a message (a sensor), and one
  message per module and instant (32 readings, a gateway). Skipped, with the reason, when no
  broker answers.

Targets (issue 14): 1,000,000 readings ingested, alert evaluation included, in ≤ 10 s on
SQLite; the board in ≤ 200 ms; MQTT ≥ 5,000 readings/s sustained through Mosquitto. Each is
compared with raw ``executemany`` of the same rows (the MQTT rows too).

Usage: ``python benchmarks/bench_conditions.py [--postgres] [--runs N] [--profile] [--json F]``.
"""

from __future__ import annotations

import datetime as dt
import math
import sys
from pathlib import Path
from typing import Any

import _common as common

READINGS = 1_000_000
DEFAULT_RUNS = 3
INGEST_TARGET = 10.0
BOARD_TARGET = 0.200
DEMO_SETUP = common.ROOT / "src/habeas/web/data/demo_setup.toml"
HOT = ("M3", "M4", "M7")


def habeas_setup() -> None:
    import tomllib

    from habeas.core.actor import Actor
    from habeas.facilities.setup import setup_apply
    from habeas.facilities.setup_schema import parse_setup

    text = DEMO_SETUP.read_text(encoding="utf-8")
    setup_apply(actor=Actor.system("bench"), document=parse_setup(tomllib.loads(text), name="b"))


def write_csv(path: Path) -> list[tuple[str, str, float, float]]:
    """The readings, oldest ending now, as a CSV and as rows for the baseline."""
    from habeas.facilities.models import Cell

    cells = list(Cell.objects.order_by("module__code", "code").values_list("code", "module__code"))
    per_cell = math.ceil(READINGS / len(cells))
    end = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
    end -= dt.timedelta(minutes=end.minute % 15)
    start = end - dt.timedelta(minutes=15 * (per_cell - 1))
    rows = []
    i = 0
    for step in range(per_cell):
        at = start + dt.timedelta(minutes=15 * step)
        text = at.strftime("%Y-%m-%dT%H:%M:%SZ")
        hour = at.hour + at.minute / 60
        swing = (1 - math.cos((hour - 11) / 24 * 2 * math.pi)) / 2
        for code, module in cells:
            if i == READINGS:
                break
            hot = module in HOT and (step // 96) % 10 >= 7
            t = (31.5 + 3.5 * swing) if hot else (24.0 + 3.5 * swing)
            t = round(t + ((i * 7919) % 61 - 30) / 100, 2)
            h = round(62 - 8 * swing + ((i * 104729) % 41 - 20) / 10, 2)
            rows.append((f"TEC/{code}", text, t, h))
            i += 1
    with path.open("w", encoding="utf-8") as f:
        f.write("cell,taken_at,temperature_c,humidity_pct\n")
        f.writelines(f"{c},{a},{t},{h}\n" for c, a, t, h in rows)
    return rows


def habeas_ingest(path: Path) -> int:
    from habeas.conditions.readings import CellIndex, read_csv, readings_ingest, validate_rows
    from habeas.core.actor import Actor

    with path.open(newline="", encoding="utf-8") as handle:
        rows, errors = validate_rows(read_csv(handle, path.name), CellIndex())
    assert not errors, errors[:3]
    report = readings_ingest(actor=Actor.system("bench"), rows=rows, source="csv", name="b")
    return report.stored


def raw_insert(env: common.Env, rows: list[tuple[str, str, float, float]]) -> int:
    db = env.raw_connection()
    try:
        db.recreate(
            [
                "CREATE TABLE reading (id INTEGER PRIMARY KEY, batch_id INTEGER NOT NULL, "
                "cell TEXT NOT NULL, taken_at TEXT NOT NULL, temperature_c REAL NOT NULL, "
                "humidity_pct REAL NOT NULL, co2_ppm INTEGER)"
                if db.vendor == "sqlite"
                else "CREATE TABLE reading (id BIGSERIAL PRIMARY KEY, batch_id INTEGER NOT NULL, "
                "cell TEXT NOT NULL, taken_at TIMESTAMPTZ NOT NULL, temperature_c DOUBLE "
                "PRECISION NOT NULL, humidity_pct DOUBLE PRECISION NOT NULL, co2_ppm INTEGER)",
                "CREATE UNIQUE INDEX reading_cell_time ON reading (cell, taken_at)",
            ],
            ["reading"],
        )
        sql = (
            "INSERT INTO reading (batch_id, cell, taken_at, temperature_c, humidity_pct, "
            "co2_ppm) VALUES (?, ?, ?, ?, ?, ?)"
        )
        params = [(1, c, a, t, h, None) for c, a, t, h in rows]

        def insert() -> None:
            with db.transaction():
                db.executemany(sql, params)

        return len(params) if insert() is None else 0
    finally:
        db.close()


MQTT_BROKER = ("127.0.0.1", 1883)
MQTT_READINGS = 60_000
MQTT_TARGET = 5_000.0


def broker_up() -> bool:
    import socket

    try:
        with socket.create_connection(MQTT_BROKER, timeout=0.5):
            return True
    except OSError:
        return False


def mqtt_messages(per_message: int) -> list[bytes]:
    """:data:`MQTT_READINGS` readings of the 256 cells, every 15 minutes ending now, as JSON
    messages of ``per_message`` readings (cells of one module at one instant together)."""
    import json

    from habeas.facilities.models import Cell

    cells = list(Cell.objects.order_by("module__code", "code").values_list("code", flat=True))
    end = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
    steps = math.ceil(MQTT_READINGS / len(cells))
    readings = []
    for step in range(steps):
        at = (end - dt.timedelta(minutes=15 * (steps - step))).strftime("%Y-%m-%dT%H:%M:%SZ")
        for i, code in enumerate(cells):
            if len(readings) == MQTT_READINGS:
                break
            t = round(26 + (i * 7 + step) % 90 / 10, 2)
            readings.append(
                {"cell": f"TEC/{code}", "taken_at": at, "temperature_c": t, "humidity_pct": 60}
            )
    if per_message == 1:
        return [json.dumps(r).encode() for r in readings]
    return [
        json.dumps(readings[k : k + per_message]).encode()
        for k in range(0, len(readings), per_message)
    ]


def mqtt_rows(messages: list[bytes]) -> list[tuple[str, str, float, float]]:
    import json

    rows = []
    for m in messages:
        doc = json.loads(m)
        for r in doc if isinstance(doc, list) else [doc]:
            rows.append((r["cell"], r["taken_at"], r["temperature_c"], r["humidity_pct"]))
    return rows


PUBLISHER = """
import sys, paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
path, topic, host, port = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
messages = open(path, "rb").read().split(b"\\n")
client = mqtt.Client(CallbackAPIVersion.VERSION2)
client.max_inflight_messages_set(1000)
client.max_queued_messages_set(0)
client.connect(host, port)
client.loop_start()
last = None
for m in messages:
    last = client.publish(topic, m, qos=1)
if last is not None:
    last.wait_for_publish(600)
client.loop_stop()
client.disconnect()
print(len(messages), flush=True)
"""

#: Readings published and not stored in the last MQTT run of each shape.
MQTT_LOST: dict[int, int] = {}
#: How long a run may take at most (a loaded machine publishes slowly).
MQTT_LIMIT = 600.0


def mqtt_run(messages: list[bytes], topic: str, home: Path) -> int:
    """Publish the messages through Mosquitto from another process (a sensor gateway does not
    share this one) and listen here until every reading is stored; the readings stored."""
    import subprocess
    import threading

    from habeas.conditions.mqtt import Listener

    path = home / "mqtt-messages"
    path.write_bytes(b"\n".join(messages))
    listener = Listener(*MQTT_BROKER, topic)
    publisher: subprocess.Popen[bytes] | None = None

    def start_publisher() -> None:
        nonlocal publisher
        listener.subscribed.wait(10)
        publisher = subprocess.Popen(
            [sys.executable, "-c", PUBLISHER, str(path), topic, *map(str, MQTT_BROKER)],
            stdout=subprocess.PIPE,
        )

    starter = threading.Thread(target=start_publisher)
    starter.start()
    totals = listener.run(seconds=MQTT_LIMIT, readings=MQTT_READINGS)
    starter.join()
    published = 0
    if publisher is not None:
        out, _ = publisher.communicate(timeout=60)
        published = int(out.strip() or 0) * MQTT_READINGS // len(messages)
    MQTT_LOST[1 if len(messages) == MQTT_READINGS else 32] = published - totals.stored
    assert not totals.errors, totals.errors[:3]
    return totals.stored


def board_page(user: Any) -> int:
    from django.test import RequestFactory

    from habeas.conditions.readings_views import climate_board_page

    request = RequestFactory().get("/alerts/climate/TEC/")
    request.user = user
    response = climate_board_page(request, "TEC")
    assert response.status_code == 200
    return len(response.content)


def run(env: common.Env, runs: int, profile: bool = False) -> common.Report:
    report = common.Report(bench="conditions", engine=env.engine)
    h_ingest = report.add(
        "habeas_ingest", "Habeas ingest-readings (CSV, checks, store, heat alerts)", READINGS,
        "readings",
    )  # fmt: skip
    n_ingest = report.add("raw_executemany", "baseline: raw executemany of the rows", READINGS, "readings")  # fmt: skip
    h_board = report.add("habeas_board", "Habeas conditions board, 256 cells", 256, "cells")
    mqtt_up = broker_up()
    if mqtt_up:
        h_mqtt1 = report.add(
            "habeas_mqtt_1", "Habeas mqtt-listen, 1 reading a message", MQTT_READINGS, "readings"
        )
        h_mqtt32 = report.add(
            "habeas_mqtt_32", "Habeas mqtt-listen, 32 readings a message", MQTT_READINGS,
            "readings",
        )  # fmt: skip
        n_mqtt = report.add(
            "raw_executemany_mqtt", "baseline: raw executemany of the MQTT rows", MQTT_READINGS,
            "readings",
        )  # fmt: skip
    else:
        report.notes.append("MQTT not measured: no broker at 127.0.0.1:1883")
    common.log(f"conditions: preparing {READINGS:,} readings ({env.engine})")
    csv_path = env.home / "readings.csv"
    user = None
    for number in range(runs):
        env.fresh_database()
        habeas_setup()
        if number == 0:
            rows = write_csv(csv_path)
        common.log(f"conditions: run {number + 1}/{runs} ({env.engine})")
        assert common.timed(h_ingest, habeas_ingest, csv_path) == READINGS
        from habeas.conditions.readings_models import CellAlert

        alerts = CellAlert.objects.count()
        from habeas.accounts.services import user_create
        from habeas.core.actor import Actor

        user = user_create(
            actor=Actor.system("bench"),
            username=f"bench{number}",
            password="a long and unguessable passphrase",
            role="oversight",
        )
        board_page(user)  # warm the templates
        for _ in range(5):
            common.timed(h_board, board_page, user)
        common.timed(n_ingest, raw_insert, env, rows)
        if mqtt_up:
            import time

            for per_message, measurement in ((1, h_mqtt1), (32, h_mqtt32)):
                env.fresh_database()
                habeas_setup()
                messages = mqtt_messages(per_message)
                topic = f"habeas-bench/{time.time_ns()}"
                common.timed(measurement, mqtt_run, messages, topic, env.home)
            common.timed(n_mqtt, raw_insert, env, mqtt_rows(messages))
    report.notes.append(
        f"{READINGS:,} readings of 256 cells; {alerts} heat alerts opened (and closed) while "
        "ingesting (last run)"
    )
    report.ratio("Habeas ingest / raw executemany", "habeas_ingest", "raw_executemany")
    report.targets.append(
        common.Target(
            f"{READINGS:,} readings ingested with alert evaluation <= {INGEST_TARGET:.0f} s",
            h_ingest.median <= INGEST_TARGET,
            f"median {h_ingest.median:.2f} s",
        )
    )
    if mqtt_up:
        report.ratio("Habeas MQTT (1 a message) / raw executemany", "habeas_mqtt_1",
                     "raw_executemany_mqtt")  # fmt: skip
        report.ratio("Habeas MQTT (32 a message) / raw executemany", "habeas_mqtt_32",
                     "raw_executemany_mqtt")  # fmt: skip
        for m in (h_mqtt1, h_mqtt32):
            lost = MQTT_LOST.get(1 if m is h_mqtt1 else 32, 0)
            report.targets.append(
                common.Target(
                    f"MQTT >= {MQTT_TARGET:,.0f} readings/s, none lost ({m.label})",
                    m.rate >= MQTT_TARGET and lost == 0,
                    f"median {m.rate:,.0f} readings/s, {lost} lost (last run)",
                )
            )
    report.targets.append(
        common.Target(
            f"conditions board of 256 cells <= {BOARD_TARGET * 1000:.0f} ms",
            h_board.median <= BOARD_TARGET,
            f"median {h_board.median * 1000:.1f} ms",
        )
    )
    if profile:
        env.fresh_database()
        habeas_setup()
        common.profile(
            f"ingest-readings, {READINGS:,} rows ({env.engine})",
            lambda: habeas_ingest(csv_path),
            report=report,
        )
    return report


if __name__ == "__main__":
    sys.exit(common.main(run, __doc__, DEFAULT_RUNS))
