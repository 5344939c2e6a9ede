"""Billable days from custody intervals, by interval arithmetic on arrays (STANDARDS.md,
Billing: "the day of arrival is billed, the day of departure is not; a stay that begins and
ends on the same day is billed as one day. Days are counted in the facility's local time").

Days are integers (days since 1970-01-01 in the facility's local calendar). Every step works
on whole arrays of intervals with numpy: no step walks the days of a stay.

Conventions (``agreements.choices.DayCount``), for arrival day A and departure day D:

* ``arrival_not_departure``: A … D−1; a same-day stay (A = D) is the one day A;
* ``both``: A … D;
* ``midnights``: the nights in custody, each counted on the day it begins: A … D−1; a
  same-day stay is no day.

An interval still open has no departure: it runs past any period. A person's intervals under
one agreement are merged before counting, so a day is never billed twice: a release and
readmission on one day under ``both``, or a transfer to another facility of the same
agreement, continue the stay.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

Days = npt.NDArray[np.int64]

EPOCH = dt.date(1970, 1, 1)
#: A day after any period: the departure of an interval still open.
OPEN = np.int64(10**7)


def day_number(value: dt.date) -> int:
    return (value - EPOCH).days


def day_of(number: int) -> dt.date:
    return EPOCH + dt.timedelta(days=int(number))


def local_days(seconds: npt.NDArray[np.int64], zone: str) -> Days:
    """The local calendar day of each UTC instant (seconds since the epoch) in ``zone``.

    The zone's offsets are read once a week between the first and last instant (no zone
    changes its offset twice in a week) and, where two differ, the exact second of the change
    is found by bisection: every instant is
    then shifted by the offset in force with one ``searchsorted``."""
    if seconds.size == 0:
        return np.empty(0, dtype=np.int64)
    tz = ZoneInfo(zone)

    def offset(second: int) -> int:
        moment = dt.datetime.fromtimestamp(second, dt.UTC).astimezone(tz)
        delta = moment.utcoffset()
        return int(delta.total_seconds()) if delta is not None else 0

    first, last = int(seconds.min()), int(seconds.max())
    start = first - first % 86400
    changes = [start]
    offsets = [offset(start)]
    week = 7 * 86400
    probe = start + week
    while probe <= last + week:
        current = offset(probe)
        if current != offsets[-1]:
            lo, hi = probe - week, probe
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if offset(mid) == offsets[-1]:
                    lo = mid
                else:
                    hi = mid
            changes.append(hi)
            offsets.append(current)
        probe += week
    at = np.searchsorted(np.asarray(changes, dtype=np.int64), seconds, side="right") - 1
    shifted = seconds + np.asarray(offsets, dtype=np.int64)[at]
    return np.floor_divide(shifted, 86400).astype(np.int64)


def billed_ranges(arrive: Days, depart: Days, convention: str) -> tuple[Days, Days]:
    """The first and last billed day of each interval (last < first: no day)."""
    open_ = depart >= OPEN
    if convention == "both":
        last = depart.copy()
    elif convention == "midnights":
        last = depart - 1
    else:  # arrival_not_departure
        last = np.maximum(depart - 1, arrive)
    last = np.where(open_, OPEN, last)
    return arrive.copy(), last


@dataclass(frozen=True)
class Ranges:
    """Non-overlapping day ranges, sorted by person then first day; ``first``/``last``
    inclusive."""

    person: Days
    first: Days
    last: Days

    @property
    def days(self) -> Days:
        return self.last - self.first + 1


def merge(person: Days, first: Days, last: Days) -> Ranges:
    """Each person's ranges merged where they overlap or touch (a day billed once)."""
    keep = last >= first
    person, first, last = person[keep], first[keep], last[keep]
    if person.size == 0:
        return Ranges(person, first, last)
    order = np.lexsort((first, person))
    person, first, last = person[order], first[order], last[order]
    # The running maximum of ``last`` within each person: ranks keep groups apart.
    rank = np.concatenate(([0], np.cumsum(person[1:] != person[:-1])))
    span = np.int64(2 * int(OPEN) + 2)
    running = np.maximum.accumulate(rank * span + last) - rank * span
    previous = np.concatenate(([np.int64(-(2**40))], running[:-1]))
    new_person = np.concatenate(([True], person[1:] != person[:-1]))
    starts = new_person | (first > previous + 1)
    at = np.flatnonzero(starts)
    return Ranges(person[at], first[at], np.maximum.reduceat(last, at))


def clip(ranges: Ranges, lo: int, hi: int) -> Ranges:
    """The parts of the ranges inside ``lo … hi``."""
    first = np.maximum(ranges.first, lo)
    last = np.minimum(ranges.last, hi)
    keep = last >= first
    return Ranges(ranges.person[keep], first[keep], last[keep])


@dataclass(frozen=True)
class Split:
    """Ranges cut at rate changes: ``segment`` is the index of the schedule segment."""

    person: Days
    first: Days
    last: Days
    segment: Days


def split(ranges: Ranges, bounds: Sequence[tuple[int, int]]) -> Split:
    """Cut the ranges at the schedule's segments ``[(first, last), …]`` (one pass per
    segment, a handful a month)."""
    parts: list[tuple[Days, Days, Days, Days]] = []
    for index, (lo, hi) in enumerate(bounds):
        first = np.maximum(ranges.first, lo)
        last = np.minimum(ranges.last, hi)
        keep = last >= first
        n = int(keep.sum())
        parts.append(
            (ranges.person[keep], first[keep], last[keep], np.full(n, index, dtype=np.int64))
        )
    if not parts:
        empty = np.empty(0, dtype=np.int64)
        return Split(empty, empty, empty, empty)
    person, first, last, segment = (np.concatenate(p) for p in zip(*parts, strict=True))
    order = np.lexsort((first, person))
    return Split(person[order], first[order], last[order], segment[order])


def headcount_above(ranges: Ranges, above: int, lo: int, hi: int) -> int:
    """Person-days above ``above`` people held, summed over the days ``lo … hi``: the
    headcount is a step function (one step up at each first day, one down after each last
    day), so the sum is over its steps, not its days."""
    if ranges.person.size == 0 or hi < lo:
        return 0
    r = clip(ranges, lo, hi)
    days = np.concatenate((r.first, r.last + 1))
    steps = np.concatenate((np.ones(r.first.size, np.int64), -np.ones(r.last.size, np.int64)))
    points, where = np.unique(days, return_inverse=True)
    change = np.zeros(points.size, dtype=np.int64)
    np.add.at(change, where, steps)
    held = np.cumsum(change)
    lengths = np.diff(points)
    excess = np.maximum(held[:-1] - above, 0)
    return int((excess * lengths).sum())
