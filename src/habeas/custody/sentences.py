"""Sentence arithmetic (STANDARDS.md, sentences).

``ends_on`` is the day the person is due out: sentence start + the sentence (ISO 8601
duration, calendar years and months) − custody credit (18 U.S.C. § 3585(b): days spent in
custody before the sentence started count towards it). ``life`` has no end. Good-conduct
time (18 U.S.C. § 3624(b)) is not deducted here: it is earned, not presumed.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass

from habeas.core.limits import MAX_SENTENCE_YEARS

_DURATION = re.compile(
    r"^P(?!$)(?:(?P<years>\d+)Y)?(?:(?P<months>\d+)M)?(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?$",
    re.ASCII,
)
LIFE = "life"


@dataclass(frozen=True)
class Sentence:
    years: int = 0
    months: int = 0
    days: int = 0
    life: bool = False

    @property
    def total_months(self) -> int:
        return self.years * 12 + self.months


def parse_sentence(text: str) -> Sentence:
    """``P10Y``, ``P18M``, ``P2Y6M``, ``P90D``, ``P3W`` or ``life``; anything else is refused,
    and so is a term longer than ``MAX_SENTENCE_YEARS`` (150 years; longer is ``life``)."""
    value = text.strip().upper()
    if value == LIFE.upper():
        return Sentence(life=True)
    match = _DURATION.match(value)
    if match is None:
        raise ValueError(
            f"{text!r} is not an ISO 8601 duration (P10Y, P18M, P2Y6M, P90D) or 'life'"
        )
    if len(value) > 32:
        raise ValueError(f"{text!r} is longer than {MAX_SENTENCE_YEARS} years: use 'life'")
    parts = {k: int(v) if v else 0 for k, v in match.groupdict().items()}
    found = Sentence(
        years=parts["years"], months=parts["months"], days=parts["days"] + 7 * parts["weeks"]
    )
    # in ten-thousandths of a day: a month is 30.4375 days, a year 365.25
    if found.total_months * 304_375 + found.days * 10_000 > MAX_SENTENCE_YEARS * 3_652_500:
        raise ValueError(f"{text!r} is longer than {MAX_SENTENCE_YEARS} years: use 'life'")
    return found


def add_months(day: dt.date, months: int) -> dt.date:
    """Calendar months; the 31st plus one month is the last day of the next month."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(day.day, last))


def sentence_end(start: dt.date, sentence: str, credit_days: int = 0) -> dt.date | None:
    """The release date of a sentence (None for life)."""
    parsed = parse_sentence(sentence)
    if parsed.life:
        return None
    end = add_months(start, parsed.total_months) + dt.timedelta(days=parsed.days)
    return end - dt.timedelta(days=credit_days)
