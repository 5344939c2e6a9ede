"""The places lawful for the people of an acceptance (Mandela Rule 11: separation by sex, age,
regime — untried apart from convicted — and keep-apart; working capacity the hard cap,
STANDARDS.md).

A facility's free places are not the measure: 26 free places in a criminal module for men do
not take 30 sentenced men because a women's or a civil module has room. Acceptance therefore
houses, on paper, every entry accepted and not yet admitted and then every entry asked for,
with the allocator admission itself uses (:class:`habeas.housing.allocator.Allocator`, without
locks: the facilities are locked by the caller), and counts those that no cell may lawfully
take, by population kind and regime.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from habeas.custody.services import is_youth, regime_for
from habeas.facilities.models import Facility
from habeas.housing.allocator import Allocator, Occupant, is_untried, population_for
from habeas.people.choices import DatePrecision
from habeas.transfers.manifest import ParsedRow


@dataclass(frozen=True)
class _Born:
    """What :func:`habeas.custody.services.is_youth` reads of a person."""

    date_of_birth: dt.date | None
    dob_precision: str


def occupant_of(parsed: ParsedRow, on: dt.date, person_id: int | None = None) -> Occupant:
    """The housing view of a manifest row: sex, age group on ``on``, regime, untried."""
    kinds: list[str] = []
    bases: list[tuple[str, bool | None]] = []
    if parsed.has_sentence:
        kinds.append("criminal_sentence")
        bases.append(("criminal_sentence", parsed.judgment_final))
    if parsed.has_removal_order:
        kinds.append("removal_order")
    dob, precision = parsed.date_of_birth
    born = _Born(dob, precision or DatePrecision.DAY)
    return Occupant(
        sex=parsed.sex,
        youth=is_youth(born, on),  # type: ignore[arg-type]
        regime=regime_for(kinds),
        untried=is_untried(bases),
        person_id=person_id,
    )


def group_label(who: Occupant) -> str:
    """``adult_male criminal``: the population kind and regime a person needs."""
    return f"{'/'.join(population_for(who))} {who.regime}"


def unhoused(
    facilities: Sequence[Facility], pending: Sequence[Occupant], wanted: Sequence[Occupant]
) -> Counter[str]:
    """How many of ``wanted`` no cell of ``facilities`` may lawfully take once ``pending``
    (accepted, not yet admitted) are housed first, by population kind and regime."""
    allocators = [Allocator(f, lock=False) for f in facilities]
    short: Counter[str] = Counter()

    def house(who: Occupant) -> bool:
        for allocator in allocators:
            cell = allocator.choose(who)
            if cell is not None:
                allocator.take(cell, who)
                return True
        return False

    for who in pending:
        house(who)
    for who in wanted:
        if not house(who):
            short[group_label(who)] += 1
    return short
