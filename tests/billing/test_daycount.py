"""Day counting on arrays against hand-computed cases and a naive per-day count
(STANDARDS.md, Billing)."""

from __future__ import annotations

import datetime as dt

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from habeas.billing import daycount
from habeas.billing.daycount import OPEN, day_number

D = day_number


def _days(person: list[int], arrive: list[int], depart: list[int], convention: str) -> int:
    p, a, d = (np.asarray(x, dtype=np.int64) for x in (person, arrive, depart))
    first, last = daycount.billed_ranges(a, d, convention)
    return int(daycount.merge(p, first, last).days.sum())


def test_same_day_stay_is_one_day_but_no_midnight() -> None:
    day = D(dt.date(2025, 3, 20))
    assert _days([1], [day], [day], "arrival_not_departure") == 1
    assert _days([1], [day], [day], "both") == 1
    assert _days([1], [day], [day], "midnights") == 0


def test_arrival_billed_departure_not() -> None:
    a, d = D(dt.date(2025, 3, 16)), D(dt.date(2025, 3, 20))
    assert _days([1], [a], [d], "arrival_not_departure") == 4
    assert _days([1], [a], [d], "both") == 5
    assert _days([1], [a], [d], "midnights") == 4


def test_release_and_readmission_on_one_day_is_not_billed_twice() -> None:
    a, r, back = D(dt.date(2025, 3, 16)), D(dt.date(2025, 3, 20)), D(dt.date(2025, 3, 20))
    assert _days([1, 1], [a, back], [r, D(dt.date(2025, 3, 25))], "both") == 10


def test_local_day_of_an_arrival_late_on_the_last_day_of_the_month() -> None:
    """21:00 on 31 March in El Salvador (UTC−6) is already 1 April in UTC."""
    instant = dt.datetime(2025, 4, 1, 3, 0, tzinfo=dt.UTC)
    got = daycount.local_days(np.asarray([int(instant.timestamp())]), "America/El_Salvador")
    assert got.tolist() == [D(dt.date(2025, 3, 31))]


def test_local_days_across_a_daylight_saving_change() -> None:
    """New York: 04:59 UTC on 9 March 2025 is 23:59 EST on the 8th; 05:00 UTC on the 10th is
    01:00 EDT on the 10th; 04:59 UTC on 3 November is 23:59 EST on the 2nd."""
    cases = [
        (dt.datetime(2025, 3, 9, 4, 59, tzinfo=dt.UTC), dt.date(2025, 3, 8)),
        (dt.datetime(2025, 3, 10, 5, 0, tzinfo=dt.UTC), dt.date(2025, 3, 10)),
        (dt.datetime(2025, 11, 2, 4, 59, tzinfo=dt.UTC), dt.date(2025, 11, 2)),
        (dt.datetime(2025, 11, 3, 4, 59, tzinfo=dt.UTC), dt.date(2025, 11, 2)),
        (dt.datetime(2025, 11, 3, 5, 0, tzinfo=dt.UTC), dt.date(2025, 11, 3)),
    ]
    seconds = np.asarray([int(c.timestamp()) for c, _ in cases], dtype=np.int64)
    got = daycount.local_days(seconds, "America/New_York")
    assert got.tolist() == [D(day) for _, day in cases]


def test_headcount_above_a_tier() -> None:
    """Three people on 1–10 March, a fourth on 6–10: above 2 people, 1×5 + 2×5 = 15."""
    m1, m5, m6, m10 = (D(dt.date(2025, 3, d)) for d in (1, 5, 6, 10))
    ranges = daycount.Ranges(
        np.asarray([1, 2, 3, 4]), np.asarray([m1, m1, m1, m6]), np.asarray([m10] * 4)
    )
    assert daycount.headcount_above(ranges, 2, m1, m10) == 15
    assert daycount.headcount_above(ranges, 3, m1, m10) == 5
    assert daycount.headcount_above(ranges, 3, m1, m5) == 0


# --- properties -------------------------------------------------------------------------------

YEAR = (D(dt.date(2025, 1, 1)), D(dt.date(2025, 12, 31)))
CONVENTIONS = st.sampled_from(["arrival_not_departure", "both", "midnights"])


@st.composite
def histories(draw: st.DrawFn) -> tuple[list[int], list[int], list[int]]:
    """Each person's stays, in order, never overlapping (one open episode at a time); the last
    may be open."""
    person, arrive, depart = [], [], []
    for p in range(draw(st.integers(1, 6))):
        day = YEAR[0] - draw(st.integers(0, 40))
        for _ in range(draw(st.integers(1, 4))):
            day += draw(st.integers(0, 60))
            length = draw(st.integers(0, 90))
            is_open = draw(st.booleans()) and length > 80
            person.append(p)
            arrive.append(day)
            depart.append(int(OPEN) if is_open else day + length)
            if is_open:
                break
            day += length
    return person, arrive, depart


def _naive(history: tuple[list[int], list[int], list[int]], convention: str, lo: int, hi: int):
    """The per-day loop the arrays replace: a set of (person, day)."""
    days = set()
    for p, a, d in zip(*history, strict=True):
        end = hi + 1 if d >= OPEN else d
        if convention == "both":
            span = range(a, end + 1)
        elif convention == "midnights":
            span = range(a, end)
        else:
            span = range(a, max(end, a + 1))
        days |= {(p, day) for day in span if lo <= day <= hi}
    return days


def _months() -> list[tuple[int, int]]:
    out = []
    for m in range(1, 13):
        first = dt.date(2025, m, 1)
        nxt = dt.date(2025 + m // 12, m % 12 + 1, 1)
        out.append((D(first), D(nxt) - 1))
    return out


@settings(max_examples=150, deadline=None)
@given(histories(), CONVENTIONS)
def test_months_add_up_to_the_year_and_no_day_is_billed_twice(history, convention) -> None:
    p, a, d = (np.asarray(x, dtype=np.int64) for x in history)
    first, last = daycount.billed_ranges(a, d, convention)
    merged = daycount.merge(p, first, last)
    year = daycount.clip(merged, *YEAR)
    monthly = sum(int(daycount.clip(merged, lo, hi).days.sum()) for lo, hi in _months())
    assert monthly == int(year.days.sum())
    expected = _naive(history, convention, *YEAR)
    assert int(year.days.sum()) == len(expected)  # a day counted once: sizes agree with a set
    got = {
        (pp, day)
        for pp, f, la in zip(year.person, year.first, year.last, strict=False)
        for day in range(f, la + 1)
    }
    assert got == expected
