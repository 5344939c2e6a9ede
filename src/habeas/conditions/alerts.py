"""Alerts (INTERFACES.md, ``alerts --json``): conditions that duty officers, the director and
oversight must see and act on, evaluated from the registry as it stands.

Each rule has an identifier and its source:

* **A1 ``space``** — ECtHR, Muršić v. Croatia [GC] 2016 §138: less than 3 m² of floor space
  per person in a shared cell (usable area: floor minus the sanitary annex, STANDARDS.md) is a
  strong presumption of degrading treatment.
* **A2 ``capacity``** — HMPPS certified normal accommodation; occupancy rate = population ×
  100 / certified capacity (World Prison Brief, OAS 6.5.1): a module holding more people than
  its certified (uncrowded) capacity is overcrowded (Mandela Rules 12–13).
* **A3 ``roll_count``** — HMPPS establishment roll: the latest counted roll of a cell differs
  from what the registry expected.
* **A4 ``legal_basis``** — Mandela Rule 7(b): nobody is held without a valid commitment
  order. A person in open custody whose every criminal sentence has been served (end from
  start, length and custody credit, 18 U.S.C. § 3585(b)) and who has no removal order, or who
  has no legal basis at all, is held with no live legal basis.

Alerts are computed, not stored: an alert is open while its condition holds and is gone when
the condition clears, so the list can neither go stale nor be closed without the cause being
fixed. ``since`` is when the condition began: from the placement history (space, capacity), the
roll count, or the day after the last sentence ended. Heat alerts come with sensor readings.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from decimal import Decimal
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from habeas.accounts.permissions import may_view_cells
from habeas.core.canonical import plain
from habeas.custody.choices import LegalBasisKind
from habeas.custody.models import CustodyEpisode
from habeas.custody.sentences import sentence_end
from habeas.facilities.models import Facility
from habeas.facilities.selectors import occupancy_for
from habeas.facilities.standards import MURSIC_MINIMUM_M2
from habeas.housing.models import Placement, RollCountLine


@dataclass(frozen=True)
class AlertRule:
    id: str
    kind: str
    citation: str


RULES = {
    rule.kind: rule
    for rule in (
        AlertRule("A1", "space", "ECtHR, Muršić v. Croatia [GC] 2016 §138"),
        AlertRule("A2", "capacity", "Mandela Rules 12-13; HMPPS certified normal accommodation"),
        AlertRule("A3", "roll_count", "HMPPS establishment roll"),
        AlertRule("A4", "legal_basis", "Mandela Rule 7(b); 18 U.S.C. § 3585(b)"),
    )
}
KINDS = tuple(RULES)
#: Kinds about housing: shown to the receiving prison service and oversight only (a sending
#: state's liaison never sees cells, STANDARDS.md locator conventions and Mandela Rule 9).
HOUSING_KINDS = frozenset({"space", "capacity", "roll_count"})


@dataclass(frozen=True)
class Alert:
    kind: str
    facility: str
    subject: str
    value: str
    since: dt.datetime | dt.date | None
    message: str
    person_id: int | None = None
    status: str = "open"
    #: What the subject is, for people: the cell or module code, or the person's name.
    label: str = ""
    #: Set when staff have acknowledged this occurrence (status ``acknowledged``).
    acknowledged_by: str = ""
    acknowledged_at: dt.datetime | None = None
    acknowledgement: str = ""

    @property
    def rule(self) -> AlertRule:
        return RULES[self.kind]

    @property
    def id(self) -> str:
        """Stable while the condition lasts: the kind and the subject."""
        return f"{self.kind}:{self.subject}"

    def document(self) -> dict[str, Any]:
        """One element of the ``alerts --json`` document (INTERFACES.md), plus the rule."""
        return plain(
            {
                "id": self.id,
                "kind": self.kind,
                "subject": self.subject,
                "value": self.value,
                "since": self.since,
                "status": self.status,
                "message": self.message,
                "facility": self.facility,
                "rule": self.rule.id,
                "citation": self.rule.citation,
                "acknowledged": (
                    {
                        "by": self.acknowledged_by,
                        "at": self.acknowledged_at,
                        "note": self.acknowledgement,
                    }
                    if self.status == "acknowledged"
                    else None
                ),
            }
        )


def since_key(since: dt.datetime | dt.date | None) -> str:
    """``since`` as the ISO 8601 text of the alert document: with the alert's id it names one
    occurrence of the condition (what an acknowledgement covers)."""
    return "" if since is None else str(plain({"since": since})["since"])


# --- when a count went above a limit -----------------------------------------------------


def since_above(events: Iterable[tuple[dt.datetime, int]], current: int, limit: int) -> Any:
    """When a population that is now ``current`` (> ``limit``) last rose above ``limit``:
    walk the arrivals (+1) and departures (-1) back from the newest, undoing each, until the
    population before an event is within the limit; that event is the moment it went over."""
    population = current
    for at, delta in sorted(events, reverse=True):
        before = population - delta
        if before <= limit:
            return at
        population = before
    return None


def _placement_events(cell_ids: list[int]) -> dict[int, list[tuple[dt.datetime, int]]]:
    events: dict[int, list[tuple[dt.datetime, int]]] = defaultdict(list)
    if not cell_ids:
        return events
    placements = Placement.objects.filter(cell_id__in=cell_ids)
    for cell_id, started in placements.values_list("cell_id", "started_at"):
        events[cell_id].append((started, 1))
    for cell_id, ended in placements.filter(ended_at__isnull=False).values_list(
        "cell_id", "ended_at"
    ):
        events[cell_id].append((ended, -1))
    return events


# --- the rules -----------------------------------------------------------------------------


def _housing_alerts(facilities: list[Facility], *, with_since: bool) -> list[Alert]:
    """A1 space and A2 capacity from occupancy, A3 roll count from the latest line per cell.
    Without ``with_since`` the placement history is not read and ``since`` is ``None`` (for
    counting alerts)."""
    found: list[Alert] = []
    occupancy = occupancy_for(facilities)
    crowded: list[tuple[str, Any, int]] = []  # facility code, cell, limit
    over: list[tuple[str, Any]] = []  # facility code, module
    for occ in occupancy:
        for module in occ.modules:
            if module.population > module.certified_capacity:
                over.append((occ.facility.code, module))
            for cell in module.cells:
                usable = Decimal(cell.usable_area_m2)
                if cell.population and usable < MURSIC_MINIMUM_M2 * cell.population:
                    crowded.append((occ.facility.code, cell, int(usable // MURSIC_MINIMUM_M2)))
    cell_ids = [cell.id for _code, cell, _limit in crowded]
    cell_ids += [cell.id for _code, module in over for cell in module.cells]
    events = _placement_events(sorted(set(cell_ids)) if with_since else [])
    for code, cell, limit in crowded:
        space = (Decimal(cell.usable_area_m2) / cell.population).quantize(Decimal("0.01"))
        found.append(
            Alert(
                kind="space",
                facility=code,
                subject=f"cell:{code}/{cell.code}",
                label=cell.code,
                value=str(space),
                since=since_above(events.get(cell.id, []), cell.population, limit),
                message=_(
                    "%(space)s m² per person in cell %(cell)s (%(n)s people in %(area)s m²): "
                    "below the 3 m² of Muršić v. Croatia [GC] §138"
                )
                % {
                    "space": space,
                    "cell": cell.code,
                    "n": cell.population,
                    "area": cell.usable_area_m2,
                },
            )
        )
    for code, module in over:
        module_events = [e for cell in module.cells for e in events.get(cell.id, [])]
        found.append(
            Alert(
                kind="capacity",
                facility=code,
                subject=f"module:{code}/{module.code}",
                label=module.code,
                value=str(module.rate_certified),
                since=since_above(module_events, module.population, module.certified_capacity),
                message=_(
                    "Module %(module)s holds %(n)s people against a certified capacity of "
                    "%(certified)s (%(rate)s %%)"
                )
                % {
                    "module": module.code,
                    "n": module.population,
                    "certified": module.certified_capacity,
                    "rate": module.rate_certified,
                },
            )
        )
    found.extend(_roll_count_alerts(facilities))
    return found


def _roll_count_alerts(facilities: list[Facility]) -> list[Alert]:
    """A3: for every cell, its most recent counted roll line; a difference is an alert until
    a later count of that cell agrees with the registry."""
    latest = (
        RollCountLine.objects.filter(roll_count__facility__in=facilities)
        .values("cell_id")
        .annotate(at=Max("roll_count__counted_at"))
    )
    wanted = {(row["cell_id"], row["at"]) for row in latest}
    lines = RollCountLine.objects.filter(
        cell_id__in=[cell_id for cell_id, _at in wanted]
    ).select_related("cell", "roll_count", "roll_count__facility")
    found = []
    seen: set[int] = set()
    for line in lines.order_by("cell_id", "-roll_count__counted_at", "-roll_count_id"):
        if line.cell_id in seen:
            continue
        seen.add(line.cell_id)
        if line.counted == line.expected:
            continue
        code = line.roll_count.facility.code
        found.append(
            Alert(
                kind="roll_count",
                facility=code,
                subject=f"cell:{code}/{line.cell.code}",
                label=line.cell.code,
                value=f"{line.counted - line.expected:+d}",
                since=line.roll_count.counted_at,
                message=_(
                    "Roll count of cell %(cell)s: counted %(counted)s, the registry expected "
                    "%(expected)s"
                )
                % {"cell": line.cell.code, "counted": line.counted, "expected": line.expected},
            )
        )
    return found


@lru_cache(maxsize=4096)
def _ends_on(start: dt.date, sentence: str, credit: int) -> dt.date | None:
    try:
        return sentence_end(start, sentence, credit)
    except ValueError:
        return None


def _spent_episodes(episodes: Any) -> dict[int, dt.date | None]:
    """The open episodes of ``episodes`` held past the end of every legal basis: episode id →
    the day the last basis ended (``None``: no basis at all). A removal order, a life sentence
    or a sentence whose end cannot be computed keeps an episode live. One pass over the
    episode-basis links, with no model objects (40,000 people in a fraction of a second)."""
    criminal = str(LegalBasisKind.CRIMINAL_SENTENCE)
    live: set[int] = set()
    last: dict[int, dt.date] = {}
    through = CustodyEpisode.legal_bases.through
    links = through.objects.filter(custodyepisode__in=episodes).values_list(
        "custodyepisode_id",
        "legalbasis__kind",
        "legalbasis__sentence",
        "legalbasis__sentence_start",
        "legalbasis__custody_credit_days",
    )
    for episode_id, kind, sentence, start, credit in links.iterator(chunk_size=5000):
        if episode_id in live:
            continue
        if kind != criminal or start is None or not sentence:
            live.add(episode_id)
            continue
        end = _ends_on(start, sentence, credit or 0)
        if end is None:
            live.add(episode_id)
        elif episode_id not in last or end > last[episode_id]:
            last[episode_id] = end
    zones = dict(Facility.objects.values_list("pk", "timezone"))
    now = timezone.now()
    today = {pk: timezone.localtime(now, ZoneInfo(zone)).date() for pk, zone in zones.items()}
    spent: dict[int, dt.date | None] = {}
    for episode_id, facility_id in episodes.values_list("pk", "facility_id"):
        if episode_id in live:
            continue
        end = last.get(episode_id)
        if end is None or end < today[facility_id]:
            spent[episode_id] = end
    return spent


def legal_basis_alerts(episodes: Any) -> list[Alert]:
    """A4 over the given open episodes (a queryset): held past the end of every basis.

    A sentence ends on the day computed by :func:`habeas.custody.sentences.sentence_end` (the
    day the person is due out); held after that day in the facility's own time zone, the basis
    is spent. Since: the day after the last basis ended (or admission, with no basis at all).
    """
    spent = _spent_episodes(episodes)
    if not spent:
        return []
    ids = sorted(spent)
    rows = [
        row
        for i in range(0, len(ids), 5000)  # bounded IN lists (SQLite's parameter limit)
        for row in CustodyEpisode.objects.filter(pk__in=ids[i : i + 5000]).values_list(
            "pk",
            "person_id",
            "admitted_at",
            "facility__code",
            "person__given_names",
            "person__first_surname",
            "person__second_surname",
        )
    ]
    found = []
    for pk, person_id, admitted_at, code, given, first, second in rows:
        name = " ".join(p for p in (given, first, second) if p)
        last = spent[pk]
        if last is not None:
            since: Any = last + dt.timedelta(days=1)
            value = last.isoformat()
            message = _(
                "%(name)s is held with no live legal basis: the last sentence ended on %(end)s"
            ) % {"name": name, "end": last.isoformat()}
        else:
            since = admitted_at
            value = "none"
            message = _("%(name)s is held with no legal basis recorded") % {"name": name}
        found.append(
            Alert(
                kind="legal_basis",
                facility=code,
                subject=f"person:{person_id}",
                label=name,
                value=value,
                since=since,
                message=message,
                person_id=person_id,
            )
        )
    return found


# --- reads -----------------------------------------------------------------------------------


def alerts_for(
    *,
    user: Any = None,
    facility: Facility | None = None,
    facilities: list[Facility] | None = None,
    kinds: Iterable[str] = (),
    with_since: bool = True,
    open_only: bool = False,
) -> list[Alert]:
    """Open alerts, as ``user`` may see them (none given: the server's own CLI, everything),
    in ``facility`` or ``facilities`` when given.

    The receiving prison service, oversight and auditors see every kind for the facilities
    they may see; a sending state's liaison and finance officer only ``legal_basis`` alerts
    about people held under their state's agreements (never a cell or a module)."""
    wanted = set(kinds) or set(KINDS)
    unknown = wanted - set(KINDS)
    if unknown:
        raise ValueError(f"unknown alert kind(s): {', '.join(sorted(unknown))}")
    facilities_qs = Facility.objects.all() if user is None else Facility.objects.visible_to(user)
    if facility is not None:
        facilities_qs = facilities_qs.filter(pk=facility.pk)
    if facilities is not None:
        facilities_qs = facilities_qs.filter(pk__in=[f.pk for f in facilities])
    facilities = list(facilities_qs.order_by("code"))
    if not facilities:
        return []
    episodes = CustodyEpisode.objects.open().filter(facility__in=facilities)
    if user is not None and not may_view_cells(user):
        wanted -= HOUSING_KINDS
        episodes = episodes.filter(pk__in=CustodyEpisode.objects.visible_to(user))
    found: list[Alert] = []
    if wanted & HOUSING_KINDS:
        found.extend(
            a for a in _housing_alerts(facilities, with_since=with_since) if a.kind in wanted
        )
    if "legal_basis" in wanted:
        found.extend(legal_basis_alerts(episodes))
    if with_since:
        found = _with_acknowledgements(found)
        if open_only:
            found = [a for a in found if a.status == "open"]
    order = {kind: i for i, kind in enumerate(KINDS)}
    found.sort(key=lambda a: (a.facility, order[a.kind], _instant(a.since), a.subject))
    return found


def _with_acknowledgements(alerts: list[Alert]) -> list[Alert]:
    """Mark the alerts whose current occurrence (id and since) staff have acknowledged."""
    from habeas.conditions.models import AlertAcknowledgement

    if not alerts:
        return alerts
    acks = {
        (a.alert, a.since): a
        for a in AlertAcknowledgement.objects.filter(alert__in={x.id for x in alerts})
    }
    out = []
    for alert in alerts:
        ack = acks.get((alert.id, since_key(alert.since)))
        if ack is not None:
            alert = replace(
                alert,
                status="acknowledged",
                acknowledged_by=ack.acknowledged_by,
                acknowledged_at=ack.acknowledged_at,
                acknowledgement=ack.note,
            )
        out.append(alert)
    return out


def _instant(since: dt.datetime | dt.date | None) -> dt.datetime:
    """Oldest first: a date counts from its midnight UTC; no known start sorts first."""
    if since is None:
        return dt.datetime.min.replace(tzinfo=dt.UTC)
    if isinstance(since, dt.datetime):
        return since
    return dt.datetime.combine(since, dt.time.min, tzinfo=dt.UTC)


def alerts_document(alerts: list[Alert]) -> dict[str, Any]:
    """The ``alerts --json`` document."""
    return {"alerts": [a.document() for a in alerts]}


def person_alarms(person: Any) -> list[dict[str, Any]]:
    """The person's open alarms for ``show`` (registered in :mod:`habeas.core.alarms`)."""
    episodes = CustodyEpisode.objects.open().filter(person=person)
    return [
        plain({"kind": a.kind, "message": a.message, "since": a.since})
        for a in legal_basis_alerts(episodes)
    ]
