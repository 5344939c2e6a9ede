"""Sensor tokens: scoped to one facility, they may only POST its readings (403 on every other
path, web pages included); issued by the facility's administrator on the command line and
shown once; issue and revocation on the ledger, checked by verify-ledger."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.test import Client

from tests.conftest import run_cli


def _issue(facility: str = "TEC", name: str = "gateway M1") -> str:
    code, out, err = run_cli("sensor-token", "create", facility, "--name", name)
    assert code == 0, err
    raw = out.strip()
    assert raw.startswith("hs_")
    assert raw[:11] in err  # the prefix is named; the token itself only on stdout
    assert raw not in err
    return raw


def _body(cells: list[str], temperature: float = 30.5) -> str:
    at = dt.datetime(2025, 6, 1, 12, tzinfo=dt.UTC)
    return json.dumps(
        {
            "readings": [
                {"cell": c, "taken_at": at.isoformat(), "temperature_c": temperature,
                 "humidity_pct": 70}
                for c in cells
            ]
        }
    )  # fmt: skip


def _client(raw: str) -> Client:
    return Client(headers={"Authorization": f"Bearer {raw}"})


def test_a_sensor_token_sends_readings_of_its_facility_only(world: Any) -> None:
    from habeas.conditions.readings_models import Reading, ReadingBatch, SensorToken
    from habeas.ledger.models import LedgerEntry

    raw = _issue()
    token = SensorToken.objects.get()
    assert token.digest != raw
    assert raw not in json.dumps(
        list(LedgerEntry.objects.values_list("canonical", flat=True)), default=str
    )
    client = _client(raw)
    response = client.post(
        "/api/v1/readings", _body(["TEC/M1-01", "M1-02", "OTH/A-01"]),
        content_type="application/json",
    )  # fmt: skip
    assert response.status_code == 200, response.content
    doc = response.json()
    assert (doc["stored"], doc["received"]) == (2, 3)
    assert doc["errors"] == [
        {"row": 3, "column": "cell", "reason": "cell 'OTH/A-01' is not in facility TEC "
         "(this sensor's scope)"}
    ]  # fmt: skip
    assert Reading.objects.count() == 2
    assert ReadingBatch.objects.get().name == f"sensor:{token.prefix}"
    entry = LedgerEntry.objects.filter(action="conditions.readings_ingested").get()
    assert entry.actor == f"sensor:TEC:{token.prefix}"
    token.refresh_from_db()
    assert token.last_used_at is not None


READ_PATHS = [
    ("get", "/api/v1/persons/"),
    ("get", "/api/v1/readings"),
    ("get", "/api/v1/alerts"),
    ("post", "/api/v1/complaints"),
    ("get", "/api/v1/ledger/verify"),
    ("get", "/alerts/climate/TEC/"),
    ("get", "/"),
]


@pytest.mark.parametrize(("method", "path"), READ_PATHS)
def test_a_sensor_token_is_refused_everywhere_else(world: Any, method: str, path: str) -> None:
    raw = _issue()
    response = getattr(_client(raw), method)(path)
    assert response.status_code == 403, (path, response.status_code)
    assert response.json()["code"] == "forbidden"


def test_a_revoked_or_unknown_sensor_token_is_401(world: Any) -> None:
    from habeas.conditions.readings_models import Reading, SensorToken
    from habeas.ledger.models import LedgerEntry

    raw = _issue()
    prefix = SensorToken.objects.get().prefix
    code, _out, err = run_cli("sensor-token", "revoke", prefix)
    assert code == 0, err
    assert LedgerEntry.objects.filter(action="conditions.sensor_token_revoked").count() == 1
    for token in (raw, "hs_" + "x" * 43):
        response = _client(token).post(
            "/api/v1/readings", _body(["TEC/M1-01"]), content_type="application/json"
        )
        assert response.status_code == 401, response.content
    assert Reading.objects.count() == 0
    assert run_cli("sensor-token", "revoke", prefix)[0] != 0


def test_only_the_facility_admin_issues_sensor_tokens(world: Any) -> None:
    from habeas.conditions.sensors import sensor_token_create
    from habeas.core.actor import Actor
    from habeas.core.errors import Forbidden

    with pytest.raises(Forbidden):
        sensor_token_create(
            actor=Actor(name="staff", role="facility_staff"), facility=world["tec"], name="x"
        )
    token, raw = sensor_token_create(
        actor=Actor(name="director", role="facility_admin"), facility=world["tec"], name="x"
    )
    assert raw.startswith(token.prefix)
    assert run_cli("sensor-token", "create", "NOPE", "--name", "x")[0] != 0


def test_the_list_shows_prefixes_never_tokens(world: Any) -> None:
    raw = _issue(name="gateway M2")
    code, out, _err = run_cli("sensor-token", "list", "TEC")
    assert code == 0
    assert raw[:11] in out
    assert "gateway M2" in out
    assert raw not in out
    assert run_cli("sensor-token", "list", "OTH")[1].strip() == ""


def test_verify_ledger_finds_a_changed_sensor_token(world: Any) -> None:
    from habeas.conditions.readings_models import SensorToken
    from tests.conftest import direct_write

    _issue()
    token = SensorToken.objects.get()
    assert run_cli("verify-ledger", "--json")[0] == 0
    direct_write(lambda: SensorToken.objects.filter(pk=token.pk).update(facility=world["oth"]))
    code, out, _err = run_cli("verify-ledger", "--json")
    assert code == 1
    assert any(
        p["where"] == f"conditions.SensorToken.{token.pk}.facility_id"
        for p in json.loads(out)["problems"]
    ), out
