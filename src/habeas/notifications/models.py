"""The notification outbox and the webhook subscriptions (Mandela Rules 68-69; VCCR art. 36)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from habeas.core.services import ServiceModel
from habeas.notifications.choices import Audience, Channel, DeliveryStatus, NoticeEvent


class WebhookSubscription(ServiceModel):
    """A consulate's or a sending state's endpoint: notices about the people it is entitled to
    hear of (its nationals, VCCR art. 36; its transferees) are POSTed to ``url``, signed with
    HMAC-SHA-256 under ``secret``."""

    name = models.CharField(max_length=200)
    audience = models.CharField(max_length=16, choices=Audience.choices)
    country = models.CharField(max_length=2, help_text="the consulate's or sending state's code")
    url = models.URLField(max_length=500)
    secret = models.CharField(max_length=128)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["country", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(audience=Audience.FAMILY), name="subscription_not_family"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.audience} {self.country})"


class Delivery(ServiceModel):
    """One notice to one recipient over one channel. ``key`` is its idempotency key: the same
    notice is never queued twice, and a receiver recognises a repeated POST by it.
    ``status``: queued → sent, or failed (retried with exponential backoff) → dead after the
    last try; ``claimed_by`` is the worker delivering it now (no two workers send one)."""

    key = models.CharField(max_length=200, unique=True)
    event = models.CharField(max_length=32, choices=NoticeEvent.choices)
    audience = models.CharField(max_length=16, choices=Audience.choices)
    channel = models.CharField(max_length=8, choices=Channel.choices)
    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    episode = models.ForeignKey(
        "custody.CustodyEpisode", on_delete=models.PROTECT, related_name="deliveries"
    )
    subscription = models.ForeignKey(
        WebhookSubscription, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    address = models.CharField(max_length=500)
    language = models.CharField(max_length=8)
    subject = models.CharField(max_length=300)
    body = models.TextField()
    status = models.CharField(
        max_length=8, choices=DeliveryStatus.choices, default=DeliveryStatus.QUEUED
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    last_error = models.CharField(max_length=500, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    queued_at = models.DateTimeField()
    claimed_by = models.CharField(max_length=64, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["queued_at", "pk"]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status=DeliveryStatus.SENT) | Q(sent_at__isnull=False),
                name="delivery_sent_has_time",
            ),
            models.CheckConstraint(
                condition=~Q(channel=Channel.WEBHOOK) | Q(subscription__isnull=False),
                name="webhook_delivery_has_subscription",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event} to {self.audience} by {self.channel} ({self.status})"


class FamilyObjection(ServiceModel):
    """The person does not want their family informed (Mandela Rule 68 is their right, not an
    obligation): family notices are not sent."""

    person = models.OneToOneField(
        "people.Person", on_delete=models.PROTECT, related_name="family_objection"
    )
    reason = models.TextField(blank=True)
    recorded_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"family-notice objection of person {self.person_id}"
