"""The cell a person is held in now, for the person's file and the custody API (Mandela
Rule 7(c)). Placements live in :mod:`habeas.housing`, above custody (ARCHITECTURE.md,
Layout): housing registers its provider at start-up. A hook rather than an import keeps the
apps' dependencies pointing downward (as :mod:`habeas.core.alarms` does for open alarms).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from habeas.facilities.models import Cell

Provider = Callable[[Any], Cell | None]
_providers: list[Provider] = []


def register(provider: Provider) -> None:
    if provider not in _providers:
        _providers.append(provider)


def current_cell(person: Any) -> Cell | None:
    """The cell of the person's open placement, if any provider knows one."""
    for provider in _providers:
        cell = provider(person)
        if cell is not None:
            return cell
    return None
