"""Admin for outside contact, read-only: visits, calls and letters change only through the
services, each with its ledger entry (the one rule)."""

from __future__ import annotations

from django.contrib import admin

from habeas.contact.models import Contact, ContactRestriction, Visit
from habeas.ledger.admin import ReadOnlyModelAdmin


@admin.register(Visit)
class VisitAdmin(ReadOnlyModelAdmin):
    list_display = ["starts_at", "facility", "person", "kind", "status", "reason"]
    list_filter = ["kind", "status"]


@admin.register(Contact)
class ContactAdmin(ReadOnlyModelAdmin):
    list_display = ["occurred_at", "person", "kind", "counterpart_kind"]
    list_filter = ["kind", "counterpart_kind"]


@admin.register(ContactRestriction)
class ContactRestrictionAdmin(ReadOnlyModelAdmin):
    list_display = ["person", "means", "reason", "starts_at", "ends_at", "lifted_at"]
