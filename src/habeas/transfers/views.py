"""Intake pages: manifest upload and history, the decision table (filter, every rule with its
citation, accept selected), the admission form of Mandela Rule 7. Views validate and call
services; reads go through the scoped selectors. Names are data: always escaped."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
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
from habeas.transfers.choices import Outcome
from habeas.transfers.disclosure import entry_for_reader, visible_people
from habeas.transfers.forms import AdmissionRecordForm, DecisionFilterForm, ManifestUploadForm
from habeas.transfers.manifest import ManifestRefused
from habeas.transfers.rule_text import rule_words
from habeas.transfers.selectors import (
    ADMISSION_DETAIL_FIELDS,
    admission_record_get_for,
    entry_document,
    entry_list,
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


@role_required
def manifest_detail(request: HttpRequest, ref: str) -> HttpResponse:
    """The decision table: filter by decision, each rule with its citation."""
    manifest = _manifest_or_404(request, ref)
    filt = DecisionFilterForm(request.GET or None)
    decision = filt.cleaned_data["decision"] if filt.is_valid() else ""
    entries = list(entry_list(manifest, decision=decision)[:2000])
    shown = [entry_document(e) for e in entries]
    visible = visible_people(request.user, shown)
    for entry, doc in zip(entries, shown, strict=True):
        # What this reader may learn of the identity match (Mandela Rule 9).
        entry.shown = entry_for_reader(doc, visible)
        for rule in entry.shown["rules"]:
            rule["label"] = Outcome(rule["outcome"]).label
            rule.update(rule_words(rule["rule"]))
    can_accept = may_accept_manifests(request.user)
    return render(
        request,
        "transfers/manifest_detail.html",
        {
            "manifest": manifest,
            "entries": entries,
            "filter": filt,
            "decision": decision,
            "can_accept": can_accept,
            **_arrival_context(manifest),
        },
    )


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
            data = {k: v for k, v in form.cleaned_data.items() if k != "complete"}
            for key in (
                "gender_identity",
                "commitment_reason",
                "commitment_authority",
                "arrest_place",
                "visible_injuries",
                "ill_treatment_complaint",
                "contact_name",
                "contact_relation",
                "contact_phone",
                "contact_email",
            ):
                data[key] = data.get(key) or ""
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
