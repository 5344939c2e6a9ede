"""Outside contact: the visitor register, visits, calls and letters, restrictions of contact
(Mandela Rules 43(3), 58-62; VCCR art. 36(1)(c)).

Nothing here holds what was said or written: a lawyer's visit is recorded as having happened,
never its content (Mandela Rule 61(1)); a call or a letter is its date, kind and counterpart
(Rule 58(1)). Names and identity documents of visitors are personal data: on the ledger only
as commitments under the visited person's key, erased with that person's data.
"""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q

from habeas.contact.choices import (
    ContactKind,
    Counterpart,
    RestrictionMeans,
    RestrictionReason,
    VisitEndReason,
    VisitKind,
    VisitSource,
    VisitStatus,
)
from habeas.core.services import ServiceModel


class Visitor(ServiceModel):
    """One entry of the visitor register: who may visit whom (Mandela Rule 58(1)): the
    visitor's name, relation to the person, identity document, and for a consular officer the
    consulate's country (VCCR art. 36(1)(c))."""

    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=16, choices=VisitKind.choices)
    name = models.CharField(max_length=200)
    relation = models.CharField(max_length=100, blank=True)
    id_document = models.CharField(max_length=100, blank=True)
    country = models.CharField(max_length=2, blank=True)
    registered_at = models.DateTimeField()

    class Meta:
        ordering = ["person_id", "pk"]

    def __str__(self) -> str:
        return f"visitor {self.pk} of person {self.person_id}"


class Visit(ServiceModel):
    """One visit: requested (on the public page) or booked (by staff), then took place,
    refused or cancelled, with a reason from a fixed list (:class:`VisitEndReason`). A lawyer's
    visit is never bound to a slot's capacity (Mandela Rule 61(1): without delay) and never
    holds a note."""

    facility = models.ForeignKey("facilities.Facility", on_delete=models.PROTECT, related_name="+")
    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    visitor = models.ForeignKey(Visitor, on_delete=models.PROTECT, related_name="visits")
    kind = models.CharField(max_length=16, choices=VisitKind.choices)
    status = models.CharField(max_length=16, choices=VisitStatus.choices)
    source = models.CharField(max_length=8, choices=VisitSource.choices)
    starts_at = models.DateTimeField()
    requested_at = models.DateTimeField()
    decided_at = models.DateTimeField(null=True, blank=True)
    took_place_at = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(max_length=32, choices=VisitEndReason.choices, blank=True)
    note = models.TextField(blank=True)
    recorded_by = models.CharField(max_length=150)

    class Meta:
        ordering = ["starts_at", "pk"]
        indexes = [
            models.Index(fields=["facility", "starts_at"]),
            models.Index(fields=["person", "starts_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status__in=["refused", "cancelled"]) | ~Q(reason=""),
                name="visit_refusal_has_reason",
            ),
            models.CheckConstraint(
                condition=~Q(kind="lawyer") | Q(note=""), name="lawyer_visit_has_no_note"
            ),
            models.CheckConstraint(
                condition=~Q(status="took_place") | Q(took_place_at__isnull=False),
                name="visit_held_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} visit {self.pk} to person {self.person_id}"


class Contact(ServiceModel):
    """A call or a letter (Mandela Rule 58(1)(a)): when, which kind, with whom; never what
    was said or written."""

    facility = models.ForeignKey("facilities.Facility", on_delete=models.PROTECT, related_name="+")
    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=16, choices=ContactKind.choices)
    counterpart_kind = models.CharField(max_length=16, choices=Counterpart.choices)
    counterpart = models.CharField(max_length=200, blank=True)
    occurred_at = models.DateTimeField()
    recorded_by = models.CharField(max_length=150)

    class Meta:
        ordering = ["-occurred_at", "-pk"]
        indexes = [models.Index(fields=["person", "occurred_at"])]

    def __str__(self) -> str:
        return f"{self.kind} of person {self.person_id}"


class ContactRestriction(ServiceModel):
    """A means of family contact restricted for security or good order, for a limited time
    (Mandela Rule 43(3)); never as a disciplinary sanction. Legal and consular contact is not
    restricted by it (Rules 61, 62)."""

    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    means = models.CharField(max_length=16, choices=RestrictionMeans.choices)
    reason = models.CharField(max_length=16, choices=RestrictionReason.choices)
    note = models.TextField(blank=True)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    lifted_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.CharField(max_length=150)

    class Meta:
        ordering = ["-starts_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="restriction_limited_in_time"
            ),
            models.CheckConstraint(
                condition=~Q(reason="disciplinary"), name="restriction_never_disciplinary"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.means} restricted for person {self.person_id}"


class LastContact(ServiceModel):
    """The last contact of each person, kept by the contact services in the same transaction
    (derived: rebuildable from visits and contacts). The ``no_contact`` alarm reads it in one
    set-based query rather than aggregating every visit and call (Mandela Rule 58(1))."""

    person = models.OneToOneField(
        "people.Person", on_delete=models.PROTECT, primary_key=True, related_name="+"
    )
    last_contact_at = models.DateTimeField(null=True, blank=True)
    last_consular_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"last contact of person {self.person_id}"
