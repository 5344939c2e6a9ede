"""Custody: the legal basis for holding someone, the custody episode, cell placements.

Database constraints on SQLite and PostgreSQL (HOUSE-STYLE): intervals ordered, at most one
open episode per person, at most one open placement per episode.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from habeas.core.services import ServiceModel, ServiceQuerySet
from habeas.custody.choices import (
    Consent,
    LegalBasisKind,
    ReleaseReason,
    StatusInSendingState,
)

if TYPE_CHECKING:
    from habeas.accounts.models import User


class LegalBasis(ServiceModel):
    """A commitment order (Mandela Rule 7(b)): a removal order or a criminal sentence, with the
    fields of MANIFEST.md."""

    person = models.ForeignKey(
        "people.Person", on_delete=models.PROTECT, related_name="legal_bases"
    )
    kind = models.CharField(max_length=32, choices=LegalBasisKind.choices)
    authority = models.CharField(_("issuing authority"), max_length=64, blank=True)
    ref = models.CharField(_("reference"), max_length=128, blank=True)
    status_in_sending_state = models.CharField(
        max_length=32, choices=StatusInSendingState.choices, blank=True
    )
    # removal order
    order_date = models.DateField(null=True, blank=True)
    removal_protection = models.BooleanField(default=False)
    # criminal sentence
    offence = models.TextField(blank=True)
    conviction_date = models.DateField(null=True, blank=True)
    judgment_final = models.BooleanField(null=True, blank=True)
    sentence = models.CharField(
        max_length=32, blank=True, help_text=_("ISO 8601 duration (P10Y, P18M) or 'life'.")
    )
    sentence_start = models.DateField(null=True, blank=True)
    custody_credit_days = models.PositiveIntegerField(default=0)
    consent = models.CharField(max_length=8, choices=Consent.choices, default=Consent.UNKNOWN)
    recorded_at = models.DateTimeField()

    class Meta:
        verbose_name_plural = "legal bases"

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.ref}"


class EpisodeQuerySet(ServiceQuerySet):
    def open(self) -> EpisodeQuerySet:
        return self.filter(released_at__isnull=True)

    def visible_to(self, user: User | Any) -> EpisodeQuerySet:
        """Same scope as people: facility roles their facilities, liaison and finance their
        state's agreements, oversight and auditors all."""
        if not getattr(user, "is_authenticated", False):
            return self.none()
        if user.sees_everything:
            return self
        if user.is_facility_role:
            return self.filter(facility__code__in=user.facility_codes)
        if user.role == "liaison":
            return self.filter(agreement__sending__code=user.jurisdiction_code)
        if user.role == "finance":
            code = user.jurisdiction_code
            return self.filter(
                Q(agreement__sending__code=code) | Q(agreement__receiving__code=code)
            )
        return self.none()


class CustodyEpisode(ServiceModel):
    """One continuous period in a facility's custody (Mandela Rule 7(c): day and hour of
    admission and release). ``agreement`` is empty for people held on the receiving state's
    own authority."""

    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="episodes")
    facility = models.ForeignKey(
        "facilities.Facility", on_delete=models.PROTECT, related_name="episodes"
    )
    agreement = models.ForeignKey(
        "agreements.Agreement",
        on_delete=models.PROTECT,
        related_name="episodes",
        null=True,
        blank=True,
    )
    legal_bases = models.ManyToManyField(LegalBasis, related_name="episodes", blank=True)
    admitted_at = models.DateTimeField()
    released_at = models.DateTimeField(null=True, blank=True)
    release_reason = models.CharField(max_length=32, choices=ReleaseReason.choices, blank=True)
    release_destination = models.CharField(max_length=2, blank=True)
    release_note = models.TextField(blank=True)

    objects = EpisodeQuerySet.as_manager()  # type: ignore[misc]  # narrows the guarded base manager

    class Meta:
        ordering = ["-admitted_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(released_at__isnull=True) | Q(released_at__gt=F("admitted_at")),
                name="episode_interval_ordered",
            ),
            models.CheckConstraint(
                condition=Q(released_at__isnull=True, release_reason="")
                | (Q(released_at__isnull=False) & ~Q(release_reason="")),
                name="episode_release_has_reason",
            ),
            models.UniqueConstraint(
                fields=["person"],
                condition=Q(released_at__isnull=True),
                name="one_open_episode_per_person",
            ),
        ]
        indexes = [models.Index(fields=["facility", "released_at"])]

    def __str__(self) -> str:
        return f"episode {self.pk} of person {self.person_id}"

    @property
    def is_open(self) -> bool:
        return self.released_at is None


class Placement(ServiceModel):
    """A stay in one cell within an episode (Mandela Rule 7(c): every transfer recorded)."""

    episode = models.ForeignKey(CustodyEpisode, on_delete=models.PROTECT, related_name="placements")
    cell = models.ForeignKey("facilities.Cell", on_delete=models.PROTECT, related_name="placements")
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True) | Q(ended_at__gte=F("started_at")),
                name="placement_interval_ordered",
            ),
            models.UniqueConstraint(
                fields=["episode"],
                condition=Q(ended_at__isnull=True),
                name="one_open_placement_per_episode",
            ),
        ]
        indexes = [models.Index(fields=["cell", "ended_at"])]

    def __str__(self) -> str:
        return f"placement {self.pk} in {self.cell_id}"
