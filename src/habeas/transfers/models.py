"""Transfer manifests, their entries and every rule's outcome; the admission record of
Mandela Rule 7 and the notification outbox (VCCR art. 36, Mandela Rules 62 and 68).

Database constraints hold on SQLite and PostgreSQL (HOUSE-STYLE): a manifest reference is
unique, the same content is stored once per agreement, a ``sending_ref`` once per manifest.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from habeas.accounts.permissions import scope_of
from habeas.core.services import ServiceModel, ServiceQuerySet
from habeas.transfers.choices import (
    Decision,
    EntryStatus,
    IdentityVerdict,
    NotificationKind,
    Outcome,
)

if TYPE_CHECKING:
    from habeas.accounts.models import User


class ManifestQuerySet(ServiceQuerySet):
    def visible_to(self, user: User | Any) -> ManifestQuerySet:
        """Facility roles see manifests of agreements covering their facilities; liaisons and
        finance those of their state's agreements; oversight and auditors all."""
        scope = scope_of(user)
        if scope.everything:
            return self
        if scope.facility_codes is not None:
            return self.filter(agreement__facilities__code__in=scope.facility_codes).distinct()
        if scope.state is not None:
            code = scope.state
            return self.filter(
                Q(agreement__sending__code=code) | Q(agreement__receiving__code=code)
            )
        return self.none()


class Manifest(ServiceModel):
    """A list of people a sending state asks the receiving state to hold (MANIFEST.md)."""

    ref = models.CharField(_("reference"), max_length=64, unique=True)
    agreement = models.ForeignKey(
        "agreements.Agreement", on_delete=models.PROTECT, related_name="manifests"
    )
    content_sha256 = models.CharField(max_length=64)
    filename = models.CharField(max_length=255, blank=True)
    file_format = models.CharField(max_length=8)
    rows = models.PositiveIntegerField()
    decided_on = models.DateField(_("decided on"))
    imported_at = models.DateTimeField()
    imported_by = models.CharField(max_length=150)
    eligible = models.PositiveIntegerField(default=0)
    needs_review = models.PositiveIntegerField(default=0)
    ineligible = models.PositiveIntegerField(default=0)

    objects = ManifestQuerySet.as_manager()  # type: ignore[misc]  # narrows the guarded base manager

    class Meta:
        ordering = ["-imported_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "content_sha256"], name="manifest_content_once"
            )
        ]

    def __str__(self) -> str:
        return self.ref


class ManifestEntry(ServiceModel):
    """One person of a manifest: the row as given, the identity match and the decision
    (``decided_on`` is the date every rule was evaluated on)."""

    # No index of its own: the unique (manifest, sending_ref), (manifest, row) and the
    # (manifest, decision) indexes all start with it (one index less to write per entry).
    manifest = models.ForeignKey(
        Manifest, on_delete=models.PROTECT, related_name="entries", db_index=False
    )
    row = models.PositiveIntegerField()
    sending_ref = models.CharField(max_length=64)
    data = models.JSONField(default=dict)
    given_names = models.CharField(max_length=200, blank=True)
    first_surname = models.CharField(max_length=200, blank=True)
    second_surname = models.CharField(max_length=200, blank=True)
    decision = models.CharField(max_length=16, choices=Decision.choices)
    decided_on = models.DateField()
    status = models.CharField(max_length=16, choices=EntryStatus.choices, default="decided")
    person = models.ForeignKey(
        "people.Person",
        on_delete=models.PROTECT,
        related_name="manifest_entries",
        null=True,
        blank=True,
    )
    matched_existing = models.BooleanField(default=False)
    match_score = models.FloatField(null=True, blank=True)
    candidates = models.JSONField(default=list, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.CharField(max_length=150, blank=True)
    reviewed = models.BooleanField(
        default=False, help_text=_("Accepted after a person reviewed a needs-review decision.")
    )
    episode = models.OneToOneField(
        "custody.CustodyEpisode",
        on_delete=models.PROTECT,
        related_name="manifest_entry",
        null=True,
        blank=True,
    )

    class Meta:
        ordering = ["manifest", "row"]
        constraints = [
            models.UniqueConstraint(fields=["manifest", "sending_ref"], name="entry_ref_once"),
            models.UniqueConstraint(fields=["manifest", "row"], name="entry_row_once"),
            models.CheckConstraint(
                condition=~Q(status="accepted") | ~Q(decision="ineligible"),
                name="entry_ineligible_never_accepted",
            ),
        ]
        indexes = [models.Index(fields=["manifest", "decision"])]

    def __str__(self) -> str:
        return f"{self.manifest.ref}#{self.row} {self.sending_ref}"

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.given_names, self.first_surname, self.second_surname) if p)


class IdentityDecision(ServiceModel):
    """A person's judgement of whether a manifest entry is a registry person the matcher
    offered as a candidate (Mandela Rule 7(a): one identity per person; Rule 7 records are
    kept on the person they concern). ``same``: the entry is linked to that person and
    admitted as them; ``different``: the candidate is dismissed for this entry and not
    offered again. One current judgement per entry and person; a change of mind replaces it,
    and the ledger keeps both (``transfers.identity_decided``)."""

    entry = models.ForeignKey(
        ManifestEntry, on_delete=models.PROTECT, related_name="identity_decisions", db_index=False
    )
    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    verdict = models.CharField(max_length=16, choices=IdentityVerdict.choices)
    reason = models.TextField()
    decided_at = models.DateTimeField()
    decided_by = models.CharField(max_length=150)

    class Meta:
        ordering = ["entry", "decided_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["entry", "person"], name="identity_decision_once")
        ]

    def __str__(self) -> str:
        return f"{self.entry_id} / {self.person_id}: {self.verdict}"


class RuleOutcome(ServiceModel):
    """One rule's outcome for one entry, with its citation and its message in English and
    Spanish (ISSUE 3: every decision keeps every rule's outcome)."""

    # No index of its own: the unique (entry, position) index starts with it (thirteen-odd
    # outcomes are written per entry; each index is one more B-tree insert).
    entry = models.ForeignKey(
        ManifestEntry, on_delete=models.PROTECT, related_name="outcomes", db_index=False
    )
    position = models.PositiveSmallIntegerField()
    rule = models.CharField(max_length=48)
    outcome = models.CharField(max_length=8, choices=Outcome.choices)
    message = models.TextField()
    message_es = models.TextField(blank=True)
    source = models.CharField(max_length=200)

    class Meta:
        ordering = ["entry", "position"]
        constraints = [
            models.UniqueConstraint(fields=["entry", "position"], name="outcome_position_once")
        ]

    def __str__(self) -> str:
        return f"{self.rule}: {self.outcome}"


class AdmissionRecord(ServiceModel):
    """The admission record of Mandela Rule 7 (a)-(g), completed after arrival, with the
    language the rights information was given in (Mandela Rules 54-55)."""

    episode = models.OneToOneField(
        "custody.CustodyEpisode", on_delete=models.PROTECT, related_name="admission_record"
    )
    # (a) identity, respecting self-perceived gender
    gender_identity = models.CharField(_("self-perceived gender"), max_length=64, blank=True)
    # (b) reasons for commitment, responsible authority, arrest
    commitment_reason = models.TextField(_("reason for commitment"), blank=True)
    commitment_authority = models.CharField(_("responsible authority"), max_length=200, blank=True)
    arrest_at = models.DateTimeField(_("date and time of arrest"), null=True, blank=True)
    arrest_place = models.CharField(_("place of arrest"), max_length=200, blank=True)
    # (c) day and hour of admission: the custody episode's admitted_at
    # (d) visible injuries and complaints of prior ill-treatment
    visible_injuries = models.TextField(_("visible injuries"), blank=True)
    ill_treatment_complaint = models.TextField(_("complaints of prior ill-treatment"), blank=True)
    # (e) inventory of personal property
    property_items = models.JSONField(_("personal property"), default=list, blank=True)
    # (f) family members, including children
    family = models.JSONField(_("family members and children"), default=list, blank=True)
    # (g) emergency contact and next of kin
    contact_name = models.CharField(max_length=200, blank=True)
    contact_relation = models.CharField(max_length=100, blank=True)
    contact_phone = models.CharField(max_length=64, blank=True)
    contact_email = models.CharField(max_length=254, blank=True)
    # Rules 54-55
    rights_language = models.CharField(_("language of the rights information"), max_length=8)
    rights_informed_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"admission record of episode {self.episode_id}"

    @property
    def missing(self) -> list[str]:
        """Rule 7 items still empty (the form shows them)."""
        gaps = []
        if not self.commitment_reason:
            gaps.append("b")
        if self.completed_at is None:
            gaps.append("d")
        if not self.contact_name and not self.contact_phone:
            gaps.append("g")
        return gaps


class Notification(ServiceModel):
    """The record, made at admission, that a notice was due: consular notification for foreign
    nationals (VCCR art. 36(1)(b); Mandela Rule 62) and family notification for everyone
    (Mandela Rule 68), with the relative's contact as the manifest gave it (empty: none
    known). It holds no delivery status: sending is the notifications app's (a listener on
    ``transfers.notification_queued`` queues the admission's ``notifications.Delivery`` rows
    in the same transaction), and the person page shows their real status — sent, failed,
    dead — or why nothing could be sent (no e-mail address, no consulate's subscription)."""

    episode = models.ForeignKey(
        "custody.CustodyEpisode", on_delete=models.PROTECT, related_name="notifications"
    )
    kind = models.CharField(max_length=16, choices=NotificationKind.choices)
    country = models.CharField(max_length=2, blank=True)
    recipient = models.CharField(max_length=300, blank=True)
    language = models.CharField(max_length=8, blank=True)
    queued_at = models.DateTimeField()
    payload = models.JSONField(default=dict)

    class Meta:
        ordering = ["queued_at", "pk"]

    def __str__(self) -> str:
        return f"{self.kind} notification for episode {self.episode_id}"
