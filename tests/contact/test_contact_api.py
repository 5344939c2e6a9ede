"""The contact API (INTERFACES.md: every operation has its endpoint): a visit booked, held
and listed on the gate's list; a refusal as a punishment answered 400 with Rule 43(3); calls
and letters logged and listed; the person's history; nothing for a sending state's liaison."""

from __future__ import annotations

import json
from typing import Any
from zoneinfo import ZoneInfo

from django.test import Client

from tests.contact.conftest import days_ago, next_saturday_9


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _post(client: Client, path: str, body: dict[str, Any]) -> Any:
    return client.post(path, json.dumps(body), content_type="application/json")


def test_visit_booked_listed_refused_with_a_reason(
    slotted: Any, held: Any, users: dict[str, Any]
) -> None:
    staff = _client(users["staff"])
    at = next_saturday_9(slotted["tec"])
    response = _post(staff, "/api/v1/visits/", {
        "person": str(held.pk), "kind": "family", "visitor_name": "Rosa López",
        "relation": "madre", "id_document": "DUI 1", "starts_at": at.isoformat(),
    })  # fmt: skip
    assert response.status_code == 201, response.content
    visit = response.json()
    assert (visit["status"], visit["visitor"]["relation"]) == ("booked", "madre")
    day = at.date().isoformat()
    listed = staff.get(f"/api/v1/visits/?facility=TEC&day={day}").json()
    assert [v["id"] for v in listed] == [visit["id"]]
    refused = _post(staff, f"/api/v1/visits/{visit['id']}/refuse", {"reason": "punishment"})
    assert refused.status_code == 400
    assert "Mandela Rule 43(3)" in refused.json()["message"]
    refused = _post(staff, f"/api/v1/visits/{visit['id']}/refuse", {"reason": "slot_full"})
    assert (refused.status_code, refused.json()["reason"]) == (200, "slot_full")
    oversight = _client(users["oversight"])
    assert _post(oversight, f"/api/v1/visits/{visit['id']}/held", {}).status_code == 403
    assert (
        _client(users["liaison_us"]).get(f"/api/v1/visits/?facility=TEC&day={day}").status_code
        == 403
    )


def test_restriction_as_a_punishment_is_refused(
    slotted: Any, held: Any, users: dict[str, Any]
) -> None:
    response = _post(_client(users["staff"]), "/api/v1/contact-restrictions/", {
        "person": str(held.pk), "means": "visits", "reason": "disciplinary",
        "starts_at": days_ago(0).isoformat(), "ends_at": days_ago(-2).isoformat(),
    })  # fmt: skip
    assert response.status_code == 400
    assert "Mandela Rule 43(3)" in response.json()["message"]


def test_calls_and_letters_logged_and_in_the_history(
    slotted: Any, held: Any, users: dict[str, Any]
) -> None:
    staff = _client(users["staff"])
    response = _post(staff, "/api/v1/contacts/", {
        "person": str(held.pk), "kind": "video_call", "counterpart_kind": "family",
        "counterpart": "Rosa López", "occurred_at": days_ago(1).isoformat(),
    })  # fmt: skip
    assert response.status_code == 201, response.content
    assert [c["kind"] for c in staff.get(f"/api/v1/contacts/?person={held.pk}").json()] == [
        "video_call"
    ]
    history = staff.get(f"/api/v1/persons/{held.pk}/contacts").json()
    assert [c["counterpart"] for c in history["contacts"]] == ["Rosa López"]
    assert _client(users["staff_oth"]).get(f"/api/v1/persons/{held.pk}/contacts").status_code == 404
    assert _client(users["liaison_us"]).get("/api/v1/contacts/").status_code == 403


def test_gate_page_records_a_visit_as_held(
    slotted: Any, held: Any, users: dict[str, Any], actor: Any
) -> None:
    from habeas.contact.models import Visit
    from habeas.contact.services import visit_book, visitor_register

    lawyer = visitor_register(actor=actor, person=held, kind="lawyer", name="Lic. Ana Torres")
    visit = visit_book(actor=actor, person=held, visitor=lawyer, starts_at=days_ago(0.1))
    staff = _client(users["staff"])
    day = visit.starts_at.astimezone(ZoneInfo("America/El_Salvador")).date()
    page = staff.get(f"/contact/TEC/?day={day.isoformat()}").content.decode()
    assert "Lic. Ana Torres" in page
    assert "Took place" in page
    response = staff.post(f"/contact/visits/{visit.pk}/", {"action": "refuse"})
    assert response.status_code == 400  # a refusal needs its reason
    response = staff.post(f"/contact/visits/{visit.pk}/", {"action": "held"})
    assert response.status_code == 302
    assert Visit.objects.get(pk=visit.pk).status == "took_place"
