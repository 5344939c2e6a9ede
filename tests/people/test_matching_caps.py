"""Identity matching: surnames paired one to one, months that differ, and the caps that keep a
pair below *same* whatever the estimated weights (habeas.people.matching; ISSUE 15 item 2).

Each rule on both sides of its boundary. The caps are tested with weights that would
otherwise call the pair *same* (the disagreeing level weighs nothing), as weights estimated
from a registry may."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

from habeas.people import weights
from habeas.people.matching import (
    SAME,
    SURNAMES_FAR,
    PersonRecord,
    _bag_score,
    dob_level,
    score,
    surname_level,
    tokens,
)


def rec(ref: str = "a", **kw: Any) -> PersonRecord:
    base: dict[str, Any] = {
        "given_names": "Edgar",
        "first_surname": "Sánchez",
        "second_surname": "Gutiérrez",
        "date_of_birth": dt.date(1990, 7, 18),
        "sex": "M",
        "nationalities": ["EC"],
    }
    base.update(kw)
    return PersonRecord(ref=ref, **base)


def neutral(**levels: int) -> weights.Params:
    """The shipped weights with the named field's level weighing nothing (m = u)."""
    p = copy.deepcopy(weights.current())
    p._weights = None
    for name, level in levels.items():
        p.m[name][level] = p.u[name][level]
    return p


def t(text: str) -> tuple[str, ...]:
    return tuple(tokens(text))


# --- surnames paired one to one ------------------------------------------------------------


def test_a_repeated_surname_is_not_one_missing() -> None:
    # Rivera Rivera / Rodríguez Rivera: one surname in common, the other different.
    assert surname_level(t("Rivera Rivera"), t("Rodríguez Rivera"))[0] == 5
    assert _bag_score(t("Rivera Rivera"), t("Rodríguez Rivera")) < 0.88
    # Rivera alone against Rodríguez Rivera: one missing, the other exact.
    assert surname_level(t("Rivera"), t("Rodríguez Rivera"))[0] == 2
    # both, in either order
    assert surname_level(t("Rivera Rodríguez"), t("Rodríguez Rivera"))[0] == 1


# --- months both known ---------------------------------------------------------------------


def test_months_both_known_that_differ_are_a_different_date() -> None:
    full = rec(date_of_birth=dt.date(1968, 9, 11))
    assert dob_level(full, rec("b", date_of_birth=dt.date(1968, 9, 1), dob_precision="month")) == 6
    assert dob_level(full, rec("b", date_of_birth=dt.date(1968, 3, 1), dob_precision="month")) == 11
    # the day of one is the month of the other: a swap kept to the month
    assert dob_level(full, rec("b", date_of_birth=dt.date(1968, 11, 1), dob_precision="month")) == 7
    # known to the year only: the year agrees
    assert dob_level(full, rec("b", date_of_birth=dt.date(1968, 1, 1), dob_precision="year")) == 8


# --- a full date that differs --------------------------------------------------------------


def test_a_full_date_that_differs_keeps_the_same_name_below_same() -> None:
    p = neutral(date_of_birth=10)
    other = rec("b", date_of_birth=dt.date(1963, 4, 26))
    assert dob_level(rec(), other) == 10
    assert score(rec(), other, p).score < SAME
    assert score(rec(), rec("b"), p).band == "same"


# --- surnames with nothing in common -------------------------------------------------------


def test_far_surnames_with_a_partial_date_stay_below_same() -> None:
    p = neutral(surnames=6)
    a = rec(given_names="Elvis", first_surname="Ortiz", second_surname="Lugo")
    a.date_of_birth = dt.date(1977, 8, 7)
    # day and month swapped: a partial agreement
    b = rec("b", given_names="Elvis", first_surname="García", second_surname="")
    b.date_of_birth = dt.date(1977, 7, 8)
    assert _bag_score(t("García"), t("Ortiz Lugo")) < SURNAMES_FAR
    assert dob_level(a, b) == 1
    assert score(a, b, p).score < SAME
    # known to the month only
    b.date_of_birth, b.dob_precision = dt.date(1977, 8, 1), "month"
    assert score(a, b, p).score < SAME


def test_far_surnames_with_the_same_full_date_are_not_capped() -> None:
    # A surname replaced (marriage; FEBRL's corruptions): the same full date may make it one.
    p = neutral(surnames=6)
    a = rec(given_names="Jessica", first_surname="Millane", second_surname="")
    b = rec("b", given_names="Jessica", first_surname="Lowe", second_surname="")
    assert score(a, b, p).band == "same"


def test_near_surnames_with_a_partial_date_are_not_capped() -> None:
    # A typo with the second surname dropped (Duaete / Duarte Yépez) is not far.
    p = neutral(surnames=6)
    a = rec(given_names="Antonio", first_surname="Duarte", second_surname="Yépez")
    a.date_of_birth = dt.date(1995, 8, 7)
    b = rec("b", given_names="Antonio", first_surname="Duaete", second_surname="")
    b.date_of_birth = dt.date(1995, 7, 8)
    assert surname_level(t("Duarte Yépez"), t("Duaete"))[0] == 6
    assert _bag_score(t("Duarte Yépez"), t("Duaete")) >= SURNAMES_FAR
    assert score(a, b, p).band == "same"
