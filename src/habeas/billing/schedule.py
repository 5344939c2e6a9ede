"""An agreement's fee schedule over a period (STANDARDS.md, Billing: "a rate change applies
from its effective date to the days on or after it"): the base terms of the agreement, then
each recorded ``FeeChange`` from its day on.

Money is ``Decimal`` with the currency beside it; the currency's minor units come from the
Unicode CLDR through babel. Each line is rounded half-up to those units, once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from babel.numbers import get_currency_precision

from habeas.agreements.models import Agreement, FeeChange
from habeas.billing.daycount import day_number


@dataclass(frozen=True)
class Tier:
    above: int
    rate: Decimal


@dataclass(frozen=True)
class Terms:
    rate: Decimal
    monthly_fee: Decimal
    tiers: tuple[Tier, ...]


@dataclass(frozen=True)
class Segment:
    """The terms in force from ``first`` to ``last`` (day numbers, inclusive)."""

    first: int
    last: int
    terms: Terms


def minor_units(currency: str) -> int:
    """Digits after the decimal point of the currency (ISO 4217 via CLDR: USD 2, JPY 0)."""
    return int(get_currency_precision(currency))


def round_money(value: Decimal, currency: str) -> Decimal:
    """Half-up to the currency's minor unit, once per line (the rule printed on invoices)."""
    return value.quantize(Decimal(1).scaleb(-minor_units(currency)), rounding=ROUND_HALF_UP)


def plain_rate(value: Any, currency: str) -> Decimal:
    """A rate with the currency's minor units, or more digits where it has them
    (``56.0000`` → ``56.00``, ``54.785`` stays)."""
    number = Decimal(str(value)).normalize()
    units = minor_units(currency)
    if -number.as_tuple().exponent < units:  # type: ignore[operator]
        number = number.quantize(Decimal(1).scaleb(-units))
    return number


def schedule(agreement: Agreement, first: dt.date, last: dt.date) -> list[Segment]:
    """The segments of constant terms covering ``first … last``."""
    cur = agreement.currency

    def _tiers(raw: Any) -> tuple[Tier, ...]:
        return tuple(
            Tier(int(t["above"]), plain_rate(t["per_person_day"], cur))
            for t in sorted(raw or [], key=lambda t: int(t["above"]))
        )

    terms = Terms(
        plain_rate(agreement.per_person_day, cur),
        plain_rate(agreement.monthly_fee, cur),
        _tiers(agreement.tiers),
    )
    changes: list[tuple[dt.date, Terms]] = []
    for change in FeeChange.objects.filter(agreement=agreement).order_by("effective_from"):
        terms = Terms(
            terms.rate if change.per_person_day is None else plain_rate(change.per_person_day, cur),
            terms.monthly_fee
            if change.monthly_fee is None
            else plain_rate(change.monthly_fee, cur),
            terms.tiers if change.tiers is None else _tiers(change.tiers),
        )
        changes.append((change.effective_from, terms))
    current = Terms(
        plain_rate(agreement.per_person_day, cur),
        plain_rate(agreement.monthly_fee, cur),
        _tiers(agreement.tiers),
    )
    starts: list[tuple[dt.date, Terms]] = [(first, current)]
    for day, after in changes:
        if day <= first:
            starts[0] = (first, after)
        elif day <= last:
            starts.append((day, after))
    segments = []
    for i, (day, t) in enumerate(starts):
        end = starts[i + 1][0] - dt.timedelta(days=1) if i + 1 < len(starts) else last
        segments.append(Segment(day_number(day), day_number(end), t))
    return segments
