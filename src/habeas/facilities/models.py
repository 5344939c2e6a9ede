"""Facility → module → cell (HMPPS locations model; STANDARDS.md space and capacity terms).

A cell's *certified* capacity (CNA) is computed from its usable floor area and the facility's
space standard and stored beside the declared *working* capacity (the hard cap at allocation)
and *maximum* capacity (what the cell can physically hold; working ≤ maximum).
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from habeas.accounts.permissions import Scope, scope_of
from habeas.agreements.models import AGREEMENT_SCOPE
from habeas.core.services import ServiceModel, ServiceQuerySet
from habeas.facilities.choices import (
    CellDeactivationReason,
    ModulePopulation,
    ModuleRegime,
    SpaceStandard,
)
from habeas.facilities.standards import space_per_person

if TYPE_CHECKING:
    from habeas.accounts.models import User


@AGREEMENT_SCOPE.register
def _agreements_of_facilities(scope: Scope) -> Q | None:
    """Facility staff and admins see the agreements that cover their facilities."""
    if scope.facility_codes is None:
        return None
    return Q(facilities__code__in=scope.facility_codes)


class FacilityQuerySet(ServiceQuerySet):
    def visible_to(self, user: User | Any) -> FacilityQuerySet:
        """Facility roles see their facilities; liaisons and finance the facilities named by
        their state's agreements; oversight and auditors all."""
        scope = scope_of(user)
        if scope.everything:
            return self
        if scope.facility_codes is not None:
            return self.filter(code__in=scope.facility_codes)
        if scope.state is not None:
            code = scope.state
            return self.filter(
                Q(agreements__sending__code=code) | Q(agreements__receiving__code=code)
            ).distinct()
        return self.none()


class Facility(ServiceModel):
    """A place of detention, with the public contact and visiting information the locator
    shows (Mandela Rules 58, 62, 68)."""

    code = models.CharField(max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=200)
    jurisdiction = models.ForeignKey(
        "agreements.Jurisdiction", on_delete=models.PROTECT, related_name="facilities"
    )
    timezone = models.CharField(max_length=64)
    space_standard = models.CharField(max_length=8, choices=SpaceStandard.choices)
    declared_capacity = models.PositiveIntegerField(
        null=True, blank=True, help_text=_("The capacity the authorities announce, if any.")
    )
    address = models.TextField(blank=True)
    phone = models.CharField(max_length=64, blank=True)
    visiting = models.TextField(blank=True)
    #: The visiting text per language (``{"en": "…", "es": "…"}``) when the setup file gives
    #: one per language; ``visiting`` then holds the default language's (Mandela Rule 58).
    visiting_translations = models.JSONField(default=dict, blank=True)
    #: The weekly visiting slots of the setup file (``[{"day": "saturday", "start": "09:00",
    #: "end": "12:00", "capacity": 40}]``, local time; Mandela Rule 58(1)).
    visiting_slots = models.JSONField(default=list, blank=True)
    #: Rule A5 (Cole v. Collier, 2018 settlement; Mandela Rule 13): the heat index at or above
    #: which a cell is too hot, in °C (default 31.1 °C = 88 °F), and how long it must last to
    #: open a heat alert (and stay below to close it).
    heat_limit_c = models.DecimalField(
        max_digits=4, decimal_places=1, default=Decimal("31.1"), help_text=_("heat index limit, °C")
    )
    heat_sustain_minutes = models.PositiveIntegerField(
        default=30, help_text=_("minutes at or above the limit before a heat alert opens")
    )
    agreements = models.ManyToManyField(
        "agreements.Agreement", related_name="facilities", blank=True
    )

    objects = FacilityQuerySet.as_manager()  # type: ignore[misc]  # narrows the guarded base manager

    class Meta:
        ordering = ["code"]
        verbose_name_plural = "facilities"

    def __str__(self) -> str:
        return self.name


class Module(ServiceModel):
    """A housing unit with one population and one regime (Mandela Rule 11)."""

    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="modules")
    code = models.CharField(max_length=32)
    population = models.CharField(max_length=16, choices=ModulePopulation.choices)
    regime = models.CharField(max_length=16, choices=ModuleRegime.choices)

    class Meta:
        ordering = ["facility", "code"]
        constraints = [
            models.UniqueConstraint(fields=["facility", "code"], name="module_code_unique")
        ]

    def __str__(self) -> str:
        return f"{self.facility.code}/{self.code}"


class Cell(ServiceModel):
    """A cell: dimensions, declared capacities and the certified capacity computed from them."""

    module = models.ForeignKey(Module, on_delete=models.PROTECT, related_name="cells")
    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="cells")
    code = models.CharField(max_length=32)
    floor_area_m2 = models.DecimalField(max_digits=8, decimal_places=2)
    sanitary_area_m2 = models.DecimalField(max_digits=8, decimal_places=2, default=Decimal(0))
    height_m = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    bunks = models.PositiveIntegerField(default=0)
    window = models.BooleanField(default=False)
    max_capacity = models.PositiveIntegerField()
    working_capacity = models.PositiveIntegerField()
    certified_capacity = models.PositiveIntegerField(
        help_text=_("Computed from usable floor area and the facility's space standard.")
    )
    active = models.BooleanField(default=True)
    deactivation_reason = models.CharField(
        _("reason out of use"), max_length=16, choices=CellDeactivationReason.choices, blank=True
    )
    deactivation_note = models.TextField(_("note"), blank=True)
    deactivated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["facility", "code"]
        constraints = [
            models.UniqueConstraint(fields=["facility", "code"], name="cell_code_unique"),
            models.CheckConstraint(
                condition=Q(active=True, deactivation_reason="")
                | Q(active=False) & ~Q(deactivation_reason=""),
                name="cell_inactive_has_reason",
            ),
            models.CheckConstraint(
                condition=Q(working_capacity__lte=F("max_capacity")),
                name="cell_working_le_max",
            ),
            models.CheckConstraint(
                condition=Q(floor_area_m2__gt=0) & Q(sanitary_area_m2__gte=0),
                name="cell_areas_positive",
            ),
            models.CheckConstraint(
                condition=Q(sanitary_area_m2__lte=F("floor_area_m2")),
                name="cell_sanitary_within_floor",
            ),
        ]

    def __str__(self) -> str:
        return self.code

    def space_per_person(self, occupants: int) -> Decimal | None:
        return space_per_person(self.floor_area_m2, self.sanitary_area_m2, occupants)


class CellCertification(ServiceModel):
    """One certification of a cell's capacities, with the approving user (HMPPS: certified
    normal accommodation is certified, and re-certified on every change). The certified
    capacity is always computed from the area and the facility's space standard
    (STANDARDS.md), never typed in."""

    cell = models.ForeignKey(Cell, on_delete=models.PROTECT, related_name="certifications")
    certified_at = models.DateTimeField()
    approved_by = models.ForeignKey(
        "accounts.User",
        on_delete=models.PROTECT,
        related_name="cell_certifications",
        null=True,
        blank=True,
    )
    approved_by_name = models.CharField(max_length=150)
    space_standard = models.CharField(max_length=8, choices=SpaceStandard.choices)
    floor_area_m2 = models.DecimalField(max_digits=8, decimal_places=2)
    sanitary_area_m2 = models.DecimalField(max_digits=8, decimal_places=2)
    certified_capacity = models.PositiveIntegerField()
    working_capacity = models.PositiveIntegerField()
    max_capacity = models.PositiveIntegerField()
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-certified_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(working_capacity__lte=F("max_capacity")),
                name="certification_working_le_max",
            ),
        ]

    def __str__(self) -> str:
        return f"certification of {self.cell_id} at {self.certified_at:%Y-%m-%d}"
