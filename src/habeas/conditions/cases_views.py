"""Pages of incidents, sanctions and complaints (Mandela Rules 36-46, 56-57, 69, 71-72).

Reads go through :mod:`habeas.conditions.cases_selectors` (scoped; outside scope is the same
404 as missing, so a confidential complaint does not exist for the facility's staff); writes
through the services of :mod:`habeas.conditions.incidents` and
:mod:`habeas.conditions.complaints`. A role without these pages at all (liaison, finance,
auditor) gets 404, like a housing page; an account without a role 403.
"""

from __future__ import annotations

import io
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from habeas.accounts.auth import role_required
from habeas.accounts.permissions import (
    may_file_complaints,
    may_record_incidents,
    may_view_complaints,
    may_view_confidential_complaints,
    may_view_incidents,
)
from habeas.conditions.cases_models import (
    ComplaintCategory,
    ComplaintFiler,
    ComplaintKind,
    ComplaintStatus,
    IncidentKind,
    IncidentRole,
    IncidentStatus,
    SanctionMeasure,
)
from habeas.conditions.cases_selectors import (
    complaint_counts,
    complaint_get_for,
    complaint_list,
    incident_get_for,
    incident_list,
    sanction_list,
)
from habeas.conditions.complaints import complaint_file, complaint_set_status, overdue
from habeas.conditions.incidents import (
    Involved,
    incident_close,
    incident_notify_kin,
    incident_record,
    incident_report_authority,
    sanction_impose,
)
from habeas.core import csvsafe
from habeas.core.actor import Actor
from habeas.core.errors import ApplicationError, NotFound
from habeas.facilities.models import Facility
from habeas.people.selectors import person_get_for

PEOPLE_ROWS = 3


def _incidents_or_404(user: Any) -> None:
    if not may_view_incidents(user):
        raise Http404(_("Not found"))


def _complaints_or_404(user: Any) -> None:
    if not may_view_complaints(user):
        raise Http404(_("Not found"))


def _facility_choices(user: Any) -> list[tuple[str, str]]:
    return [(f.code, f.name) for f in Facility.objects.visible_to(user).order_by("code")]


def _facility_field(user: Any) -> forms.ChoiceField:
    return forms.ChoiceField(label=gettext_lazy("Facility"), choices=_facility_choices(user))


def _styled(form: forms.Form) -> None:
    """The site's input style on every field but the checkboxes."""
    for field in form.fields.values():
        if not isinstance(field.widget, forms.CheckboxInput):
            field.widget.attrs.setdefault("class", "input")


def _person(user: Any, value: Any) -> Any:
    try:
        return person_get_for(user=user, person_id=int(value))
    except (TypeError, ValueError, NotFound):
        return None


# --- incidents -------------------------------------------------------------------------------


class IncidentForm(forms.Form):
    facility = forms.ChoiceField(label=gettext_lazy("Facility"))
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=IncidentKind.choices)
    occurred_at = forms.DateTimeField(
        label=gettext_lazy("When it happened"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    place = forms.CharField(label=gettext_lazy("Cell or place"), required=False, max_length=100)
    description = forms.CharField(label=gettext_lazy("What happened"), widget=forms.Textarea)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["facility"] = _facility_field(user)
        for i in range(1, PEOPLE_ROWS + 1):
            self.fields[f"person_{i}"] = forms.IntegerField(
                label=gettext_lazy("Registry number"), required=False, min_value=1
            )
            self.fields[f"role_{i}"] = forms.ChoiceField(
                label=gettext_lazy("Role"), choices=IncidentRole.choices, required=False
            )
            self.fields[f"injuries_{i}"] = forms.BooleanField(
                label=gettext_lazy("Link the injuries seen at admission (Rule 7(d))"),
                required=False,
            )
        _styled(self)

    def people_rows(self) -> list[dict[str, Any]]:
        return [
            {
                "person": self[f"person_{i}"],
                "role": self[f"role_{i}"],
                "injuries": self[f"injuries_{i}"],
            }
            for i in range(1, PEOPLE_ROWS + 1)
        ]


def _involved(form: IncidentForm, user: Any) -> list[Involved]:
    found = []
    for i in range(1, PEOPLE_ROWS + 1):
        number = form.cleaned_data.get(f"person_{i}")
        if not number:
            continue
        person = _person(user, number)
        if person is None:
            raise ApplicationError(_("No person with registry number %(n)s.") % {"n": number})
        record = None
        if form.cleaned_data.get(f"injuries_{i}"):
            from habeas.transfers.models import AdmissionRecord

            record = (
                AdmissionRecord.objects.filter(episode__person=person)
                .exclude(visible_injuries="")
                .order_by("-pk")
                .first()
            )
            if record is None:
                raise ApplicationError(
                    _("Person %(n)s has no injuries recorded at admission.") % {"n": number}
                )
        found.append(
            Involved(
                person=person,
                role=form.cleaned_data.get(f"role_{i}") or IncidentRole.INVOLVED,
                admission_record=record,
            )
        )
    return found


@role_required
@require_GET
def incident_list_view(request: HttpRequest) -> HttpResponse:
    """Incidents in the user's facilities (oversight: all), filtered by kind and status."""
    user = request.user
    _incidents_or_404(user)
    kind = request.GET.get("kind", "")
    status = request.GET.get("status", "")
    incidents = incident_list(
        user,
        kind=kind if kind in IncidentKind.values else "",
        status=status if status in IncidentStatus.values else "",
    ).prefetch_related("people")
    return render(
        request,
        "conditions/incidents.html",
        {
            "incidents": incidents[:500],
            "total": incidents.count(),
            "kinds": IncidentKind.choices,
            "statuses": IncidentStatus.choices,
            "kind": kind,
            "status": status,
            "may_record": may_record_incidents(user),
        },
    )


@role_required
@require_http_methods(["GET", "POST"])
def incident_new(request: HttpRequest) -> HttpResponse:
    """Record an incident (the facility's staff and director)."""
    user = request.user
    _incidents_or_404(user)
    if not may_record_incidents(user):
        raise PermissionDenied(_("Your role may read incidents but not record them."))
    form = IncidentForm(request.POST or None, user=user)
    if request.method == "POST":
        if not form.is_valid():
            return render(request, "conditions/incident_form.html", {"form": form}, status=400)
        try:
            incident = incident_record(
                actor=Actor.from_user(user),
                facility=Facility.objects.visible_to(user).get(code=form.cleaned_data["facility"]),
                kind=form.cleaned_data["kind"],
                occurred_at=form.cleaned_data["occurred_at"],
                place=form.cleaned_data["place"],
                description=form.cleaned_data["description"],
                people=_involved(form, user),
            )
        except ApplicationError as exc:
            form.add_error(None, exc.message)
            return render(request, "conditions/incident_form.html", {"form": form}, status=400)
        messages.success(request, _("Incident recorded."))
        return redirect("conditions:incident_detail", incident.pk)
    return render(request, "conditions/incident_form.html", {"form": form})


@role_required
@require_http_methods(["GET", "POST"])
def incident_detail(request: HttpRequest, incident_id: int) -> HttpResponse:
    """One incident: the people involved, the report to the authority (Rule 71), the notice to
    next of kin (Rule 69) and closing; the staff's forms for each (POST ``form``)."""
    user = request.user
    _incidents_or_404(user)
    try:
        incident = incident_get_for(user, incident_id)
    except NotFound:
        raise Http404(_("Not found")) from None
    if request.method == "POST":
        if not may_record_incidents(user):
            raise PermissionDenied(_("Your role may read incidents but not record them."))
        _incident_action(request, incident)
        return redirect("conditions:incident_detail", incident.pk)
    return render(
        request,
        "conditions/incident.html",
        {
            "incident": incident,
            "people": incident.people.select_related("person", "admission_record"),
            "may_record": may_record_incidents(user) and incident.status == IncidentStatus.OPEN,
        },
    )


def _when(value: str) -> Any:
    field = forms.DateTimeField()
    try:
        return field.clean(value)
    except forms.ValidationError:
        raise ApplicationError(_("Give a valid date and time.")) from None


def _incident_action(request: HttpRequest, incident: Any) -> None:
    actor = Actor.from_user(request.user)
    post = request.POST
    try:
        which = post.get("form", "")
        if which == "report":
            incident_report_authority(
                actor=actor,
                incident=incident,
                authority=post.get("authority", ""),
                reported_at=_when(post.get("at", "")),
                reference=post.get("reference", ""),
            )
            messages.success(request, _("Report to the authority recorded."))
        elif which == "kin":
            incident_notify_kin(
                actor=actor,
                incident=incident,
                notified=post.get("notified", ""),
                how=post.get("how", ""),
                at=_when(post.get("at", "")),
            )
            messages.success(request, _("Notice to next of kin recorded."))
        elif which == "close":
            incident_close(actor=actor, incident=incident, note=post.get("note", ""))
            messages.success(request, _("Incident closed."))
        else:
            messages.error(request, _("Unknown form."))
    except ApplicationError as exc:
        messages.error(request, exc.message)


# --- sanctions -------------------------------------------------------------------------------


class SanctionForm(forms.Form):
    person = forms.IntegerField(label=gettext_lazy("Registry number"), min_value=1)
    facility = forms.ChoiceField(label=gettext_lazy("Facility"))
    measure = forms.ChoiceField(label=gettext_lazy("Measure"), choices=SanctionMeasure.choices)
    reason = forms.CharField(label=gettext_lazy("Reason"), widget=forms.Textarea)
    starts_at = forms.DateTimeField(
        label=gettext_lazy("Starts"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    ends_at = forms.DateTimeField(
        label=gettext_lazy("Ends"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["facility"] = _facility_field(user)
        _styled(self)


@role_required
@require_http_methods(["GET", "POST"])
def sanctions_view(request: HttpRequest) -> HttpResponse:
    """Disciplinary sanctions (Mandela Rules 36-46): the list, and the staff's form; what Rule
    43 prohibits is refused with its citation."""
    user = request.user
    _incidents_or_404(user)
    form = SanctionForm(request.POST or None, user=user)
    status = 200
    if request.method == "POST":
        if not may_record_incidents(user):
            raise PermissionDenied(_("Your role may read sanctions but not impose them."))
        status = 400
        if form.is_valid():
            person = _person(user, form.cleaned_data["person"])
            try:
                if person is None:
                    raise ApplicationError(_("No such person."))
                sanction_impose(
                    actor=Actor.from_user(user),
                    person=person,
                    facility=Facility.objects.visible_to(user).get(
                        code=form.cleaned_data["facility"]
                    ),
                    measure=form.cleaned_data["measure"],
                    reason=form.cleaned_data["reason"],
                    starts_at=form.cleaned_data["starts_at"],
                    ends_at=form.cleaned_data["ends_at"],
                )
            except ApplicationError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, _("Sanction recorded."))
                return redirect("conditions:sanctions")
    return render(
        request,
        "conditions/sanctions.html",
        {
            "form": form,
            "sanctions": sanction_list(user)[:200],
            "may_record": may_record_incidents(user),
        },
        status=status,
    )


# --- complaints ------------------------------------------------------------------------------


class ComplaintForm(forms.Form):
    person = forms.IntegerField(label=gettext_lazy("Registry number"), min_value=1)
    facility = forms.ChoiceField(label=gettext_lazy("Facility"))
    kind = forms.ChoiceField(
        label=gettext_lazy("Complaint or request"), choices=ComplaintKind.choices
    )
    category = forms.ChoiceField(label=gettext_lazy("Category"), choices=ComplaintCategory.choices)
    filer = forms.ChoiceField(label=gettext_lazy("Filed by"), choices=ComplaintFiler.choices)
    text = forms.CharField(label=gettext_lazy("Text"), widget=forms.Textarea)
    confidential = forms.BooleanField(
        label=gettext_lazy("Confidential: for oversight only (Rule 56(3))"), required=False
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["facility"] = _facility_field(user)
        if not may_view_confidential_complaints(user):
            # Staff could not read back what they file in confidence: oversight registers it.
            del self.fields["confidential"]
        _styled(self)


@role_required
@require_GET
def complaint_list_view(request: HttpRequest, as_csv: bool = False) -> HttpResponse:
    """Complaints and requests the user may see (never a confidential one for staff), searched
    and filtered; with counts by status and overdue; the same list as CSV."""
    user = request.user
    _complaints_or_404(user)
    q = request.GET.get("q", "")
    status = request.GET.get("status", "")
    only_overdue = request.GET.get("overdue") == "1"
    found = complaint_list(
        user,
        q=q,
        status=status if status in ComplaintStatus.values else "",
        overdue_only=only_overdue,
    )
    if as_csv:
        return _complaints_csv(found)
    rows = [{"c": c, "overdue": overdue(c)} for c in found[:500]]
    return render(
        request,
        "conditions/complaints.html",
        {
            "rows": rows,
            "total": found.count(),
            "counts": complaint_counts(user),
            "statuses": ComplaintStatus.choices,
            "status": status,
            "q": q,
            "only_overdue": only_overdue,
            "may_file": may_file_complaints(user),
            "sees_confidential": may_view_confidential_complaints(user),
        },
    )


def _complaints_csv(found: Any) -> HttpResponse:
    out = io.StringIO()
    writer = csvsafe.writer(out)
    writer.writerow(
        ["id", "person", "facility", "kind", "category", "filer", "confidential", "status",
         "received_at", "acknowledge_by", "answer_by", "acknowledged_at", "answered_at",
         "overdue"]
    )  # fmt: skip
    for c in found.iterator():
        writer.writerow(
            [c.pk, c.person_id, c.facility.code, c.kind, c.category, c.filer,
             "yes" if c.confidential else "no", c.status, c.received_at.isoformat(),
             c.acknowledge_by.isoformat(), c.answer_by.isoformat(),
             c.acknowledged_at.isoformat() if c.acknowledged_at else "",
             c.answered_at.isoformat() if c.answered_at else "", overdue(c)]
        )  # fmt: skip
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="complaints.csv"'
    response["Cache-Control"] = "no-store"
    return response


@role_required
@require_http_methods(["GET", "POST"])
def complaint_new(request: HttpRequest) -> HttpResponse:
    """Register a complaint or request for a person (staff; oversight for a confidential one)."""
    user = request.user
    _complaints_or_404(user)
    if not may_file_complaints(user):
        raise PermissionDenied
    form = ComplaintForm(request.POST or None, user=user)
    if request.method == "POST":
        if form.is_valid():
            person = _person(user, form.cleaned_data["person"])
            try:
                if person is None:
                    raise ApplicationError(_("No such person."))
                complaint = complaint_file(
                    actor=Actor.from_user(user),
                    person=person,
                    facility=Facility.objects.visible_to(user).get(
                        code=form.cleaned_data["facility"]
                    ),
                    kind=form.cleaned_data["kind"],
                    category=form.cleaned_data["category"],
                    filer=form.cleaned_data["filer"],
                    text=form.cleaned_data["text"],
                    confidential=bool(form.cleaned_data.get("confidential")),
                )
            except ApplicationError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, _("Complaint or request recorded."))
                return redirect("conditions:complaint_detail", complaint.pk)
        return render(request, "conditions/complaint_form.html", {"form": form}, status=400)
    return render(request, "conditions/complaint_form.html", {"form": form})


@role_required
@require_http_methods(["GET", "POST"])
def complaint_detail(request: HttpRequest, complaint_id: int) -> HttpResponse:
    """One complaint or request, and its next step (POST ``status``, ``answer``): by the
    facility's staff, or oversight (who alone reaches a confidential one)."""
    user = request.user
    _complaints_or_404(user)
    try:
        complaint = complaint_get_for(user, complaint_id)
    except NotFound:
        raise Http404(_("Not found")) from None
    if request.method == "POST":
        try:
            complaint_set_status(
                actor=Actor.from_user(user),
                complaint=complaint,
                status=request.POST.get("status", ""),
                answer=request.POST.get("answer", ""),
            )
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Status changed."))
        return redirect("conditions:complaint_detail", complaint.pk)
    from habeas.conditions.complaints import NEXT

    return render(
        request,
        "conditions/complaint.html",
        {
            "complaint": complaint,
            "overdue": overdue(complaint),
            "next": [(s, ComplaintStatus(s).label) for s in ComplaintStatus.values
                     if s in NEXT[ComplaintStatus(complaint.status)]],
        },
    )  # fmt: skip


def person_cases(user: Any, person: Any) -> dict[str, Any]:
    """The person page's section: their incidents, sanctions and complaints as ``user`` may
    see them (a confidential complaint only for oversight), for ``conditions/_person.html``."""
    return {
        "show": may_view_incidents(user) or may_view_complaints(user),
        "incidents": list(incident_list(user, person_id=person.pk)[:50]),
        "sanctions": list(sanction_list(user, person_id=person.pk)[:50]),
        "complaints": list(complaint_list(user, person_id=person.pk)[:50]),
    }
