"""Release dates by named rule sets, with their working (STANDARDS.md, Sentences).

An agreement names the rule set its people's release dates are computed by
(``Agreement.sentence_rules``, INTERFACES.md v1.1):

* ``plain`` — the full term less custody credit (18 U.S.C. § 3585(b) style credit for days in
  custody before the sentence began); no remission, no weekend rule.
* ``us_federal`` —
  1. full term: sentence start + the sentence imposed (calendar years and months, then days);
  2. prior custody credit, 18 U.S.C. § 3585(b): days in official detention before the
     sentence began;
  3. good conduct time, 18 U.S.C. § 3624(b) as amended by the First Step Act (2018): 54 days
     for each year of the sentence imposed, a part-year earning a prorated share in whole days
     (54 × months / 12, and 54 × days / 365 for a days part), only for a sentence of *more*
     than one year and not for life; a projected date assumes full credit, less what a
     disciplinary finding forfeited and was not restored;
  4. 18 U.S.C. § 3624(a): a date on a Saturday, a Sunday or a legal holiday *at the place of
     confinement* moves to the last preceding weekday (the ``holidays`` package, the
     facility's country).

Like HMPPS's calculate-release-dates, a calculation is a pure function of its inputs and the
rule-set version; it returns its working, step by step, so a person, a lawyer or a sending
state can check it by hand. ``habeas.custody.calculations`` stores it with its inputs.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from functools import lru_cache
from typing import Any

import orjson

from habeas.custody.sentences import Sentence, add_months, parse_sentence

#: The version of each rule set: stored with every calculation; a change of the arithmetic is
#: a new version, and calculations made under the old one stay as they were.
VERSIONS = {"plain": "plain-1", "us_federal": "us_federal-1"}
RULE_SETS = tuple(VERSIONS)

GCT_DAYS_PER_YEAR = 54


@dataclass(frozen=True)
class BasisInput:
    """What a calculation reads of one criminal sentence."""

    basis: int
    sentence: str
    sentence_start: dt.date
    credit_days: int = 0
    forfeited_days: int = 0

    def document(self) -> dict[str, Any]:
        return {
            "basis": self.basis,
            "sentence": self.sentence,
            "sentence_start": self.sentence_start.isoformat(),
            "credit_days": self.credit_days,
            "forfeited_days": self.forfeited_days,
        }


@dataclass(frozen=True)
class Step:
    """One line of the working: a rule id (for translation and tests), its citation, and the
    values it used and gave."""

    rule: str
    citation: str
    values: dict[str, Any]

    def document(self) -> dict[str, Any]:
        return {"rule": self.rule, "citation": self.citation, "values": self.values}


@dataclass(frozen=True)
class BasisResult:
    basis: int
    full_term: dt.date | None
    ends_on: dt.date | None
    gct_days: int
    release_date: dt.date | None
    steps: tuple[Step, ...]

    def document(self) -> dict[str, Any]:
        return {
            "basis": self.basis,
            "full_term": self.full_term.isoformat() if self.full_term else None,
            "ends_on": self.ends_on.isoformat() if self.ends_on else None,
            "gct_days": self.gct_days,
            "release_date": self.release_date.isoformat() if self.release_date else None,
            "steps": [s.document() for s in self.steps],
        }


@dataclass(frozen=True)
class Calculation:
    """One episode's release date: the latest of its sentences' dates; none while any
    sentence is for life, or when no sentence holds the person."""

    rule_set: str
    version: str
    country: str
    bases: tuple[BasisInput, ...]
    results: tuple[BasisResult, ...] = field(default_factory=tuple)

    @property
    def release_date(self) -> dt.date | None:
        if not self.results or any(r.release_date is None for r in self.results):
            return None
        return max(r.release_date for r in self.results if r.release_date is not None)

    @property
    def full_term(self) -> dt.date | None:
        if not self.results or any(r.full_term is None for r in self.results):
            return None
        return max(r.full_term for r in self.results if r.full_term is not None)

    def inputs(self) -> dict[str, Any]:
        return {
            "rule_set": self.rule_set,
            "version": self.version,
            "country": self.country,
            "sentences": [b.document() for b in self.bases],
        }

    def working(self) -> list[dict[str, Any]]:
        return [r.document() for r in self.results]


def inputs_sha(inputs: dict[str, Any]) -> str:
    """A calculation's inputs as a key: equal inputs, equal result (nothing to recompute)."""
    return hashlib.sha256(orjson.dumps(inputs, option=orjson.OPT_SORT_KEYS)).hexdigest()


@lru_cache(maxsize=512)
def _holidays(country: str, year: int) -> dict[dt.date, str]:
    import holidays

    try:
        found = holidays.country_holidays(country, years=year)
    except NotImplementedError:  # a country the package does not know: no holidays
        return {}
    return {day: str(name) for day, name in found.items()}


def holiday_name(country: str, day: dt.date) -> str | None:
    return _holidays(country.upper(), day.year).get(day) if country else None


def previous_working_day(day: dt.date, country: str) -> tuple[dt.date, list[dict[str, str]]]:
    """18 U.S.C. § 3624(a): back from a Saturday, Sunday or legal holiday at the place of
    confinement to the last preceding weekday; returns the day and each day skipped, why."""
    found, skipped = _previous_working_day(day, country)
    return found, [dict(s) for s in skipped]


@lru_cache(maxsize=65536)
def _previous_working_day(day: dt.date, country: str) -> tuple[dt.date, tuple[dict[str, str], ...]]:
    """:func:`previous_working_day`, remembered: many people share a day."""
    skipped: list[dict[str, str]] = []
    while True:
        name = holiday_name(country, day)
        if day.weekday() >= 5:
            skipped.append(
                {"day": day.isoformat(), "why": "saturday" if day.weekday() == 5 else "sunday"}
            )
        elif name is not None:
            skipped.append({"day": day.isoformat(), "why": "holiday", "name": name})
        else:
            return day, tuple(skipped)
        day -= dt.timedelta(days=1)


@lru_cache(maxsize=4096)
def good_conduct_days(sentence: str) -> int:
    """18 U.S.C. § 3624(b): 54 days per year imposed, prorated in whole days; none for a
    sentence of one year or less, or for life."""
    parsed = _parsed(sentence)
    if parsed.life:
        return 0
    years = Fraction(parsed.total_months, 12) + Fraction(parsed.days, 365)
    if years <= 1:
        return 0
    return int(GCT_DAYS_PER_YEAR * years)


@lru_cache(maxsize=4096)
def _parsed(sentence: str) -> Sentence:
    """A sentence's terms, remembered: sentences repeat across people."""
    return parse_sentence(sentence)


def _one(rule_set: str, country: str, b: BasisInput) -> BasisResult:
    parsed = _parsed(b.sentence)
    steps: list[Step] = []
    if parsed.life:
        steps.append(Step("life", "18 U.S.C. § 3624(b)", {"sentence": b.sentence}))
        return BasisResult(b.basis, None, None, 0, None, tuple(steps))
    full = add_months(b.sentence_start, parsed.total_months) + dt.timedelta(days=parsed.days)
    steps.append(
        Step(
            "full_term",
            "",
            {
                "start": b.sentence_start.isoformat(),
                "sentence": b.sentence,
                "date": full.isoformat(),
            },
        )
    )
    ends_on = full - dt.timedelta(days=b.credit_days)
    steps.append(
        Step(
            "prior_custody_credit",
            "18 U.S.C. § 3585(b)",
            {"days": b.credit_days, "date": ends_on.isoformat()},
        )
    )
    if rule_set == "plain":
        return BasisResult(b.basis, full, ends_on, 0, ends_on, tuple(steps))
    earned = good_conduct_days(b.sentence)
    forfeited = min(max(b.forfeited_days, 0), earned)
    gct = earned - forfeited
    projected = ends_on - dt.timedelta(days=gct)
    steps.append(
        Step(
            "good_conduct_time",
            "18 U.S.C. § 3624(b)",
            {
                "earned": earned,
                "forfeited": forfeited,
                "applied": gct,
                "eligible": earned > 0,
                "date": projected.isoformat(),
            },
        )
    )
    release, skipped = previous_working_day(projected, country)
    steps.append(
        Step(
            "weekend_or_holiday",
            "18 U.S.C. § 3624(a)",
            {"country": country, "skipped": skipped, "date": release.isoformat()},
        )
    )
    return BasisResult(b.basis, full, ends_on, gct, release, tuple(steps))


def calculate(rule_set: str, country: str, bases: Sequence[BasisInput]) -> Calculation:
    """The calculation of ``bases`` (the live criminal sentences of one episode) under
    ``rule_set`` at a facility in ``country``."""
    if rule_set not in VERSIONS:
        raise ValueError(f"unknown sentence rules {rule_set!r} (one of {', '.join(RULE_SETS)})")
    ordered = tuple(sorted(bases, key=lambda b: b.basis))
    return Calculation(
        rule_set=rule_set,
        version=VERSIONS[rule_set],
        country=country.upper(),
        bases=ordered,
        results=tuple(_one(rule_set, country.upper(), b) for b in ordered),
    )


def full_term_less_credit(sentence: str, start: dt.date, credit_days: int) -> dt.date | None:
    """A basis's ``ends_on``: the full term less prior custody credit (None for life)."""
    parsed = parse_sentence(sentence)
    if parsed.life:
        return None
    full = add_months(start, parsed.total_months) + dt.timedelta(days=parsed.days)
    return full - dt.timedelta(days=credit_days)
