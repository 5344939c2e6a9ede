"""The dashboard's "needs attention" panel: what staff must act on today, as the user may see
it (Mandela Rule 9): open alerts by severity and age (Mandela Rules 7(b), 12-13; Muršić v.
Croatia), arrivals expected (accepted, not admitted), returns from temporary absences that are
overdue, and releases due in the next 7 days (Mandela Rule 7(c); VINE advance notice).

Counts only, in a fixed number of queries whatever the population; each line links to the
page that lists the people behind it.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from django.db.models import Count, Min
from django.utils import timezone
from django.utils.translation import gettext_lazy

from habeas.accounts.permissions import may_view_cells
from habeas.conditions.alerts import alerts_for_cached
from habeas.custody.models import CustodyEpisode, TemporaryAbsence
from habeas.custody.selectors import releases_due
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


def open_alert_groups(user: Any) -> list[dict[str, Any]]:
    """The user's open alerts by severity (urgent first), each with its count, the age of its
    oldest alert in days and its counts per kind: the dashboard's panel and the monitor's
    home (one read of the cached alerts, :func:`alerts_for_cached`)."""
    current = timezone.now()
    groups: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"count": 0, "oldest": None, "kinds": defaultdict(int)}
    )
    for alert in alerts_for_cached(user=user, open_only=True):
        severity = SEVERITY.get(alert.kind, "medium")
        group = groups[severity]
        group["count"] += 1
        group["kinds"][alert.kind] += 1
        since = _instant(alert.since)
        if since is not None and (group["oldest"] is None or since < group["oldest"]):
            group["oldest"] = since
    return [
        {
            "severity": severity,
            "label": SEVERITY_LABELS[severity],
            "count": groups[severity]["count"],
            "oldest_days": (current - groups[severity]["oldest"]).days
            if groups[severity]["oldest"]
            else None,
            "kinds": sorted(groups[severity]["kinds"].items()),
        }
        for severity in ("high", "medium")
        if severity in groups
    ]


def needs_attention(user: Any) -> dict[str, Any]:
    """The panel's figures for ``user``."""
    current = timezone.now()
    alerts = open_alert_groups(user)
    arrivals = (
        ManifestEntry.objects.filter(
            status=EntryStatus.ACCEPTED, manifest__in=manifest_list(user=user)
        )
        .values("manifest__ref")
        .annotate(n=Count("pk"))
        .order_by("manifest__ref")
    )
    overdue: dict[str, Any] = {"count": 0, "oldest": None}
    if may_view_cells(user):
        overdue = TemporaryAbsence.objects.filter(
            ended_at__isnull=True,
            expected_return_at__lt=current,
            episode__in=CustodyEpisode.objects.visible_to(user).open(),
        ).aggregate(count=Count("pk"), oldest=Min("expected_return_at"))
    due = releases_due(user=user, days=RELEASE_WINDOW_DAYS)
    return {
        "alerts": alerts,
        "alerts_total": sum(a["count"] for a in alerts),
        "arrivals": [{"manifest": a["manifest__ref"], "count": a["n"]} for a in arrivals],
        "arrivals_total": sum(a["n"] for a in arrivals),
        "overdue": overdue["count"],
        "overdue_hours": int((current - overdue["oldest"]).total_seconds() // 3600)
        if overdue["oldest"]
        else None,
        "releases_due": len(due),
        "release_window": RELEASE_WINDOW_DAYS,
        "show_cells": may_view_cells(user),
    }
