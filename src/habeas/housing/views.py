"""Housing pages (issue 4): the housing board, a cell, the roll count for duty officers,
keep-apart management, the move dialog and occupancy over time.

Who: facility staff and admins for their facilities, oversight and auditors (read only).
A sending state's liaison or finance officer never sees who is in which cell (Mandela Rule 9):
for them every housing page is a 404, like anything outside the user's scope. Views read
through the selectors and write through the services only; custody (above facilities) is
reached through the reverse relations it declares, and its placement service is imported
inside the move view.
"""

from __future__ import annotations

import bisect
import contextlib
import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseNotAllowed,
    HttpResponseRedirect,
)
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from habeas.accounts.auth import role_required
from habeas.accounts.permissions import (
    may_manage_housing,
    may_override_keep_apart,
    may_view_housing,
)
from habeas.core.actor import Actor
from habeas.core.errors import ApplicationError, NotFound
from habeas.facilities.choices import (
    KeepApartRole,
    KeepApartScope,
    ModulePopulation,
    ModuleRegime,
    RollCountSource,
    SpaceStandard,
)
from habeas.facilities.models import Cell, Facility
from habeas.facilities.selectors import (
    CellOccupancy,
    facility_get_for,
    facility_list,
    occupancy_for,
    rate,
)
from habeas.facilities.standards import MURSIC_MINIMUM_M2, STANDARDS, usable_area
from habeas.housing.allocator import placement_model
from habeas.housing.forms import (
    BoardFilterForm,
    KeepApartCloseForm,
    KeepApartForm,
    MoveForm,
    OccupancyForm,
)
from habeas.housing.models import KeepApart
from habeas.housing.selectors import (
    housed_get_for,
    keep_apart_get_for,
    keep_apart_list,
    out_now,
    out_of_cells,
    placement_suggest,
    roll_count_list,
    roll_view,
)
from habeas.housing.services import RollLine, keep_apart_close, keep_apart_open, roll_count_record
from habeas.people.selectors import person_get_for

KEEP_APARTS_SHOWN = 200
HISTORY_SHOWN = 40
CHART_DAYS = 30


def _label(choices: Any, value: str) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value


def housing_user(request: HttpRequest) -> Any:
    """Facility roles and oversight; everyone else gets the same 404 as a missing page."""
    user = request.user
    if not may_view_housing(user):
        raise Http404(_("Not found"))
    return user


#: A write by a role that may read the page but not change it is refused with 403 (as the
#: housing API does); outside the user's scope it stays the same 404 as a missing page.
MSG_READ_ONLY = gettext_lazy("Your role may read housing but not change it.")


def _facility(user: Any, code: str) -> Facility:
    try:
        return facility_get_for(user=user, code=code)
    except NotFound:
        raise Http404(_("Not found")) from None


def _local(facility: Facility) -> ZoneInfo:
    return ZoneInfo(facility.timezone)


# --- board -------------------------------------------------------------------------------


@dataclass
class CellCard:
    """One cell of the board: the population drawn against certified and working capacity
    on one scale (the larger of population and working capacity)."""

    occ: CellOccupancy
    url: str

    @property
    def scale(self) -> int:
        return max(self.occ.population, self.occ.working_capacity, self.occ.certified_capacity, 1)

    def _pct(self, n: int) -> str:
        return f"{min(n, self.scale) * 100 / self.scale:.1f}"

    @property
    def fill_pct(self) -> str:
        return self._pct(self.occ.population)

    @property
    def certified_pct(self) -> str:
        return self._pct(self.occ.certified_capacity)

    @property
    def working_pct(self) -> str:
        return self._pct(self.occ.working_capacity)

    @property
    def at_working(self) -> bool:
        return self.occ.active and self.occ.population >= self.occ.working_capacity


@role_required
def index(request: HttpRequest) -> HttpResponse:
    """The facilities whose housing the user may see (straight to the board if only one)."""
    user = housing_user(request)
    facilities = list(facility_list(user=user))
    if len(facilities) == 1:
        return HttpResponseRedirect(reverse("housing:board", args=[facilities[0].code]))
    return render(request, "housing/index.html", {"facilities": facilities})


@role_required
def board(request: HttpRequest, facility_code: str) -> HttpResponse:
    """Module → grid of cells, each with bars for occupancy against certified and working
    capacity (HMPPS capacity terms; STANDARDS.md), filtered by module, regime and
    over-certified."""
    user = housing_user(request)
    facility = _facility(user, facility_code)
    (occupancy,) = occupancy_for([facility])
    form = BoardFilterForm(request.GET or None, modules=[m.code for m in occupancy.modules])
    wanted = form.cleaned_data if form.is_valid() else {}
    modules: list[dict[str, Any]] = []
    for module in occupancy.modules:
        if wanted.get("module") and module.code != wanted["module"]:
            continue
        if wanted.get("regime") and module.regime != wanted["regime"]:
            continue
        cells = [
            CellCard(c, reverse("housing:cell", args=[facility.code, c.code]))
            for c in module.cells
            if not wanted.get("over") or c.over_certified
        ]
        modules.append(
            {
                "m": module,
                "population_kind": _label(ModulePopulation, module.population_kind),
                "regime": _label(ModuleRegime, module.regime),
                "people_above": sum(
                    max(0, c.population - c.certified_capacity) for c in module.cells
                ),
                "cards": cells,
            }
        )
    return render(
        request,
        "housing/board.html",
        {
            "facility": facility,
            "occ": occupancy,
            "form": form,
            "modules": modules,
            "shown": sum(len(m["cards"]) for m in modules),
        },
    )


# --- cell --------------------------------------------------------------------------------


#: Occupancy bands (``CellOccupancy.band``, the dashboard's colours), as the cell page names them.
BAND_LABELS: dict[str, Any] = {
    "empty": gettext_lazy("Empty"),
    "ok": gettext_lazy("Up to 85% of certified capacity"),
    "near": gettext_lazy("85–100%"),
    "over": gettext_lazy("100–200%: overcrowded"),
    "severe": gettext_lazy("Over 200%: severely overcrowded"),
    "inactive": gettext_lazy("Out of use"),
}


def _person_link(person: Any) -> str:
    """A person's name linking to their file (escaped; safe to put in a translated text)."""
    return format_html(
        '<a href="{}">{}</a>', reverse("web:person_detail", args=[person.pk]), person.full_name
    )


@role_required
def cell(request: HttpRequest, facility_code: str, cell_code: str) -> HttpResponse:
    """The cell page (the only one: the web shell's old cell URL redirects here): dimensions
    and capacities under the facility's space standard (STANDARDS.md), space per person
    (Muršić v. Croatia [GC] §138 below 3 m²), who is held (legal basis, admission, since
    when; a move link for staff), keep-apart warnings for them, and the cell's history.

    Housing roles see every occupant: their scope is the facility (staff, admins) or
    everything (oversight, auditors), so no occupant of a cell they may open is hidden."""
    user = housing_user(request)
    facility = _facility(user, facility_code)
    found = Cell.objects.filter(facility=facility, code=cell_code).select_related("module").first()
    if found is None:
        raise Http404(_("Not found"))
    placements = placement_model().objects.filter(cell=found)
    held = list(
        placements.filter(ended_at__isnull=True)
        .select_related("episode__person")
        .prefetch_related("episode__legal_bases")
        .order_by("episode__person__first_surname", "episode__person__given_names", "pk")
    )
    population = len(held)
    occ = CellOccupancy(
        id=found.pk,
        code=found.code,
        population=population,
        certified_capacity=found.certified_capacity,
        working_capacity=found.working_capacity,
        max_capacity=found.max_capacity,
        active=found.active,
        usable_area_m2=usable_area(found.floor_area_m2, found.sanitary_area_m2),
    )
    occupants = [
        {
            "person": p.episode.person,
            "admitted_at": p.episode.admitted_at,
            "in_cell_since": p.started_at,
            "bases": sorted({str(b.get_kind_display()) for b in p.episode.legal_bases.all()}),
        }
        for p in held
    ]
    ids = {p.episode.person_id for p in held}
    warnings = []
    if ids:
        records_list = list(
            KeepApart.objects.open()
            .filter(Q(person_a_id__in=ids) | Q(person_b_id__in=ids))
            .select_related("person_a", "person_b")
        )
        others = {ka.other(pid) for ka in records_list for pid in (ka.person_a_id, ka.person_b_id)}
        where = dict(
            placement_model()
            .objects.filter(ended_at__isnull=True, episode__person_id__in=others)
            .values_list("episode__person_id", "cell__code")
        )
        for ka in records_list:
            for me in (ka.person_a_id, ka.person_b_id):
                if me not in ids:
                    continue
                other = ka.other(me)
                warnings.append(
                    {
                        "ka": ka,
                        "person_link": _person_link(
                            ka.person_a if me == ka.person_a_id else ka.person_b
                        ),
                        "other_link": _person_link(
                            ka.person_b if me == ka.person_a_id else ka.person_a
                        ),
                        "other_cell": where.get(other),
                        "same_cell": other in ids,
                        "scope": _label(KeepApartScope, ka.scope),
                    }
                )
    history = list(
        placements.select_related("episode__person").order_by("-started_at", "-pk")[:HISTORY_SHOWN]
    )
    space = occ.space_per_person
    return render(
        request,
        "housing/cell.html",
        {
            "facility": facility,
            "cell": found,
            "module_population": _label(ModulePopulation, found.module.population),
            "module_regime": _label(ModuleRegime, found.module.regime),
            "occ": occ,
            "band_label": BAND_LABELS.get(occ.band, ""),
            "card": CellCard(occ, ""),
            "rate_certified": occ.rate_certified,
            "rate_working": rate(population, found.working_capacity),
            "standard": STANDARDS.get(facility.space_standard),
            "standard_label": _label(SpaceStandard, facility.space_standard),
            "space": space,
            "below_mursic": space is not None and space < MURSIC_MINIMUM_M2,
            "mursic_minimum": MURSIC_MINIMUM_M2,
            "occupants": occupants,
            "warnings": warnings,
            "history": history,
            "history_shown": HISTORY_SHOWN,
            "may_write": may_manage_housing(user),
        },
    )


# --- roll count --------------------------------------------------------------------------


@role_required
def roll(request: HttpRequest, facility_code: str) -> HttpResponse:
    """The duty officers' roll (HMPPS establishment roll): the roll view per module with
    the people out (court, hospital, other) and who they are, a form to enter the counted
    figure per cell (people out are not expected in their cell), and the discrepancies of
    the last counted roll."""
    user = housing_user(request)
    facility = _facility(user, facility_code)
    zone = _local(facility)
    (occupancy,) = occupancy_for([facility])
    error = ""
    entered: dict[str, str] = {}
    counted_at_text = timezone.localtime(timezone.now(), zone).strftime("%Y-%m-%dT%H:%M")
    if request.method == "POST":
        if not may_manage_housing(user):
            raise PermissionDenied(MSG_READ_ONLY)
        counted_at_text = request.POST.get("counted_at", "").strip()
        lines: list[RollLine] = []
        row = 0
        for module in occupancy.modules:
            for c in module.cells:
                value = request.POST.get(f"cell-{c.code}", "").strip()
                if not value:
                    continue
                entered[c.code] = value
                row += 1
                if not (value.isascii() and value.isdigit()) or len(value) > 6:
                    error = _("Cell %(cell)s: the count must be a whole number.") % {"cell": c.code}
                    continue
                lines.append(RollLine(cell=c.code, counted=int(value), row=row))
        try:
            counted_at = dt.datetime.fromisoformat(counted_at_text).replace(tzinfo=zone)
        except ValueError:
            error = error or _("Enter the time of the count.")
        if not error and not lines:
            error = _("Enter the counted figure of at least one cell.")
        if not error:
            try:
                recorded = roll_count_record(
                    actor=Actor.from_user(user),
                    facility=facility,
                    counted_at=counted_at,
                    lines=lines,
                    source=RollCountSource.WEB,
                )
            except ApplicationError as exc:
                error = exc.message
            else:
                if recorded.discrepancies:
                    messages.error(
                        request,
                        _("Roll recorded with %(n)s discrepancies: see below.")
                        % {"n": recorded.discrepancies},
                    )
                else:
                    messages.success(request, _("Roll recorded: every count matches."))
                return HttpResponseRedirect(reverse("housing:roll", args=[facility.code]))
    latest = roll_count_list(user=user, facility=facility).first()
    discrepancies = []
    if latest is not None:
        discrepancies = [
            {
                "cell": line.cell.code,
                "expected": line.expected,
                "counted": line.counted,
                "difference": line.counted - line.expected,
            }
            for line in latest.lines.select_related("cell").order_by("cell__code")
            if line.counted != line.expected
        ]
    rows = roll_view(facility=facility)
    out_by_cell = out_of_cells(facility=facility)
    keys = [
        "population",
        "in_cell",
        "out",
        "out_court",
        "out_hospital",
        "out_other",
        "arrived_today",
        "released_today",
        "certified_capacity",
        "working_capacity",
        "vacancies",
        "cells_over_certified",
        "people_over_certified",
    ]
    total = {k: sum(getattr(r, k) for r in rows) for k in keys}
    return render(
        request,
        "housing/roll.html",
        {
            "facility": facility,
            "rows": rows,
            "total": total,
            "modules": [
                {
                    "code": m.code,
                    "cells": [
                        {
                            "code": c.code,
                            "population": c.population,
                            "out": sum(out_by_cell.get(c.id, {}).values()),
                            "expected": c.population - sum(out_by_cell.get(c.id, {}).values()),
                            "value": entered.get(c.code, ""),
                        }
                        for c in m.cells
                    ],
                }
                for m in occupancy.modules
            ],
            "counted_at": counted_at_text,
            "error": error,
            "latest": latest,
            "discrepancies": discrepancies,
            "out_now": out_now(facility=facility),
            "may_write": may_manage_housing(user),
            "today": timezone.localtime(timezone.now(), zone).date(),
        },
        status=400 if error else 200,
    )


# --- keep apart --------------------------------------------------------------------------


@role_required
def keep_aparts(request: HttpRequest) -> HttpResponse:
    """Keep-apart records (list open and closed; open one with a reason, the role of each
    person and the scope). A cell scope can never be broken; module and facility scopes only
    by a facility admin's override with a reason."""
    user = housing_user(request)
    show = request.GET.get("show", "open")
    initial = {}
    if request.method == "GET" and request.GET.get("person"):
        with contextlib.suppress(NotFound):
            initial["person"] = person_get_for(user=user, person_id=request.GET["person"]).pk
    form = KeepApartForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        if not may_manage_housing(user):
            raise PermissionDenied(MSG_READ_ONLY)
        if form.is_valid():
            data = form.cleaned_data
            person = _picked(form, user, "person")
            other = _picked(form, user, "other")
            if person is not None and other is not None:
                try:
                    keep_apart_open(
                        actor=Actor.from_user(user),
                        person=person,
                        other=other,
                        scope=data["scope"],
                        reason=data["reason"],
                        role=data["role"],
                        other_role=data["other_role"],
                    )
                except ApplicationError as exc:
                    form.add_error(None, exc.message)
                else:
                    messages.success(
                        request,
                        _("%(a)s and %(b)s are now kept apart.")
                        % {"a": person.full_name, "b": other.full_name},
                    )
                    return HttpResponseRedirect(reverse("web:person_detail", args=[person.pk]))
        status = 400
    records = keep_apart_list(user=user, open_only=show == "open")
    if show == "closed":
        records = records.filter(closed_at__isnull=False)
    rows = [
        {
            "ka": ka,
            "scope": _label(KeepApartScope, ka.scope),
            "role_a": _label(KeepApartRole, ka.role_a),
            "role_b": _label(KeepApartRole, ka.role_b),
        }
        for ka in records[:KEEP_APARTS_SHOWN]
    ]
    return render(
        request,
        "housing/keep_aparts.html",
        {
            "form": form,
            "rows": rows,
            "show": show,
            "may_write": may_manage_housing(user),
            "close_form": KeepApartCloseForm(),
        },
        status=status,
    )


#: People offered when a typed name matches several.
PICK_AT_MOST = 10


def _picked(form: KeepApartForm, user: Any, name: str) -> Any:
    """The one person the text typed in ``name`` designates (a registry number, a reference,
    or a name through the staff search), or None with the form told why: nobody matches,
    or several do (then they are offered to pick from, by name)."""
    from habeas.people.selectors import person_list

    text = form.cleaned_data[name].strip()
    chosen = form.cleaned_data.get(f"{name}_pick")
    if text.startswith("#"):
        text = text[1:]
    if text.isdigit():
        try:
            return person_get_for(user=user, person_id=text)
        except NotFound:
            pass
    people = list(person_list(user=user, query=text)[: PICK_AT_MOST + 1])
    if chosen:
        match = [p for p in people if p.pk == chosen]
        if match:
            return match[0]
    if len(people) == 1:
        return people[0]
    if not people:
        form.add_error(name, _("Nobody in your scope matches “%(text)s”.") % {"text": text})
        return None
    form.offer(name, people[:PICK_AT_MOST])
    form.add_error(f"{name}_pick", _("Several people match “%(text)s”: pick one.") % {"text": text})
    return None


@role_required
def keep_apart_close_view(request: HttpRequest, ka_id: int) -> HttpResponse:
    user = housing_user(request)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    if not may_manage_housing(user):
        raise PermissionDenied(MSG_READ_ONLY)
    try:
        ka = keep_apart_get_for(user=user, pk=ka_id)
    except NotFound:
        raise Http404(_("Not found")) from None
    form = KeepApartCloseForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Closing a keep-apart record needs a reason."))
    else:
        try:
            keep_apart_close(
                actor=Actor.from_user(user), keep_apart=ka, reason=form.cleaned_data["reason"]
            )
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Keep-apart record %(id)s closed.") % {"id": ka.pk})
    return HttpResponseRedirect(reverse("housing:keep_aparts"))


# --- move dialog -------------------------------------------------------------------------


@role_required
def move(request: HttpRequest, person_id: int) -> HttpResponse:
    """Every cell of the person's facility, allowed or refused with the rules' messages
    (``placement_suggest``), and a form that moves through ``placement_move``, which checks
    every rule again under lock; a refusal is shown with the rules that refused."""
    user = housing_user(request)
    try:
        housed = housed_get_for(user=user, person_id=person_id)
    except NotFound:
        raise Http404(_("Not found")) from None
    form = MoveForm(request.POST or None, initial={"cell": request.GET.get("cell", "")})
    refusal: dict[str, Any] | None = None
    status = 200
    if request.method == "POST":
        if not may_manage_housing(user):
            raise PermissionDenied(MSG_READ_ONLY)
        if form.is_valid():
            # Custody sits above facilities: imported here, never at module level.
            from habeas.housing.placements import placement_move

            data = form.cleaned_data
            target = Cell.objects.filter(facility=housed.facility, code=data["cell"]).first()
            if target is None:
                form.add_error("cell", _("There is no such cell in this facility."))
                status = 400
            else:
                try:
                    placement_move(
                        actor=Actor.from_user(user),
                        person=housed.person,
                        cell=target,
                        at=timezone.now(),
                        reason=data["reason"],
                        override_reason=data["override_reason"],
                    )
                except ApplicationError as exc:
                    refusal = {
                        "cell": target.code,
                        "message": exc.message,
                        "rules": str(exc.details.get("rules", "")).split(", ")
                        if exc.details.get("rules")
                        else [],
                    }
                    status = exc.status
                else:
                    messages.success(
                        request,
                        _("%(name)s moved to cell %(cell)s.")
                        % {"name": housed.person.full_name, "cell": target.code},
                    )
                    return HttpResponseRedirect(
                        reverse("housing:cell", args=[housed.facility.code, target.code])
                    )
        else:
            status = 400
    suggestion = placement_suggest(facility=housed.facility, who=housed.who)
    current = housed.cell.pk if housed.cell else None
    allowed = [
        {"cell": c, "population": suggestion.counts.get(c.pk, 0)}
        for c in suggestion.allowed
        if c.pk != current
    ]
    refused = [
        {"cell": c, "population": suggestion.counts.get(c.pk, 0), "why": why}
        for c, why in suggestion.refused
        if c.pk != current
    ]
    return render(
        request,
        "housing/move.html",
        {
            "person": housed.person,
            "facility": housed.facility,
            "current": housed.cell,
            "who": housed.who,
            "regime": _label(ModuleRegime, housed.who.regime),
            "allowed": allowed,
            "refused": refused,
            "best": allowed[0]["cell"] if allowed else None,
            "form": form,
            "refusal": refusal,
            "may_write": may_manage_housing(user),
            "is_admin": may_override_keep_apart(user),
        },
        status=status,
    )


# --- occupancy over time -----------------------------------------------------------------


@dataclass
class Series:
    module: str
    certified: int
    working: int
    values: list[int]


def occupancy_series(
    facility: Facility, days: int, end: dt.date
) -> tuple[list[dt.date], list[Series]]:
    """Population per module at the end of each day (the facility's local midnight), from
    placement intervals: a sweep over the sorted starts and ends, O((n + d) log n)."""
    zone = _local(facility)
    dates = [end - dt.timedelta(days=days - 1 - i) for i in range(days)]
    instants = [
        dt.datetime.combine(d + dt.timedelta(days=1), dt.time.min, tzinfo=zone) for d in dates
    ]
    window_start = instants[0] - dt.timedelta(days=1)
    rows = (
        placement_model()
        .objects.filter(cell__facility=facility, started_at__lt=instants[-1])
        .exclude(ended_at__lt=window_start)
        .values_list("cell__module_id", "started_at", "ended_at")
    )
    starts: defaultdict[int, list[dt.datetime]] = defaultdict(list)
    ends: defaultdict[int, list[dt.datetime]] = defaultdict(list)
    for module_id, started, ended in rows.iterator(chunk_size=5000):
        starts[module_id].append(started)
        if ended is not None:
            ends[module_id].append(ended)
    (occ,) = occupancy_for([facility])
    series = []
    for module in occ.modules:
        s = sorted(starts[module.id])
        e = sorted(ends[module.id])
        values = [bisect.bisect_right(s, t) - bisect.bisect_right(e, t) for t in instants]
        series.append(
            Series(module.code, module.certified_capacity, module.working_capacity, values)
        )
    return dates, series


CHART_W, CHART_H, PAD_L, PAD_B, PAD_T, PAD_R = 360, 170, 44, 26, 12, 10


def chart(dates: list[dt.date], s: Series) -> dict[str, Any]:
    """Coordinates of one module's small chart (the template draws the SVG)."""
    top = max([*s.values, s.certified, s.working, 1])
    top = int(top * 1.1) + 1
    inner_w, inner_h = CHART_W - PAD_L - PAD_R, CHART_H - PAD_T - PAD_B

    def x(i: int) -> float:
        return PAD_L + (inner_w * i / max(len(dates) - 1, 1))

    def y(v: int) -> float:
        return PAD_T + inner_h - inner_h * v / top

    points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(s.values))
    area = f"{x(0):.1f},{y(0):.1f} {points} {x(len(dates) - 1):.1f},{y(0):.1f}"
    ticks = [{"y": f"{y(v):.1f}", "label": v} for v in (0, top // 2, top)]
    label_every = max(1, len(dates) // 4)
    marks = list(range(0, len(dates), label_every))
    if marks and len(dates) - 1 - marks[-1] >= label_every / 2:
        marks.append(len(dates) - 1)  # the last day, unless it would crowd the previous label
    xlabels = [{"x": f"{x(i):.1f}", "label": dates[i].strftime("%m-%d")} for i in marks]
    return {
        "s": s,
        "points": points,
        "area": area,
        "certified_y": f"{y(s.certified):.1f}",
        "working_y": f"{y(s.working):.1f}",
        "ticks": ticks,
        "xlabels": xlabels,
        "x0": PAD_L,
        "x1": CHART_W - PAD_R,
        "y0": f"{y(0):.1f}",
        "last": s.values[-1] if s.values else 0,
        "peak": max(s.values) if s.values else 0,
        "over": bool(s.values) and s.values[-1] > s.certified,
    }


@role_required
def occupancy(request: HttpRequest, facility_code: str) -> HttpResponse:
    """Occupancy over time per module against certified and working capacity, drawn as
    server-rendered SVG (no JavaScript; Mandela Rule 10: trends of occupancy)."""
    user = housing_user(request)
    facility = _facility(user, facility_code)
    form = OccupancyForm(request.GET or None)
    days = (form.cleaned_data.get("days") if form.is_valid() else None) or CHART_DAYS
    end = timezone.localtime(timezone.now(), _local(facility)).date()
    dates, series = occupancy_series(facility, days, end)
    return render(
        request,
        "housing/occupancy.html",
        {
            "facility": facility,
            "form": form,
            "days": days,
            "first": dates[0],
            "last": dates[-1],
            "charts": [chart(dates, s) for s in series],
            "width": CHART_W,
            "height": CHART_H,
        },
    )
