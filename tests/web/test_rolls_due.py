"""Roll counts due on the dashboard's "needs attention" panel (issue 11, item 7): the roll is
counted at fixed times of day in each facility's local time (HMPPS establishment roll;
``HABEAS_ROLL_COUNT_TIMES``); a facility that holds people and has not counted since the latest
of those times is due."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client
from django.utils import timezone

from habeas.web.attention import roll_slot, rolls_due
from tests.conftest import admit, make_person

SV = ZoneInfo("America/El_Salvador")
TIMES = ["06:00", "12:00", "18:00", "22:00"]


@pytest.mark.parametrize(
    ("local", "slot"),
    [
        ((2025, 4, 2, 12, 0), (2025, 4, 2, 12, 0)),  # at the time: due from that minute
        ((2025, 4, 2, 11, 59), (2025, 4, 2, 6, 0)),  # a minute before: the morning's
        ((2025, 4, 2, 5, 59), (2025, 4, 1, 22, 0)),  # before the first: last night's
        ((2025, 4, 2, 23, 30), (2025, 4, 2, 22, 0)),
    ],
)
def test_the_latest_scheduled_count(local: tuple[int, ...], slot: tuple[int, ...]) -> None:
    at = dt.datetime(*local, tzinfo=SV)
    assert roll_slot(TIMES, at) == dt.datetime(*slot, tzinfo=SV)


def test_no_schedule_no_slot() -> None:
    assert roll_slot([], dt.datetime(2025, 4, 2, 12, 0, tzinfo=SV)) is None


def test_a_bad_time_of_day_is_refused_at_start() -> None:
    from habeas.settings import _roll_times

    assert _roll_times(" 18:00,06:00 ,") == ["06:00", "18:00"]
    with pytest.raises(ImproperlyConfigured, match="25:00"):
        _roll_times("06:00,25:00")


def test_a_facility_holding_people_is_due_until_its_roll_is_counted(
    world: dict[str, Any], actor: Any, users: dict[str, Any], settings: Any
) -> None:
    from habeas.housing.services import RollLine, roll_count_record

    settings.HABEAS_ROLL_COUNT_TIMES = TIMES
    current = timezone.now()
    slot = roll_slot(TIMES, current.astimezone(SV))
    assert slot is not None
    staff = users["staff"]
    assert rolls_due(staff, current) == []  # nobody held in TEC: nothing to count
    admit(actor, make_person(actor), world["tec"], world["us"], cell="M1-01")
    (due,) = rolls_due(staff, current)
    assert due["facility"] == "TEC"
    assert due["at"] == f"{slot:%H:%M} CST"
    assert rolls_due(users["liaison_us"], current) == []  # no cells for a sending state
    # a count before the scheduled time does not do; one at or after it does
    earlier = slot - dt.timedelta(minutes=1)
    roll_count_record(
        actor=actor, facility=world["tec"], counted_at=earlier, lines=[RollLine("M1-01", 1)]
    )
    assert [d["facility"] for d in rolls_due(staff, current)] == ["TEC"]
    roll_count_record(
        actor=actor, facility=world["tec"], counted_at=slot, lines=[RollLine("M1-01", 1)]
    )
    assert rolls_due(staff, current) == []


def test_the_panel_links_the_roll(
    world: dict[str, Any], actor: Any, users: dict[str, Any], settings: Any
) -> None:
    settings.HABEAS_ROLL_COUNT_TIMES = TIMES
    admit(actor, make_person(actor), world["tec"], world["us"], cell="M1-01")
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(users["staff"])
    page = client.get("/dashboard/").content.decode()
    assert "roll count due" in page
    assert "/housing/TEC/roll/" in page
    client.cookies["django_language"] = "es"
    assert "recuento pendiente" in client.get("/dashboard/").content.decode()
