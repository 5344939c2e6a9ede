"""Readings from an MQTT broker (INTERFACES.md ``mqtt-listen``): each message's payload is
JSON with the CSV's keys (``cell``, ``taken_at``, ``temperature_c``, ``humidity_pct``,
optionally ``co2_ppm``), one reading or a list. Messages are buffered and ingested in
batches — every second, or at 5,000 readings — through the same service as the CSV
(:func:`habeas.conditions.readings.readings_ingest`): one ledger entry per batch, heat alerts
evaluated as the batch arrives. A message that is not JSON, or a reading without its keys,
is reported by its number and the rest go on."""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from habeas.conditions.readings import (
    CellIndex,
    IngestReport,
    RowError,
    readings_ingest,
    validate_rows,
)
from habeas.conditions.readings_models import ReadingSource
from habeas.core.actor import Actor

DEFAULT_TOPIC = "habeas/readings/#"
FLUSH_SECONDS = 1.0
FLUSH_READINGS = 5_000
KEYS = ("cell", "taken_at", "temperature_c", "humidity_pct", "co2_ppm")


@dataclass
class ListenTotals:
    messages: int = 0
    received: int = 0
    stored: int = 0
    batches: int = 0
    errors: list[RowError] = field(default_factory=list)


Record = tuple[int, tuple[Any, ...]]


def records_of(payload: bytes, first: int) -> tuple[list[Record], list[RowError]]:
    """The readings of one message, numbered from ``first``."""
    try:
        doc = json.loads(payload)
    except (ValueError, UnicodeDecodeError):
        return [], [RowError(first, "payload", "not JSON")]
    items = doc if isinstance(doc, list) else [doc]
    records: list[Record] = []
    errors: list[RowError] = []
    for n, item in enumerate(items, start=first):
        if not isinstance(item, dict):
            errors.append(RowError(n, "payload", "a reading is a JSON object"))
            continue
        records.append((n, tuple(item.get(k) for k in KEYS)))
    return records, errors


class Listener:
    """Subscribe to ``topic`` on ``host:port`` and ingest what arrives, batch by batch."""

    def __init__(
        self,
        host: str,
        port: int = 1883,
        topic: str = DEFAULT_TOPIC,
        *,
        actor: Actor | None = None,
        on_batch: Callable[[IngestReport], None] | None = None,
    ) -> None:
        import paho.mqtt.client as mqtt
        from paho.mqtt.enums import CallbackAPIVersion

        self.host, self.port, self.topic = host, port, topic
        self.actor = actor or Actor.system("mqtt-listen")
        self.on_batch = on_batch
        self.inbox: queue.Queue[bytes] = queue.Queue()
        self.totals = ListenTotals()
        self.subscribed = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2)
        self.client.on_connect = self._connected
        self.client.on_subscribe = lambda *a: self.subscribed.set()
        self.client.on_message = lambda _c, _u, msg: self.inbox.put(bytes(msg.payload))

    def _connected(self, client: Any, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        client.subscribe(self.topic, qos=1)

    def run(self, *, seconds: float | None = None, readings: int | None = None) -> ListenTotals:
        """Listen until interrupted, or for ``seconds``, or until ``readings`` were received."""
        self.client.connect(self.host, self.port, keepalive=30)
        self.client.loop_start()
        started = time.monotonic()
        cells = CellIndex()
        pending: list[Record] = []
        bad: list[RowError] = []
        last_flush = time.monotonic()
        try:
            while True:
                timeout = max(0.0, FLUSH_SECONDS - (time.monotonic() - last_flush))
                try:
                    payload = self.inbox.get(timeout=timeout)
                except queue.Empty:
                    payload = None
                if payload is not None:
                    self.totals.messages += 1
                    records, errors = records_of(payload, self.totals.received + 1)
                    self.totals.received += len(records) + len(errors)
                    pending.extend(records)
                    bad.extend(errors)
                moment = time.monotonic()
                due = moment - last_flush >= FLUSH_SECONDS
                if len(pending) >= FLUSH_READINGS or (due and (pending or bad)):
                    self._flush(pending, bad, cells)
                    pending, bad = [], []
                if due:
                    last_flush = moment
                if seconds is not None and time.monotonic() - started >= seconds:
                    break
                if readings is not None and self.totals.received >= readings and not pending:
                    break
        finally:
            if pending or bad:
                self._flush(pending, bad, cells)
            self.client.loop_stop()
            self.client.disconnect()
        return self.totals

    def _flush(self, pending: list[Record], bad: list[RowError], cells: CellIndex) -> None:
        rows, errors = validate_rows(pending, cells)
        report = readings_ingest(
            actor=self.actor,
            rows=rows,
            source=ReadingSource.MQTT,
            name=self.topic,
            cells=cells,
            errors=bad + errors,
        )
        self.totals.stored += report.stored
        self.totals.batches += 1 if report.batch else 0
        self.totals.errors.extend(report.errors)
        if self.on_batch is not None:
            self.on_batch(report)
