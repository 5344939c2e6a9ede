"""The alerts page: what duty officers, the director and oversight must act on now."""

from __future__ import annotations

from collections import Counter

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from habeas.conditions.alerts import KINDS, RULES, alerts_for
from habeas.facilities.models import Facility

#: Headings of the kinds, in the order the page shows them.
KIND_LABELS = {
    "space": gettext_lazy("Space per person"),
    "capacity": gettext_lazy("Above certified capacity"),
    "roll_count": gettext_lazy("Roll-count discrepancy"),
    "legal_basis": gettext_lazy("No live legal basis"),
}


@login_required
@require_GET
def alert_list(request: HttpRequest) -> HttpResponse:
    """Every open alert the user may see (:func:`habeas.conditions.alerts.alerts_for`), with
    counts by kind and filters by kind and facility. A user with no role gets 403."""
    user = request.user
    if not (getattr(user, "role", "") or user.is_superuser):
        raise PermissionDenied
    facilities = list(Facility.objects.visible_to(user).order_by("code"))
    kind = request.GET.get("kind", "")
    code = request.GET.get("facility", "")
    facility = next((f for f in facilities if f.code == code), None)
    every = alerts_for(user=user, facility=facility)
    counts = Counter(a.kind for a in every)
    shown = [a for a in every if a.kind == kind] if kind in KINDS else every
    return render(
        request,
        "conditions/alerts.html",
        {
            "alerts": shown,
            "kinds": [
                {"kind": k, "label": KIND_LABELS[k], "rule": RULES[k], "count": counts.get(k, 0)}
                for k in KINDS
                if getattr(user, "sees_housing", False) or k == "legal_basis"
            ],
            "labels": KIND_LABELS,
            "kind": kind if kind in KINDS else "",
            "facility": facility,
            "facilities": facilities,
            "total": len(every),
        },
    )
