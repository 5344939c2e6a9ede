"""The contact tests' world: the small setup with TEC's weekly visiting slots added (an
amendment of the setup, as an operator would apply it), and people held there."""

from __future__ import annotations

import datetime as dt
import tomllib
from typing import Any

import pytest

from tests.conftest import SMALL_SETUP, admit, make_person

SLOTS = """visiting_slots = [
  {day = "saturday", start = "09:00", end = "12:00", capacity = 2},
  {day = "wednesday", start = "14:00", end = "16:00", capacity = 20},
]
visiting = {en = "Weekends", es = "Fines de semana"}
"""
#: The small setup with TEC's slots (Saturday 09:00 takes 2 family visits).
SLOTTED_SETUP = SMALL_SETUP.replace('visiting = "Weekdays"\n', SLOTS, 1)


@pytest.fixture
def slotted(world: dict[str, Any], actor: Any) -> dict[str, Any]:
    from habeas.facilities.models import Facility
    from habeas.facilities.setup import setup_apply
    from habeas.facilities.setup_schema import parse_setup

    setup_apply(actor=actor, document=parse_setup(tomllib.loads(SLOTTED_SETUP), name="s.toml"))
    world["tec"] = Facility.objects.get(code="TEC")
    return world


def days_ago(days: float) -> dt.datetime:
    from habeas.core.clock import now

    return now() - dt.timedelta(days=days)


def next_saturday_9(facility: Any) -> dt.datetime:
    """The next Saturday's 09:00 slot, in the facility's time."""
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(facility.timezone)
    today = days_ago(0).astimezone(zone).date()
    ahead = (5 - today.weekday()) % 7 or 7
    return dt.datetime.combine(today + dt.timedelta(days=ahead), dt.time(9, 0), tzinfo=zone)


@pytest.fixture
def held(slotted: dict[str, Any], actor: Any) -> Any:
    """A Venezuelan held at TEC (US agreement) for 40 days, never contacted."""
    person = make_person(actor, nationality="VE")
    admit(actor, person, slotted["tec"], slotted["us"], at=days_ago(40))
    return person


def add_held(
    world: dict[str, Any], actor: Any, *, days: float, nationality: str = "VE", **kw: Any
) -> Any:
    person = make_person(actor, nationality=nationality, **kw)
    admit(actor, person, world["tec"], world["us"], at=days_ago(days))
    return person
