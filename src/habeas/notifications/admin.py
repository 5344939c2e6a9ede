"""Admin for notifications, read-only: notices are queued and delivered by the services."""

from __future__ import annotations

from django.contrib import admin

from habeas.ledger.admin import ReadOnlyModelAdmin
from habeas.notifications.models import Delivery, FamilyObjection, WebhookSubscription


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(ReadOnlyModelAdmin):
    list_display = ["id", "name", "audience", "country", "url", "active"]
    exclude = ["secret"]


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyModelAdmin):
    list_display = ["id", "event", "audience", "channel", "status", "attempts", "queued_at"]
    list_filter = ["event", "audience", "channel", "status"]
    raw_id_fields = ["person", "episode", "subscription"]


@admin.register(FamilyObjection)
class FamilyObjectionAdmin(ReadOnlyModelAdmin):
    list_display = ["id", "person", "recorded_at"]
    raw_id_fields = ["person"]
