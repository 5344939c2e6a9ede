"""The conditions pages (issue 14, item 6): the board of every cell coloured by its latest
heat index band, with silent sensors shown, and the chart of temperature and heat index of a
cell or a module over a chosen period, drawn server-side as SVG. For the receiving prison's
roles and oversight; a sending state's liaison or finance officer gets the same 404 as a
missing page (housing data, Mandela Rule 9)."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from habeas.accounts.auth import role_required
from habeas.accounts.permissions import may_view_housing
from habeas.conditions.heat import BAND_LABELS, BANDS, c_to_f
from habeas.conditions.readings import SILENCE
from habeas.conditions.readings_selectors import chart_of, climate_board, climate_series
from habeas.core.errors import NotFound
from habeas.facilities.models import Cell, Facility
from habeas.facilities.selectors import facility_get_for

#: Days a chart covers; beyond 30 the readings are hourly rows (retention).
PERIODS = (1, 2, 7, 30, 90)


def _facility(request: HttpRequest, code: str) -> Facility:
    if not may_view_housing(request.user):
        raise Http404(_("Not found"))
    try:
        return facility_get_for(user=request.user, code=code)
    except NotFound:
        raise Http404(_("Not found")) from None


@role_required
def climate_board_page(request: HttpRequest, facility_code: str) -> HttpResponse:
    """Rules A5 and A6 at a glance: each cell's latest heat index in °C and °F, its NWS band,
    an open heat alert, a silent sensor."""
    facility = _facility(request, facility_code)
    modules = climate_board(facility)
    cells = [c for m in modules for c in m.cells]
    return render(
        request,
        "conditions/climate_board.html",
        {
            "facility": facility,
            "modules": modules,
            "bands": [(name, BAND_LABELS[name], lower) for name, lower in BANDS],
            "below_label": BAND_LABELS["none"],
            "heat_alerts": sum(1 for c in cells if c.heat_alert),
            "silent": sum(1 for c in cells if c.silent),
            "reporting": sum(1 for c in cells if c.taken_at is not None),
            "cells": len(cells),
            "hottest": max((c.heat_index_c or 0.0 for c in cells), default=None),
            "sustain_minutes": facility.heat_sustain_minutes,
            **_limits(facility),
            "silence_hours": int(SILENCE.total_seconds() // 3600),
        },
    )  # fmt: skip


def _limits(facility: Facility) -> dict[str, str]:
    """Rule A5's limit of the facility, in °C and °F, for the page's text."""
    limit = float(facility.heat_limit_c)
    return {"limit_c": number_format(limit, 1), "limit_f": f"{c_to_f(limit):.0f}"}


@role_required
def climate_chart_page(request: HttpRequest, facility_code: str) -> HttpResponse:
    """Temperature (mean) and heat index (highest) of one cell (``?cell=``) or one module
    (``?module=``, the default its first) over 1, 2, 7 or 30 days (``?days=``)."""
    facility = _facility(request, facility_code)
    modules = list(facility.modules.order_by("code").values_list("code", flat=True))
    cell = request.GET.get("cell") or None
    module = request.GET.get("module") or None
    try:
        days = int(request.GET.get("days", "7"))
    except ValueError:
        days = 7
    days = days if days in PERIODS else 7
    if cell is not None and not Cell.objects.filter(facility=facility, code=cell).exists():
        raise Http404(_("Not found"))
    if cell is None and module not in modules:
        module = modules[0] if modules else None
    points = climate_series(facility, cell=cell, module=module, days=days) if modules else []
    context: dict[str, Any] = {
        "facility": facility,
        "modules": modules,
        "cell": cell,
        "module": module,
        "days": days,
        "periods": PERIODS,
        "chart": chart_of(points, limit_c=float(facility.heat_limit_c)),
        **_limits(facility),
        "points": len(points),
        "peak": max((p.heat_index_c for p in points), default=None),
        "cells": list(
            Cell.objects.filter(facility=facility, active=True)
            .order_by("code")
            .values_list("code", flat=True)
        ),
    }
    return render(request, "conditions/climate_chart.html", context)
