"""``/api/v1/persons/{id}/absences/``: list, start, return — success, refusal, role and scope,
each write on the ledger; the roll view's out by kind and the person file's ``absence``."""

from __future__ import annotations

import datetime as dt
from typing import Any

from habeas.ledger.models import LedgerEntry
from tests.api import conftest as api_fixtures
from tests.api.conftest import ADMITTED

# The API tests' population (tests/api/conftest.py), reused as fixtures of this module.
scene = api_fixtures.scene
client_for = api_fixtures.client_for

URL = "/api/v1/persons/{}/absences/"
LEAVE = {
    "kind": "court",
    "destination": "Juzgado Primero de Sentencia",
    "authority": "citation 45/2025",
    "escort": "two officers",
    "started_at": (ADMITTED + dt.timedelta(days=1)).isoformat(),
    "expected_return_at": (ADMITTED + dt.timedelta(days=1, hours=6)).isoformat(),
}


def last_action() -> str:
    entry = LedgerEntry.objects.order_by("-index").first()
    return entry.action if entry else ""


def post(client: Any, url: str, body: dict[str, Any]) -> Any:
    return client.post(url, data=body, content_type="application/json")


def test_staff_record_a_departure_and_the_return(scene: dict[str, Any], client_for: Any) -> None:
    person = scene["people"]["us"]
    staff = client_for("staff")
    created = post(staff, URL.format(person.pk), LEAVE)
    assert created.status_code == 201, created.json()
    doc = created.json()
    assert doc["open"] is True
    assert doc["kind"] == "court"
    assert doc["facility"] == "TEC"
    assert doc["started_at"] == "2025-03-17T14:05:00Z"
    assert doc["recorded_by"] == "staff"
    assert doc["ended_at"] is None
    assert last_action() == "custody.absence_started"

    again = post(staff, URL.format(person.pk), {**LEAVE, "kind": "hospital"})
    assert again.status_code == 409
    assert again.json()["code"] == "conflict"
    assert "already out" in again.json()["message"]

    listed = staff.get(URL.format(person.pk)).json()
    assert [a["id"] for a in listed] == [doc["id"]]

    # the person file says where they are; the cell is kept
    file = staff.get(f"/api/v1/persons/{person.pk}/").json()
    assert file["absence"]["kind"] == "court"
    assert file["cell"] is not None
    # the sending state's liaison sees the person, not their movements
    liaison_file = client_for("liaison_us").get(f"/api/v1/persons/{person.pk}/").json()
    assert liaison_file["absence"] is None
    assert liaison_file["cell"] is None

    roll = staff.get("/api/v1/facilities/TEC/roll").json()
    assert roll["total"]["out"] == roll["total"]["out_court"] == 1
    assert roll["total"]["in_cell"] == roll["total"]["population"] - 1

    back_url = f"{URL.format(person.pk)}{doc['id']}/return"
    back = post(staff, back_url, {"returned_at": "2025-03-17T19:00:00Z"})
    assert back.status_code == 200, back.json()
    assert back.json()["ended_how"] == "returned"
    assert back.json()["open"] is False
    assert last_action() == "custody.absence_ended"
    twice = post(staff, back_url, {})
    assert twice.status_code == 409
    assert "already ended" in twice.json()["message"]
    assert staff.get(f"/api/v1/persons/{person.pk}/").json()["absence"] is None


def test_start_refusals_are_400_and_write_nothing(scene: dict[str, Any], client_for: Any) -> None:
    person = scene["people"]["us"]
    staff = client_for("staff")
    before = LedgerEntry.objects.count()
    for body, message in [
        ({**LEAVE, "kind": "beach"}, "unknown absence kind"),
        ({**LEAVE, "kind": "other"}, "needs a description"),
        ({**LEAVE, "started_at": "2099-01-01T00:00:00Z"}, "in the future"),
        ({**LEAVE, "started_at": "2025-03-01T00:00:00Z"}, "before the admission"),
        ({**LEAVE, "started_at": "2025-03-17T14:05:00"}, ""),  # naive time: refused by schema
    ]:
        response = post(staff, URL.format(person.pk), body)
        assert response.status_code == 400, (body, response.json())
        assert message in response.json()["message"] or message in str(response.json())
    assert LedgerEntry.objects.count() == before


def test_return_before_departure_is_400(scene: dict[str, Any], client_for: Any) -> None:
    person = scene["people"]["us"]
    staff = client_for("staff")
    doc = post(staff, URL.format(person.pk), LEAVE).json()
    response = post(
        staff, f"{URL.format(person.pk)}{doc['id']}/return", {"returned_at": "2025-03-17T14:00Z"}
    )
    assert response.status_code == 400
    assert "before the departure" in response.json()["message"]


def test_roles_and_scope_with_valid_bodies(scene: dict[str, Any], client_for: Any) -> None:
    us, gt_oth, moved = (scene["people"][k] for k in ("us", "gt_oth", "moved"))
    # oversight reads but does not record; liaison and finance see no movements at all
    for user, status in [("oversight", 403), ("auditor", 403), ("liaison_us", 403)]:
        assert post(client_for(user), URL.format(us.pk), LEAVE).status_code == status, user
    assert client_for("liaison_us").get(URL.format(us.pk)).status_code == 403
    assert client_for("finance_us").get(URL.format(us.pk)).status_code == 403
    # staff of another facility: the same 404 as a missing person
    other = post(client_for("staff_oth"), URL.format(us.pk), LEAVE)
    missing = post(client_for("staff_oth"), URL.format(999_999_999), LEAVE)
    assert other.status_code == missing.status_code == 404
    assert other.json() == missing.json()
    # ``moved`` was held in TEC (TEC staff see the person) but is held in OTH now
    held_elsewhere = post(client_for("staff"), URL.format(moved.pk), LEAVE)
    assert held_elsewhere.status_code == 404
    assert "not held in a facility in your scope" in held_elsewhere.json()["message"]
    # OTH staff record it for their own prisoner; TEC staff cannot see nor end it
    doc = post(client_for("staff_oth"), URL.format(gt_oth.pk), LEAVE).json()
    end = f"{URL.format(gt_oth.pk)}{doc['id']}/return"
    assert post(client_for("staff"), end, {}).status_code == 404
    assert post(client_for("oversight"), end, {}).status_code == 403
    assert client_for("oversight").get(URL.format(gt_oth.pk)).json()[0]["id"] == doc["id"]
    assert post(client_for("staff_oth"), end, {}).status_code == 200


def test_not_in_custody_is_409(scene: dict[str, Any], client_for: Any, actor: Any) -> None:
    from habeas.custody.services import custody_release

    us = scene["people"]["us"]
    custody_release(
        actor=actor, person=us, reason="repatriated", at=ADMITTED + dt.timedelta(days=2)
    )
    response = post(client_for("staff"), URL.format(us.pk), LEAVE)
    assert response.status_code == 409
    assert "not in custody" in response.json()["message"]


def test_list_for_oversight_includes_history(scene: dict[str, Any], client_for: Any) -> None:
    person = scene["people"]["gt_tec"]
    staff = client_for("staff")
    first = post(staff, URL.format(person.pk), {**LEAVE, "kind": "hospital"}).json()
    post(
        staff, f"{URL.format(person.pk)}{first['id']}/return", {"returned_at": "2025-03-18T00:00Z"}
    )
    second = post(
        staff,
        URL.format(person.pk),
        {**LEAVE, "started_at": "2025-03-18T10:00:00Z", "expected_return_at": None},
    ).json()
    listed = client_for("oversight").get(URL.format(person.pk)).json()
    assert [(a["id"], a["open"]) for a in listed] == [(second["id"], True), (first["id"], False)]
