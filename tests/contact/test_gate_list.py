"""The gate's list of a day's visits (Mandela Rules 58, 61; VCCR art. 36(1)(c)): one slot at
a time, lawyers and consular officers apart (received without delay, outside the slots), the
day's counts from every visit, and a busy slot read one page at a time."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.test import Client

from tests.contact.conftest import add_held, next_saturday_9


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def saturday(slotted: Any, held: Any, actor: Any) -> dict[str, Any]:
    """Two family visits in TEC's Saturday 09:00 slot and a lawyer's visit that afternoon."""
    import datetime as dt

    from habeas.contact.services import visit_book, visitor_register

    at = next_saturday_9(slotted["tec"])
    other = add_held(slotted, actor, days=10)
    for person, name in ((held, "Rosa Martínez"), (other, "Juan Pérez")):
        visitor = visitor_register(
            actor=actor, person=person, kind="family", name=name, relation="madre"
        )
        visit_book(actor=actor, person=person, visitor=visitor, starts_at=at)
    lawyer = visitor_register(actor=actor, person=held, kind="lawyer", name="Lic. Ana Torres")
    visit_book(actor=actor, person=held, visitor=lawyer, starts_at=at + dt.timedelta(hours=5))
    day = at.astimezone(ZoneInfo("America/El_Salvador")).date()
    return {"day": day.isoformat()}


def test_gate_list_shows_one_slot_and_the_lawyers_apart(
    saturday: dict[str, Any], users: dict[str, Any]
) -> None:
    staff = _client(users["staff"])
    slot = staff.get(f"/contact/TEC/?day={saturday['day']}&slot=09:00").content.decode()
    assert "Rosa Martínez" in slot
    assert "Juan Pérez" in slot
    assert "Lic. Ana Torres" not in slot
    assert "2 of 2 places taken" in slot
    assert "3 visits on this day" in slot
    other = staff.get(f"/contact/TEC/?day={saturday['day']}&slot=other").content.decode()
    assert "Lic. Ana Torres" in other
    assert "Rosa Martínez" not in other
    # By default (a past or future day, no slot in progress): the first tab with visits.
    first = staff.get(f"/contact/TEC/?day={saturday['day']}").content.decode()
    assert "Rosa Martínez" in first


def test_gate_list_reads_a_busy_slot_one_page_at_a_time(
    saturday: dict[str, Any], users: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    import habeas.contact.views

    monkeypatch.setattr(habeas.contact.views, "GATE_PAGE", 1)
    staff = _client(users["staff"])
    path = f"/contact/TEC/?day={saturday['day']}&slot=09:00"
    pages = [staff.get(f"{path}&page={n}").content.decode() for n in (1, 2)]
    assert ["Rosa Martínez" in p for p in pages].count(True) == 1
    assert ["Juan Pérez" in p for p in pages].count(True) == 1
    assert "Visits 2–2 of 2" in pages[1]
    # A page past the end, or not a number, is the nearest page, never an error.
    assert staff.get(f"{path}&page=99").status_code == 200
    assert staff.get(f"{path}&page=x").status_code == 200
