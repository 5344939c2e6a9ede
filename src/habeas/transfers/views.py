"""Intake pages: manifest upload and history, the decision table (filter, every rule with its
citation, accept selected), the admission form of Mandela Rule 7. Views validate and call
services; reads go through the scoped selectors. Names are data: always escaped."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from habeas.accounts.auth import role_required
from habeas.accounts.permissions import (
    is_receiving_staff,
    may_accept_manifests,
    may_edit_admission_record,
    may_import_manifests,
    may_read_admission_details,
)
from habeas.agreements.models import Agreement
from habeas.core.actor import Actor
from habeas.core.errors import ApplicationError, NotFound
from habeas.ledger.models import LedgerEntry
from habeas.transfers.api import require_may_import
from habeas.transfers.forms import (
    AdmissionRecordForm,
    ArrivalForm,
    ManifestUploadForm,
    ReviewFilterForm,
    record_fields,
)
from habeas.transfers.manifest import ManifestRefused
from habeas.transfers.selectors import (
    ADMISSION_DETAIL_FIELDS,
    admission_record_get_for,
    manifest_get_for,
    manifest_list,
)
from habeas.transfers.services import (
    RECORD_FIELDS,
    admission_record_update,
    manifest_accept,
    manifest_import,
)


def _manifest_or_404(request: HttpRequest, ref: str) -> Any:
    try:
        return manifest_get_for(user=request.user, ref=ref)
    except NotFound:
        raise Http404(_("manifest not found")) from None


@role_required
def manifest_list_view(request: HttpRequest) -> HttpResponse:
    """Every manifest in scope, newest first, and the upload form (403 on upload for the
    roles that only read)."""
    if request.method == "POST" and not may_import_manifests(request.user):
        raise PermissionDenied(_("Your role may read manifests but not upload them."))
    agreements = list(Agreement.objects.visible_to(request.user).values_list("code", flat=True))
    form = ManifestUploadForm(request.POST or None, request.FILES or None, agreements=agreements)
    problems: list[Any] = []
    if request.method == "POST" and form.is_valid():
        agreement = Agreement.objects.visible_to(request.user).get(
            code=form.cleaned_data["agreement"]
        )
        upload = form.cleaned_data["file"]
        try:
            require_may_import(request.user, agreement)  # type: ignore[arg-type]
            result = manifest_import(
                actor=Actor.from_user(request.user),
                data=upload.file,
                agreement=agreement,
                ref=form.cleaned_data["ref"] or None,
                filename=upload.name or "",
                decided_on=form.cleaned_data["on"],
            )
        except ManifestRefused as exc:
            problems = exc.problems
            messages.error(request, _("The file was refused: nothing was stored."))
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            if result.recognised:
                messages.info(request, _("This manifest was already imported: nothing duplicated."))
            assert result.manifest is not None
            return redirect("transfers:manifest_detail", ref=result.manifest.ref)
    return render(
        request,
        "transfers/manifest_list.html",
        {
            "manifests": manifest_list(user=request.user)[:200],
            "form": form,
            "problems": problems,
            "may_import": may_import_manifests(request.user),
        },
    )


def _arrival_context(manifest: Any) -> dict[str, Any]:
    """The facilities an arrival may be at, and now in the first one's local time."""
    from zoneinfo import ZoneInfo

    from django.utils import timezone

    facilities = list(manifest.agreement.facilities.order_by("code"))
    zone = facilities[0].timezone if facilities else "UTC"
    return {
        "facilities": facilities,
        "zone": zone,
        "today_local": timezone.now().astimezone(ZoneInfo(zone)).replace(tzinfo=None),
    }


def _chips(request: HttpRequest, counts: dict[str, int], current: str) -> list[dict[str, Any]]:
    """The counts as filter links: each keeps the other filters and goes to the first page."""
    from habeas.transfers.choices import Decision, EntryStatus

    chips: list[tuple[str, str, Any]] = [("", "all", _("All entries"))]
    chips += [("decision", d.value, d.label) for d in Decision]
    # "Decided" beside the decisions would read as one more decision: say what it means here.
    waiting = {EntryStatus.DECIDED.value: _("Not yet accepted")}
    chips += [("status", s.value, waiting.get(s.value, s.label)) for s in EntryStatus]
    out = []
    for kind, value, label in chips:
        params = request.GET.copy()
        for key in ("decision", "status", "page"):
            params.pop(key, None)
        if kind:
            params[kind] = value
        out.append(
            {
                "label": label,
                "count": counts[value],
                "url": "?" + params.urlencode(),
                "current": current == (f"{kind}={value}" if kind else ""),
                "warn": value == "ineligible",
            }
        )
    return out


@role_required
def manifest_detail(request: HttpRequest, ref: str) -> HttpResponse:
    """The review of a manifest: counts by decision and status as filter links, filters
    (decision, status, a rule not passed, nationality, name or reference), pages of
    :data:`~habeas.transfers.review.PER_PAGE` entries, each entry's rules summarised (the
    full list behind a disclosure), a link to compare a possible match, and "accept all
    eligible". Only the page shown is read whole (:mod:`habeas.transfers.review`)."""
    from django.core.paginator import Paginator

    from habeas.accounts.permissions import sees_everything
    from habeas.transfers.review import (
        PER_PAGE,
        ReviewFilters,
        eligible_waiting,
        filtered_ids,
        nationalities_of,
        page_entries,
        review_counts,
        rules_not_passed,
    )

    manifest = _manifest_or_404(request, ref)
    collapse = not sees_everything(request.user)
    rules = rules_not_passed(manifest, collapse=collapse)
    nats = nationalities_of(manifest)
    filt = ReviewFilterForm(
        request.GET or None,
        rules=[(r, f"{_rule_name(r)} ({n})") for r, n in rules],
        nationalities=[(c, c) for c, _n in nats],
    )
    filt.is_valid()
    data = getattr(filt, "cleaned_data", {})
    filters = ReviewFilters(
        decision=data.get("decision") or "",
        status=data.get("status") or "",
        rule=data.get("rule") or "",
        nationality=data.get("nationality") or "",
        query=(data.get("q") or "").strip(),
    )
    ids = filtered_ids(manifest, filters, collapse=collapse)
    page = Paginator(ids, PER_PAGE).get_page(request.GET.get("page"))
    entries = page_entries(list(page.object_list), request.user)
    params = request.GET.copy()
    params.pop("page", None)
    counts = review_counts(manifest)
    current = (
        f"decision={filters.decision}"
        if filters.decision and not filters.status
        else f"status={filters.status}"
        if filters.status and not filters.decision
        else ""
        if not filters.decision and not filters.status
        else "mixed"
    )
    can_accept = may_accept_manifests(request.user)
    return render(
        request,
        "transfers/manifest_detail.html",
        {
            "manifest": manifest,
            "entries": entries,
            "page": page,
            "params": params.urlencode(),
            "filter": filt,
            "filters": filters,
            "chips": _chips(request, counts, current),
            "counts": counts,
            "eligible_waiting": eligible_waiting(manifest) if can_accept else 0,
            "can_accept": can_accept,
            "rule_options": [(r, _rule_name(r), n) for r, n in rules],
            "nationality_options": nats,
            **_arrival_context(manifest),
        },
    )


def _rule_name(rule: str) -> str:
    from habeas.transfers.disclosure import WITHHELD_RULE
    from habeas.transfers.rule_text import rule_words

    if rule == WITHHELD_RULE:
        return str(_("Registry check"))
    return str(rule_words(rule)["name"])


@role_required
@require_POST
def manifest_accept_view(request: HttpRequest, ref: str) -> HttpResponse:
    manifest = _manifest_or_404(request, ref)
    user: Any = request.user
    codes = manifest.agreement.facilities.values_list("code", flat=True)
    if not is_receiving_staff(user, codes):
        raise PermissionDenied(_("Only the receiving facility's staff may accept entries."))
    only = request.POST.getlist("only")
    try:
        accepted = manifest_accept(actor=Actor.from_user(user), manifest=manifest, only=only)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("%(n)d entries accepted.") % {"n": len(accepted)})
    return redirect("transfers:manifest_detail", ref=ref)


@role_required
def manifest_history(request: HttpRequest, ref: str) -> HttpResponse:
    """The manifest's history as the ledger records it."""
    manifest = _manifest_or_404(request, ref)
    entries = LedgerEntry.objects.filter(subject=f"manifest:{manifest.ref}").order_by("index")
    return render(
        request,
        "transfers/manifest_history.html",
        {"manifest": manifest, "ledger": entries[:5000]},
    )


@role_required
def admission_record_view(request: HttpRequest, record_id: int) -> HttpResponse:
    """Complete the Rule 7 record after arrival (a new version on the ledger each time).
    Finance officers never see it (injuries, ill-treatment complaints, family: Mandela Rule 9,
    access on a need-to-know basis), the same 404 as a missing record; the roles that only
    read get 403 on a write."""
    user: Any = request.user
    try:
        record = admission_record_get_for(user=user, record_id=record_id)
    except NotFound:
        raise Http404(_("admission record not found")) from None
    may_edit = may_edit_admission_record(user)
    details = may_read_admission_details(user)
    initial = {
        name: getattr(record, name)
        for name in RECORD_FIELDS
        if details or name not in ADMISSION_DETAIL_FIELDS
    }
    form = AdmissionRecordForm(request.POST or None, initial=initial)
    if not details:  # Mandela Rules 7(d), 9: the sending state sees the record, not these
        for name in ADMISSION_DETAIL_FIELDS:
            form.fields.pop(name, None)
    if request.method == "POST":
        if not may_edit:
            raise PermissionDenied(
                _("Only the facility's staff may complete the admission record.")
            )
        if form.is_valid():
            data = record_fields(form.cleaned_data)
            try:
                admission_record_update(
                    actor=Actor.from_user(user),
                    record=record,
                    complete=form.cleaned_data["complete"],
                    **data,
                )
            except ApplicationError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(request, _("Admission record saved."))
                return redirect("transfers:admission_record", record_id=record.pk)
    return render(
        request,
        "transfers/admission_record.html",
        {"record": record, "form": form, "may_edit": may_edit, "details": details},
    )


# --- reception: admission per entry, withdrawal -------------------------------------------


def _receiving_staff_or_403(request: HttpRequest, manifest: Any) -> Any:
    user: Any = request.user
    codes = manifest.agreement.facilities.values_list("code", flat=True)
    if not is_receiving_staff(user, codes):
        raise PermissionDenied(_("Only the receiving facility's staff may accept entries."))
    return user


@role_required
@require_POST
def manifest_admit_view(request: HttpRequest, ref: str) -> HttpResponse:
    """Admit the selected accepted entries (all of them when none is selected) at the
    arrival date and time given in the facility's local time (Mandela Rule 7(c)); an entry
    no cell may lawfully take is reported by its reference and the others are admitted."""
    import datetime as dt
    from zoneinfo import ZoneInfo

    from habeas.facilities.models import Facility
    from habeas.transfers.services import manifest_admit_each

    manifest = _manifest_or_404(request, ref)
    user = _receiving_staff_or_403(request, manifest)
    facilities = list(manifest.agreement.facilities.order_by("code"))
    code = request.POST.get("facility") or (facilities[0].code if facilities else "")
    facility = next((f for f in facilities if f.code == code), None)
    if facility is None:
        messages.error(request, _("Choose the facility the people arrived at."))
        return redirect("transfers:manifest_detail", ref=ref)
    try:
        day = dt.date.fromisoformat(request.POST.get("arrived_date", ""))
        hour = dt.time.fromisoformat(request.POST.get("arrived_time", ""))
    except ValueError:
        messages.error(request, _("Give the date and time of arrival."))
        return redirect("transfers:manifest_detail", ref=ref)
    at = dt.datetime.combine(day, hour, tzinfo=ZoneInfo(facility.timezone))
    try:
        outcome = manifest_admit_each(
            actor=Actor.from_user(user),
            manifest=manifest,
            arrived_at=at,
            facility=Facility.objects.get(pk=facility.pk),
            only=request.POST.getlist("only"),
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("transfers:manifest_detail", ref=ref)
    if outcome.episodes:
        messages.success(request, _("%(n)d entries admitted.") % {"n": len(outcome.episodes)})
    for left in outcome.not_housed:
        messages.error(
            request,
            _("%(ref)s was not admitted: %(reason)s")
            % {"ref": left.sending_ref, "reason": left.reason},
        )
    return redirect("transfers:manifest_detail", ref=ref)


def _cell_choices(suggestion: Any) -> list[tuple[str, str]]:
    """The cells the housing rules allow, best first, each with its population now."""
    return [
        (
            c.code,
            _("%(cell)s (module %(module)s) · %(n)d held, %(cap)d certified places")
            % {
                "cell": c.code,
                "module": c.module.code,
                "n": suggestion.counts.get(c.pk, 0),
                "cap": c.certified_capacity,
            },
        )
        for c in suggestion.allowed
    ]


@role_required
def entry_arrive_view(request: HttpRequest, ref: str, row: int) -> HttpResponse:
    """One person's arrival at the gate (Mandela Rule 7): the accepted entry, the cell the
    housing rules suggest (Mandela Rule 11) with the other lawful cells, the arrival time in
    the facility's local time, and the Rule 7 record (property and family as lists), saved
    with the admission in one transaction. An entry already admitted leads to its person's
    file."""
    import datetime as dt
    from zoneinfo import ZoneInfo

    from django.utils import timezone

    from habeas.facilities.choices import ModulePopulation, ModuleRegime
    from habeas.housing.allocator import population_for, text
    from habeas.housing.selectors import placement_suggest
    from habeas.transfers.choices import EntryStatus
    from habeas.transfers.models import ManifestEntry
    from habeas.transfers.services import arrival_occupant, arrival_record_initial, entry_arrive

    manifest = _manifest_or_404(request, ref)
    entry = ManifestEntry.objects.filter(manifest=manifest, row=row).first()
    if entry is None:
        raise Http404(_("entry not found"))
    user = _receiving_staff_or_403(request, manifest)
    if entry.status == EntryStatus.ADMITTED and entry.person_id:
        messages.info(request, _("%(ref)s has been admitted.") % {"ref": entry.sending_ref})
        return redirect("web:person_detail", person_id=entry.person_id)
    if entry.status != EntryStatus.ACCEPTED:
        messages.error(
            request,
            _("%(ref)s is not an accepted entry waiting for arrival.") % {"ref": entry.sending_ref},
        )
        return redirect("transfers:manifest_detail", ref=ref)
    facilities = list(manifest.agreement.facilities.order_by("code"))
    code = request.POST.get("facility") or request.GET.get("facility") or ""
    fallback = facilities[0] if facilities else None
    facility = next((f for f in facilities if f.code == code), fallback)
    if facility is None:
        raise Http404(_("the agreement names no facility"))
    zone = ZoneInfo(facility.timezone)
    local_now = timezone.now().astimezone(zone)
    who = arrival_occupant(entry, local_now.date())
    suggestion = placement_suggest(facility=facility, who=who)
    initial = {
        **arrival_record_initial(entry),
        "arrived_date": local_now.date(),
        "arrived_time": local_now.time().replace(second=0, microsecond=0),
        "cell": suggestion.best.code if suggestion.best else "",
    }
    form = ArrivalForm(
        request.POST if request.method == "POST" else None,
        initial=initial,
        cells=_cell_choices(suggestion),
    )
    if request.method == "POST" and form.is_valid():
        at = dt.datetime.combine(
            form.cleaned_data["arrived_date"], form.cleaned_data["arrived_time"], tzinfo=zone
        )
        try:
            episode = entry_arrive(
                actor=Actor.from_user(user),
                manifest=manifest,
                sending_ref=entry.sending_ref,
                arrived_at=at,
                facility=facility,
                cell_code=form.cleaned_data["cell"],
                record=form.record_fields(),
                complete=form.cleaned_data["complete"],
            )
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            placement = episode.placements.filter(ended_at__isnull=True).first()
            messages.success(
                request,
                _("%(ref)s admitted to cell %(cell)s at %(at)s; the Rule 7 record is saved.")
                % {
                    "ref": entry.sending_ref,
                    "cell": placement.cell.code if placement else "—",
                    "at": at.strftime("%Y-%m-%d %H:%M %Z"),
                },
            )
            return redirect(
                f"{reverse('transfers:manifest_detail', kwargs={'ref': ref})}?status=accepted"
            )
    refused = [(c, [text(r.message) for r in why]) for c, why in suggestion.refused]
    return render(
        request,
        "transfers/entry_arrive.html",
        {
            "manifest": manifest,
            "entry": entry,
            "form": form,
            "facility": facility,
            "facilities": facilities,
            "zone": local_now.strftime("%Z") or facility.timezone,
            "populations": [ModulePopulation(p).label for p in population_for(who)],
            "regime": ModuleRegime(who.regime).label,
            "untried": who.untried,
            "best": suggestion.best,
            "best_count": suggestion.counts.get(suggestion.best.pk, 0) if suggestion.best else 0,
            "refused": refused,
        },
    )


@role_required
@require_POST
def manifest_withdraw_view(request: HttpRequest, ref: str) -> HttpResponse:
    """Withdraw the acceptance of the selected entries, with a reason (on the ledger)."""
    from habeas.transfers.services import acceptance_withdraw

    manifest = _manifest_or_404(request, ref)
    user = _receiving_staff_or_403(request, manifest)
    try:
        withdrawn = acceptance_withdraw(
            actor=Actor.from_user(user),
            manifest=manifest,
            only=request.POST.getlist("only"),
            reason=request.POST.get("withdraw_reason", ""),
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, _("Acceptance withdrawn for %(n)d entries.") % {"n": len(withdrawn)}
        )
    return redirect("transfers:manifest_detail", ref=ref)


# --- review: accept all eligible, compare a possible match ---------------------------------


@role_required
def manifest_accept_eligible_view(request: HttpRequest, ref: str) -> HttpResponse:
    """Accept every eligible entry still waiting, in one acceptance (one
    ``transfers.manifest_accepted`` ledger entry), after a confirmation page that says how
    many. The count confirmed is posted back: if it changed meanwhile, nothing is accepted and
    the page asks again; when none is waiting, nothing is written (a second click is
    harmless). Needs-review entries are never included: each is accepted on its own, after a
    person reviewed it (Mandela Rule 7(a))."""
    from habeas.transfers.review import eligible_waiting

    manifest = _manifest_or_404(request, ref)
    user = _receiving_staff_or_403(request, manifest)
    waiting = eligible_waiting(manifest)
    if request.method == "POST":
        if waiting == 0:
            messages.info(
                request, _("No eligible entry is waiting for acceptance: nothing changed.")
            )
            return redirect("transfers:manifest_detail", ref=ref)
        if request.POST.get("expected", "") != str(waiting):
            messages.error(
                request,
                _("The number of eligible entries waiting is now %(n)d: confirm again.")
                % {"n": waiting},
            )
            return redirect("transfers:manifest_accept_eligible", ref=ref)
        try:
            accepted = manifest_accept(
                actor=Actor.from_user(user), manifest=manifest, all_eligible=True
            )
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("%(n)d eligible entries accepted.") % {"n": len(accepted)})
        return redirect("transfers:manifest_detail", ref=ref)
    return render(
        request,
        "transfers/accept_eligible.html",
        {"manifest": manifest, "waiting": waiting},
    )


def _entry_or_404(manifest: Any, row: int) -> Any:
    from habeas.transfers.models import ManifestEntry

    entry = (
        ManifestEntry.objects.filter(manifest=manifest, row=row)
        .select_related("manifest__agreement__sending")
        .first()
    )
    if entry is None:
        raise Http404(_("entry not found"))
    return entry


@role_required
def entry_compare_view(request: HttpRequest, ref: str, row: int) -> HttpResponse:
    """An entry beside the registry person it may be, field by field, with each field's
    agreement and the differences marked (Mandela Rule 7(a): one identity), and the
    receiving staff's judgement: same person or different person, with a reason
    (:mod:`habeas.transfers.identity`). Only the candidates the reader may see are offered
    (Mandela Rule 9); a reader who may see none reads the same page as for an entry with no
    match. A candidate judged a different person is not offered again."""
    from habeas.accounts.permissions import is_receiving_staff
    from habeas.transfers.choices import Decision, EntryStatus, IdentityVerdict
    from habeas.transfers.forms import IdentityDecisionForm
    from habeas.transfers.identity import decisions_of
    from habeas.transfers.review import comparison_for

    manifest = _manifest_or_404(request, ref)
    entry = _entry_or_404(manifest, row)
    decisions = decisions_of(entry, request.user)
    dismissed = frozenset(p for p, d in decisions.items() if d.verdict == IdentityVerdict.DIFFERENT)
    comparison, candidates = comparison_for(
        entry, request.user, request.GET.get("person", ""), dismissed
    )
    codes = manifest.agreement.facilities.values_list("code", flat=True)
    staff = is_receiving_staff(request.user, codes)
    may_accept = (
        may_accept_manifests(request.user)
        and staff
        and entry.status == EntryStatus.DECIDED
        and entry.decision != Decision.INELIGIBLE
    )
    form = None
    current = None
    if comparison is not None:
        current = decisions.get(comparison.person.pk)
        if staff and entry.status == EntryStatus.DECIDED:
            form = IdentityDecisionForm(initial={"person": comparison.person.pk})
    return render(
        request,
        "transfers/entry_compare.html",
        {
            "manifest": manifest,
            "entry": entry,
            "comparison": comparison,
            "candidates": candidates,
            "may_accept": may_accept,
            "identity_form": form,
            "current_decision": current,
            "decisions": sorted(decisions.values(), key=lambda d: (d.decided_at, d.pk)),
        },
    )


@role_required
@require_POST
def entry_identity_view(request: HttpRequest, ref: str, row: int) -> HttpResponse:
    """Record the judgement of a possible match (``transfers.identity_decided``): the
    receiving facility's staff only; a candidate the reader may not see is answered as a
    missing one (404)."""
    from habeas.core.errors import Forbidden
    from habeas.transfers.forms import IdentityDecisionForm
    from habeas.transfers.identity import identity_decide

    manifest = _manifest_or_404(request, ref)
    entry = _entry_or_404(manifest, row)
    user = _receiving_staff_or_403(request, manifest)
    form = IdentityDecisionForm(request.POST)
    back = redirect("transfers:entry_compare", ref=ref, row=row)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
        return back
    person = form.cleaned_data["person"]
    try:
        decision = identity_decide(
            actor=Actor.from_user(user),
            user=user,
            entry=entry,
            person_id=person,
            verdict=form.cleaned_data["verdict"],
            reason=form.cleaned_data["reason"],
        )
    except NotFound:
        raise Http404(_("entry not found")) from None
    except Forbidden as exc:
        raise PermissionDenied(exc.message) from None
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect(f"{back.url}?person={person}")
    if decision.verdict == "same":
        messages.success(request, _("Recorded: the same person as the registry record."))
        return redirect(f"{back.url}?person={person}")
    messages.success(
        request, _("Recorded: a different person. This candidate will not be offered again.")
    )
    return back
