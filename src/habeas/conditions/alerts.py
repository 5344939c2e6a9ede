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
  order. Its rules A4.1-A4.6 (:mod:`habeas.custody.check`): the projected release date passed
  (18 U.S.C. § 3624(a)), a removal order held beyond the removal period (8 U.S.C. § 1231(a)),
  a protection order against removal to this state, the agreement's term ended (and, a
  warning, ending within the notice period), and no live basis at all (every sentence
  served — its ``ends_on``, 18 U.S.C. § 3585(b) — every order vacated or superseded, or none
  recorded).

Alerts are computed, not stored: an alert is open while its condition holds and is gone when
the condition clears, so the list can neither go stale nor be closed without the cause being
fixed. ``since`` is when the condition began: from the placement history (space, capacity), the
roll count, or the day after the last sentence ended. Heat alerts come with sensor readings.
The ``legal_basis`` conditions are read from those kept as events happen
(:mod:`habeas.custody.standing`) while they name today, else evaluated here and now.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import Count, Max, Min, Q
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from habeas.accounts.permissions import may_view_cells, reader_key
from habeas.core.canonical import instant_text, plain
from habeas.custody.check import RULES as ALARM_RULES
from habeas.custody.check import conditions_for, removal_period_days
from habeas.custody.models import CustodyEpisode, StandingCondition
from habeas.custody.standing import standing_conditions, standing_count, standing_stale
from habeas.facilities.models import Facility
from habeas.facilities.selectors import FacilityOccupancy, occupancy_for
from habeas.facilities.standards import MURSIC_MINIMUM_M2
from habeas.housing.models import Placement, RollCountLine
from habeas.ledger.freshness import cached_document


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
        # Kinds evaluated by a registered source (register_source), in this app or above it:
        AlertRule(
            "A5",
            "heat",
            "NWS heat index; Cole v. Collier (S.D. Tex. 2017): ≤ 88 °F; Mandela Rule 13",
        ),
        AlertRule("A6", "sensor_silent", "Mandela Rule 13: climatic conditions watched"),
        AlertRule("A7", "retaliation", "Mandela Rule 57(2); OPCAT arts. 15 and 21(1)"),
        AlertRule("A8", "no_contact", "Mandela Rules 58(1), 62(1); VCCR art. 36(1)"),
        AlertRule("A9", "inspection", "OPCAT arts. 4, 14 and 20; Mandela Rules 83-85"),
    )
}
KINDS = tuple(RULES)
#: Kinds about housing: shown to the receiving prison service and oversight only (a sending
#: state's liaison never sees cells, STANDARDS.md locator conventions and Mandela Rule 9).
HOUSING_KINDS = frozenset({"space", "capacity", "roll_count", "heat", "sensor_silent"})
#: Headings of the kinds, in the order pages show them.
LABELS = {
    "space": gettext_lazy("Space per person"),
    "capacity": gettext_lazy("Above certified capacity"),
    "roll_count": gettext_lazy("Roll-count discrepancy"),
    "legal_basis": gettext_lazy("Legal basis"),
    "heat": gettext_lazy("Heat"),
    "sensor_silent": gettext_lazy("Silent sensor"),
    "retaliation": gettext_lazy("Possible retaliation"),
    "no_contact": gettext_lazy("No outside contact"),
    "inspection": gettext_lazy("Inspection obstructed or overdue"),
}

#: ``evaluate(facilities, user, with_since)`` → the open alerts of one kind in those
#: facilities that ``user`` may see (``None``: the server's own CLI, everything). It must
#: apply its own visibility: e.g. ``retaliation`` is for oversight only (it would reveal a
#: confidential complaint), ``no_contact`` follows the person's scope.
Source = Callable[[list[Facility], Any, bool], list["Alert"]]
SOURCES: dict[str, Source] = {}
#: ``count(facilities)`` → how many alerts of a kind are open there for the server itself,
#: ``len(evaluate(facilities, None, False))`` without building them (the statistics).
SourceCount = Callable[[list[Facility]], int]
COUNTS: dict[str, SourceCount] = {}


def register_source(kind: str, evaluate: Source, count: SourceCount | None = None) -> None:
    """Let an app (this one or one above it, from its ``AppConfig.ready``) evaluate the alerts
    of a kind declared in :data:`RULES`: the apps' dependencies keep pointing downward, and
    ``alerts``, the alerts page, the dashboard and oversight list every kind alike. ``count``,
    when given, counts them (one aggregate query, no message written) for the statistics."""
    if kind not in RULES:
        raise ValueError(f"alert kind {kind!r} is not declared in RULES")
    SOURCES[kind] = evaluate
    if count is not None:
        COUNTS[kind] = count


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
    #: For ``legal_basis``: which of the alarm rules A4.1-A4.6 (habeas.custody.check).
    rule_id: str = ""

    @property
    def rule(self) -> AlertRule:
        if self.rule_id and self.rule_id in ALARM_RULES:
            return _alarm_rule(self.rule_id, self.kind)
        return RULES[self.kind]

    @property
    def id(self) -> str:
        """Stable while the condition lasts: the kind and the subject (and, for a
        ``legal_basis`` alarm other than A4.5, the rule: one person may have several)."""
        if self.rule_id and self.rule_id != "A4.5":
            return f"{self.kind}:{self.subject}#{self.rule_id}"
        return f"{self.kind}:{self.subject}"

    def document(self) -> dict[str, Any]:
        """One element of the ``alerts --json`` document (INTERFACES.md), plus the rule. Built
        field by field (every value is text already, ``since`` and the acknowledgement's
        instant written as :func:`habeas.core.canonical.plain` writes them): a full registry
        has ten thousand of them."""
        rule = self.rule
        return {
            "id": self.id,
            "kind": self.kind,
            "subject": self.subject,
            "value": plain(self.value),
            "since": None if self.since is None else since_key(self.since),
            "status": self.status,
            "message": str(self.message),
            "facility": self.facility,
            "rule": rule.id,
            "citation": rule.citation,
            "acknowledged": (
                {
                    "by": self.acknowledged_by,
                    "at": plain(self.acknowledged_at),
                    "note": self.acknowledgement,
                }
                if self.status == "acknowledged"
                else None
            ),
        }


@functools.lru_cache(maxsize=64)
def _alarm_rule(rule_id: str, kind: str) -> AlertRule:
    r = ALARM_RULES[rule_id]
    return AlertRule(r.id, kind, r.citation)


def since_key(since: dt.datetime | dt.date | None) -> str:
    """``since`` as the ISO 8601 text of the alert document: with the alert's id it names one
    occurrence of the condition (what an acknowledgement covers)."""
    if since is None:
        return ""
    if isinstance(since, dt.datetime):
        return instant_text(since)
    return since.isoformat()


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


#: Cells per query of :func:`crowding_since` (one parameter each).
_CELLS_PER_QUERY = 5000


def _utc(value: Any) -> dt.datetime | None:
    """A datetime read by a raw query: SQLite gives UTC text, PostgreSQL an aware value."""
    if value is None or isinstance(value, dt.datetime):
        return value if value is None or value.tzinfo else value.replace(tzinfo=dt.UTC)
    return dt.datetime.fromisoformat(str(value)).replace(tzinfo=dt.UTC)


def crowding_since(groups: dict[Any, tuple[list[int], int, int]]) -> dict[Any, dt.datetime]:
    """:func:`since_above` of every group at once: ``groups`` maps a key to (the cells whose
    placements count, the population now, the limit). The placement events are read as the
    database stores them (two plain columns per event, no conversion per row: SQLite's UTC
    text sorts as its instants do, PostgreSQL's values are instants already); only the
    instant each group crossed its limit is converted. A group that was never within its
    limit has no entry."""
    found: dict[Any, dt.datetime] = {}
    if not groups:
        return found
    qn = connection.ops.quote_name
    table = qn(Placement._meta.db_table)
    fields = {f.name: f for f in Placement._meta.concrete_fields}
    cell, started, ended = (qn(fields[f].column) for f in ("cell", "started_at", "ended_at"))
    read_started, read_ended = started, ended
    if connection.vendor == "sqlite":
        # Read as text: a column declared ``datetime`` goes through the driver's converter
        # (a Python call per value) when selected as it is.
        read_started, read_ended = f"CAST({started} AS TEXT)", f"CAST({ended} AS TEXT)"
    events: dict[int, list[tuple[Any, int]]] = defaultdict(list)
    cells = sorted({c for cell_ids, _n, _limit in groups.values() for c in cell_ids})
    with connection.cursor() as cursor:
        for i in range(0, len(cells), _CELLS_PER_QUERY):
            part = cells[i : i + _CELLS_PER_QUERY]
            marks = ", ".join(["%s"] * len(part))
            # Table and column names from the models' metadata, values as parameters.
            cursor.execute(
                f"SELECT {cell}, {read_started}, 1 FROM {table} WHERE {cell} IN ({marks}) "  # noqa: S608
                f"UNION ALL SELECT {cell}, {read_ended}, -1 FROM {table} "
                f"WHERE {cell} IN ({marks}) AND {ended} IS NOT NULL",
                [*part, *part],
            )
            for cell_id, at, delta in cursor.fetchall():
                events[cell_id].append((at, delta))
    for key, (cell_ids, current, limit) in groups.items():
        group = (
            events.get(cell_ids[0], [])
            if len(cell_ids) == 1
            else [e for c in cell_ids for e in events.get(c, [])]
        )
        when = _utc(since_above(group, current, limit))
        if when is not None:
            found[key] = when
    return found


# --- the rules -----------------------------------------------------------------------------


def _housing_alerts(
    facilities: list[Facility],
    *,
    with_since: bool,
    occupancy: list[FacilityOccupancy] | None = None,
) -> list[Alert]:
    """A1 space and A2 capacity from occupancy (``occupancy_for(facilities)``, read here unless
    the caller has it), A3 roll count from the latest line per cell. Without ``with_since``
    the placement history is not read and ``since`` is ``None`` (for counting alerts)."""
    found: list[Alert] = []
    if occupancy is None:
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
    cell_since: dict[Any, dt.datetime] = {}
    module_since: dict[Any, dt.datetime] = {}
    if with_since:
        since = crowding_since(
            {
                **{("cell", c.id): ([c.id], c.population, limit) for _f, c, limit in crowded},
                **{
                    ("module", m.id): (
                        [c.id for c in m.cells],
                        m.population,
                        m.certified_capacity,
                    )
                    for _f, m in over
                },
            }
        )
        cell_since = {pk: at for (kind, pk), at in since.items() if kind == "cell"}
        module_since = {pk: at for (kind, pk), at in since.items() if kind == "module"}
    for code, cell, _limit in crowded:
        space = (Decimal(cell.usable_area_m2) / cell.population).quantize(Decimal("0.01"))
        found.append(
            Alert(
                kind="space",
                facility=code,
                subject=f"cell:{code}/{cell.code}",
                label=cell.code,
                value=str(space),
                since=cell_since.get(cell.id),
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
        found.append(
            Alert(
                kind="capacity",
                facility=code,
                subject=f"module:{code}/{module.code}",
                label=module.code,
                value=str(module.rate_certified),
                since=module_since.get(module.id),
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


#: What each alarm rule of kind ``legal_basis`` says (habeas.custody.check.RULES).
def _legal_basis_message(rule: str, name: str, value: str) -> str:
    return _legal_basis_wording()(rule, name, value)


def _legal_basis_wording() -> Callable[[str, str, str], str]:
    """The messages of the alarm rules in the active language, translated once: a full
    registry has ten thousand ``legal_basis`` alerts, each only fills in its name and date."""
    templates = {
        "A4.1": _("%(name)s is still held after the projected release date %(date)s"),
        "A4.2": _(
            "%(name)s has been held on a removal order of %(date)s beyond the removal period "
            "of %(days)s days without removal"
        ),
        "A4.3": _("%(name)s holds a court order protecting them from removal to this state"),
        "A4.4": _("%(name)s is held under an agreement whose term ended on %(date)s"),
        "A4.6": _("%(name)s is held under an agreement whose term ends on %(date)s"),
    }
    ended = _("%(name)s is held with no live legal basis: the last sentence ended on %(end)s")
    none = _("%(name)s is held with no legal basis recorded")
    days = removal_period_days()

    def message(rule: str, name: str, value: str) -> str:
        template = templates.get(rule)
        if template is not None:
            return template % {"name": name, "date": value, "days": days}
        if value != "none":
            return ended % {"name": name, "end": value}
        return none % {"name": name}

    return message


def _conditions(episodes: Any, at: dt.datetime) -> dict[tuple[int, str], tuple[dt.date, str]]:
    """The alarm conditions of ``episodes`` (open ones) at ``at``: those kept as events happen
    (:mod:`habeas.custody.standing`) when they name ``at``'s day, else evaluated now."""
    kept = standing_conditions(episodes, at)
    if kept is not None:
        return kept
    ids = sorted(episodes.values_list("pk", flat=True))
    return conditions_for(ids, at) if ids else {}


_EPISODE_FIELDS = (
    "pk",
    "person_id",
    "admitted_at",
    "facility__code",
    "person__given_names",
    "person__first_surname",
    "person__second_surname",
)


def legal_basis_alerts(episodes: Any) -> list[Alert]:
    """The ``legal_basis`` alarms (A4.1-A4.6, :mod:`habeas.custody.check`) over the given
    open episodes (a queryset), evaluated now in each facility's own time zone: the same
    conditions ``check-custody`` opens and closes on the ledger, so the list is never
    stale. A sentence ends on its ``ends_on`` (the day the person is due out); held after that
    day, the basis is spent. With the conditions kept for today, two queries whatever the
    number of alarms (the episodes read through a subquery of the kept rows, not a list of
    ids)."""
    at = timezone.now()
    kept = standing_conditions(episodes, at)
    if kept is not None:
        found_conditions = kept
        if not found_conditions:
            return []
        rows = {
            row[0]: row
            for row in episodes.filter(
                pk__in=StandingCondition.objects.values("episode_id")
            ).values_list(*_EPISODE_FIELDS)
        }
    else:
        ids = sorted(episodes.values_list("pk", flat=True))
        found_conditions = conditions_for(ids, at) if ids else {}
        if not found_conditions:
            return []
        wanted = sorted({ep for ep, _rule in found_conditions})
        rows = {
            row[0]: row
            for i in range(0, len(wanted), 5000)  # bounded IN lists (SQLite's parameter limit)
            for row in CustodyEpisode.objects.filter(pk__in=wanted[i : i + 5000]).values_list(
                *_EPISODE_FIELDS
            )
        }
    message = _legal_basis_wording()
    found = []
    for (ep, rule), (since, value) in sorted(found_conditions.items()):
        if ep not in rows:  # released between the two reads
            continue
        _pk, person_id, admitted_at, code, given, first, second = rows[ep]
        name = " ".join(p for p in (given, first, second) if p)
        found.append(
            Alert(
                kind="legal_basis",
                facility=code,
                subject=f"person:{person_id}",
                label=name,
                value=value,
                since=admitted_at if rule == "A4.5" and value == "none" else since,
                message=message(rule, name, value),
                person_id=person_id,
                rule_id=rule,
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
    for kind in sorted(wanted & SOURCES.keys(), key=KINDS.index):
        found.extend(SOURCES[kind](facilities, user, with_since))
    if with_since:
        found = _with_acknowledgements(found)
        if open_only:
            found = [a for a in found if a.status == "open"]
    order = {kind: i for i, kind in enumerate(KINDS)}
    found.sort(key=lambda a: (a.facility, order[a.kind], _instant(a.since), a.subject))
    return found


def alerts_cache_key(
    user: Any, facility: Facility | None, kinds: tuple[str, ...], open_only: bool
) -> str:
    """What a cached list of alerts depends on besides the registry's version: the reader's
    language, role and scope, and the filters."""
    parts = [
        get_language() or "",
        reader_key(user),
        facility.code if facility is not None else "*",
        ",".join(sorted(kinds)),
        str(open_only),
    ]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:24]


def alerts_for_cached(
    *,
    user: Any,
    facility: Facility | None = None,
    kinds: Iterable[str] = (),
    open_only: bool = False,
    version: str | None = None,
) -> list[Alert]:
    """:func:`alerts_for` for the pages and the API: computed once per version of the registry
    (:mod:`habeas.ledger.freshness`: every change through a service, an acknowledgement
    included, is a new version) for each scope, role and language, and shared by every
    server through the cache."""
    wanted = tuple(kinds)
    found: list[Alert] = cached_document(
        f"alerts:{alerts_cache_key(user, facility, wanted, open_only)}",
        lambda: alerts_for(user=user, facility=facility, kinds=wanted, open_only=open_only),
        version=version,
    )
    return found


def alert_documents_cached(
    *,
    user: Any,
    facility: Facility | None = None,
    kinds: Iterable[str] = (),
    open_only: bool = False,
    version: str | None = None,
) -> dict[str, Any]:
    """The ``alerts`` document (INTERFACES.md) of :func:`alerts_for`, cached once per version
    of the registry: the API answers from it without building each alert's document again.
    The alerts themselves are not cached on the way (the document is what is read again;
    storing ten thousand alerts as well would double the first request's cost)."""
    wanted = tuple(kinds)

    def compute() -> dict[str, Any]:
        return alerts_document(
            alerts_for(user=user, facility=facility, kinds=wanted, open_only=open_only)
        )

    doc: dict[str, Any] = cached_document(
        f"alert-docs:{alerts_cache_key(user, facility, wanted, open_only)}",
        compute,
        version=version,
    )
    return doc


def alert_counts(
    facilities: list[Facility], occupancy: list[FacilityOccupancy] | None = None
) -> Counter[str]:
    """How many alerts of each kind are open in ``facilities``, as :func:`alerts_for` would
    list them for the server itself, without writing their messages or dating them: the
    statistics need the numbers only (the ``legal_basis`` alarms are counted from the
    conditions, one per episode and rule). ``occupancy``: ``occupancy_for(facilities)`` when
    the caller has read it already."""
    counts: Counter[str] = Counter()
    if not facilities:
        return counts
    counts.update(
        a.kind for a in _housing_alerts(facilities, with_since=False, occupancy=occupancy)
    )
    at = timezone.now()
    kept = standing_count([f.pk for f in facilities], at)
    if kept is None:
        kept = len(_conditions(CustodyEpisode.objects.open().filter(facility__in=facilities), at))
    counts["legal_basis"] += kept
    for kind, evaluate in SOURCES.items():
        count = COUNTS.get(kind)
        counts[kind] += (
            count(facilities) if count is not None else len(evaluate(facilities, None, False))
        )
    return +counts


def _scope(user: Any) -> tuple[list[Facility], Any, bool]:
    """What :func:`alerts_for` reads for ``user`` (no facility filter): the facilities, their
    open episodes the user may see, and whether the housing kinds are shown."""
    facilities_qs = Facility.objects.all() if user is None else Facility.objects.visible_to(user)
    facilities = list(facilities_qs.order_by("code"))
    episodes = CustodyEpisode.objects.open().filter(facility__in=facilities)
    cells = user is None or may_view_cells(user)
    if not cells:
        episodes = episodes.filter(pk__in=CustodyEpisode.objects.visible_to(user))
    return facilities, episodes, cells


def legal_basis_open_summary(user: Any) -> tuple[int, dt.datetime | None] | None:
    """How many ``legal_basis`` alerts :func:`alerts_for` lists open (not acknowledged) for
    ``user``, and the instant of the oldest one, counted in the database from the conditions
    kept for today (:mod:`habeas.custody.standing`) without building the alerts: the
    dashboard's panel needs these two figures only. ``None`` when the kept conditions do not
    name today (the caller lists the alerts).

    The acknowledged occurrences are few: each is read, matched against its person's kept
    condition and its ``since`` as the alert would write it, and left out of both figures."""
    at = timezone.now()
    if standing_stale(at):
        return None
    facilities, episodes, _cells = _scope(user)
    if not facilities:
        return 0, None
    kept = StandingCondition.objects.filter(episode_id__in=episodes.order_by().values("pk"))
    acked = _acknowledged_conditions(kept)
    for episode_id, rule in acked:
        kept = kept.exclude(episode_id=episode_id, rule=rule)
    no_basis = Q(rule="A4.5", value="none")
    found = kept.aggregate(n=Count("pk"), oldest=Min("since", filter=~no_basis))
    count, dated = int(found["n"] or 0), found["oldest"]
    if not count:
        return 0, None
    admitted = episodes.filter(pk__in=kept.filter(no_basis).values("episode_id")).aggregate(
        oldest=Min("admitted_at")
    )["oldest"]
    candidates = [_instant(d) for d in (dated, admitted) if d is not None]
    return count, min(candidates, default=None)


def _acknowledged_conditions(kept: Any) -> set[tuple[int, str]]:
    """The (episode, rule) pairs among the ``kept`` conditions whose current occurrence is
    acknowledged (the alert's id and ``since``, as :func:`_with_acknowledgements` matches)."""
    from habeas.conditions.models import AlertAcknowledgement

    wanted: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for alert, since in AlertAcknowledgement.objects.filter(
        alert__startswith="legal_basis:person:"
    ).values_list("alert", "since"):
        subject, _sep, rule = alert.removeprefix("legal_basis:person:").partition("#")
        if subject.isdigit():
            wanted[int(subject)].append((rule or "A4.5", since))
    if not wanted:
        return set()
    found: set[tuple[int, str]] = set()
    rows = kept.filter(
        episode_id__in=CustodyEpisode.objects.open().filter(person_id__in=list(wanted)).values("pk")
    ).values_list("episode_id", "rule", "since", "value")
    episodes = dict(
        CustodyEpisode.objects.filter(pk__in={row[0] for row in rows}).values_list(
            "pk", "person_id"
        )
    )
    admitted = dict(
        CustodyEpisode.objects.filter(pk__in=list(episodes)).values_list("pk", "admitted_at")
    )
    for episode_id, rule, since, value in rows:
        person = episodes.get(episode_id)
        if person is None:
            continue
        when = admitted[episode_id] if rule == "A4.5" and value == "none" else since
        if (rule, since_key(when)) in wanted.get(person, []):
            found.add((episode_id, rule))
    return found


def _with_acknowledgements(alerts: list[Alert]) -> list[Alert]:
    """Mark the alerts whose current occurrence (id and since) staff have acknowledged."""
    from habeas.conditions.models import AlertAcknowledgement

    if not alerts:
        return alerts
    # The acknowledged occurrences as two columns of text (few, and one query whatever the
    # number of alerts: an IN list of every alert's id costs more to build than to read),
    # then only the matching rows in full.
    keys = {(x.id, since_key(x.since)) for x in alerts}
    matched = [
        pk
        for pk, alert, since in AlertAcknowledgement.objects.values_list("pk", "alert", "since")
        if (alert, since) in keys
    ]
    if not matched:
        return alerts
    acks = {(a.alert, a.since): a for a in AlertAcknowledgement.objects.filter(pk__in=matched)}
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
        plain(
            {
                "kind": a.kind,
                "message": a.message,
                "since": a.since,
                "rule": a.rule.id,
                "citation": a.rule.citation,
            }
        )
        for a in legal_basis_alerts(episodes)
    ]
