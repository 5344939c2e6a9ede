"""``habeas mqtt-listen`` against the local Mosquitto (127.0.0.1:1883); skipped, with the
reason, when no broker answers there."""

from __future__ import annotations

import datetime as dt
import json
import socket
import threading
import time
from typing import Any

import pytest

BROKER = ("127.0.0.1", 1883)


def _broker_up() -> bool:
    try:
        with socket.create_connection(BROKER, timeout=0.5):
            return True
    except OSError:
        return False


pytestmark = pytest.mark.skipif(not _broker_up(), reason="no MQTT broker at 127.0.0.1:1883")


def _publish(topic: str, messages: list[Any], ready: threading.Event) -> None:
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    ready.wait(10)
    client = mqtt.Client(CallbackAPIVersion.VERSION2)
    client.connect(*BROKER)
    client.loop_start()
    for m in messages:
        payload = m if isinstance(m, bytes) else json.dumps(m).encode()
        client.publish(topic, payload, qos=1).wait_for_publish(5)
    client.loop_stop()
    client.disconnect()


def test_mqtt_listen_ingests_readings_in_batches(world: Any) -> None:
    from habeas.conditions.mqtt import Listener
    from habeas.conditions.readings_models import Reading

    topic = f"habeas-test/{time.time_ns()}/readings"
    at = dt.datetime(2025, 6, 1, 12, tzinfo=dt.UTC)
    one = {"cell": "TEC/M1-01", "taken_at": at.isoformat(), "temperature_c": 30, "humidity_pct": 60}
    many = [
        {"cell": "M1-02", "taken_at": (at + dt.timedelta(minutes=15 * i)).isoformat(),
         "temperature_c": 29.5, "humidity_pct": 65}
        for i in range(20)
    ]  # fmt: skip
    bad = {"cell": "TEC/NOPE", "taken_at": at.isoformat(), "temperature_c": 30, "humidity_pct": 60}
    listener = Listener(*BROKER, topic)
    ready = listener.subscribed
    sender = threading.Thread(
        target=_publish, args=(topic, [one, many, b"not json", bad, one], ready)
    )
    sender.start()
    totals = listener.run(seconds=15, readings=24)
    sender.join()
    assert totals.messages == 5
    assert totals.stored == 21
    assert Reading.objects.count() == 21
    reasons = sorted((e.column, e.reason) for e in totals.errors)
    assert reasons == [
        ("cell", "unknown cell 'TEC/NOPE': give FACILITY/CELL or a cell code"),
        ("payload", "not JSON"),
    ]


def _publish_all(topic: str, payloads: list[bytes], ready: threading.Event) -> None:
    """Publish every payload with QoS 1 without waiting for each acknowledgement (a sensor
    fleet), then wait for the last."""
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    ready.wait(10)
    client = mqtt.Client(CallbackAPIVersion.VERSION2)
    client.max_inflight_messages_set(0)
    client.max_queued_messages_set(0)
    client.connect(*BROKER)
    client.loop_start()
    sent = [client.publish(topic, p, qos=1) for p in payloads]
    for info in sent:
        info.wait_for_publish(30)
    client.loop_stop()
    client.disconnect()


def _one_a_message(n: int) -> list[bytes]:
    """``n`` readings of the three cells of module M1, every 15 minutes, one a message."""
    at = dt.datetime(2025, 6, 1, tzinfo=dt.UTC)
    return [
        json.dumps({
            "cell": f"TEC/M1-0{i % 3 + 1}",
            "taken_at": (at + dt.timedelta(minutes=15 * (i // 3))).isoformat(),
            "temperature_c": 27 + i % 7, "humidity_pct": 60,
        }).encode()
        for i in range(n)
    ]  # fmt: skip


def test_mqtt_listen_one_reading_a_message_loses_none(world: Any) -> None:
    """3,000 messages of one reading each, published without pause: every one is stored,
    in batches of at most ``flush_messages`` (one ledger entry each)."""
    from habeas.conditions.mqtt import Listener
    from habeas.conditions.readings_models import Reading, ReadingBatch
    from habeas.ledger.models import LedgerEntry

    topic = f"habeas-test/{time.time_ns()}/readings"
    payloads = _one_a_message(3_000)
    listener = Listener(*BROKER, topic, flush_messages=500, flush_ms=100)
    sender = threading.Thread(target=_publish_all, args=(topic, payloads, listener.subscribed))
    sender.start()
    totals = listener.run(seconds=60, readings=len(payloads))
    sender.join()
    assert (totals.messages, totals.received, totals.stored) == (3_000, 3_000, 3_000)
    assert Reading.objects.count() == 3_000
    batches = ReadingBatch.objects.count()
    assert batches == totals.batches >= 6
    assert ReadingBatch.objects.filter(count__gt=500).count() == 0
    entries = LedgerEntry.objects.filter(action="conditions.readings_ingested").count()
    assert entries == batches


def test_mqtt_listen_acknowledges_only_what_is_stored(
    world: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch that fails is not acknowledged: the broker keeps the messages in the listener's
    session and hands them to the next listener of that session, which stores them."""
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    from habeas.conditions import mqtt as listen
    from habeas.conditions.readings_models import Reading

    topic = f"habeas-test/{time.time_ns()}/readings"
    client_id = f"habeas-test-{time.time_ns()}"
    payloads = _one_a_message(30)
    real_ingest = listen.readings_ingest

    def crash(**kwargs: Any) -> Any:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(listen, "readings_ingest", crash)
    first = listen.Listener(*BROKER, topic, client_id=client_id, session_expiry=60)
    sender = threading.Thread(target=_publish_all, args=(topic, payloads, first.subscribed))
    sender.start()
    try:
        with pytest.raises(RuntimeError, match="went away"):
            first.run(seconds=30, readings=30)
    finally:
        sender.join()
    assert Reading.objects.count() == 0
    monkeypatch.setattr(listen, "readings_ingest", real_ingest)
    second = listen.Listener(*BROKER, topic, client_id=client_id, session_expiry=60)
    try:
        totals = second.run(seconds=30, readings=30)
    finally:  # end the kept session
        end = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
        end.connect(*BROKER, clean_start=True)
        end.disconnect()
    assert totals.stored == 30
    assert Reading.objects.count() == 30


def test_listener_refuses_nonsense_settings() -> None:
    from habeas.conditions.mqtt import Listener

    with pytest.raises(ValueError, match="positive"):
        Listener(*BROKER, flush_messages=0)
    with pytest.raises(ValueError, match="receive_maximum"):
        Listener(*BROKER, receive_maximum=70_000)


def _retain(topic: str, payload: bytes) -> None:
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    client = mqtt.Client(CallbackAPIVersion.VERSION2)
    client.connect(*BROKER)
    client.loop_start()
    client.publish(topic, payload, qos=1, retain=True).wait_for_publish(5)
    client.loop_stop()
    client.disconnect()


def test_mqtt_listen_command_options(world: Any) -> None:
    """The command with its batch and session options (a fresh session) stores a reading
    waiting on the broker (retained); nonsense options are refused with exit 2."""
    from habeas.conditions.readings_models import Reading
    from tests.conftest import run_cli

    topic = f"habeas-test/{time.time_ns()}/readings"
    _retain(topic, _one_a_message(1)[0])
    try:
        code, out, _err = run_cli(
            "mqtt-listen", "--broker", "127.0.0.1:1883", "--topic", topic, "--flush-messages",
            "10", "--flush-ms", "50", "--session-expiry", "0", "--client-id", "",
            "--readings", "1", "--seconds", "20",
        )  # fmt: skip
    finally:
        _retain(topic, b"")  # an empty retained message removes it
    assert code == 0, out
    assert "1 messages, 1 readings, 1 stored in 1 batches, 0 bad" in out
    assert Reading.objects.count() == 1
    for bad in (["--flush-ms", "0"], ["--flush-messages", "0"], ["--receive-maximum", "0"],
                ["--session-expiry", "-1"]):  # fmt: skip
        code, _out, err = run_cli("mqtt-listen", "--broker", "127.0.0.1", *bad)
        assert code == 2, err
