"""Custody: the legal basis for holding someone, the custody episode,
temporary absences (court, hospital...).

Database constraints on SQLite and PostgreSQL (HOUSE-STYLE): intervals ordered, at most one
open episode per person, at most one open absence per episode (placements: ``habeas.housing``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from habeas.accounts.permissions import Scope, scope_of
from habeas.core.services import ServiceModel, ServiceQuerySet
from habeas.custody.choices import (
    AbsenceEnd,
    AbsenceKind,
    AlarmStatus,
    BasisStatus,
    Consent,
    CreditChange,
    LegalBasisKind,
    ReleaseReason,
    StatusInSendingState,
)
from habeas.people.models import PERSON_SCOPE

if TYPE_CHECKING:
    from habeas.accounts.models import User


@PERSON_SCOPE.register
def _people_held_in_scope(scope: Scope) -> Q | None:
    """Which people a scoped user sees (ARCHITECTURE.md, users): facility staff the people
    ever held in their facilities; a liaison those their state sent; finance those held under
    agreements their state is party to."""
    if scope.facility_codes is not None:
        return Q(episodes__facility__code__in=scope.facility_codes)
    if scope.state is not None and scope.people_sent_only:
        return Q(episodes__agreement__sending__code=scope.state)
    if scope.state is not None:
        return Q(episodes__agreement__sending__code=scope.state) | Q(
            episodes__agreement__receiving__code=scope.state
        )
    return None


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
    #: The full term less prior custody credit (18 U.S.C. § 3585(b)); empty for life and for
    #: removal orders (INTERFACES.md ``show --json`` ``legal_bases[].ends_on``).
    ends_on = models.DateField(null=True, blank=True)
    status = models.CharField(
        max_length=16, choices=BasisStatus.choices, default=BasisStatus.ACTIVE
    )
    #: The first day the order no longer held the person (vacated or superseded).
    ended_on = models.DateField(null=True, blank=True)
    #: The order this one replaced: a court's new sentence, a treaty conversion.
    supersedes = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    #: Good conduct time forfeited and not restored, in days (18 U.S.C. § 3624(b)).
    credit_forfeited_days = models.PositiveIntegerField(default=0)
    #: When a court order protecting the person from removal to this state was recorded.
    protection_on = models.DateField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "legal bases"
        constraints = [
            models.CheckConstraint(
                condition=Q(status=BasisStatus.ACTIVE, ended_on__isnull=True)
                | (~Q(status=BasisStatus.ACTIVE) & Q(ended_on__isnull=False)),
                name="basis_end_has_status",
            )
        ]

    def live_on(self, day: Any) -> bool:
        """Whether this order held the person on ``day`` (not vacated or superseded by then,
        and its term not yet over)."""
        if self.ended_on is not None and day >= self.ended_on:
            return False
        return not (self.ends_on is not None and day > self.ends_on)

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.ref}"


class EpisodeQuerySet(ServiceQuerySet):
    def open(self) -> EpisodeQuerySet:
        return self.filter(released_at__isnull=True)

    def locked_open_for(self, person: Any) -> CustodyEpisode | None:
        """The person's open episode with its row locked until the transaction ends: every
        change to that person's custody (move, release, absence) queues on this lock."""
        return (
            self.open().select_for_update().filter(person=person).select_related("facility").first()
        )

    def visible_to(self, user: User | Any) -> EpisodeQuerySet:
        """Same scope as people: facility roles their facilities, liaison and finance their
        state's agreements, oversight and auditors all."""
        scope = scope_of(user)
        if scope.everything:
            return self
        if scope.facility_codes is not None:
            return self.filter(facility__code__in=scope.facility_codes)
        if scope.state is not None and scope.people_sent_only:
            return self.filter(agreement__sending__code=scope.state)
        if scope.state is not None:
            code = scope.state
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
        indexes = [
            models.Index(fields=["facility", "released_at"]),
            # the daily population series counts admissions per facility and day from this
            # index alone (oversight.selectors.population_series)
            models.Index(fields=["facility", "admitted_at"], name="episode_facility_admitted"),
        ]

    def __str__(self) -> str:
        return f"episode {self.pk} of person {self.person_id}"

    @property
    def is_open(self) -> bool:
        return self.released_at is None


class TemporaryAbsence(ServiceModel):
    """A period when someone held is outside the facility without leaving custody: at court,
    in hospital, at a medical appointment, at a funeral or a relative's bedside (Mandela Rule
    70: compassionate leave, under escort or alone), or elsewhere.

    Mandela Rule 7(c) and Rule 8(a) (court process): the day and hour of every movement out
    and back, where to, on whose authority and with which escort; Rule 9: part of the
    confidential file (housing roles and oversight only). The person keeps their placement
    (their bed: working capacity still counts them); the HMPPS establishment roll counts them
    "out" (court, hospital, other) rather than "in cell", and a counted roll does not expect
    them in their cell. ``ended_at`` is empty while the person is out; ``ended_how`` says
    whether they came back or custody ended while they were out (see
    ``custody.absences``). ``recorded_by`` and ``ended_by`` are the actors on the ledger.
    """

    episode = models.ForeignKey(CustodyEpisode, on_delete=models.PROTECT, related_name="absences")
    kind = models.CharField(max_length=32, choices=AbsenceKind.choices)
    kind_other = models.CharField(
        _("other kind"),
        max_length=200,
        blank=True,
        help_text=_("What the absence is, for 'other'."),
    )
    destination = models.CharField(_("destination"), max_length=200)
    authority = models.CharField(
        _("authority"),
        max_length=200,
        help_text=_("Who ordered or authorised the absence (court order, medical referral...)."),
    )
    reason = models.TextField(_("reason"), blank=True)
    escort = models.CharField(
        _("escort"), max_length=200, blank=True, help_text=_("Empty: not escorted.")
    )
    started_at = models.DateTimeField()
    expected_return_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_how = models.CharField(max_length=16, choices=AbsenceEnd.choices, blank=True)
    recorded_by = models.CharField(max_length=150)
    ended_by = models.CharField(max_length=150, blank=True)

    class Meta:
        ordering = ["-started_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True) | Q(ended_at__gte=F("started_at")),
                name="absence_interval_ordered",
            ),
            models.CheckConstraint(
                condition=Q(expected_return_at__isnull=True)
                | Q(expected_return_at__gte=F("started_at")),
                name="absence_expected_return_after_start",
            ),
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True, ended_how="", ended_by="")
                | (Q(ended_at__isnull=False) & ~Q(ended_how="")),
                name="absence_end_has_how",
            ),
            models.CheckConstraint(
                condition=~Q(kind=AbsenceKind.OTHER) | ~Q(kind_other=""),
                name="absence_other_kind_described",
            ),
            models.UniqueConstraint(
                fields=["episode"],
                condition=Q(ended_at__isnull=True),
                name="one_open_absence_per_episode",
            ),
        ]
        indexes = [models.Index(fields=["episode", "ended_at"])]

    def __str__(self) -> str:
        return f"absence {self.pk} ({self.kind}) of episode {self.episode_id}"

    @property
    def is_open(self) -> bool:
        return self.ended_at is None

    @property
    def kind_label(self) -> str:
        """The kind as shown to people: the described kind for 'other'."""
        if self.kind == AbsenceKind.OTHER and self.kind_other:
            return self.kind_other
        return str(self.get_kind_display())


class CreditAdjustment(ServiceModel):
    """Good conduct time forfeited by a disciplinary finding, or restored (18 U.S.C.
    § 3624(b); Mandela Rule 8(c), (e): behaviour, discipline and sanctions on the file)."""

    basis = models.ForeignKey(LegalBasis, on_delete=models.PROTECT, related_name="credit_changes")
    change = models.CharField(max_length=16, choices=CreditChange.choices)
    days = models.PositiveIntegerField()
    on = models.DateField()
    reason = models.TextField()
    recorded_by = models.CharField(max_length=150)

    class Meta:
        ordering = ["on", "pk"]
        constraints = [models.CheckConstraint(condition=Q(days__gt=0), name="credit_days_positive")]

    def __str__(self) -> str:
        return f"{self.change} {self.days} days on basis {self.basis_id}"


class ReleaseCalculation(ServiceModel):
    """One calculation of an episode's release date, stored with its inputs, its rule-set
    version and its working (HMPPS calculate-release-dates; STANDARDS.md, Sentences). A new
    one is made whenever an input changes; the latest is the current one."""

    episode = models.ForeignKey(
        CustodyEpisode, on_delete=models.PROTECT, related_name="calculations"
    )
    rule_set = models.CharField(max_length=16)
    version = models.CharField(max_length=32)
    inputs = models.JSONField()
    inputs_sha = models.CharField(max_length=64)
    release_date = models.DateField(null=True, blank=True)
    full_term = models.DateField(null=True, blank=True)
    working = models.JSONField(default=list)
    calculated_at = models.DateTimeField()

    class Meta:
        ordering = ["-pk"]
        indexes = [models.Index(fields=["episode", "-id"])]

    def __str__(self) -> str:
        return f"calculation {self.pk} of episode {self.episode_id}"


class CustodyAlarm(ServiceModel):
    """An alarm of kind ``legal_basis`` (extending alert A4, Mandela Rule 7(b)), opened and
    closed by ``check-custody`` (``habeas.custody.check``) with its rule id and citation."""

    episode = models.ForeignKey(CustodyEpisode, on_delete=models.PROTECT, related_name="alarms")
    rule = models.CharField(max_length=8)
    citation = models.CharField(max_length=200)
    value = models.CharField(max_length=64, blank=True)
    since = models.DateField()
    status = models.CharField(max_length=8, choices=AlarmStatus.choices, default=AlarmStatus.OPEN)
    opened_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["since", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["episode", "rule"],
                condition=Q(status=AlarmStatus.OPEN),
                name="one_open_alarm_per_rule",
            ),
            models.CheckConstraint(
                condition=Q(status=AlarmStatus.OPEN, closed_at__isnull=True)
                | Q(status=AlarmStatus.CLOSED, closed_at__isnull=False),
                name="alarm_closed_has_time",
            ),
        ]
        indexes = [models.Index(fields=["status", "rule"])]

    def __str__(self) -> str:
        return f"alarm {self.rule} on episode {self.episode_id}"


class StandingCondition(models.Model):
    """An alarm condition (A4.1-A4.6, :mod:`habeas.custody.check`) that holds for an open
    episode on the day named by :class:`StandingDay`: the live view of the alerts, kept as
    events happen instead of evaluated over the whole registry on every request. Derived:
    :mod:`habeas.custody.standing` re-evaluates the episodes each event touches in its
    transaction, and ``check-custody`` re-evaluates every episode daily (the clock alone
    moves conditions only when a day begins)."""

    episode_id = models.BigIntegerField()
    facility_id = models.BigIntegerField()
    rule = models.CharField(max_length=8)
    since = models.DateField()
    value = models.CharField(max_length=64, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["episode_id", "rule"], name="standing_episode_rule"),
        ]
        indexes = [models.Index(fields=["facility_id", "rule"], name="standing_facility")]

    def __str__(self) -> str:
        return f"{self.rule} on episode {self.episode_id}"


class StandingDay(models.Model):
    """The single row naming what :class:`StandingCondition` was evaluated for: each
    facility's own date, the removal period and the notice period. When it no longer names
    the present, the conditions are evaluated live until ``check-custody`` runs again."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    key = models.CharField(max_length=2000)

    def __str__(self) -> str:
        return self.key
