"""Admin for custody data, read-only: admissions, moves and releases only go through
``custody.services`` (Mandela Rule 7(c); every change a ledger event)."""

from __future__ import annotations

from django.contrib import admin

from habeas.custody.models import (
    CreditAdjustment,
    CustodyAlarm,
    CustodyEpisode,
    LegalBasis,
    ReleaseCalculation,
    StandingCondition,
    StandingDay,
    TemporaryAbsence,
)
from habeas.ledger.admin import ReadOnlyModelAdmin


@admin.register(LegalBasis)
class LegalBasisAdmin(ReadOnlyModelAdmin):
    list_display = ["id", "person", "kind", "authority", "ref", "sentence", "sentence_start"]
    list_select_related = ["person"]
    list_filter = ["kind"]
    search_fields = ["=ref"]
    raw_id_fields = ["person"]


@admin.register(CustodyEpisode)
class CustodyEpisodeAdmin(ReadOnlyModelAdmin):
    list_display = [
        "id",
        "person",
        "facility",
        "agreement",
        "admitted_at",
        "released_at",
        "release_reason",
    ]
    list_select_related = ["person", "facility", "agreement"]
    list_filter = ["facility", "agreement", "release_reason"]
    raw_id_fields = ["person"]
    date_hierarchy = "admitted_at"


@admin.register(TemporaryAbsence)
class TemporaryAbsenceAdmin(ReadOnlyModelAdmin):
    """Read-only: departures and returns only go through ``custody.absences``."""

    list_display = ["id", "episode", "kind", "destination", "started_at", "ended_at", "ended_how"]
    list_select_related = ["episode"]
    list_filter = ["kind", "ended_how"]
    raw_id_fields = ["episode"]
    date_hierarchy = "started_at"


@admin.register(CreditAdjustment)
class CreditAdjustmentAdmin(ReadOnlyModelAdmin):
    """Read-only: forfeited and restored credit only go through ``custody.amendments``."""

    list_display = ["id", "basis", "change", "days", "on", "recorded_by"]
    raw_id_fields = ["basis"]


@admin.register(ReleaseCalculation)
class ReleaseCalculationAdmin(ReadOnlyModelAdmin):
    """Read-only: calculations are made by ``custody.calculations``."""

    list_display = ["id", "episode", "version", "release_date", "full_term", "calculated_at"]
    raw_id_fields = ["episode"]


@admin.register(CustodyAlarm)
class CustodyAlarmAdmin(ReadOnlyModelAdmin):
    """Read-only: alarms are opened and closed by ``check-custody``."""

    list_display = ["id", "episode", "rule", "since", "status", "opened_at", "closed_at"]
    list_filter = ["rule", "status"]
    raw_id_fields = ["episode"]


@admin.register(StandingCondition)
class StandingConditionAdmin(ReadOnlyModelAdmin):
    """The alarm conditions kept as events happen (derived: rebuilt by ``check-custody``)."""

    list_display = ["episode_id", "facility_id", "rule", "since", "value"]
    list_filter = ["rule"]


@admin.register(StandingDay)
class StandingDayAdmin(ReadOnlyModelAdmin):
    """The day the kept conditions were evaluated for."""

    list_display = ["id", "key"]
