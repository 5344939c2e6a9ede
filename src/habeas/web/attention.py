"""The dashboard's "needs attention" panel: what staff must act on today, as the user may see
it (Mandela Rule 9): open alerts by severity and age (Mandela Rules 7(b), 12-13; Muršić v.
Croatia), arrivals expected (accepted, not admitted), returns from temporary absences that are
overdue, roll counts due (HMPPS establishment roll: the roll is counted at fixed times of day,
``HABEAS_ROLL_COUNT_TIMES`` in each facility's local time) and releases due in the next 7 days
(Mandela Rule 7(c); VINE advance notice).

Counts only, in a fixed number of queries whatever the population; each line links to the
page that lists the people behind it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, Max
from django.utils import timezone
from django.utils.translation import gettext_lazy

from habeas.accounts.permissions import may_view_cells, reader_key
from habeas.conditions.alerts import KINDS, alerts_for, legal_basis_open_summary
from habeas.custody.models import CustodyEpisode, TemporaryAbsence
from habeas.custody.selectors import releases_due
from habeas.facilities.models import Facility
from habeas.housing.models import Placement, RollCount
from habeas.ledger.freshness import cached_document, registry_version
from habeas.transfers.choices import EntryStatus
from habeas.transfers.models import ManifestEntry
from habeas.transfers.selectors import manifest_list

#: How urgent each kind of alert is: someone held with no lawful basis, under 3 m², in
#: heat, or missing from a counted roll is urgent; a module above its certified capacity is a
#: standing problem to plan for.
SEVERITY = {
    "legal_basis": "high",
    "space": "high",
    "heat": "high",
    "roll_count": "high",
    "no_contact": "high",  # held incommunicado (Mandela Rules 58, 62; VCCR art. 36)
    "capacity": "medium",
}
SEVERITY_LABELS = {"high": gettext_lazy("Urgent"), "medium": gettext_lazy("To plan for")}
RELEASE_WINDOW_DAYS = 7


def _instant(since: dt.datetime | dt.date | None) -> dt.datetime | None:
    if since is None:
        return None
    if isinstance(since, dt.datetime):
        return since
    return dt.datetime.combine(since, dt.time(), tzinfo=dt.UTC)


def reader_cache_key(user: Any) -> str:
    """What the figures depend on besides the registry's version: the reader's role and
    scope (no language: labels are added after the cache)."""
    return hashlib.sha256(reader_key(user).encode()).hexdigest()[:24]


def _alert_counts(
    alerts: Any, summaries: dict[str, tuple[int, dt.datetime | None]] | None = None
) -> list[dict[str, Any]]:
    """Open alerts per severity: count, oldest instant, count per kind (plain data, cached).
    ``summaries``: kinds counted without being listed, each (count, oldest instant)."""
    groups: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"count": 0, "oldest": None, "kinds": defaultdict(int)}
    )
    counted = [(a.kind, 1, _instant(a.since)) for a in alerts]
    counted += [(kind, n, oldest) for kind, (n, oldest) in (summaries or {}).items() if n]
    for kind, n, since in counted:
        severity = SEVERITY.get(kind, "medium")
        group = groups[severity]
        group["count"] += n
        group["kinds"][kind] += n
        if since is not None and (group["oldest"] is None or since < group["oldest"]):
            group["oldest"] = since
    return [
        {
            "severity": severity,
            "count": groups[severity]["count"],
            "oldest": groups[severity]["oldest"],
            "kinds": sorted(groups[severity]["kinds"].items()),
        }
        for severity in ("high", "medium")
        if severity in groups
    ]


def _with_labels(counts: list[dict[str, Any]], current: dt.datetime) -> list[dict[str, Any]]:
    return [
        {
            "severity": g["severity"],
            "label": SEVERITY_LABELS[g["severity"]],
            "count": g["count"],
            "oldest_days": (current - g["oldest"]).days if g["oldest"] else None,
            "kinds": g["kinds"],
        }
        for g in counts
    ]


def open_alert_counts(user: Any) -> list[dict[str, Any]]:
    """:func:`_alert_counts` of the user's open alerts. The ``legal_basis`` alarms, thousands
    at full scale, are counted in the database from the conditions kept for today
    (:func:`habeas.conditions.alerts.legal_basis_open_summary`) instead of being listed; the
    other kinds are listed as the alerts page lists them."""
    summary = legal_basis_open_summary(user)
    if summary is None:
        return _alert_counts(alerts_for(user=user, open_only=True))
    others = [kind for kind in KINDS if kind != "legal_basis"]
    return _alert_counts(
        alerts_for(user=user, kinds=others, open_only=True), {"legal_basis": summary}
    )


def open_alert_groups(user: Any) -> list[dict[str, Any]]:
    """The user's open alerts by severity (urgent first), each with its count, the age of its
    oldest alert in days and its counts per kind: the monitor's home (read once per version
    of the registry and reader, :func:`cached_document`; the dashboard's panel caches them
    with its other figures)."""
    counts = cached_document(
        f"attention-alerts:{reader_cache_key(user)}",
        lambda: open_alert_counts(user),
    )
    return _with_labels(counts, timezone.now())


def roll_slot(times: Sequence[str], local_now: dt.datetime) -> dt.datetime | None:
    """The latest scheduled roll count at or before ``local_now`` (an aware time in the
    facility's zone): today's, or yesterday's last before today's first."""
    today = local_now.date()
    for day in (today, today - dt.timedelta(days=1)):
        for t in reversed(times):
            at = dt.datetime.combine(day, dt.time.fromisoformat(t), tzinfo=local_now.tzinfo)
            if at <= local_now:
                return at
    return None


def rolls_due(user: Any, current: dt.datetime) -> list[dict[str, Any]]:
    """The facilities in the user's scope that hold people and whose roll has not been
    counted since its latest scheduled time (HMPPS establishment roll;
    ``HABEAS_ROLL_COUNT_TIMES``): a few small queries, one per facility at most."""
    times = list(getattr(settings, "HABEAS_ROLL_COUNT_TIMES", []))
    if not times or not may_view_cells(user):
        return []
    facilities = list(Facility.objects.visible_to(user).order_by("code"))
    last = dict(
        RollCount.objects.filter(facility__in=facilities)
        .values("facility_id")
        .annotate(last=Max("counted_at"))
        .values_list("facility_id", "last")
    )
    due = []
    for f in facilities:
        slot = roll_slot(times, current.astimezone(ZoneInfo(f.timezone)))
        if slot is None or (last.get(f.pk) is not None and last[f.pk] >= slot):
            continue
        if not Placement.objects.filter(cell__facility=f, ended_at__isnull=True).exists():
            continue  # nobody to count
        due.append(
            {
                "facility": f.code,
                "name": f.name,
                "slot": slot,
                "at": f"{slot:%H:%M} {slot.tzname() or f.timezone}",  # local, zone shown
            }
        )
    return due


def attention_counts(user: Any, current: dt.datetime) -> dict[str, Any]:
    """The panel's figures as plain data, a few small queries whatever the population: the
    open absences and the release calculations in the window are read first, then checked
    against the user's scope (never the scope's whole list of episodes)."""
    arrivals = (
        ManifestEntry.objects.filter(
            status=EntryStatus.ACCEPTED, manifest__in=manifest_list(user=user)
        )
        .values("manifest__ref")
        .annotate(n=Count("pk"))
        .order_by("manifest__ref")
    )
    late: list[tuple[int, dt.datetime]] = []
    if may_view_cells(user):
        late = list(
            TemporaryAbsence.objects.filter(
                ended_at__isnull=True, expected_return_at__lt=current
            ).values_list("episode_id", "expected_return_at")
        )
        if late:
            mine = set(
                CustodyEpisode.objects.visible_to(user)
                .open()
                .filter(pk__in={ep for ep, _at in late})
                .values_list("pk", flat=True)
            )
            late = [(ep, at) for ep, at in late if ep in mine]
    return {
        # computed here, not through the alerts' own cache: this whole document is cached
        "alerts": open_alert_counts(user),
        "arrivals": [{"manifest": a["manifest__ref"], "count": a["n"]} for a in arrivals],
        "overdue": len(late),
        "overdue_oldest": min((at for _ep, at in late), default=None),
        "releases_due": len(releases_due(user=user, days=RELEASE_WINDOW_DAYS)),
        "rolls_due": rolls_due(user, current),
    }


def needs_attention(user: Any) -> dict[str, Any]:
    """The panel's figures for ``user``, computed once per version of the registry (every
    change through a service, and every period of the freshness window) and per reader
    (:func:`habeas.accounts.permissions.reader_key`)."""
    current = timezone.now()
    counts = cached_document(
        f"attention:{reader_cache_key(user)}",
        lambda: attention_counts(user, current),
        version=registry_version(),
    )
    return attention_panel(counts, user, current)


def attention_panel(counts: dict[str, Any], user: Any, current: dt.datetime) -> dict[str, Any]:
    """The panel from :func:`attention_counts`: labels in the reader's language and ages
    measured now."""
    alerts = _with_labels(counts["alerts"], current)
    oldest = counts["overdue_oldest"]
    return {
        "alerts": alerts,
        "alerts_total": sum(a["count"] for a in alerts),
        "arrivals": counts["arrivals"],
        "arrivals_total": sum(a["count"] for a in counts["arrivals"]),
        "overdue": counts["overdue"],
        "overdue_hours": int((current - oldest).total_seconds() // 3600) if oldest else None,
        "releases_due": counts["releases_due"],
        "rolls_due": counts.get("rolls_due", []),
        "release_window": RELEASE_WINDOW_DAYS,
        "show_cells": may_view_cells(user),
    }
