"""How many people each cell holds now (STANDARDS.md: occupancy rate; Mandela Rule 10).

Placements live in :mod:`habeas.housing`, above facilities (ARCHITECTURE.md, Layout), so
facilities cannot count them itself: housing registers its counter at start-up. A hook rather
than an import keeps the apps' dependencies pointing downward (as :mod:`habeas.core.alarms`
does for open alarms). Without a registered counter every cell holds nobody.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence

Counter = Callable[[Sequence[int]], Mapping[int, int]]
_counters: list[Counter] = []


def register(counter: Counter) -> None:
    if counter not in _counters:
        _counters.append(counter)


def occupants(cell_ids: Iterable[int]) -> dict[int, int]:
    """``{cell id: people placed there now}`` for every cell asked about (0 when empty)."""
    ids = list(cell_ids)
    found = dict.fromkeys(ids, 0)
    if not ids:
        return found
    for counter in _counters:
        for cell, n in counter(ids).items():
            found[cell] = found.get(cell, 0) + n
    return found
