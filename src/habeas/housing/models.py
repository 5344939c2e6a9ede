"""Housing: where each person held sleeps, who must be kept apart, and the counted roll
(Mandela Rules 7(c), 11 and 36; HMPPS establishment roll).

These models moved here from ``custody`` (Placement) and ``facilities`` (keep-apart and roll
counts) so that the apps depend downward (ARCHITECTURE.md, Layout): housing sits above custody
and facilities and reads both. The rows did not move: each model keeps its old table
(``Meta.db_table``), and the migrations only moved the models' state.

Database constraints on SQLite and PostgreSQL (HOUSE-STYLE): intervals ordered, at most one
open placement per episode, at most one open keep-apart record per pair.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import models
from django.db.models import F, Q

from habeas.accounts.permissions import scope_of
from habeas.core.services import ServiceModel, ServiceQuerySet
from habeas.facilities.choices import (
    KeepApartRole,
    KeepApartScope,
    KeepApartSource,
    RollCountSource,
)

if TYPE_CHECKING:
    from habeas.accounts.models import User


class Placement(ServiceModel):
    """A stay in one cell within an episode (Mandela Rule 7(c): every transfer recorded)."""

    episode = models.ForeignKey(
        "custody.CustodyEpisode", on_delete=models.PROTECT, related_name="placements"
    )
    cell = models.ForeignKey("facilities.Cell", on_delete=models.PROTECT, related_name="placements")
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        db_table = "custody_placement"  # moved from custody without moving its rows
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


class KeepApartQuerySet(ServiceQuerySet):
    def open(self) -> KeepApartQuerySet:
        return self.filter(closed_at__isnull=True)

    def involving(self, person_id: int) -> KeepApartQuerySet:
        return self.filter(Q(person_a_id=person_id) | Q(person_b_id=person_id))

    def visible_to(self, user: User | Any) -> KeepApartQuerySet:
        """Facility roles see the records of people ever held in their facilities;
        oversight and auditors all; nobody else (a keep-apart names a second person)."""
        scope = scope_of(user)
        if scope.everything:
            return self
        if scope.facility_codes is not None:
            codes = scope.facility_codes
            return self.filter(
                Q(person_a__episodes__facility__code__in=codes)
                | Q(person_b__episodes__facility__code__in=codes)
            ).distinct()
        return self.none()


class KeepApart(ServiceModel):
    """Two people who must be held apart (Mandela Rule 1 and 36: safety and order; a
    manifest's ``keep_apart_from`` or a staff decision). ``person_a`` has the lower id, so a
    pair has one open record at most. Closing keeps the row: history is never erased."""

    person_a = models.ForeignKey(
        "people.Person", on_delete=models.PROTECT, related_name="keep_aparts_as_a"
    )
    person_b = models.ForeignKey(
        "people.Person", on_delete=models.PROTECT, related_name="keep_aparts_as_b"
    )
    role_a = models.CharField(max_length=16, choices=KeepApartRole.choices)
    role_b = models.CharField(max_length=16, choices=KeepApartRole.choices)
    scope = models.CharField(max_length=16, choices=KeepApartScope.choices)
    reason = models.TextField()
    source = models.CharField(max_length=16, choices=KeepApartSource.choices)
    source_ref = models.CharField(max_length=128, blank=True)
    opened_at = models.DateTimeField()
    opened_by = models.CharField(max_length=150)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.CharField(max_length=150, blank=True)
    close_reason = models.TextField(blank=True)

    objects = KeepApartQuerySet.as_manager()  # type: ignore[misc]  # narrows the guarded base manager

    class Meta:
        db_table = "facilities_keepapart"  # moved from facilities without moving its rows
        ordering = ["-opened_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(person_a__lt=F("person_b")), name="keep_apart_ordered_pair"
            ),
            models.CheckConstraint(
                condition=Q(closed_at__isnull=True) | Q(closed_at__gte=F("opened_at")),
                name="keep_apart_interval_ordered",
            ),
            models.UniqueConstraint(
                fields=["person_a", "person_b"],
                condition=Q(closed_at__isnull=True),
                name="one_open_keep_apart_per_pair",
            ),
        ]
        indexes = [models.Index(fields=["person_b", "closed_at"])]

    def __str__(self) -> str:
        return f"keep apart {self.person_a_id} / {self.person_b_id} ({self.scope})"

    @property
    def is_open(self) -> bool:
        return self.closed_at is None

    def other(self, person_id: int) -> int:
        return self.person_b_id if person_id == self.person_a_id else self.person_a_id

    def role_of(self, person_id: int) -> str:
        return self.role_a if person_id == self.person_a_id else self.role_b


class KeepApartOverride(ServiceModel):
    """A facility admin allowed a placement that a module- or facility-scope keep-apart
    forbids, with a reason (on the ledger as ``facilities.keep_apart_overridden``)."""

    keep_apart = models.ForeignKey(KeepApart, on_delete=models.PROTECT, related_name="overrides")
    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    cell = models.ForeignKey("facilities.Cell", on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()
    actor = models.CharField(max_length=150)
    reason = models.TextField()

    class Meta:
        db_table = "facilities_keepapartoverride"  # moved from facilities without moving its rows
        ordering = ["-at", "-pk"]


class RollCount(ServiceModel):
    """A counted roll of a facility (HMPPS establishment roll): what officers counted per
    cell at ``counted_at`` against what the registry expected."""

    facility = models.ForeignKey(
        "facilities.Facility", on_delete=models.PROTECT, related_name="roll_counts"
    )
    counted_at = models.DateTimeField()
    recorded_at = models.DateTimeField()
    recorded_by = models.CharField(max_length=150)
    source = models.CharField(max_length=8, choices=RollCountSource.choices)
    expected = models.PositiveIntegerField()
    counted = models.PositiveIntegerField()
    discrepancies = models.PositiveIntegerField()

    class Meta:
        db_table = "facilities_rollcount"  # moved from facilities without moving its rows
        ordering = ["-counted_at", "-pk"]

    def __str__(self) -> str:
        return f"roll count {self.facility_id} at {self.counted_at:%Y-%m-%d %H:%M}"


class RollCountLine(ServiceModel):
    """One cell of a counted roll; ``expected`` comes from open placements at recording."""

    roll_count = models.ForeignKey(RollCount, on_delete=models.PROTECT, related_name="lines")
    cell = models.ForeignKey(
        "facilities.Cell", on_delete=models.PROTECT, related_name="roll_count_lines"
    )
    expected = models.PositiveIntegerField()
    counted = models.PositiveIntegerField()

    class Meta:
        db_table = "facilities_rollcountline"  # moved from facilities without moving its rows
        ordering = ["roll_count", "cell"]
        constraints = [
            models.UniqueConstraint(fields=["roll_count", "cell"], name="roll_count_line_unique")
        ]

    @property
    def difference(self) -> int:
        return self.counted - self.expected
