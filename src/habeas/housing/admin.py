"""Read-only admin for housing: placements, keep-apart records and roll counts change only
through ``housing.services`` (Mandela Rule 7(c); every change a ledger event)."""

from __future__ import annotations

from django.contrib import admin

from habeas.housing.models import KeepApart, KeepApartOverride, Placement, RollCount, RollCountLine
from habeas.ledger.admin import ReadOnlyModelAdmin


@admin.register(Placement)
class PlacementAdmin(ReadOnlyModelAdmin):
    list_display = ["id", "episode", "cell", "started_at", "ended_at", "reason"]
    list_select_related = ["episode", "cell"]
    raw_id_fields = ["episode", "cell"]


@admin.register(KeepApart)
class KeepApartAdmin(ReadOnlyModelAdmin):
    list_display = ["person_a", "person_b", "scope", "source", "opened_at", "closed_at"]
    list_select_related = ["person_a", "person_b"]
    list_filter = ["scope", "source"]


@admin.register(KeepApartOverride)
class KeepApartOverrideAdmin(ReadOnlyModelAdmin):
    list_display = ["keep_apart", "person", "cell", "at", "actor"]
    list_select_related = ["keep_apart", "person", "cell"]


@admin.register(RollCount)
class RollCountAdmin(ReadOnlyModelAdmin):
    list_display = ["facility", "counted_at", "source", "expected", "counted", "discrepancies"]
    list_select_related = ["facility"]


@admin.register(RollCountLine)
class RollCountLineAdmin(ReadOnlyModelAdmin):
    list_display = ["roll_count", "cell", "expected", "counted"]
    list_select_related = ["roll_count", "cell"]
