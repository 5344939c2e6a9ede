"""The alerts page: what duty officers, the director and oversight must act on now."""

from __future__ import annotations

from collections import Counter

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from habeas.accounts.auth import role_required
from habeas.accounts.permissions import (
    has_role,
    may_acknowledge_alert,
    may_acknowledge_alerts,
    may_view_cells,
)
from habeas.conditions.alerts import HOUSING_KINDS, KINDS, LABELS, RULES, alerts_for_cached
from habeas.conditions.services import alert_acknowledge
from habeas.core.actor import Actor
from habeas.core.errors import ApplicationError, Forbidden
from habeas.facilities.models import Facility

#: Rows per page: a facility at full scale has thousands of open alarms.
ALERTS_PER_PAGE = 100

#: Headings of the kinds, in the order the page shows them.
KIND_LABELS = LABELS


@role_required
@require_http_methods(["GET", "POST"])
def alert_list(request: HttpRequest) -> HttpResponse:
    """Every open alert the user may see (:func:`habeas.conditions.alerts.alerts_for`), with
    counts by kind and filters by kind and facility; the facility's staff and director
    acknowledge an alert here with a note (POST ``alert``, ``note``). A user with no role gets
    403, and so does a role that only reads alerts when it posts."""
    user = request.user
    if not has_role(user):
        raise PermissionDenied
    if request.method == "POST":
        if not may_acknowledge_alerts(user):
            raise PermissionDenied(_("Your role may read alerts but not acknowledge them."))
        try:
            alert_acknowledge(
                actor=Actor.from_user(user),
                user=user,
                alert_id=request.POST.get("alert", ""),
                note=request.POST.get("note", ""),
            )
        except Forbidden as exc:
            raise PermissionDenied(exc.message) from None
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Alert acknowledged."))
        return redirect(request.get_full_path())
    facilities = list(Facility.objects.visible_to(user).order_by("code"))
    kind = request.GET.get("kind", "")
    code = request.GET.get("facility", "")
    facility = next((f for f in facilities if f.code == code), None)
    every = alerts_for_cached(user=user, facility=facility)
    counts = Counter(a.kind for a in every)
    shown = [a for a in every if a.kind == kind] if kind in KINDS else every
    page = Paginator(shown, ALERTS_PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "conditions/alerts.html",
        {
            "alerts": page.object_list,
            "page": page,
            "query": query.urlencode(),
            "kinds": [
                {"kind": k, "label": KIND_LABELS[k], "rule": RULES[k], "count": counts.get(k, 0)}
                for k in KINDS
                if may_view_cells(user) or k not in HOUSING_KINDS
            ],
            "labels": KIND_LABELS,
            "kind": kind if kind in KINDS else "",
            "facility": facility,
            "facilities": facilities,
            "total": len(every),
            "open_count": sum(1 for a in shown if a.status == "open"),
            "acknowledged_count": sum(1 for a in shown if a.status == "acknowledged"),
            "ackable": {f.code for f in facilities if may_acknowledge_alert(user, f.code)},
        },
    )
