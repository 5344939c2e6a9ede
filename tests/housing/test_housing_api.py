"""The housing API's writes (the GETs are in tests/api/test_api_permissions.py): keep-apart
records, roll counts, moves, certification and deactivation — success, refusal, scope, and
a ledger entry per write."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client

from tests.conftest import admit, make_person, removal_order, sentence

pytestmark = pytest.mark.django_db

ADMITTED = dt.datetime(2025, 3, 16, 14, 5, tzinfo=dt.UTC)


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _ledger_actions() -> list[str]:
    from habeas.ledger.models import LedgerEntry

    return list(LedgerEntry.objects.order_by("index").values_list("action", flat=True))


@pytest.fixture
def housed(world: dict[str, Any], actor: Any) -> dict[str, Any]:
    a = make_person(actor, given_names="Ana", first_surname="Uno")
    b = make_person(actor, given_names="Beto", first_surname="Dos")
    civil = make_person(actor, given_names="Ciro", first_surname="Tres")
    admit(actor, a, world["tec"], world["us"], bases=[sentence()], at=ADMITTED, cell="M1-01")
    admit(actor, b, world["tec"], world["us"], bases=[sentence()], at=ADMITTED, cell="M1-02")
    admit(actor, civil, world["tec"], world["us"], bases=[removal_order()], at=ADMITTED)
    return {"a": a, "b": b, "civil": civil, **world}


def test_keep_apart_create_list_close(housed: dict[str, Any], users: dict[str, Any]) -> None:
    client = _client(users["staff"])
    a, b = housed["a"], housed["b"]
    created = client.post(
        "/api/v1/keep-aparts/",
        {"person": str(a.pk), "other": str(b.pk), "scope": "cell", "reason": "threats"},
        content_type="application/json",
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["open"] is True
    assert body["scope"] == "cell"
    assert _ledger_actions()[-1] == "facilities.keep_apart_opened"
    again = client.post(
        "/api/v1/keep-aparts/",
        {"person": str(b.pk), "other": str(a.pk), "scope": "module", "reason": "again"},
        content_type="application/json",
    )
    assert again.status_code == 409
    assert set(again.json()) == {"code", "message", "details"}
    listed = client.get("/api/v1/keep-aparts/", {"person": str(a.pk)}).json()
    assert [item["id"] for item in listed["items"]] == [body["id"]]
    closed = client.patch(
        f"/api/v1/keep-aparts/{body['id']}/",
        {"open": False, "reason": "transferred"},
        content_type="application/json",
    )
    assert closed.status_code == 200
    assert closed.json()["open"] is False
    assert closed.json()["close_reason"] == "transferred"
    assert _ledger_actions()[-1] == "facilities.keep_apart_closed"
    assert client.get("/api/v1/keep-aparts/", {"open": "true"}).json()["count"] == 0


def test_keep_apart_writes_refused_for_readers_and_out_of_scope(
    housed: dict[str, Any], users: dict[str, Any]
) -> None:
    payload = {
        "person": str(housed["a"].pk),
        "other": str(housed["b"].pk),
        "scope": "cell",
        "reason": "x",
    }
    for name, status in (("oversight", 403), ("liaison_us", 403), ("staff_oth", 404)):
        response = _client(users[name]).post(
            "/api/v1/keep-aparts/", payload, content_type="application/json"
        )
        assert response.status_code == status, (name, response.json())


def test_move_allowed_and_refused_with_rules(housed: dict[str, Any], users: dict[str, Any]) -> None:
    client = _client(users["staff"])
    a, civil = housed["a"], housed["civil"]
    suggestion = client.get(f"/api/v1/persons/{civil.pk}/placement-suggestion").json()
    assert suggestion["best"] in {"M2-01", "M2-02"}
    refused = {r["cell"]: r["rules"] for r in suggestion["refused"]}
    assert "separation:regime" in {rule["rule"] for rule in refused["M1-01"]}

    moved = client.post(
        f"/api/v1/persons/{a.pk}/moves/",
        {"cell": "M1-03", "reason": "cell repairs"},
        content_type="application/json",
    )
    assert moved.status_code == 201, moved.json()
    assert moved.json()["cell"] == "M1-03"
    assert _ledger_actions()[-1] == "placement.moved"

    forbidden = client.post(
        f"/api/v1/persons/{civil.pk}/moves/",
        {"cell": "M1-01", "reason": "try"},
        content_type="application/json",
    )
    assert forbidden.status_code == 409
    assert "separation:regime" in forbidden.json()["details"]["rules"]
    assert "Mandela Rule 11(c)" in forbidden.json()["message"]
    history = client.get(f"/api/v1/persons/{a.pk}/moves/").json()
    assert [p["cell"] for p in history] == ["M1-03", "M1-01"]
    assert (
        _client(users["auditor"])
        .post(
            f"/api/v1/persons/{a.pk}/moves/",
            {"cell": "M1-02", "reason": "x"},
            content_type="application/json",
        )
        .status_code
        == 403
    )


def test_roll_count_post_groups_by_counted_at(
    housed: dict[str, Any], users: dict[str, Any]
) -> None:
    client = _client(users["staff"])
    at = "2025-03-17T06:00:00Z"
    response = client.post(
        "/api/v1/facilities/TEC/roll-counts/",
        {
            "lines": [
                {"cell": "M1-01", "counted": 1, "counted_at": at},
                {"cell": "M1-02", "counted": 0, "counted_at": at},
            ]
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.json()
    (roll,) = response.json()["rolls"]
    assert roll["expected"] == 2
    assert roll["counted"] == 1
    assert roll["discrepancies"] == [{"cell": "M1-02", "expected": 1, "counted": 0}]
    assert roll["source"] == "api"
    assert _ledger_actions()[-1] == "facilities.roll_counted"
    unknown = client.post(
        "/api/v1/facilities/TEC/roll-counts/",
        {"lines": [{"cell": "ZZ", "counted": 1, "counted_at": at}]},
        content_type="application/json",
    )
    assert unknown.status_code == 404
    naive = client.post(
        "/api/v1/facilities/TEC/roll-counts/",
        {"lines": [{"cell": "M1-01", "counted": 1, "counted_at": "2025-03-17T06:00:00"}]},
        content_type="application/json",
    )
    assert naive.status_code == 400
    view = client.get("/api/v1/facilities/TEC/roll", {"on": "2025-03-16"}).json()
    m1 = next(m for m in view["modules"] if m["module"] == "M1")
    assert m1["population"] == 2
    assert m1["arrived_today"] == 2
    assert view["total"]["population"] == 3


def test_certify_and_deactivate_admin_only(housed: dict[str, Any], users: dict[str, Any]) -> None:
    staff, admin = _client(users["staff"]), _client(users["admin"])
    url = "/api/v1/facilities/TEC/cells/M1-03/"
    payload = {"working_capacity": 5, "max_capacity": 6, "reason": "new bunks"}
    assert (
        staff.post(url + "certifications/", payload, content_type="application/json").status_code
        == 403
    )
    created = admin.post(url + "certifications/", payload, content_type="application/json")
    assert created.status_code == 201, created.json()
    assert created.json()["approved_by"] == "admin"
    assert created.json()["certified_capacity"] == 5  # ICRC: 18 m² / 3.4 → 5
    assert admin.get(url).json()["working_capacity"] == 5
    assert _ledger_actions()[-1] == "facilities.cell_certified"

    below = admin.post(
        "/api/v1/facilities/TEC/cells/M1-01/certifications/",
        {"working_capacity": 0, "max_capacity": 0, "reason": "x"},
        content_type="application/json",
    )
    assert below.status_code == 409  # one person held there

    occupied = admin.post(
        "/api/v1/facilities/TEC/cells/M1-01/deactivation",
        {"reason": "damaged"},
        content_type="application/json",
    )
    assert occupied.status_code == 409
    assert (
        staff.post(
            url + "deactivation", {"reason": "damaged"}, content_type="application/json"
        ).status_code
        == 403
    )
    done = admin.post(
        url + "deactivation",
        {"reason": "maintenance", "note": "painting"},
        content_type="application/json",
    )
    assert done.status_code == 200
    assert done.json()["active"] is False
    assert done.json()["deactivation_reason"] == "maintenance"
    back = admin.delete(url + "deactivation")
    assert back.status_code == 200
    assert back.json()["active"] is True
    assert _ledger_actions()[-2:] == ["facilities.cell_deactivated", "facilities.cell_reactivated"]


def test_housing_plan_dry_run_moves_nothing(housed: dict[str, Any], users: dict[str, Any]) -> None:
    before = len(_ledger_actions())
    plan = _client(users["oversight"]).get("/api/v1/facilities/TEC/housing-plan", {"time_limit": 2})
    assert plan.status_code == 200, plan.json()
    body = plan.json()
    assert body["facility"] == "TEC"
    assert body["status"] in {"optimal", "improved", "start"}
    assert body["after"]["above_certified"] <= body["before"]["above_certified"]
    assert len(_ledger_actions()) == before
