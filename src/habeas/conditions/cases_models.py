"""Incidents and deaths in custody, disciplinary sanctions, complaints and requests.

What each record holds, and which rule asks for it:

* :class:`Incident` — Mandela Rules 71-72 (death, disappearance, serious injury reported to an
  independent authority), Rule 69 (next of kin informed), Rule 7(d) (injuries seen at
  admission, linked through :class:`IncidentPerson`);
* :class:`Sanction` — Mandela Rules 36-46 (discipline by law, and what it may never be);
* :class:`Complaint` — Mandela Rules 56-57 (requests and complaints, in confidence, answered
  without delay, without retaliation).
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from habeas.accounts.permissions import (
    may_view_complaints,
    may_view_confidential_complaints,
    may_view_incidents,
    scope_of,
)
from habeas.core.services import ServiceModel, ServiceQuerySet


class IncidentKind(models.TextChoices):
    DEATH = "death", _("Death in custody")
    SERIOUS_INJURY = "serious_injury", _("Serious injury")
    ASSAULT = "assault", _("Assault")
    SELF_HARM = "self_harm", _("Self-harm")
    USE_OF_FORCE = "use_of_force", _("Use of force")
    ESCAPE = "escape", _("Escape")
    DISTURBANCE = "disturbance", _("Disturbance")
    ROLL_COUNT = "roll_count", _("Roll-count discrepancy")


#: Kinds that Mandela Rule 71(1) requires reported to an independent authority, and whose
#: next of kin Rule 69 requires informed, before the incident may be closed.
REPORTABLE_KINDS = frozenset({IncidentKind.DEATH, IncidentKind.SERIOUS_INJURY})


class IncidentStatus(models.TextChoices):
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")


class IncidentRole(models.TextChoices):
    VICTIM = "victim", _("Victim")
    ALLEGED_PERPETRATOR = "alleged_perpetrator", _("Alleged perpetrator")
    WITNESS = "witness", _("Witness")
    SUBJECT_OF_FORCE = "subject_of_force", _("Subject of force")
    INJURED = "injured", _("Injured")
    DECEASED = "deceased", _("Deceased")
    ESCAPED = "escaped", _("Escaped")
    INVOLVED = "involved", _("Involved")


def _by_facility(user: Any, qs: Any) -> Any:
    scope = scope_of(user)
    if scope.everything:
        return qs
    if scope.facility_codes is not None:
        return qs.filter(facility__code__in=scope.facility_codes)
    return qs.none()


class IncidentQuerySet(ServiceQuerySet):
    def visible_to(self, user: Any) -> IncidentQuerySet:
        """The facility's staff their facilities' incidents, oversight all; nobody else any
        (:func:`habeas.accounts.permissions.may_view_incidents`)."""
        if not may_view_incidents(user):
            return self.none()
        result: IncidentQuerySet = _by_facility(user, self)
        return result


class Incident(ServiceModel):
    """An incident in custody (Mandela Rules 71-72). ``description`` is personal free text:
    the ledger holds its commitment only. A death or serious injury is closed only after the
    report to an independent authority (Rule 71(1): who, when, reference) and the notice to
    next of kin (Rule 69: who, how, when) are recorded."""

    facility = models.ForeignKey(
        "facilities.Facility", on_delete=models.PROTECT, related_name="incidents"
    )
    kind = models.CharField(max_length=20, choices=IncidentKind.choices)
    occurred_at = models.DateTimeField()
    place = models.CharField(max_length=100, blank=True, help_text="cell or place")
    description = models.TextField()
    status = models.CharField(
        max_length=10, choices=IncidentStatus.choices, default=IncidentStatus.OPEN
    )
    recorded_by = models.CharField(max_length=150)
    recorded_at = models.DateTimeField()
    authority = models.CharField(max_length=200, blank=True)
    authority_reported_at = models.DateTimeField(null=True, blank=True)
    authority_reference = models.CharField(max_length=100, blank=True)
    kin_notified = models.CharField(max_length=300, blank=True, help_text="who was told")
    kin_notified_how = models.CharField(max_length=100, blank=True)
    kin_notified_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.CharField(max_length=150, blank=True)
    closing_note = models.TextField(blank=True)

    objects = IncidentQuerySet.as_manager()  # type: ignore[misc]  # narrows the guarded base manager

    class Meta:
        ordering = ["-occurred_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="open", closed_at__isnull=True)
                | Q(status="closed", closed_at__isnull=False),
                name="incident_closed_has_time",
            )
        ]

    def __str__(self) -> str:
        return f"incident {self.pk} ({self.kind})"

    @property
    def reportable(self) -> bool:
        return self.kind in REPORTABLE_KINDS

    @property
    def reported(self) -> bool:
        return self.authority_reported_at is not None

    @property
    def kin_informed(self) -> bool:
        return self.kin_notified_at is not None


class IncidentPerson(ServiceModel):
    """A person involved in an incident, with their role; ``admission_record`` links the
    injuries observed at their admission (Mandela Rule 7(d)) when the incident concerns
    them."""

    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="people")
    person = models.ForeignKey(
        "people.Person", on_delete=models.PROTECT, related_name="incident_roles"
    )
    role = models.CharField(max_length=30, choices=IncidentRole.choices)
    admission_record = models.ForeignKey(
        "transfers.AdmissionRecord",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="incident_links",
    )

    class Meta:
        ordering = ["incident_id", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["incident", "person", "role"], name="one_role_per_incident_person"
            )
        ]

    def __str__(self) -> str:
        return f"{self.person_id} {self.role} in incident {self.incident_id}"


class SanctionMeasure(models.TextChoices):
    WARNING = "warning", _("Warning")
    LOSS_OF_PRIVILEGES = "loss_of_privileges", _("Loss of privileges")
    CONFINEMENT_TO_CELL = "confinement_to_cell", _("Confinement to cell")
    SOLITARY_CONFINEMENT = "solitary_confinement", _("Solitary confinement")
    CONTACT_RESTRICTED = "contact_restricted", _("Means of family contact restricted")


class SanctionQuerySet(ServiceQuerySet):
    def visible_to(self, user: Any) -> SanctionQuerySet:
        if not may_view_incidents(user):
            return self.none()
        result: SanctionQuerySet = _by_facility(user, self)
        return result


class Sanction(ServiceModel):
    """A disciplinary sanction (Mandela Rules 36-46): the measure from a fixed list, the
    reason (personal), from when to when, who imposed it. What Rule 43 prohibits is refused
    by :func:`habeas.conditions.incidents.sanction_impose`, with its citation."""

    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="sanctions")
    facility = models.ForeignKey(
        "facilities.Facility", on_delete=models.PROTECT, related_name="sanctions"
    )
    measure = models.CharField(max_length=30, choices=SanctionMeasure.choices)
    reason = models.TextField()
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField(null=True, blank=True)
    imposed_by = models.CharField(max_length=150)

    objects = SanctionQuerySet.as_manager()  # type: ignore[misc]  # narrows the guarded base manager

    class Meta:
        ordering = ["-starts_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__isnull=True) | Q(ends_at__gt=models.F("starts_at")),
                name="sanction_interval_ordered",
            )
        ]

    def __str__(self) -> str:
        return f"sanction {self.pk} ({self.measure})"


class ComplaintKind(models.TextChoices):
    COMPLAINT = "complaint", _("Complaint")
    REQUEST = "request", _("Request")


class ComplaintCategory(models.TextChoices):
    ILL_TREATMENT = "ill_treatment", _("Ill-treatment")
    CONDITIONS = "conditions", _("Conditions of detention")
    HEALTH = "health", _("Health care")
    CONTACT = "contact", _("Family or consular contact")
    LEGAL = "legal", _("Legal matters")
    DISCIPLINE = "discipline", _("Discipline")
    PROPERTY = "property", _("Property")
    OTHER = "other", _("Other")


class ComplaintFiler(models.TextChoices):
    PERSON = "person", _("The person")
    LAWYER = "lawyer", _("Their lawyer")
    FAMILY = "family", _("Their family")
    OTHER = "other", _("Someone else on their behalf")


class ComplaintStatus(models.TextChoices):
    RECEIVED = "received", _("Received")
    UNDER_REVIEW = "under_review", _("Under review")
    ANSWERED = "answered", _("Answered")
    CLOSED = "closed", _("Closed")


class ComplaintQuerySet(ServiceQuerySet):
    def visible_to(self, user: Any) -> ComplaintQuerySet:
        """The one place confidentiality is enforced: a confidential complaint only for
        oversight (Mandela Rule 56(3)); the facility's staff the others of their facilities;
        the liaison, finance and the auditor none. Every list, count, search, export, API and
        page starts here."""
        if not may_view_complaints(user):
            return self.none()
        qs: ComplaintQuerySet = _by_facility(user, self)
        if not may_view_confidential_complaints(user):
            qs = qs.filter(confidential=False)
        return qs


class Complaint(ServiceModel):
    """A request or complaint (Mandela Rules 56-57), filed by the person or for them. ``text``
    and ``answer`` are personal: the ledger holds their commitments only. Deadlines to
    acknowledge and to answer are set at filing (Rule 57(1): dealt with promptly, replied to
    without delay)."""

    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="complaints")
    facility = models.ForeignKey(
        "facilities.Facility", on_delete=models.PROTECT, related_name="complaints"
    )
    kind = models.CharField(max_length=10, choices=ComplaintKind.choices)
    category = models.CharField(max_length=20, choices=ComplaintCategory.choices)
    filer = models.CharField(max_length=10, choices=ComplaintFiler.choices)
    confidential = models.BooleanField(default=False)
    text = models.TextField()
    status = models.CharField(
        max_length=15, choices=ComplaintStatus.choices, default=ComplaintStatus.RECEIVED
    )
    received_at = models.DateTimeField()
    recorded_by = models.CharField(max_length=150)
    acknowledge_by = models.DateTimeField()
    answer_by = models.DateTimeField()
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    answer = models.TextField(blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    objects = ComplaintQuerySet.as_manager()  # type: ignore[misc]  # narrows the guarded base manager

    class Meta:
        ordering = ["-received_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(answer_by__gte=models.F("acknowledge_by")),
                name="complaint_deadlines_ordered",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.pk}"
