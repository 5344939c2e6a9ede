"""Certified normal accommodation from floor area (STANDARDS.md, "Space per person").

n = ⌊A / shared figure⌋ when n ≥ 2; otherwise 1 when A ≥ the single-cell figure; otherwise 0,
with A = floor area − sanitary annex. CPT 4 / 6 m², ICRC 3.4 / 5.4 m², ECtHR Muršić 3 m².
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from habeas.facilities.standards import (
    STANDARDS,
    certified_capacity,
    space_per_person,
    usable_area,
)


@pytest.mark.parametrize(
    ("area", "standard", "expected"),
    [
        # The examples written in STANDARDS.md.
        ("18", "cpt", 4),
        ("24", "cpt", 6),
        ("7", "cpt", 1),
        ("5", "cpt", 0),
        ("96", "icrc", 28),
        # CPT boundaries on both sides: shared from 8 m² (2 × 4), single from 6 m².
        ("7.99", "cpt", 1),
        ("8.00", "cpt", 2),
        ("5.99", "cpt", 0),
        ("6.00", "cpt", 1),
        ("11.99", "cpt", 2),
        ("12", "cpt", 3),
        # ICRC boundaries: shared from 6.8 m² (2 × 3.4), single from 5.4 m².
        ("6.79", "icrc", 1),
        ("6.8", "icrc", 2),
        ("5.39", "icrc", 0),
        ("5.4", "icrc", 1),
        ("95.19", "icrc", 27),
        ("95.2", "icrc", 28),
        # ECtHR Muršić: 3 m² per person, single and shared alike.
        ("2.99", "ecthr", 0),
        ("3", "ecthr", 1),
        ("5.99", "ecthr", 1),
        ("6", "ecthr", 2),
        # The facility of the demo (STANDARDS.md): 100 m² less the annex.
        ("100", "icrc", 29),
        ("100", "cpt", 25),
        ("100", "ecthr", 33),
        ("0", "cpt", 0),
    ],
)
def test_certified_capacity_examples_and_boundaries(
    area: str, standard: str, expected: int
) -> None:
    assert certified_capacity(Decimal(area), Decimal(0), standard) == expected


def test_sanitary_annex_is_excluded() -> None:
    # CPT: 20 m² with a 2 m² annex is A = 18 → 4 (the STANDARDS.md example again).
    assert certified_capacity(Decimal("20"), Decimal("2"), "cpt") == 4
    assert certified_capacity("100.0", "4.0", "icrc") == 28
    assert certified_capacity(100.0, 4.0, "icrc") == 28  # floats go through their text form


def test_annex_larger_than_floor_gives_zero_not_negative() -> None:
    assert usable_area(Decimal(5), Decimal(9)) == 0
    assert certified_capacity(Decimal(5), Decimal(9), "ecthr") == 0


def test_unknown_standard_is_refused() -> None:
    with pytest.raises(KeyError):
        certified_capacity(Decimal(10), Decimal(0), "nope")


def test_space_per_person() -> None:
    assert space_per_person(Decimal(100), Decimal(4), 0) is None
    assert space_per_person(Decimal(100), Decimal(4), 150) == Decimal("0.64")
    assert space_per_person(Decimal(20), Decimal(2), 4) == Decimal("4.50")


@settings(max_examples=200, deadline=None)
@given(
    area=st.decimals(min_value=0, max_value=1000, places=2),
    standard=st.sampled_from(sorted(STANDARDS)),
)
def test_certified_capacity_never_gives_less_space_than_the_standard(
    area: Decimal, standard: str
) -> None:
    spec = STANDARDS[standard]
    n = certified_capacity(area, Decimal(0), standard)
    if n >= 2:
        assert area / n >= spec.shared_m2
        assert area / (n + 1) < spec.shared_m2  # and is the largest such n
    elif n == 1:
        assert area >= spec.single_m2
        assert area < 2 * spec.shared_m2
    else:
        assert area < spec.single_m2
