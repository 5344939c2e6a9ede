"""Admin for facilities, modules, cells, certifications, keep-apart records and roll counts,
read-only: they are declared with ``habeas apply`` or written by the facilities services
(capacity changes are certification events; STANDARDS.md capacity terms)."""

from __future__ import annotations

from django.contrib import admin

from habeas.facilities.models import (
    Cell,
    CellCertification,
    Facility,
    KeepApart,
    KeepApartOverride,
    Module,
    RollCount,
    RollCountLine,
)
from habeas.ledger.admin import ReadOnlyModelAdmin


@admin.register(Facility)
class FacilityAdmin(ReadOnlyModelAdmin):
    list_display = ["code", "name", "jurisdiction", "space_standard", "declared_capacity"]
    list_select_related = ["jurisdiction"]


@admin.register(Module)
class ModuleAdmin(ReadOnlyModelAdmin):
    list_display = ["code", "facility", "population", "regime"]
    list_select_related = ["facility"]
    list_filter = ["facility", "population", "regime"]


@admin.register(Cell)
class CellAdmin(ReadOnlyModelAdmin):
    list_display = [
        "code",
        "facility",
        "module",
        "floor_area_m2",
        "sanitary_area_m2",
        "certified_capacity",
        "working_capacity",
        "max_capacity",
        "active",
    ]
    list_select_related = ["facility", "module", "module__facility"]
    list_filter = ["facility", "active"]
    search_fields = ["code"]


@admin.register(CellCertification)
class CellCertificationAdmin(ReadOnlyModelAdmin):
    list_display = [
        "cell",
        "certified_at",
        "approved_by_name",
        "space_standard",
        "certified_capacity",
        "working_capacity",
        "max_capacity",
    ]
    list_select_related = ["cell"]


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
