"""``/api/v1/facilities/``: facilities the user may see, with their occupancy (Mandela Rule 10:
reliable data on occupancy rates; STANDARDS.md: rate = population × 100 / capacity).

Rates are percentages as decimal strings (one decimal), null where a capacity is zero. The
same figures as ``habeas stats --json`` (both come from ``facilities.selectors``).
"""

from django.http import HttpRequest
from ninja import Router, Schema

from habeas.accounts.auth import api_user
from habeas.core.api import DecimalStr, decimal_str, errors
from habeas.facilities.selectors import (
    FacilityOccupancy,
    ModuleOccupancy,
    facility_get_for,
    occupancy_for,
    occupancy_list,
)

router = Router(tags=["facilities"])


class ModuleOut(Schema):
    code: str
    population_kind: str  # adult_male | adult_female | youth_male | youth_female
    regime: str  # criminal | civil (Mandela Rule 11)
    population: int
    certified_capacity: int
    working_capacity: int
    occupancy_rate_certified: DecimalStr | None
    occupancy_rate_working: DecimalStr | None
    cells_over_certified: int


class FacilityOut(Schema):
    """A facility, its public contact details (Mandela Rules 58, 68) and its occupancy."""

    code: str
    name: str
    jurisdiction: str
    timezone: str
    space_standard: str
    declared_capacity: int | None
    address: str
    phone: str
    visiting: str
    population: int
    certified_capacity: int
    working_capacity: int
    occupancy_rate_certified: DecimalStr | None
    occupancy_rate_working: DecimalStr | None
    cells_over_certified: int
    modules: list[ModuleOut]


def module_document(module: ModuleOccupancy) -> ModuleOut:
    return ModuleOut(
        code=module.code,
        population_kind=module.population_kind,
        regime=module.regime,
        population=module.population,
        certified_capacity=module.certified_capacity,
        working_capacity=module.working_capacity,
        occupancy_rate_certified=decimal_str(module.rate_certified),
        occupancy_rate_working=decimal_str(module.rate_working),
        cells_over_certified=module.cells_over_certified,
    )


def facility_document(occupancy: FacilityOccupancy) -> FacilityOut:
    facility = occupancy.facility
    return FacilityOut(
        code=facility.code,
        name=facility.name,
        jurisdiction=facility.jurisdiction.code,
        timezone=facility.timezone,
        space_standard=facility.space_standard,
        declared_capacity=facility.declared_capacity,
        address=facility.address,
        phone=facility.phone,
        visiting=facility.visiting,
        population=occupancy.population,
        certified_capacity=occupancy.certified_capacity,
        working_capacity=occupancy.working_capacity,
        occupancy_rate_certified=decimal_str(occupancy.rate_certified),
        occupancy_rate_working=decimal_str(occupancy.rate_working),
        cells_over_certified=occupancy.cells_over_certified,
        modules=[module_document(m) for m in occupancy.modules],
    )


@router.get(
    "/facilities/",
    response={200: list[FacilityOut], **errors()},
    summary="List facilities with occupancy",
    operation_id="facilities_list",
)
def facilities_list(request: HttpRequest) -> list[FacilityOut]:
    """Facilities in the user's scope (``Facility.objects.visible_to``), by code."""
    return [facility_document(o) for o in occupancy_list(user=api_user(request))]


@router.get(
    "/facilities/{code}/",
    response={200: FacilityOut, **errors()},
    summary="A facility with occupancy",
    operation_id="facilities_get",
)
def facilities_get(request: HttpRequest, code: str) -> FacilityOut:
    """404 when the facility is missing or outside the user's scope."""
    facility = facility_get_for(user=api_user(request), code=code)
    return facility_document(occupancy_for([facility])[0])
