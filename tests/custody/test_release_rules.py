"""Release dates by rule set (habeas.custody.release; STANDARDS.md, Sentences), computed by
hand on both sides of each boundary: 18 U.S.C. § 3624(b) good conduct time (more than one
year, not life, prorated), § 3585(b) prior custody credit, § 3624(a) weekend and holidays at
the place of confinement."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from habeas.custody.release import (
    BasisInput,
    calculate,
    full_term_less_credit,
    good_conduct_days,
    previous_working_day,
)


def _federal(
    sentence: str, start: dt.date, credit: int = 0, country: str = "SV", forfeited: int = 0
):
    return calculate("us_federal", country, [BasisInput(1, sentence, start, credit, forfeited)])


def test_ten_years_earns_540_days_and_a_saturday_moves_to_friday() -> None:
    # 2020-01-06 + 10 years = 2030-01-06; less 540 days = Saturday 2028-07-15 → Friday 07-14.
    calc = _federal("P10Y", dt.date(2020, 1, 6))
    assert calc.full_term == dt.date(2030, 1, 6)
    assert calc.results[0].gct_days == 540
    assert calc.release_date == dt.date(2028, 7, 14)
    weekend = calc.working()[0]["steps"][-1]["values"]["skipped"]
    assert weekend == [{"day": "2028-07-15", "why": "saturday"}]


def test_two_years_with_prior_custody_credit() -> None:
    # 2024-03-04 + 2 years = 2026-03-04; less 30 days credit = 2026-02-02; less 108 days of
    # good conduct time = Friday 2025-10-17.
    calc = _federal("P2Y", dt.date(2024, 3, 4), credit=30)
    assert calc.results[0].ends_on == dt.date(2026, 2, 2)
    assert calc.results[0].gct_days == 108
    assert calc.release_date == dt.date(2025, 10, 17)


def test_exactly_twelve_months_earns_no_good_conduct_time() -> None:
    for text in ("P12M", "P1Y"):
        calc = _federal(text, dt.date(2025, 2, 3))
        assert calc.results[0].gct_days == 0
        assert calc.release_date == dt.date(2026, 2, 3)  # a Tuesday: it stays


def test_one_year_and_one_day_earns_a_full_year() -> None:
    # More than one year: 54 × (1 + 1/365) = 54.1 → 54 days.
    assert good_conduct_days("P1Y1D") == 54
    assert good_conduct_days("P1Y") == 0


def test_thirteen_months_prorated_and_back_over_the_weekend() -> None:
    # 54 × 13 / 12 = 58.5 → 58 days; 2026-03-03 − 58 = Sunday 2026-01-04 → Friday 01-02.
    calc = _federal("P13M", dt.date(2025, 2, 3))
    assert calc.results[0].gct_days == 58
    assert calc.release_date == dt.date(2026, 1, 2)


def test_life_has_no_date() -> None:
    calc = _federal("life", dt.date(2025, 2, 3))
    assert calc.release_date is None
    assert calc.results[0].gct_days == 0
    assert full_term_less_credit("life", dt.date(2025, 2, 3), 0) is None


def test_a_holiday_of_the_place_of_confinement_that_is_not_a_us_holiday() -> None:
    # 2024-11-22 + 2 years − 108 days = Thursday 2026-08-06, the Celebrations of San Salvador:
    # held in El Salvador the date moves to Wednesday 08-05; in the United States it stays.
    start = dt.date(2024, 11, 22)
    assert _federal("P2Y", start, country="US").release_date == dt.date(2026, 8, 6)
    held_in_sv = _federal("P2Y", start, country="SV")
    assert held_in_sv.release_date == dt.date(2026, 8, 5)
    skipped = held_in_sv.working()[0]["steps"][-1]["values"]["skipped"]
    assert skipped[0]["day"] == "2026-08-06"
    assert skipped[0]["why"] == "holiday"


def test_forfeited_credit_moves_the_date_later_never_past_the_full_term() -> None:
    start = dt.date(2024, 3, 4)
    full = _federal("P2Y", start, forfeited=0).release_date
    later = _federal("P2Y", start, forfeited=10).release_date
    assert full is not None
    assert later is not None
    assert later > full
    everything = _federal("P2Y", start, forfeited=10_000)
    assert everything.results[0].gct_days == 0
    assert everything.release_date is not None
    assert everything.release_date <= dt.date(2026, 3, 4)


def test_plain_rules_give_the_full_term_less_credit() -> None:
    calc = calculate("plain", "SV", [BasisInput(1, "P2Y", dt.date(2024, 3, 4), 30)])
    assert calc.release_date == dt.date(2026, 2, 2)  # no remission, no weekend rule
    assert calc.version == "plain-1"


def test_concurrent_sentences_release_on_the_latest_and_life_has_none() -> None:
    two = [BasisInput(1, "P2Y", dt.date(2024, 3, 4)), BasisInput(2, "P3Y", dt.date(2024, 3, 4))]
    assert calculate("plain", "SV", two).release_date == dt.date(2027, 3, 4)
    with_life = [*two, BasisInput(3, "life", dt.date(2024, 3, 4))]
    assert calculate("plain", "SV", with_life).release_date is None


def test_the_weekend_rule_only_moves_back_to_a_weekday() -> None:
    day, skipped = previous_working_day(dt.date(2026, 1, 4), "SV")  # a Sunday
    assert day == dt.date(2026, 1, 2)
    assert [s["why"] for s in skipped] == ["sunday", "saturday"]


sentences = st.one_of(
    st.just("life"),
    st.builds(
        lambda y, m, d: f"P{y}Y{m}M{d}D" if d else f"P{y}Y{m}M",
        st.integers(0, 40),
        st.integers(0, 11),
        st.integers(0, 400),
    ).filter(lambda s: s not in {"P0Y0M"}),
)


@given(
    sentence=sentences,
    start=st.dates(dt.date(1990, 1, 1), dt.date(2040, 12, 31)),
    credit=st.integers(0, 2000),
    forfeited=st.integers(0, 3000),
    country=st.sampled_from(["SV", "US", "GT", "ZZ"]),
    rules=st.sampled_from(["us_federal", "plain"]),
)
def test_a_projected_release_date_is_never_after_the_full_term(
    sentence: str, start: dt.date, credit: int, forfeited: int, country: str, rules: str
) -> None:
    calc = calculate(rules, country, [BasisInput(1, sentence, start, credit, forfeited)])
    result = calc.results[0]
    if sentence == "life":
        assert calc.release_date is None
        return
    assert result.full_term is not None
    assert calc.release_date is not None
    assert calc.release_date <= result.full_term
    assert result.ends_on is not None
    assert calc.release_date <= result.ends_on
    assert calc.release_date.weekday() < 5 or rules == "plain"
