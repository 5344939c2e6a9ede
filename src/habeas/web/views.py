"""The web shell: dashboard, people, person file (ARCHITECTURE.md, web/); the cell page is
housing's (``housing:cell``), the old cell URL redirects there.

Views only read, through each app's selectors, which start from ``visible_to(user)``; a row
outside the user's scope and a missing row both answer 404 with the same page (Zulip
``access_stream_by_id``). Sending-state liaisons and finance officers see facility and module
totals (public statistics, Mandela Rule 10) but never who is in which cell (Rule 9).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.formats import get_format, number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from habeas.accounts.auth import role_required
from habeas.accounts.permissions import may_manage_housing, may_view_cells
from habeas.core import audit
from habeas.core.errors import NotFound
from habeas.custody.choices import LegalBasisKind
from habeas.custody.models import CustodyEpisode, LegalBasis
from habeas.custody.selectors import basis_ends_on, person_history, release_date
from habeas.facilities.choices import ModulePopulation, ModuleRegime, SpaceStandard
from habeas.facilities.selectors import (
    CellOccupancy,
    FacilityOccupancy,
    ModuleOccupancy,
    occupancy_list,
)
from habeas.housing.selectors import current_placement
from habeas.people.selectors import person_get_for
from habeas.web.absences import absence_panel
from habeas.web.forms import StaffSearchForm
from habeas.web.ledger_text import action_label, entry_summary, visible_in_history
from habeas.web.lifecycle import lifecycle_context
from habeas.web.search import (
    SORTS,
    STATUS_LABELS,
    CountedPaginator,
    SearchFilters,
    nationality_choices,
    result_count,
    staff_search,
    with_columns,
)

PEOPLE_PER_PAGE = 50

#: Occupancy bands of the dashboard grid (``CellOccupancy.band``), in legend order.
BANDS: list[tuple[str, Any]] = [
    ("empty", gettext_lazy("Empty")),
    ("ok", gettext_lazy("Up to 85% of certified capacity")),
    ("near", gettext_lazy("85–100%")),
    ("over", gettext_lazy("100–200%: overcrowded")),
    ("severe", gettext_lazy("Over 200%: severely overcrowded")),
    ("inactive", gettext_lazy("Out of use")),
]
BAND_LABELS = dict(BANDS)


def _label(choices: Any, value: str) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value


def _num(value: Decimal | int | None, places: int = 1) -> str:
    if value is None:
        return "—"
    if 0 <= value < 1000:  # no thousands to group: the decimal separator is all (256 cells)
        if isinstance(value, Decimal):  # cut, not rounded, as number_format does
            whole, _dot, decimals = f"{value:f}".partition(".")
            decimals = (decimals + "0" * places)[:places]
            return f"{whole}{get_format('DECIMAL_SEPARATOR')}{decimals}" if places else whole
        return str(value)
    return number_format(value, decimal_pos=places if isinstance(value, Decimal) else None)


# --- dashboard ----------------------------------------------------------------------------


@dataclass
class Bar:
    """Population drawn against one capacity: the track spans the larger of the two, the
    fill is the population and the marker is where the capacity lies."""

    label: str
    capacity: int
    population: int
    rate: Decimal | None

    @property
    def scale(self) -> int:
        return max(self.population, self.capacity, 1)

    @property
    def fill_pct(self) -> str:
        return f"{self.population * 100 / self.scale:.2f}"

    @property
    def marker_pct(self) -> str:
        return f"{self.capacity * 100 / self.scale:.2f}"

    @property
    def over(self) -> bool:
        return self.population > self.capacity

    @property
    def excess(self) -> int:
        return max(0, self.population - self.capacity)


def _cell_title(cell: CellOccupancy) -> str:
    parts = [
        cell.code,
        _("%(population)s held / %(certified)s certified / %(working)s working")
        % {
            "population": _num(cell.population),
            "certified": _num(cell.certified_capacity),
            "working": _num(cell.working_capacity),
        },
    ]
    if cell.space_per_person is not None:
        parts.append(_("%(m2)s m² per person") % {"m2": _num(cell.space_per_person, 2)})
    if not cell.active:
        parts.append(str(BAND_LABELS["inactive"]))
    return " · ".join(parts)


def _module_row(module: ModuleOccupancy, facility_code: str, link: bool) -> dict[str, Any]:
    # One reverse per module, not per cell: the cell code is the last segment.
    base = reverse("housing:cell", args=[facility_code, "-"])[:-2] if link else ""
    return {
        "code": module.code,
        "population_kind": _label(ModulePopulation, module.population_kind),
        "regime": _label(ModuleRegime, module.regime),
        "population": module.population,
        "certified": module.certified_capacity,
        "working": module.working_capacity,
        "rate_certified": module.rate_certified,
        "cells_over": module.cells_over_certified,
        "cells": [
            {
                "code": c.code,
                "band": c.band,
                "population": c.population,
                "title": _cell_title(c),
                "url": f"{base}{quote(c.code, safe='')}/" if link else "",
            }
            for c in module.cells
        ],
    }


def _facility_card(occ: FacilityOccupancy, link: bool) -> dict[str, Any]:
    return {
        "code": occ.code,
        "name": occ.facility.name,
        "standard": _label(SpaceStandard, occ.facility.space_standard),
        "declared_capacity": occ.facility.declared_capacity,
        "population": occ.population,
        "certified": occ.certified_capacity,
        "working": occ.working_capacity,
        "rate_certified": occ.rate_certified,
        "rate_working": occ.rate_working,
        "people_above": occ.people_above_certified,
        "cells_over": occ.cells_over_certified,
        "cell_count": sum(len(m.cells) for m in occ.modules),
        "bars": [
            Bar(
                _("Certified capacity"), occ.certified_capacity, occ.population, occ.rate_certified
            ),
            Bar(_("Working capacity"), occ.working_capacity, occ.population, occ.rate_working),
        ],
        "modules": [_module_row(m, occ.code, link) for m in occ.modules],
    }


@role_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """The facility dashboard at its own address, for every role (``/`` shows it to the
    facility's people: :func:`habeas.web.homes.home`)."""
    return dashboard_page(request)


def dashboard_page(request: HttpRequest) -> HttpResponse:
    """Occupancy per facility against certified and working capacity (Mandela Rule 10;
    STANDARDS.md: occupancy rate = population × 100 / certified capacity)."""
    show_cells = may_view_cells(request.user)
    from django.utils import timezone

    from habeas.ledger.freshness import cached_document, registry_version
    from habeas.web.attention import attention_counts, attention_panel, reader_cache_key

    # Occupancy and the panel's counts change only with a change of the registry (a move, an
    # admission, an alert acknowledged) or the clock: read once per version of the registry
    # and reader, in one cached document (one cache round trip).
    user, current = request.user, timezone.now()
    figures = cached_document(
        f"dashboard:{reader_cache_key(user)}",
        lambda: {
            "occupancy": occupancy_list(user=user),
            "attention": attention_counts(user, current),
        },
        version=registry_version(),
    )
    facilities = [_facility_card(f, show_cells) for f in figures["occupancy"]]
    return render(
        request,
        "web/dashboard.html",
        {
            "facilities": facilities,
            "show_cells": show_cells,
            "bands": BANDS,
            "attention": attention_panel(figures["attention"], user, current),
        },
    )


# --- people -------------------------------------------------------------------------------


def _visible_episodes(user: Any) -> Any:
    return CustodyEpisode.objects.visible_to(user).select_related("facility", "agreement")


#: CSV columns of the staff search export (the cell only for users who may see cells).
CSV_COLUMNS = ["registry_id", "name", "identifiers", "date_of_birth", "nationalities",
               "status", "facility", "cell", "admitted_at"]  # fmt: skip


def _search_filters(form: StaffSearchForm) -> SearchFilters:
    data = form.cleaned_data if form.is_valid() else {}
    return SearchFilters(
        query=data.get("q", ""),
        reference=data.get("reference", ""),
        cell=data.get("cell", ""),
        nationality=data.get("nationality", ""),
        basis=data.get("basis", ""),
        status=data.get("status", ""),
        sort=data.get("sort", "") or "name",
    )


def _sort_links(request: HttpRequest, current: str, show_cells: bool) -> dict[str, Any]:
    """Per column: the URL that sorts by it (ascending, or descending if it already sorts
    ascending) and the column's ``aria-sort`` value."""
    links: dict[str, Any] = {}
    for key in SORTS:
        if key == "cell" and not show_cells:
            continue
        params = request.GET.copy()
        params.pop("page", None)
        params["sort"] = f"-{key}" if current == key else key
        state = "ascending" if current == key else "descending" if current == f"-{key}" else "none"
        links[key] = {"url": "?" + params.urlencode(), "state": state}
    return links


@role_required
def person_list_view(request: HttpRequest, *, as_csv: bool = False) -> HttpResponse:
    """Search the people the user may see (:mod:`habeas.web.search`): names in any script,
    accents and capitals folded as the public locator folds them, filters, sortable columns,
    pages of 50 and a CSV export of the whole result."""
    from habeas.web.templatetags.habeas_web import country

    user = request.user
    show_cells = may_view_cells(user)
    form = StaffSearchForm(
        request.GET or None,
        nationalities=[(c, f"{country(c)} ({c})") for c in nationality_choices(user)],
    )
    if not show_cells:
        del form.fields["cell"]
    filters = _search_filters(form)
    if as_csv:
        people = staff_search(user=user, filters=filters, show_cells=show_cells, columns=True)
        return _people_csv(people.prefetch_related("identifiers"), show_cells)
    people = staff_search(user=user, filters=filters, show_cells=show_cells).only("pk")
    paginator = CountedPaginator(
        people, PEOPLE_PER_PAGE, known=result_count(user, filters, show_cells, people)
    )
    page = paginator.get_page(request.GET.get("page"))
    rows = with_columns(user, list(page.object_list), show_cells)
    params = request.GET.copy()
    params.pop("page", None)
    return render(
        request,
        "web/person_list.html",
        {
            "form": form,
            "query": filters.query,
            "filtered": filters.any,
            "page": page,
            "people": rows,
            "show_cells": show_cells,
            "status_labels": STATUS_LABELS,
            "sorts": _sort_links(request, filters.sort, show_cells),
            "params": params.urlencode(),
        },
    )


def _people_csv(people: Any, show_cells: bool) -> HttpResponse:
    from habeas.core import csvsafe

    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="people.csv"'
    writer = csvsafe.writer(response)
    columns = [c for c in CSV_COLUMNS if show_cells or c != "cell"]
    writer.writerow(columns)
    for p in people.iterator(chunk_size=2000):
        row = {
            "registry_id": p.pk,
            "name": p.sorted_name,
            "identifiers": " ".join(f"{i.authority}:{i.value}" for i in p.identifiers.all()),
            "date_of_birth": p.date_of_birth_display,
            "nationalities": " ".join(p.nationalities or []),
            "status": p.status,
            "facility": p.facility_code or "",
            "cell": getattr(p, "cell_code", None) or "",
            "admitted_at": p.admitted_at.isoformat() if p.admitted_at else "",
        }
        writer.writerow([row[c] for c in columns])
    return response


def _basis_row(basis: LegalBasis) -> dict[str, Any]:
    return {
        "kind": _label(LegalBasisKind, basis.kind),
        "is_sentence": basis.kind == LegalBasisKind.CRIMINAL_SENTENCE,
        "ref": basis.ref,
        "authority": basis.authority,
        "offence": basis.offence,
        "order_date": basis.order_date,
        "sentence": basis.sentence,
        "sentence_start": basis.sentence_start,
        "credit_days": basis.custody_credit_days,
        "ends_on": basis_ends_on(basis),
        "status": basis.status,
        "status_label": basis.get_status_display(),
        "ended_on": basis.ended_on,
        "forfeited": basis.credit_forfeited_days,
        "removal_protection": basis.removal_protection,
    }


@role_required
def person_detail(request: HttpRequest, person_id: int) -> HttpResponse:
    """The person's file as the user may see it (Mandela Rules 7-9) and the custody history
    read from the ledger (Rule 6), not from the current tables; temporary absences and the
    staff's forms to record a departure and a return (:mod:`habeas.web.absences`, which
    writes through the custody services only)."""
    user = request.user
    try:
        person = person_get_for(user=user, person_id=person_id)
    except NotFound:
        raise Http404(_("Not found")) from None
    show_cells = may_view_cells(user)
    episodes = list(
        _visible_episodes(user)
        .filter(person=person)
        .prefetch_related("legal_bases")
        .order_by("-admitted_at", "-pk")
    )
    bases: dict[int, LegalBasis] = {}
    for episode in episodes:
        for basis in episode.legal_bases.all():
            bases[basis.pk] = basis
    open_episode = next((e for e in episodes if e.is_open), None)
    placement = None
    if show_cells and open_episode is not None:
        found = current_placement(person)
        if found is not None and found.episode_id == open_episode.pk:
            placement = found
    absences = absence_panel(
        request, person=person, open_episode=open_episode, show_cells=show_cells
    )
    if absences.response is not None:
        return absences.response
    # Only a page shown is a view of the file (Mandela Rule 9): a form posted and refused or
    # answered with a redirect is not.
    audit.file_viewed(user=user, person=person, channel="web")
    history = [
        {
            "index": entry.index,
            "action": action_label(entry.action),
            "occurred_at": entry.occurred_at,
            "recorded_at": entry.recorded_at,
            "actor": entry.actor,
            "summary": entry_summary(entry, show_cells=show_cells),
        }
        for entry in person_history(person)
        if visible_in_history(entry.action, show_cells=show_cells)
    ]
    latest = episodes[0] if episodes else None
    return render(
        request,
        "web/person_detail.html",
        {
            "person": person,
            "identifiers": list(person.identifiers.all()),
            "bases": [_basis_row(b) for _pk, b in sorted(bases.items())],
            "episodes": episodes,
            "open_episode": open_episode,
            "release_date": release_date(person) if open_episode is not None else None,
            "placement": placement,
            "show_cells": show_cells,
            "may_act": open_episode is not None and may_manage_housing(user),
            "history": history,
            # The history's times are read in the zone of the facility that holds (or last
            # held) the person, with the zone shown; UTC for someone never admitted.
            "zone": latest.facility.timezone if latest is not None else "UTC",
            **_hub_context(user, person, open_episode, show_cells),
            **lifecycle_context(person, open_episode, show_private=show_cells),
            **absences.context,
        },
        status=absences.status,
    )


def _hub_context(
    user: Any, person: Any, open_episode: CustodyEpisode | None, show_cells: bool
) -> dict[str, Any]:
    """What the person file links to besides its own sections: the Rule 7 record of the open
    episode, the open keep-apart records and the notifications queued or sent about the
    person (roles that see cells only: addresses and relatives are need-to-know, Rule 9)."""
    from habeas.accounts.permissions import may_read_admission_record
    from habeas.housing.selectors import keep_apart_list
    from habeas.notifications.models import Delivery

    record = None
    if open_episode is not None and may_read_admission_record(user):
        record = getattr(open_episode, "admission_record", None)
    keep_aparts = []
    notices: list[Any] = []
    if show_cells:
        for ka in keep_apart_list(user=user, open_only=True).filter(
            Q(person_a=person) | Q(person_b=person)
        ):
            other = ka.person_b if ka.person_a_id == person.pk else ka.person_a
            keep_aparts.append({"ka": ka, "other": other, "scope": ka.get_scope_display()})
        notices = list(
            Delivery.objects.filter(person=person, episode__in=_visible_episodes(user))
            .select_related("episode__facility")
            .order_by("-queued_at", "-pk")[:NOTICES_SHOWN]
        )
    return {
        "admission_record": record,
        "keep_aparts": keep_aparts,
        "notices": notices,
        "notices_unsent": admission_notices_unsent(user, person) if show_cells else [],
        "may_keep_apart": show_cells and may_manage_housing(user),
    }


#: Notifications listed on the person file (the most recent first).
NOTICES_SHOWN = 20


def admission_notices_unsent(user: Any, person: Any) -> list[dict[str, Any]]:
    """The notices due at admission (``transfers.Notification``: Mandela Rule 68, VCCR art.
    36) that no delivery carries, each with why: no relative's e-mail address, the person's
    objection (Rule 68), no webhook subscription of the consulate. What was delivered is
    listed with its own status; nothing here is a "queued" that never changes."""
    from habeas.notifications.models import Delivery, FamilyObjection
    from habeas.transfers.models import Notification

    due = list(
        Notification.objects.filter(
            episode__person=person, episode__in=_visible_episodes(user)
        ).select_related("episode__facility")
    )
    if not due:
        return []
    carried = set(
        Delivery.objects.filter(person=person, event="admission").values_list(
            "episode_id", "audience", "subscription__country"
        )
    )
    family = {(ep, audience) for ep, audience, _country in carried}
    objected = FamilyObjection.objects.filter(person=person).exists()
    rows = []
    for n in due:
        if n.kind == "family":
            if (n.episode_id, "family") in family:
                continue
            if objected:
                why = _("Not sent: the person objected (Mandela Rule 68)")
            elif not n.recipient:
                why = _("Not sent: no relative's contact was recorded")
            else:
                why = _("Not sent by Habeas: no e-mail address for the relative")
        else:
            if (n.episode_id, "consular", n.country) in carried:
                continue
            why = _("Not sent by Habeas: no webhook subscription of this consulate")
        rows.append({"notification": n, "why": why})
    return rows


# --- cells --------------------------------------------------------------------------------


def cell_detail(request: HttpRequest, facility_code: str, cell_code: str) -> HttpResponse:
    """The web shell's old cell URL: moved for good to the housing cell page (one cell page
    with dimensions, space per person, occupants, keep-apart warnings, history and the move
    dialog). The redirect reveals nothing: the housing page decides who may see the cell."""
    return HttpResponsePermanentRedirect(reverse("housing:cell", args=[facility_code, cell_code]))


# --- releases due ---------------------------------------------------------------------------


@role_required
def releases_due_view(request: HttpRequest, *, as_csv: bool = False) -> HttpResponse:
    """Releases in the next 30 days (or ``?days=N``, 1-366), per facility and per sending
    state, as the user may see them (a liaison: their own transferees); also as CSV."""
    from habeas.core import csvsafe
    from habeas.custody.selectors import releases_due

    try:
        days = min(max(int(request.GET.get("days", "30")), 1), 366)
    except ValueError:
        days = 30
    rows = releases_due(user=request.user, days=days)
    if as_csv:
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="releases-due.csv"'
        writer = csvsafe.writer(response)
        writer.writerow(
            ["release_date", "person", "name", "facility", "agreement", "sending_state"]
        )
        for r in rows:
            writer.writerow(
                [r["release_date"].isoformat(), r["person_id"], r["name"], r["facility"],
                 r["agreement"], r["sending_state"]]
            )  # fmt: skip
        return response
    by_facility: dict[str, list[dict[str, Any]]] = {}
    by_state: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        by_facility.setdefault(r["facility"], []).append(r)
        by_state.setdefault(r["sending_state"] or "—", []).append(r)
    return render(
        request,
        "web/releases_due.html",
        {
            "rows": rows,
            "days": days,
            "by_facility": sorted(by_facility.items()),
            "by_state": sorted(by_state.items()),
        },
    )
