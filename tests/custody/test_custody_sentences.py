"""Sentence arithmetic and age (STANDARDS.md, "Sentences"; 18 U.S.C. § 3585(b); CRC art. 1,
Mandela Rule 11(d)).

The release date is the sentence start plus the sentence in calendar years, months and days,
less custody credit; ``life`` has no end. Someone is young until the day before their 18th
birthday; with a partial date of birth the latest possible birthday counts.
"""

from __future__ import annotations

import calendar
import datetime as dt
from typing import Any

import pytest

from habeas.core.actor import Actor
from habeas.custody.selectors import basis_ends_on, person_file, release_date
from habeas.custody.sentences import Sentence, add_months, parse_sentence, sentence_end
from habeas.custody.services import LegalBasisSpec, is_youth
from habeas.housing.allocator import is_youth as housing_is_youth
from habeas.people.models import Person
from tests.conftest import admit, make_person, removal_order, sentence

# --- parsing -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("P18M", Sentence(months=18)),
        ("P2Y6M", Sentence(years=2, months=6)),
        ("P90D", Sentence(days=90)),
        ("P3W", Sentence(days=21)),
        ("P1Y2M3D", Sentence(years=1, months=2, days=3)),
        ("P10Y", Sentence(years=10)),
        (" p2y ", Sentence(years=2)),
        ("life", Sentence(life=True)),
        ("LIFE", Sentence(life=True)),
    ],
)
def test_parse_sentence(text: str, expected: Sentence) -> None:
    assert parse_sentence(text) == expected


@pytest.mark.parametrize(
    "text", ["", "P", "2Y", "P1.5Y", "PT5H", "P2Y6", "P-1Y", "ten years", "lifetime"]
)
def test_parse_sentence_refuses_anything_else(text: str) -> None:
    with pytest.raises(ValueError, match="ISO 8601"):
        parse_sentence(text)


def test_total_months() -> None:
    assert parse_sentence("P2Y6M").total_months == 30


# --- release dates -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "length", "credit", "expected"),
    [
        (dt.date(2024, 1, 1), "P18M", 0, dt.date(2025, 7, 1)),
        (dt.date(2024, 1, 1), "P2Y6M", 0, dt.date(2026, 7, 1)),
        (dt.date(2024, 1, 1), "P90D", 0, dt.date(2024, 3, 31)),  # 2024 is a leap year
        (dt.date(2025, 1, 1), "P90D", 0, dt.date(2025, 4, 1)),
        (dt.date(2024, 1, 1), "P2Y6M", 10, dt.date(2026, 6, 21)),  # § 3585(b) credit
        (dt.date(2024, 3, 1), "P1M", 1, dt.date(2024, 3, 31)),
        # The 31st plus one month is the last day of the next month.
        (dt.date(2025, 1, 31), "P1M", 0, dt.date(2025, 2, 28)),
        (dt.date(2024, 1, 31), "P1M", 0, dt.date(2024, 2, 29)),
        (dt.date(2024, 8, 31), "P1M", 0, dt.date(2024, 9, 30)),
        (dt.date(2024, 2, 29), "P1Y", 0, dt.date(2025, 2, 28)),
        (dt.date(2024, 2, 29), "P4Y", 0, dt.date(2028, 2, 29)),
        (dt.date(2024, 12, 15), "P1M", 0, dt.date(2025, 1, 15)),  # across a year end
        (dt.date(2024, 1, 31), "P1M1D", 0, dt.date(2024, 3, 1)),  # months first, then days
    ],
)
def test_sentence_end(start: dt.date, length: str, credit: int, expected: dt.date) -> None:
    assert sentence_end(start, length, credit) == expected


def test_life_has_no_end() -> None:
    assert sentence_end(dt.date(2024, 1, 1), "life") is None
    assert sentence_end(dt.date(2024, 1, 1), "life", 100) is None


@pytest.mark.parametrize("months", [-25, -1, 0, 1, 11, 12, 13, 120])
def test_add_months_lands_in_the_right_month(months: int) -> None:
    day = add_months(dt.date(2024, 1, 31), months)
    year, month0 = divmod(2024 * 12 + months, 12)
    assert (day.year, day.month) == (year, month0 + 1)
    assert day.day == calendar.monthrange(year, month0 + 1)[1]  # the 31st → the last day


# --- age ------------------------------------------------------------------------------------------


def _person(dob: dt.date | None, precision: str = "day") -> Person:
    return Person(date_of_birth=dob, dob_precision=precision, sex="M")


@pytest.mark.parametrize(
    ("dob", "precision", "young_until"),
    [
        (dt.date(2007, 3, 16), "day", dt.date(2025, 3, 15)),
        (dt.date(2007, 12, 31), "day", dt.date(2025, 12, 30)),
        (dt.date(2008, 2, 29), "day", dt.date(2026, 2, 28)),  # 18 on 1 March in a common year
        (dt.date(2007, 6, 1), "year", dt.date(2025, 12, 30)),  # any day of 2007: 31 Dec counts
        (dt.date(2007, 3, 1), "month", dt.date(2025, 3, 30)),  # any day of March: the 31st
        (dt.date(2007, 4, 1), "month", dt.date(2025, 4, 29)),  # April has 30 days
        (dt.date(2007, 2, 1), "month", dt.date(2025, 2, 27)),
        (dt.date(2008, 2, 1), "month", dt.date(2026, 2, 28)),  # born by 29 Feb 2008 at the latest
    ],
)
def test_is_youth_until_the_eve_of_the_eighteenth_birthday(
    dob: dt.date, precision: str, young_until: dt.date
) -> None:
    person = _person(dob, precision)
    assert is_youth(person, young_until - dt.timedelta(days=400))
    assert is_youth(person, young_until)  # the 18th birthday minus one day
    assert not is_youth(person, young_until + dt.timedelta(days=1))  # the 18th birthday
    # The housing planner's copy of the rule agrees.
    for on in (young_until, young_until + dt.timedelta(days=1)):
        assert housing_is_youth(dob, precision, on) == is_youth(person, on)


def test_unknown_date_of_birth_is_treated_as_adult() -> None:
    assert not is_youth(_person(None), dt.date(2025, 3, 16))


# --- release date of a person --------------------------------------------------------------------


@pytest.mark.django_db
def test_release_date_with_two_sentences_is_the_later_end(
    world: dict[str, Any], actor: Actor
) -> None:
    person = make_person(actor)
    short = sentence("P18M", dt.date(2024, 1, 1))  # ends 2025-07-01
    long = LegalBasisSpec(
        kind="criminal_sentence",
        ref="CR-2",
        authority="US",
        offence="fraud",
        sentence="P2Y6M",
        sentence_start=dt.date(2024, 1, 1),
        custody_credit_days=10,  # ends 2026-06-21
    )
    admit(actor, person, world["tec"], world["us"], bases=[long, short])
    assert release_date(person) == dt.date(2026, 6, 21)
    document = person_file(person)
    assert document["release_date"] == "2026-06-21"
    assert sorted(b["ends_on"] for b in document["legal_bases"]) == ["2025-07-01", "2026-06-21"]


@pytest.mark.django_db
def test_release_date_is_none_for_life_removal_only_and_not_held(
    world: dict[str, Any], actor: Actor
) -> None:
    life = make_person(actor)
    admit(actor, life, world["tec"], world["us"], bases=[sentence("P2Y"), sentence("life")])
    assert release_date(life) is None
    civil = make_person(actor)
    admit(actor, civil, world["tec"], world["us"], bases=[removal_order()])
    assert release_date(civil) is None
    assert release_date(make_person(actor)) is None


def test_basis_ends_on_ignores_removal_orders_and_bad_text() -> None:
    from habeas.custody.models import LegalBasis

    assert basis_ends_on(LegalBasis(kind="removal_order")) is None
    assert (
        basis_ends_on(
            LegalBasis(
                kind="criminal_sentence", sentence="ten years", sentence_start=dt.date(2024, 1, 1)
            )
        )
        is None
    )
    assert basis_ends_on(
        LegalBasis(kind="criminal_sentence", sentence="P1Y", sentence_start=dt.date(2024, 1, 1))
    ) == dt.date(2025, 1, 1)
