"""Admin for jurisdictions and agreements, read-only: they are declared with
``habeas apply`` (amendments are ledger events)."""

from __future__ import annotations

from django.contrib import admin

from habeas.agreements.models import Agreement, FeeChange, Jurisdiction
from habeas.ledger.admin import ReadOnlyModelAdmin


@admin.register(Jurisdiction)
class JurisdictionAdmin(ReadOnlyModelAdmin):
    list_display = ["code", "name"]
    search_fields = ["code", "name"]


@admin.register(Agreement)
class AgreementAdmin(ReadOnlyModelAdmin):
    list_display = [
        "code",
        "sending",
        "receiving",
        "policy",
        "max_persons",
        "starts",
        "ends",
        "currency",
        "per_person_day",
    ]
    list_select_related = ["sending", "receiving"]
    list_filter = ["policy"]


@admin.register(FeeChange)
class FeeChangeAdmin(ReadOnlyModelAdmin):
    list_display = ["agreement", "effective_from", "per_person_day", "monthly_fee"]
    list_select_related = ["agreement"]
