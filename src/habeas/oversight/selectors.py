"""Population statistics (Mandela Rule 10: reliable data on the prison population, including
occupancy rates; STANDARDS.md: occupancy rate = population × 100 / certified capacity)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from habeas.core.canonical import plain
from habeas.custody.models import CustodyEpisode
from habeas.facilities.models import Facility
from habeas.facilities.selectors import FacilityOccupancy, occupancy_for


def _facility_doc(f: FacilityOccupancy) -> dict[str, Any]:
    return {
        "code": f.code,
        "name": f.facility.name,
        "population": f.population,
        "certified_capacity": f.certified_capacity,
        "working_capacity": f.working_capacity,
        "declared_capacity": f.facility.declared_capacity,
        "occupancy_rate_certified": f.rate_certified,
        "occupancy_rate_working": f.rate_working,
        "people_above_certified": f.people_above_certified,
        "cells_over_certified": f.cells_over_certified,
        "modules": [
            {
                "code": m.code,
                "population_kind": m.population_kind,
                "regime": m.regime,
                "population": m.population,
                "certified_capacity": m.certified_capacity,
                "working_capacity": m.working_capacity,
                "occupancy_rate_certified": m.rate_certified,
                "occupancy_rate_working": m.rate_working,
                "cells_over_certified": m.cells_over_certified,
            }
            for m in f.modules
        ],
    }


def stats_document(facilities: list[Facility] | None = None) -> dict[str, Any]:
    """The ``stats --json`` document (INTERFACES.md). Rates are percentages as decimal strings."""
    if facilities is None:
        facilities = list(Facility.objects.order_by("code"))
    occupancy = occupancy_for(facilities)
    episodes = CustodyEpisode.objects.open().filter(facility__in=facilities)
    by_nationality: Counter[str] = Counter()
    by_sex: Counter[str] = Counter()
    for nationalities, sex in episodes.values_list("person__nationalities", "person__sex"):
        by_sex[sex] += 1
        for code in nationalities or ["unknown"]:
            by_nationality[code] += 1
    kinds_per_episode: dict[int, set[str]] = {}
    for episode_id, kind in episodes.values_list("pk", "legal_bases__kind"):
        kinds_per_episode.setdefault(episode_id, set())
        if kind:
            kinds_per_episode[episode_id].add(kind)
    by_basis: Counter[str] = Counter()
    for kinds in kinds_per_episode.values():
        by_basis["+".join(sorted(kinds)) or "none"] += 1
    by_agreement: Counter[str] = Counter(
        code or "domestic" for code in episodes.values_list("agreement__code", flat=True)
    )
    return plain(
        {
            "facilities": [_facility_doc(f) for f in occupancy],
            "population": sum(f.population for f in occupancy),
            "by_nationality": dict(sorted(by_nationality.items())),
            "by_sex": dict(sorted(by_sex.items())),
            "by_legal_basis": dict(sorted(by_basis.items())),
            "by_agreement": dict(sorted(by_agreement.items())),
            "open_alerts": 0,
        }
    )
