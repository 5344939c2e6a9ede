"""Population statistics (Mandela Rule 10: reliable data on the prison population, including
occupancy rates; STANDARDS.md: occupancy rate = population × 100 / certified capacity), the
public version of them (small counts suppressed), the daily population series, and the reads
of the oversight pages: ledger status, deaths in custody, the access log (Mandela Rule 9)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, QuerySet
from django.db.models.functions import TruncDate

from habeas.accounts.permissions import may_read_oversight
from habeas.conditions.alerts import alert_counts
from habeas.core.canonical import plain
from habeas.core.clock import now
from habeas.core.errors import Forbidden
from habeas.custody.choices import ReleaseReason
from habeas.custody.models import CustodyEpisode
from habeas.facilities.models import Facility
from habeas.facilities.selectors import FacilityOccupancy, occupancy_for
from habeas.ledger.freshness import cached_document
from habeas.ledger.models import LedgerCheckpoint, LedgerEntry, LedgerVerification
from habeas.ledger.services import ledger_root, ledger_size
from habeas.oversight.models import AccessLog
from habeas.oversight.tally import contributions, tally_counts


def _facility_doc(f: FacilityOccupancy) -> dict[str, Any]:
    return {
        "code": f.code,
        "name": f.facility.name,
        "population": f.population,
        "certified_capacity": f.certified_capacity,
        "working_capacity": f.working_capacity,
        "declared_capacity": f.facility.declared_capacity,
        "occupancy_rate_certified": f.rate_certified,
        "occupancy_rate_working": f.rate_working,
        "people_above_certified": f.people_above_certified,
        "cells_over_certified": f.cells_over_certified,
        "modules": [
            {
                "code": m.code,
                "population_kind": m.population_kind,
                "regime": m.regime,
                "population": m.population,
                "certified_capacity": m.certified_capacity,
                "working_capacity": m.working_capacity,
                "occupancy_rate_certified": m.rate_certified,
                "occupancy_rate_working": m.rate_working,
                "cells_over_certified": m.cells_over_certified,
            }
            for m in f.modules
        ],
    }


def stats_document(facilities: list[Facility] | None = None) -> dict[str, Any]:
    """The ``stats --json`` document (INTERFACES.md). Rates are percentages as decimal strings.
    The breakdowns come from the counts kept as events happen (:mod:`habeas.oversight.tally`);
    :func:`stats_document_from_scratch` is the same document counted from the tables."""
    if facilities is None:
        facilities = list(Facility.objects.order_by("code"))
    counts = tally_counts(f.pk for f in facilities)
    return _document(
        facilities,
        by_nationality=counts["nationality"],
        by_sex=counts["sex"],
        by_basis=counts["basis"],
        by_agreement=counts["agreement"],
    )


def stats_document_from_scratch(facilities: list[Facility] | None = None) -> dict[str, Any]:
    """:func:`stats_document` with every breakdown counted from the custody and people tables
    (the reference the maintained counts are tested against)."""
    if facilities is None:
        facilities = list(Facility.objects.order_by("code"))
    by_nationality: Counter[str] = Counter()
    by_sex: Counter[str] = Counter()
    by_basis: Counter[str] = Counter()
    by_agreement: Counter[str] = Counter()
    for c in contributions(CustodyEpisode.objects.filter(facility__in=facilities)):
        by_nationality.update(c.nationalities or ("unknown",))
        by_sex[c.sex] += 1
        by_basis[c.basis] += 1
        by_agreement[c.agreement] += 1
    return _document(
        facilities,
        by_nationality=by_nationality,
        by_sex=by_sex,
        by_basis=by_basis,
        by_agreement=by_agreement,
    )


def _document(
    facilities: list[Facility],
    *,
    by_nationality: Counter[str],
    by_sex: Counter[str],
    by_basis: Counter[str],
    by_agreement: Counter[str],
) -> dict[str, Any]:
    occupancy = occupancy_for(facilities)
    alerts = alert_counts(facilities, occupancy)
    return plain(
        {
            "facilities": [_facility_doc(f) for f in occupancy],
            "population": sum(f.population for f in occupancy),
            "by_nationality": dict(sorted(by_nationality.items())),
            "by_sex": dict(sorted(by_sex.items())),
            "by_legal_basis": dict(sorted(by_basis.items())),
            "by_agreement": dict(sorted(by_agreement.items())),
            # released_at is set exactly when a release reason is (episode_release_has_reason):
            # the condition lets the count read the (facility, released_at) index, not
            # every episode
            "deaths_in_custody": CustodyEpisode.objects.filter(
                facility__in=facilities,
                released_at__isnull=False,
                release_reason=ReleaseReason.DEATH,
            ).count(),
            "open_alerts": sum(alerts.values()),
            "open_alerts_by_kind": dict(sorted(alerts.items())),
        }
    )


# --- public statistics (small counts suppressed) --------------------------------------------

#: Counts from 1 to ``SUPPRESS_BELOW - 1`` are published as ``"<5"`` (statistical disclosure
#: control: a small count can identify a person). Zero is published: it discloses nobody.
SUPPRESS_BELOW = 5
SUPPRESSED = "<5"


def suppress(n: int) -> int | str:
    return SUPPRESSED if 0 < n < SUPPRESS_BELOW else n


def _suppressed_counts(counts: dict[str, int]) -> dict[str, int | str]:
    return {k: suppress(v) for k, v in counts.items()}


def _suppressed_unit(unit: dict[str, Any]) -> dict[str, Any]:
    """A facility or module: population suppressed and, with it, the rates (a rate times the
    published capacity would give the count back)."""
    out = dict(unit)
    out["population"] = suppress(int(unit["population"]))
    if out["population"] == SUPPRESSED:
        out["occupancy_rate_certified"] = None
        out["occupancy_rate_working"] = None
    for key in ("people_above_certified",):
        if key in out:
            out[key] = suppress(int(out[key]))
    if "modules" in out:
        out["modules"] = [_suppressed_unit(m) for m in unit["modules"]]
    return out


def public_stats_document(series: bool = True) -> dict[str, Any]:
    """The public statistics (Mandela Rule 10) for anyone, signed in or not: the ``stats``
    document with every count from 1 to 4 shown as ``"<5"`` (``habeas stats`` itself is not
    suppressed), plus the daily population series per facility."""
    doc = stats_document()
    public: dict[str, Any] = {
        "facilities": [_suppressed_unit(f) for f in doc["facilities"]],
        "population": suppress(doc["population"]),
        "by_nationality": _suppressed_counts(doc["by_nationality"]),
        "by_sex": _suppressed_counts(doc["by_sex"]),
        "by_legal_basis": _suppressed_counts(doc["by_legal_basis"]),
        "by_agreement": _suppressed_counts(doc["by_agreement"]),
        "deaths_in_custody": suppress(doc["deaths_in_custody"]),
        "open_alerts": suppress(doc["open_alerts"]),
        "suppression": {"below": SUPPRESS_BELOW, "shown_as": SUPPRESSED},
    }
    if series:
        public["population_series"] = {
            code: [{"date": day.isoformat(), "population": suppress(n)} for day, n in points]
            for code, points in population_series().items()
        }
    return public


def stats_cached() -> dict[str, Any]:
    """:func:`stats_document` of every facility at the registry's current version (oversight
    sees every facility), computed once per version for every server."""
    doc: dict[str, Any] = cached_document("stats", stats_document)
    return doc


def public_stats_cached(version: str | None = None) -> dict[str, Any]:
    """:func:`public_stats_document` at the registry's current version, computed once per
    version for every server (:mod:`habeas.ledger.freshness`)."""
    doc: dict[str, Any] = cached_document("public-stats", public_stats_document, version=version)
    return doc


# --- population over time ------------------------------------------------------------------


class UTCDate(TruncDate):
    """The UTC calendar day of an instant. Django's ``TruncDate`` on SQLite calls back into
    Python once per row; instants are stored there as UTC text, so SQLite's own ``date()``
    gives the same day in C. Other databases keep Django's SQL."""

    def as_sqlite(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:
        sql, params = compiler.compile(self.lhs)
        return f"date({sql})", params


def population_series(
    facilities: list[Facility] | None = None, *, until: dt.date | None = None
) -> dict[str, list[tuple[dt.date, int]]]:
    """People held at the end of each day (UTC), per facility code, from the first admission
    to ``until`` (today): admissions minus releases, cumulated. Two grouped queries whatever
    the number of episodes."""
    if facilities is None:
        facilities = list(Facility.objects.order_by("code"))
    codes = {f.pk: f.code for f in facilities}
    delta: dict[int, Counter[dt.date]] = {pk: Counter() for pk in codes}
    episodes = CustodyEpisode.objects.filter(facility__in=facilities).order_by()
    for row in (
        episodes.annotate(day=UTCDate("admitted_at", tzinfo=dt.UTC))
        .values("facility_id", "day")
        .annotate(n=Count("pk"))
    ):
        delta[row["facility_id"]][row["day"]] += row["n"]
    for row in (
        episodes.filter(released_at__isnull=False)
        .annotate(day=UTCDate("released_at", tzinfo=dt.UTC))
        .values("facility_id", "day")
        .annotate(n=Count("pk"))
    ):
        delta[row["facility_id"]][row["day"]] -= row["n"]
    end = until or now().date()
    out: dict[str, list[tuple[dt.date, int]]] = {}
    for pk, code in codes.items():
        changes = delta[pk]
        if not changes:
            out[code] = []
            continue
        day, last = min(changes), max(max(changes), end)
        running = 0
        points: list[tuple[dt.date, int]] = []
        while day <= last:
            running += changes.get(day, 0)
            points.append((day, running))
            day += dt.timedelta(days=1)
        out[code] = points
    return out


# --- oversight pages -----------------------------------------------------------------------


@dataclass
class LedgerStatus:
    size: int
    root: str
    checkpoint: LedgerCheckpoint | None
    verification: LedgerVerification | None
    #: When the newest entry was recorded (``None`` on an empty ledger).
    last_entry_at: dt.datetime | None = None


def ledger_status() -> LedgerStatus:
    """Size and root of the ledger, the latest signed checkpoint and the latest
    ``verify-ledger`` result (Mandela Rule 6: proof that no record was changed unseen)."""
    size = ledger_size()
    return LedgerStatus(
        size=size,
        root=ledger_root(size).hex(),
        checkpoint=LedgerCheckpoint.objects.order_by("-size", "-created_at").first(),
        verification=LedgerVerification.objects.order_by("-ran_at").first(),
        last_entry_at=LedgerEntry.objects.order_by("-index")
        .values_list("recorded_at", flat=True)
        .first(),
    )


def deaths_list() -> list[CustodyEpisode]:
    """Deaths in custody (Mandela Rules 71-72): episodes closed with reason ``death``. Who,
    where and when only: no medical detail."""
    return list(
        CustodyEpisode.objects.filter(release_reason=ReleaseReason.DEATH)
        .select_related("person", "facility", "agreement")
        .order_by("-released_at")
    )


@dataclass(frozen=True)
class AccessLogFilter:
    username: str = ""
    person_id: int | None = None
    channel: str = ""
    since: dt.date | None = None
    until: dt.date | None = None


def access_log_list(*, user: Any, filters: AccessLogFilter | None = None) -> QuerySet[AccessLog]:
    """The access log, newest first (Mandela Rule 9), for oversight and auditors only."""
    if not may_read_oversight(user):
        raise Forbidden("only oversight and auditors may read the access log")
    f = filters or AccessLogFilter()
    qs = AccessLog.objects.select_related("person").order_by("-viewed_at", "-pk")
    if f.username:
        qs = qs.filter(username=f.username)
    if f.person_id is not None:
        qs = qs.filter(person_id=f.person_id)
    if f.channel:
        qs = qs.filter(channel=f.channel)
    if f.since is not None:
        qs = qs.filter(viewed_at__date__gte=f.since)
    if f.until is not None:
        qs = qs.filter(viewed_at__date__lte=f.until)
    return qs
