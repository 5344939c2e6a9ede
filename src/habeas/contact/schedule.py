"""A facility's weekly visiting slots (the setup file's ``visiting_slots``, Mandela Rule
58(1): visits at regular intervals), turned into dated slots in the facility's own time."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from habeas.facilities.models import Facility

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True)
class Slot:
    day: str
    start: dt.time
    end: dt.time
    capacity: int


@dataclass(frozen=True)
class DatedSlot:
    starts_at: dt.datetime
    ends_at: dt.datetime
    capacity: int


def weekly_slots(facility: Facility) -> list[Slot]:
    return [
        Slot(
            day=s["day"],
            start=dt.time.fromisoformat(s["start"]),
            end=dt.time.fromisoformat(s["end"]),
            capacity=int(s["capacity"]),
        )
        for s in (facility.visiting_slots or [])
    ]


def slot_at(facility: Facility, starts_at: dt.datetime) -> Slot | None:
    """The weekly slot that starts at ``starts_at`` (an aware instant), in local time."""
    local = starts_at.astimezone(ZoneInfo(facility.timezone))
    day = WEEKDAYS[local.weekday()]
    for slot in weekly_slots(facility):
        if slot.day == day and slot.start == local.time().replace(tzinfo=None):
            return slot
    return None


def dated_slots(facility: Facility, first: dt.date, days: int) -> list[DatedSlot]:
    """The slots of ``days`` local days from ``first``, in order."""
    zone = ZoneInfo(facility.timezone)
    weekly = weekly_slots(facility)
    found = []
    for i in range(days):
        day = first + dt.timedelta(days=i)
        name = WEEKDAYS[day.weekday()]
        for slot in weekly:
            if slot.day == name:
                found.append(
                    DatedSlot(
                        starts_at=dt.datetime.combine(day, slot.start, tzinfo=zone),
                        ends_at=dt.datetime.combine(day, slot.end, tzinfo=zone),
                        capacity=slot.capacity,
                    )
                )
    return sorted(found, key=lambda s: s.starts_at)


def local_day_bounds(facility: Facility, day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    zone = ZoneInfo(facility.timezone)
    start = dt.datetime.combine(day, dt.time.min, tzinfo=zone)
    return start, dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
