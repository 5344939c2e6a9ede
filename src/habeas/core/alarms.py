"""Open alarms about one person, for the person's file (INTERFACES.md, ``show``: "open
alarms"). The conditions app, which evaluates alerts and sits above custody, registers its
provider at start-up; a hook rather than an import keeps the apps' dependencies pointing
downward (as :mod:`habeas.core.audit` does for the access log)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Provider = Callable[[Any], list[dict[str, Any]]]
_providers: list[Provider] = []


def register(provider: Provider) -> None:
    if provider not in _providers:
        _providers.append(provider)


def for_person(person: Any) -> list[dict[str, Any]]:
    """``[{"kind", "message", "since"}]`` from every registered provider."""
    found: list[dict[str, Any]] = []
    for provider in _providers:
        found.extend(provider(person))
    return found
