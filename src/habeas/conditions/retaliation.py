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


# --- the evaluation (rule A7) ----------------------------------------------------------------


@dataclass(frozen=True)
class Adverse:
    """A measure against a person: ``move`` (another cell), ``transfer`` (another facility,
    or released as transferred) or ``sanction``."""

    person_id: int
    at: dt.datetime
    kind: str


def adverse_measures(person_ids: Iterable[int], since: dt.datetime) -> dict[int, list[Adverse]]:
    """Every move, transfer and sanction of these people at or after ``since``, oldest first
    (a placement that opens an episode is an admission, not a move)."""
    from habeas.conditions.cases_models import Sanction
    from habeas.custody.choices import ReleaseReason
    from habeas.custody.models import CustodyEpisode
    from habeas.housing.models import Placement

    ids = sorted(set(person_ids))
    found: dict[int, list[Adverse]] = {pid: [] for pid in ids}
    if not ids:
        return found
    placements = (
        Placement.objects.filter(episode__person_id__in=ids)
        .order_by("episode_id", "started_at", "pk")
        .values_list("episode_id", "episode__person_id", "cell__facility_id", "started_at")
    )
    previous: dict[int, int] = {}  # episode → the facility of its previous placement
    for episode_id, person_id, facility_id, started in placements:
        before = previous.get(episode_id)
        previous[episode_id] = facility_id
        if before is None or started < since:
            continue
        kind = "move" if before == facility_id else "transfer"
        found[person_id].append(Adverse(person_id, started, kind))
    for person_id, at in Sanction.objects.filter(
        person_id__in=ids, starts_at__gte=since
    ).values_list("person_id", "starts_at"):
        found[person_id].append(Adverse(person_id, at, "sanction"))
    for person_id, at in CustodyEpisode.objects.filter(
        person_id__in=ids, released_at__gte=since, release_reason=ReleaseReason.TRANSFERRED
    ).values_list("person_id", "released_at"):
        found[person_id].append(Adverse(person_id, at, "transfer"))
    for measures in found.values():
        measures.sort(key=lambda m: (m.at, m.kind))
    return found


def possible_retaliation(
    at: dt.datetime, facility_codes: Iterable[str] | None = None
) -> list[tuple[ProtectedAct, Adverse]]:
    """Rule A7: each protected act of the last :data:`RETALIATION_WINDOW_DAYS` days (in those
    facilities, when given) followed, within that window, by a move, a sanction or a transfer
    of the same person: the act and the first such measure. Generic over
    :class:`ProtectedAct`: complaints and inspection interviews alike."""
    window = dt.timedelta(days=RETALIATION_WINDOW_DAYS)
    acts = protected_acts_since(at - window)
    if facility_codes is not None:
        codes = set(facility_codes)
        acts = [a for a in acts if a.facility in codes]
    if not acts:
        return []
    measures = adverse_measures([a.person_id for a in acts], min(a.at for a in acts))
    found = []
    for act in acts:
        first = next(
            (m for m in measures[act.person_id] if act.at < m.at <= min(at, act.at + window)),
            None,
        )
        if first is not None:
            found.append((act, first))
    return found
