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
