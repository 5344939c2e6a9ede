"""Public and oversight pages (ARCHITECTURE.md, oversight/).

* ``/locator/`` — public: where is this person held? (INTERFACES.md ``locate``; never a cell,
  a legal document, another person's data, or whether a non-matching person exists);
  rate-limited per client address.
* ``/statistics/`` and its CSV / JSON downloads — public (Mandela Rule 10), small counts shown
  as "<5".
* ``/oversight/`` and ``/oversight/access-log/`` — oversight monitors and auditors only,
  read-only; 403 for every other role (Mandela Rules 6, 9, 71-72; no medical detail).
* ``/people/<id>/file.pdf`` — a person's file as PDF, the official copy (Mandela Rule 9),
  scoped like the person page; each export is recorded in the access log.

Views only read (selectors) and call ``access_log_record``; nothing here writes a domain row.
"""

from __future__ import annotations

import datetime as dt
import gettext
import io
from functools import lru_cache
from typing import Any

import pycountry
from django import forms
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from habeas.accounts.auth import role_required
from habeas.accounts.permissions import may_read_oversight
from habeas.conditions.alerts import RULES
from habeas.conditions.views import KIND_LABELS
from habeas.core import csvsafe
from habeas.core.errors import ApplicationError, NotFound
from habeas.custody.choices import ReleaseReason
from habeas.facilities.choices import ModulePopulation, ModuleRegime
from habeas.ledger.freshness import conditional
from habeas.oversight.charts import population_chart
from habeas.oversight.choices import AccessChannel
from habeas.oversight.locator import (
    LocatorQuery,
    client_address,
    locate,
    locator_throttle,
    search_throttles,
)
from habeas.oversight.selectors import (
    SUPPRESSED,
    AccessLogFilter,
    access_log_list,
    deaths_list,
    ledger_status,
    public_stats_cached,
    stats_cached,
)
from habeas.oversight.services import access_log_record

ACCESS_LOG_PER_PAGE = 50


# --- countries -----------------------------------------------------------------------------


@lru_cache(maxsize=4)
def _country_translation(language: str) -> gettext.NullTranslations:
    return gettext.translation(
        "iso3166-1", pycountry.LOCALES_DIR, languages=[language], fallback=True
    )


def country_name(code: str) -> str:
    """The country's name in the active language (pycountry's ISO 3166-1 translations)."""
    found = pycountry.countries.get(alpha_2=str(code).upper()) if code else None
    if found is None:
        return str(code)
    language = (get_language() or "en").split("-")[0]
    if language == "en":
        return str(getattr(found, "common_name", None) or found.name)
    return _country_translation(language).gettext(found.name)


def country_choices() -> list[tuple[str, str]]:
    """Every country, by name in the active language (computed once per language: the
    public locator's form lists them on every search)."""
    return list(_country_choices(get_language() or "en"))


@lru_cache(maxsize=8)
def _country_choices(language: str) -> tuple[tuple[str, str], ...]:
    """``language`` is the active one (the key of the cache; :func:`country_name` reads it)."""
    choices = [(c.alpha_2, country_name(c.alpha_2)) for c in pycountry.countries]
    return tuple(sorted(choices, key=lambda c: c[1]))


@lru_cache(maxsize=8)
def _country_options(language: str) -> tuple[tuple[str, str, str], ...]:
    """Per country of the locator's select: its code and its ``<option>`` element, plain and
    selected, escaped once per language (a template loop over 250 options cost more than
    the search itself)."""
    blank = ("", _("Choose a country"))
    return tuple(
        (
            value,
            format_html('<option value="{}">{}</option>', value, label),
            format_html('<option value="{}" selected>{}</option>', value, label),
        )
        for value, label in (blank, *_country_choices(language))
    )


def nationality_options(selected: Any) -> SafeString:
    """The ``<option>`` elements of the nationality select, ``selected`` marked (None, the
    unbound form's value: none is)."""
    chosen = None if selected is None else str(selected)
    return mark_safe(  # noqa: S308 - joined from format_html's escaped parts
        "\n".join(
            on if value == chosen else off
            for value, off, on in _country_options(get_language() or "en")
        )
    )


# --- the locator ---------------------------------------------------------------------------


class LocatorForm(forms.Form):
    """Either a reference, or names and a date or year of birth; always a nationality."""

    nationality = forms.ChoiceField(label=gettext_lazy("Nationality"), required=True)
    ref = forms.CharField(
        label=gettext_lazy("Sending-state reference (e.g. A-number)"),
        required=False,
        max_length=64,
    )
    name = forms.CharField(
        label=gettext_lazy("Given name(s) and surname(s)"), required=False, max_length=200
    )
    dob = forms.CharField(
        label=gettext_lazy("Date or year of birth"),
        required=False,
        max_length=10,
        help_text=gettext_lazy("YYYY, YYYY-MM or YYYY-MM-DD"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["nationality"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", _("Choose a country")), *country_choices()]


LOCATOR_ERRORS = {
    "the nationality is required": gettext_lazy("Choose the person's nationality."),
    "give either a reference, or names and a date or year of birth": gettext_lazy(
        "Give either a reference, or names and a date or year of birth."
    ),
    "give at least one given name and one surname": gettext_lazy(
        "Give at least one given name and one surname."
    ),
    "the date or year of birth is required with names": gettext_lazy(
        "With names, give the date or year of birth."
    ),
    "the date of birth must be YYYY, YYYY-MM or YYYY-MM-DD": gettext_lazy(
        "Write the date of birth as YYYY, YYYY-MM or YYYY-MM-DD."
    ),
    "the nationality must be a two-letter country code": gettext_lazy(
        "Choose the person's nationality."
    ),
}

STATUS_LABELS = {
    "in_custody": gettext_lazy("In custody"),
    "released": gettext_lazy("Released"),
    "not_found": gettext_lazy("Not found"),
}


@require_GET
def locator(request: HttpRequest) -> HttpResponse:
    """The public locator (INTERFACES.md ``locate``; STANDARDS.md "Locators")."""
    searched = any(request.GET.get(k) for k in ("nationality", "ref", "name", "dob"))
    form = LocatorForm(request.GET if searched else None)
    context: dict[str, Any] = {
        "form": form,
        "searched": searched,
        "matches": None,
        "nationality_options": nationality_options(form["nationality"].value()),
    }
    if not searched:
        return render(request, "oversight/locator.html", context)
    client = client_address(request)
    query: LocatorQuery | None = None
    failed: ApplicationError | None = None
    if form.is_valid():
        data = form.cleaned_data
        try:
            query = LocatorQuery.build(
                name=data["name"], ref=data["ref"], dob=data["dob"], nationality=data["nationality"]
            )
        except ApplicationError as exc:
            failed = exc
    # Every search counts against the address; one that can be made, against the person
    # searched for too (both in one round trip with Redis).
    if query is None:
        by_client, by_subject = locator_throttle(client), None
    else:
        by_client, by_subject = search_throttles(client, query)
    for throttle, flag in ((by_client, "throttled"), (by_subject, "throttled_subject")):
        if throttle is not None and not throttle.allowed:
            context[flag] = True
            response = render(request, "oversight/locator.html", context, status=429)
            response["Retry-After"] = str(throttle.retry_after)
            return response
    if failed is not None:
        form.add_error(None, LOCATOR_ERRORS.get(failed.message, failed.message))
    elif query is not None:
        doc = locate(query)
        context["matches"] = [
            {**m, "status_label": STATUS_LABELS[m["status"]]} for m in doc["matches"]
        ]
        context["query_nationality"] = country_name(form.cleaned_data["nationality"])
    return render(request, "oversight/locator.html", context)


# --- public statistics ---------------------------------------------------------------------


def _label(choices: Any, value: str) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value


def _breakdown(counts: dict[str, Any], label: Any = None) -> list[dict[str, Any]]:
    rows = [{"key": k, "label": label(k) if label else k, "count": v} for k, v in counts.items()]

    def order(row: dict[str, Any]) -> tuple[int, str]:
        count = row["count"]
        return (-(count if isinstance(count, int) else 0), str(row["label"]))

    return sorted(rows, key=order)


def _sex_label(code: str) -> str:
    from habeas.people.choices import Sex

    return _label(Sex, code)


def _basis_label(key: str) -> str:
    from habeas.custody.choices import LegalBasisKind

    if key == "none":
        return _("No legal basis recorded")
    return " + ".join(_label(LegalBasisKind, k) for k in key.split("+"))


def _agreement_label(key: str) -> str:
    return _("Held on the receiving state's own authority") if key == "domestic" else key


def _chart_for(points: list[dict[str, Any]], certified: int, working: int, title: str) -> Any:
    series = [
        (
            dt.date.fromisoformat(p["date"]),
            None if p["population"] == SUPPRESSED else int(p["population"]),
        )
        for p in points
    ]
    return population_chart(series, certified=certified, working=working, title=title)


@require_GET
def statistics(request: HttpRequest) -> HttpResponse:
    """Public statistics (Mandela Rule 10): population and occupancy rates against certified
    and working capacity per facility and module; by nationality, sex, legal basis and
    agreement; deaths in custody; population over time. Counts from 1 to 4 read "<5".
    Computed once per version of the registry (:mod:`habeas.ledger.freshness`); an
    unchanged registry answers 304."""
    return conditional(
        request, "html", lambda version: _statistics_page(request, version), shared=False
    )


def _statistics_page(request: HttpRequest, version: str) -> HttpResponse:
    doc = public_stats_cached(version)
    facilities = []
    for f in doc["facilities"]:
        points = doc["population_series"].get(f["code"], [])
        facilities.append(
            {
                **f,
                "modules": [
                    {
                        **m,
                        "population_kind_label": _label(ModulePopulation, m["population_kind"]),
                        "regime_label": _label(ModuleRegime, m["regime"]),
                    }
                    for m in f["modules"]
                ],
                "chart": _chart_for(
                    points,
                    f["certified_capacity"],
                    f["working_capacity"],
                    _("People held in %(name)s per day, against capacity") % {"name": f["name"]},
                )
                if points
                else None,
                "series_from": points[0]["date"] if points else None,
            }
        )
    return render(
        request,
        "oversight/statistics.html",
        {
            "doc": doc,
            "facilities": facilities,
            "by_nationality": _breakdown(doc["by_nationality"], country_name),
            "by_sex": _breakdown(doc["by_sex"], _sex_label),
            "by_legal_basis": _breakdown(doc["by_legal_basis"], _basis_label),
            "by_agreement": _breakdown(doc["by_agreement"], _agreement_label),
            "suppressed": SUPPRESSED,
        },
    )


@require_GET
def statistics_json(request: HttpRequest) -> HttpResponse:
    """The public statistics document (small counts suppressed) as a JSON download."""

    def respond(version: str) -> HttpResponse:
        response = JsonResponse(public_stats_cached(version), json_dumps_params={"indent": 2})
        response["Content-Disposition"] = 'attachment; filename="habeas-statistics.json"'
        return response

    return conditional(request, "json", respond)


CSV_COLUMNS = [
    "table",
    "facility",
    "module",
    "category",
    "population",
    "certified_capacity",
    "working_capacity",
    "occupancy_rate_certified",
    "occupancy_rate_working",
]


def statistics_rows(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """One flat table of the public statistics (long format, one row per figure)."""
    rows: list[dict[str, Any]] = []
    for f in doc["facilities"]:
        for unit, module in [(f, ""), *((m, m["code"]) for m in f["modules"])]:
            rows.append(
                {
                    "table": "module" if module else "facility",
                    "facility": f["code"],
                    "module": module,
                    "population": unit["population"],
                    "certified_capacity": unit["certified_capacity"],
                    "working_capacity": unit["working_capacity"],
                    "occupancy_rate_certified": unit["occupancy_rate_certified"],
                    "occupancy_rate_working": unit["occupancy_rate_working"],
                }
            )
    for table in ("by_nationality", "by_sex", "by_legal_basis", "by_agreement"):
        for key, count in doc[table].items():
            rows.append({"table": table.removeprefix("by_"), "category": key, "population": count})
    rows.append({"table": "deaths_in_custody", "population": doc["deaths_in_custody"]})
    for code, points in doc.get("population_series", {}).items():
        for p in points:
            rows.append(
                {
                    "table": "daily_population",
                    "facility": code,
                    "category": p["date"],
                    "population": p["population"],
                }
            )
    return rows


@require_GET
def statistics_csv(request: HttpRequest) -> HttpResponse:
    """The public statistics (small counts suppressed) as one CSV table."""

    def respond(version: str) -> HttpResponse:
        buffer = io.StringIO()
        writer = csvsafe.dict_writer(
            buffer, fieldnames=CSV_COLUMNS, restval="", lineterminator="\n"
        )
        writer.writeheader()
        for row in statistics_rows(public_stats_cached(version)):
            writer.writerow({k: ("" if v is None else v) for k, v in row.items()})
        response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="habeas-statistics.csv"'
        return response

    return conditional(request, "csv", respond)


# --- oversight -----------------------------------------------------------------------------


def _forbidden(request: HttpRequest) -> HttpResponse:
    return render(request, "oversight/forbidden.html", status=403)


@role_required
@require_GET
def oversight_home(request: HttpRequest) -> HttpResponse:
    """The oversight overview (Mandela Rules 6, 10, 71-72): every facility's occupancy against
    certified and working capacity, ledger status, deaths in custody, alerts and incidents.
    Read-only; oversight monitors and auditors only; no medical detail."""
    if not may_read_oversight(request.user):
        return _forbidden(request)
    doc = stats_cached()
    deaths = deaths_list()
    counts = doc["open_alerts_by_kind"]  # oversight sees every facility: the same alerts
    return render(
        request,
        "oversight/home.html",
        {
            "doc": doc,
            "open_alerts": doc["open_alerts"],
            "alert_kinds": [
                {
                    "kind": kind,
                    "label": KIND_LABELS[kind],
                    "citation": RULES[kind].citation,
                    "count": counts.get(kind, 0),
                }
                for kind in RULES
            ],
            "facilities": [
                {
                    **f,
                    "modules": [
                        {**m, "regime_label": _label(ModuleRegime, m["regime"])}
                        for m in f["modules"]
                    ],
                }
                for f in doc["facilities"]
            ],
            "ledger": ledger_status(),
            "deaths": deaths,
            "death_reason": ReleaseReason.DEATH.label,
            "recent_access": list(access_log_list(user=request.user)[:10]),
        },
    )


class AccessLogForm(forms.Form):
    username = forms.CharField(label=gettext_lazy("User"), required=False, max_length=150)
    person = forms.IntegerField(label=gettext_lazy("Registry number"), required=False, min_value=1)
    channel = forms.ChoiceField(
        label=gettext_lazy("Channel"),
        required=False,
        choices=[("", gettext_lazy("Any")), *AccessChannel.choices],
    )
    since = forms.DateField(label=gettext_lazy("From"), required=False)
    until = forms.DateField(label=gettext_lazy("To"), required=False)


@role_required
@require_GET
def access_log(request: HttpRequest) -> HttpResponse:
    """Who opened which person's file, when, with which role and how (Mandela Rule 9)."""
    if not may_read_oversight(request.user):
        return _forbidden(request)
    form = AccessLogForm(request.GET or None)
    filters = AccessLogFilter()
    if form.is_valid():
        d = form.cleaned_data
        filters = AccessLogFilter(
            username=d["username"].strip(),
            person_id=d["person"],
            channel=d["channel"],
            since=d["since"],
            until=d["until"],
        )
    entries = access_log_list(user=request.user, filters=filters)
    page = Paginator(entries, ACCESS_LOG_PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "oversight/access_log.html",
        {"form": form, "page": page, "entries": page.object_list, "query": query.urlencode()},
    )


# --- the person's file as PDF --------------------------------------------------------------


@role_required
@require_GET
def person_file_pdf(request: HttpRequest, person_id: int) -> HttpResponse:
    """The person's file as a PDF (Mandela Rule 9: the official copy on release), as the user
    may see it; outside scope or missing is 404. Every export is recorded in the access log."""
    from habeas.custody.api import person_file_for
    from habeas.oversight.pdf import person_file_pdf as render_pdf
    from habeas.people.selectors import person_get_for

    user = request.user
    try:
        person = person_get_for(user=user, person_id=person_id)
        document = person_file_for(user, str(person.pk))  # type: ignore[arg-type]
    except NotFound:
        raise Http404(_("Not found")) from None
    access_log_record(user=user, person=person, channel=AccessChannel.PDF)
    body = render_pdf(document, user=user, full_name=person.full_name)
    response = HttpResponse(body, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="habeas-file-{person.pk}.pdf"'
    response["Cache-Control"] = "no-store"
    return response
