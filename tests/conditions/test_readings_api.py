"""``POST /api/v1/readings``: a sensor's account of one facility sends readings; cells of
another facility are refused by row; oversight reads but does not send; idempotent."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.test import Client

from tests.conftest import make_user

ADMIN_NAME = "test:director"


def _headers(user: Any) -> dict[str, str]:
    from habeas.accounts.services import token_create
    from habeas.core.actor import Actor

    _token, raw = token_create(
        actor=Actor(name=ADMIN_NAME, role="facility_admin"), user=user, name="sensor"
    )
    return {"Authorization": f"Bearer {raw}"}


def _body(cells: list[str]) -> str:
    at = dt.datetime(2025, 6, 1, 12, tzinfo=dt.UTC)
    return json.dumps(
        {
            "readings": [
                {"cell": c, "taken_at": at.isoformat(), "temperature_c": 30.5, "humidity_pct": 70}
                for c in cells
            ]
        }
    )


def test_a_sensor_account_sends_readings_of_its_facility_only(world: Any) -> None:
    from habeas.conditions.readings_models import Reading

    sensor = make_user(
        username="sensor-tec", password="x" * 20, role="facility_staff", facility_codes=["TEC"]
    )
    client = Client(headers=_headers(sensor))
    response = client.post(
        "/api/v1/readings",
        _body(["TEC/M1-01", "M1-02", "OTH/A-01"]),
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    doc = response.json()
    assert (doc["stored"], doc["received"]) == (2, 3)
    assert doc["errors"] == [
        {"row": 3, "column": "cell", "reason": "cell 'OTH/A-01' is not in your facilities"}
    ]
    assert Reading.objects.count() == 2
    again = client.post(
        "/api/v1/readings", _body(["TEC/M1-01", "M1-02"]), content_type="application/json"
    )
    assert (again.json()["stored"], again.json()["unchanged"]) == (0, 2)


def test_oversight_reads_but_does_not_send_readings(world: Any) -> None:
    monitor = make_user(username="monitor", password="x" * 20, role="oversight")
    client = Client(headers=_headers(monitor))
    response = client.post(
        "/api/v1/readings", _body(["TEC/M1-01"]), content_type="application/json"
    )
    assert response.status_code == 403


def test_readings_need_a_token(world: Any) -> None:
    response = Client().post(
        "/api/v1/readings", _body(["TEC/M1-01"]), content_type="application/json"
    )
    assert response.status_code == 401
