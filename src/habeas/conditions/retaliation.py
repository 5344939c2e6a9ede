"""Protected acts, for the retaliation alert (kind ``retaliation``, rule A7 in
:mod:`habeas.conditions.alerts`): Mandela Rule 57(2) — complaints are made safely, without
risk of retaliation — and OPCAT arts. 15 and 21(1) — no sanction against anyone for having
communicated with a preventive mechanism.

A protected act is something a person did that must not cost them: filing a complaint (this
app), a private interview with inspectors (the inspections app, above this one). Each app that
records such acts registers a provider from its ``AppConfig.ready``; the retaliation
evaluation asks every provider for the acts of the last 30 days and looks for a move, a
sanction or a transfer of the same person after each act. A hook rather than an import keeps
the apps' dependencies pointing downward (as :mod:`habeas.core.alarms` does).

The alert is for oversight only: it would reveal that a (possibly confidential) complaint or
an interview exists.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass

#: Rule A7's window: an adverse measure within this many days after a protected act.
RETALIATION_WINDOW_DAYS = 30


@dataclass(frozen=True)
class ProtectedAct:
    person_id: int
    at: dt.datetime
    #: ``complaint`` or ``inspection_interview``
    kind: str
    #: what oversight follows up, e.g. ``complaint:12`` or ``interview:5`` (no content)
    reference: str
    facility: str = ""


#: ``provider(since)`` → the protected acts that happened at or after ``since``.
Provider = Callable[[dt.datetime], Iterable[ProtectedAct]]
_providers: list[Provider] = []


def register_protected_acts(provider: Provider) -> None:
    if provider not in _providers:
        _providers.append(provider)


def protected_acts_since(since: dt.datetime) -> list[ProtectedAct]:
    """Every registered provider's acts at or after ``since``, oldest first."""
    found: list[ProtectedAct] = []
    for provider in _providers:
        found.extend(provider(since))
    found.sort(key=lambda a: (a.at, a.person_id, a.reference))
    return found
