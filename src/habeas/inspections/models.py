"""What the inspections app stores (OPCAT arts. 4, 14, 20; Mandela Rules 83-85).

An interview is stored as having happened — who, when, in which inspection — and nothing
else: there is no field for what was said (OPCAT art. 20(d): private interviews; Mandela
Rule 84(1)(d)). Free text lives in findings, recommendations and the facility's responses
only, and goes on the ledger as a commitment (ARCHITECTURE.md, "Personal data and the
ledger")."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from habeas.accounts.permissions import is_inspector, scope_of, sees_everything
from habeas.core.services import ServiceModel, ServiceQuerySet


class BodyKind(models.TextChoices):
    NPM = "npm", _("National preventive mechanism (OPCAT art. 17)")
    SPT = "spt", _("UN Subcommittee on Prevention of Torture (OPCAT art. 11)")
    ICRC = "icrc", _("Humanitarian visitor (ICRC-style)")
    INTERNAL = "internal", _("Internal inspectorate (Mandela Rule 83(1)(a))")


class GateStatus(models.TextChoices):
    ARRIVED = "arrived", _("Arrived, awaiting admission")
    ADMITTED = "admitted", pgettext_lazy("inspectors at the gate", "Admitted")
    REFUSED = "refused", pgettext_lazy("inspectors at the gate", "Refused")


class GateReason(models.TextChoices):
    """The only grounds on which a visit may be objected to, and then only temporarily
    (OPCAT art. 14(2)): urgent and compelling grounds of national defence, public safety,
    natural disaster or serious disorder in the place to be visited."""

    NATIONAL_DEFENCE = "national_defence", _("National defence")
    PUBLIC_SAFETY = "public_safety", _("Public safety")
    NATURAL_DISASTER = "natural_disaster", _("Natural disaster")
    SERIOUS_DISORDER = "serious_disorder", _("Serious disorder in the place visited")


class IntervieweeKind(models.TextChoices):
    PRISONER = "prisoner", _("Prisoner")
    STAFF = "staff", _("Staff member")


class FindingKind(models.TextChoices):
    FINDING = "finding", _("Finding")
    RECOMMENDATION = "recommendation", _("Recommendation")


class Response(models.TextChoices):
    """Mandela Rule 85(2): the administration states whether it will implement each
    recommendation."""

    ACCEPTED = "accepted", pgettext_lazy("a recommendation", "Accepted")
    PARTIALLY = "partially", pgettext_lazy("a recommendation", "Partially accepted")
    REJECTED = "rejected", pgettext_lazy("a recommendation", "Rejected")


class FindingStatus(models.TextChoices):
    OPEN = "open", _("Awaiting response")
    RESPONDED = "responded", _("Responded, in follow-up")
    CLOSED = "closed", pgettext_lazy("a recommendation", "Closed")


class BodyQuerySet(ServiceQuerySet):
    def visible_to(self, user: Any) -> BodyQuerySet:
        """Oversight every body; an inspector their own; facility staff those whose mandate
        covers one of their facilities."""
        if sees_everything(user):
            return self
        if is_inspector(user):
            return self.filter(members__user=user)
        codes = scope_of(user).facility_codes or []
        return self.filter(pk__in=[b.pk for b in self.all() if set(b.facility_codes) & set(codes)])


class InspectionBody(ServiceModel):
    """A registered inspection body (OPCAT art. 4: visits by the mechanisms of arts. 2 and
    3; Mandela Rule 83(1)): its kind, its mandate and the facilities it may visit."""

    name = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=16, choices=BodyKind.choices)
    mandate = models.TextField()
    facility_codes = models.JSONField(default=list)
    registered_at = models.DateTimeField()

    objects = BodyQuerySet.as_manager()  # type: ignore[misc]  # narrows the guarded base manager

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class BodyMember(ServiceModel):
    """An inspector's membership of their body: one body per inspector account."""

    body = models.ForeignKey(InspectionBody, on_delete=models.PROTECT, related_name="members")
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="inspection_body"
    )
    appointed_at = models.DateTimeField()


class InspectionQuerySet(ServiceQuerySet):
    def visible_to(self, user: Any) -> InspectionQuerySet:
        """Oversight every inspection; an inspector their body's, at the facilities of their
        scope; facility users the inspections of their facilities (never the interviews:
        :class:`Interview`)."""
        if sees_everything(user):
            return self
        codes = scope_of(user).facility_codes or []
        found = self.filter(facility__code__in=codes)
        if is_inspector(user):
            found = found.filter(body__members__user=user)
        return found


class Inspection(ServiceModel):
    """One visit of an inspection body to a facility (OPCAT art. 14(1)(c), (e): access to all
    places, and the choice of the places and of when to go; Mandela Rule 84(1)(b): unannounced
    visits at their own initiative). Logged at the gate on arrival; the facility records when
    it admitted the inspectors, or that it refused them, with an OPCAT art. 14(2) reason."""

    body = models.ForeignKey(InspectionBody, on_delete=models.PROTECT, related_name="inspections")
    facility = models.ForeignKey(
        "facilities.Facility", on_delete=models.PROTECT, related_name="inspections"
    )
    announced = models.BooleanField(default=False)
    arrived_at = models.DateTimeField()
    #: The visiting team: inspector accounts' usernames.
    inspectors = models.JSONField(default=list)
    gate_status = models.CharField(
        max_length=12, choices=GateStatus.choices, default=GateStatus.ARRIVED
    )
    admitted_at = models.DateTimeField(null=True, blank=True)
    gate_reason = models.CharField(max_length=24, choices=GateReason.choices, blank=True)
    gate_recorded_by = models.CharField(max_length=150, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    report_published_at = models.DateTimeField(null=True, blank=True)

    objects = InspectionQuerySet.as_manager()  # type: ignore[misc]  # narrows the guarded base manager

    class Meta:
        ordering = ["-arrived_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(admitted_at__isnull=True) | Q(admitted_at__gte=models.F("arrived_at")),
                name="inspection_admitted_after_arrival",
            ),
            models.CheckConstraint(
                condition=~Q(gate_status="refused") | ~Q(gate_reason=""),
                name="inspection_refusal_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"inspection {self.pk} of {self.facility_id}"

    @property
    def reference(self) -> str:
        return f"INS-{self.pk}"


class InterviewQuerySet(ServiceQuerySet):
    def visible_to(self, user: Any) -> InterviewQuerySet:
        """Who was interviewed: the inspection body and oversight only, never the facility
        (OPCAT art. 21(1): no sanction for having communicated with the mechanism)."""
        if sees_everything(user):
            return self
        if not is_inspector(user):
            return self.none()
        return self.filter(inspection__in=Inspection.objects.visible_to(user))


class Interview(ServiceModel):
    """A private interview chosen by the inspectors (OPCAT art. 14(1)(d); Mandela Rule
    84(1)(d)): recorded as having happened — with whom, when, in which inspection. There is no
    content field, by design."""

    inspection = models.ForeignKey(Inspection, on_delete=models.PROTECT, related_name="interviews")
    kind = models.CharField(max_length=12, choices=IntervieweeKind.choices)
    person = models.ForeignKey(
        "people.Person", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField()
    recorded_by = models.CharField(max_length=150)

    objects = InterviewQuerySet.as_manager()  # type: ignore[misc]  # narrows the guarded base manager

    class Meta:
        ordering = ["at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(kind="prisoner") & Q(person__isnull=False) & Q(staff__isnull=True))
                | (Q(kind="staff") & Q(staff__isnull=False) & Q(person__isnull=True)),
                name="interview_one_interviewee",
            )
        ]


class FindingQuerySet(ServiceQuerySet):
    def visible_to(self, user: Any) -> FindingQuerySet:
        return self.filter(inspection__in=Inspection.objects.visible_to(user))


class Finding(ServiceModel):
    """A finding or a recommendation of an inspection (Mandela Rule 85(1): a written report;
    85(2): the administration states whether it will implement each recommendation), with its
    owner at the facility and its deadline, the facility's response, and its follow-up to
    closure."""

    inspection = models.ForeignKey(Inspection, on_delete=models.PROTECT, related_name="findings")
    number = models.PositiveIntegerField()
    kind = models.CharField(max_length=16, choices=FindingKind.choices)
    text = models.TextField()
    citation = models.CharField(max_length=120, blank=True)
    owner = models.CharField(max_length=200)
    deadline = models.DateField()
    status = models.CharField(
        max_length=12, choices=FindingStatus.choices, default=FindingStatus.OPEN
    )
    response = models.CharField(max_length=12, choices=Response.choices, blank=True)
    response_text = models.TextField(blank=True)
    responded_at = models.DateTimeField(null=True, blank=True)
    responded_by = models.CharField(max_length=150, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closure_note = models.TextField(blank=True)
    recorded_at = models.DateTimeField()

    objects = FindingQuerySet.as_manager()  # type: ignore[misc]  # narrows the guarded base manager

    class Meta:
        ordering = ["inspection_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["inspection", "number"], name="one_finding_number")
        ]

    def __str__(self) -> str:
        return f"{self.inspection.reference}/{self.number}"
