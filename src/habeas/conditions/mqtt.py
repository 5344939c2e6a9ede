"""Readings from an MQTT broker (INTERFACES.md ``mqtt-listen``): each message's payload is
JSON with the CSV's keys (``cell``, ``taken_at``, ``temperature_c``, ``humidity_pct``,
optionally ``co2_ppm``), one reading or a list. A message that is not JSON, or a reading
without its keys, is reported by its number and the rest go on.

Two threads share the work:

- paho's network thread receives the messages; its ``on_message`` only appends the payload
  and the message id to a buffer, so the listener keeps up with a sensor a message;
- the thread that called :meth:`Listener.run` (the flusher) takes the buffer, at most
  ``flush_messages`` messages, once that many wait or ``flush_ms`` milliseconds after the
  first one arrived, parses it and ingests it in one batch through the same service as the CSV
  (:func:`habeas.conditions.readings.readings_ingest`): one ledger entry per batch, heat
  alerts evaluated as the batch arrives.

The listener subscribes with QoS 1 over MQTT v5 and acknowledges a message (``PUBACK``,
paho's manual acknowledgement) only once its batch is committed. Its *Receive Maximum*
(``receive_maximum``, default 65,535, the protocol's largest) lets the broker keep that many
messages in flight to it unacknowledged, so the broker hands messages on instead of queueing
them (Mosquitto drops a client's messages
beyond ``max_queued_messages``, 1,000 by default). With a ``client_id`` and a
``session_expiry``, the broker keeps the session while the listener is down and sends again
every message not acknowledged: a crash between receiving and storing loses nothing, and a
batch stored but not yet acknowledged is sent again and found unchanged (ingestion is
idempotent on cell and time). The broker may still drop messages it will not hold (see
docs/benchmarks.md: Mosquitto 2.0.11 dropped some with four publishers at once)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

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
#: A batch is ingested once this many messages wait …
FLUSH_MESSAGES = 2_000
#: … or this many milliseconds after the first of them arrived.
FLUSH_MS = 250
#: MQTT v5 Receive Maximum: messages the broker may send before the first is acknowledged.
RECEIVE_MAXIMUM = 65_535
KEYS = ("cell", "taken_at", "temperature_c", "humidity_pct", "co2_ppm")


@dataclass
class ListenTotals:
    messages: int = 0
    received: int = 0
    stored: int = 0
    batches: int = 0
    errors: list[RowError] = field(default_factory=list)


Record = tuple[int, tuple[Any, ...]]
#: A message waiting in the buffer: payload, message id, QoS and connection number.
Waiting = tuple[bytes, int, int, int]


def records_of(payload: bytes, first: int) -> tuple[list[Record], list[RowError]]:
    """The readings of one message, numbered from ``first``."""
    try:
        doc = orjson.loads(payload)
    except (ValueError, UnicodeDecodeError):
        return [], [RowError(first, "payload", "not JSON")]
    items = doc if isinstance(doc, list) else [doc]
    records: list[Record] = []
    errors: list[RowError] = []
    for n, item in enumerate(items, start=first):
        if not isinstance(item, dict):
            errors.append(RowError(n, "payload", "a reading is a JSON object"))
            continue
        records.append((n, tuple(map(item.get, KEYS))))
    return records, errors


class Listener:
    """Subscribe to ``topic`` on ``host:port`` and ingest what arrives, batch by batch.

    ``client_id`` and ``session_expiry`` (seconds) make the broker keep the session, and the
    messages not acknowledged, while the listener is away; without them each connection
    starts a fresh session."""

    def __init__(
        self,
        host: str,
        port: int = 1883,
        topic: str = DEFAULT_TOPIC,
        *,
        actor: Actor | None = None,
        on_batch: Callable[[IngestReport], None] | None = None,
        flush_messages: int = FLUSH_MESSAGES,
        flush_ms: float = FLUSH_MS,
        receive_maximum: int = RECEIVE_MAXIMUM,
        client_id: str = "",
        session_expiry: int = 0,
    ) -> None:
        import paho.mqtt.client as mqtt
        from paho.mqtt.enums import CallbackAPIVersion

        if flush_messages < 1 or flush_ms <= 0:
            raise ValueError("flush_messages and flush_ms must be positive")
        if not 1 <= receive_maximum <= RECEIVE_MAXIMUM:
            raise ValueError(f"receive_maximum must be 1..{RECEIVE_MAXIMUM}")
        self.host, self.port, self.topic = host, port, topic
        self.actor = actor or Actor.system("mqtt-listen")
        self.on_batch = on_batch
        self.flush_messages, self.flush_seconds = flush_messages, flush_ms / 1000
        self.receive_maximum, self.session_expiry = receive_maximum, session_expiry
        self.totals = ListenTotals()
        self.subscribed = threading.Event()
        self._lock = threading.Lock()
        self._buffer: list[Waiting] = []
        self._first_at: float | None = None  # when the oldest waiting message arrived
        self._full = threading.Event()
        self._connection = 0
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5
        )
        self.client.manual_ack_set(True)
        self.client.on_connect = self._connected
        self.client.on_subscribe = lambda *a: self.subscribed.set()
        self.client.on_message = self._received

    def _connected(self, client: Any, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        with self._lock:
            # A message id names a message within one connection: the ones still waiting
            # from an earlier connection are stored but not acknowledged (the broker sends
            # them again if it kept the session, and they are then found unchanged).
            self._connection += 1
        client.subscribe(self.topic, qos=1)

    def _received(self, client: Any, userdata: Any, msg: Any) -> None:
        """paho's network thread: buffer the message, nothing more."""
        with self._lock:
            if not self._buffer:
                self._first_at = time.monotonic()
            self._buffer.append((msg.payload, msg.mid, msg.qos, self._connection))
            if len(self._buffer) >= self.flush_messages:
                self._full.set()

    def _take(self) -> list[Waiting]:
        """The oldest ``flush_messages`` messages waiting (a batch is never larger); what
        arrived meanwhile stays, due at once."""
        with self._lock:
            limit = self.flush_messages
            taken, self._buffer = self._buffer[:limit], self._buffer[limit:]
            if not self._buffer:
                self._first_at = None
            if len(self._buffer) < limit:
                self._full.clear()
            return taken

    def _wait(self, until: float | None) -> bool:
        """Sleep until the buffer is full, its oldest message is ``flush_ms`` old, or
        ``until`` (a monotonic time); whether a batch is due."""
        while True:
            moment = time.monotonic()
            with self._lock:
                first = self._first_at
                if len(self._buffer) >= self.flush_messages or (
                    first is not None and moment - first >= self.flush_seconds
                ):
                    return True
            deadline = moment + self.flush_seconds if first is None else first + self.flush_seconds
            if until is not None:
                if moment >= until:
                    return False
                deadline = min(deadline, until)
            self._full.wait(deadline - moment)

    def run(self, *, seconds: float | None = None, readings: int | None = None) -> ListenTotals:
        """Listen until interrupted, or for ``seconds``, or until ``readings`` were received
        and stored; what waits is ingested before returning. A failed batch is not
        acknowledged: the error stops the listener, and the broker keeps the messages for the
        next one (with a kept session)."""
        from paho.mqtt.packettypes import PacketTypes
        from paho.mqtt.properties import Properties

        properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]  # paho
        properties.ReceiveMaximum = self.receive_maximum
        if self.session_expiry:
            properties.SessionExpiryInterval = self.session_expiry
        self.client.connect(
            self.host,
            self.port,
            keepalive=30,
            clean_start=not self.session_expiry,
            properties=properties,
        )
        self.client.loop_start()
        until = None if seconds is None else time.monotonic() + seconds
        cells = CellIndex()
        try:
            while True:
                due = self._wait(until)
                ended = until is not None and time.monotonic() >= until
                if due or ended:
                    self._flush(self._take(), cells)
                if ended or (readings is not None and self.totals.received >= readings):
                    break
        except KeyboardInterrupt:
            self._flush(self._take(), cells)  # stopping: store what waits, then stop
            raise
        finally:
            self.client.loop_stop()
            self.client.disconnect()
        return self.totals

    def _flush(self, taken: list[Waiting], cells: CellIndex) -> None:
        """Parse and ingest the messages taken from the buffer, one batch; then acknowledge
        them (only once the batch is committed)."""
        if not taken:
            return
        try:
            self._ingest(taken, cells)
        except BaseException:
            with self._lock:  # not stored, not acknowledged: back at the head of the buffer
                self._buffer[:0] = taken
                if self._first_at is None:
                    self._first_at = time.monotonic()
            raise

    def _ingest(self, taken: list[Waiting], cells: CellIndex) -> None:
        received = self.totals.received
        pending: list[Record] = []
        bad: list[RowError] = []
        for payload, _mid, _qos, _conn in taken:
            records, errors = records_of(payload, received + 1)
            received += len(records) + len(errors)
            pending.extend(records)
            bad.extend(errors)
        rows, errors = validate_rows(pending, cells)
        report = readings_ingest(
            actor=self.actor,
            rows=rows,
            source=ReadingSource.MQTT,
            name=self.topic,
            cells=cells,
            errors=bad + errors,
        )
        with self._lock:
            connection = self._connection
        for _payload, mid, qos, conn in taken:
            if qos and conn == connection:
                self.client.ack(mid, qos)
        self.totals.messages += len(taken)
        self.totals.received = received
        self.totals.stored += report.stored
        self.totals.batches += 1 if report.batch else 0
        self.totals.errors.extend(report.errors)
        if self.on_batch is not None:
            self.on_batch(report)
