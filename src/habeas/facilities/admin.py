"""Admin for facilities, modules, cells and certifications,
read-only: they are declared with ``habeas apply`` or written by the facilities services
(capacity changes are certification events; STANDARDS.md capacity terms)."""

from __future__ import annotations

from django.contrib import admin

from habeas.facilities.models import (
    Cell,
    CellCertification,
    Facility,
    Module,
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
