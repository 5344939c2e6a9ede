"""Certified normal accommodation (CNA) from floor area (STANDARDS.md, space per person).

With A = floor area minus the sanitary annex: n = ⌊A / shared-cell figure⌋ when n ≥ 2;
otherwise 1 when A ≥ the single-cell figure; otherwise 0 (the cell is unfit under that
standard). CPT/Inf(2015)44: 4 m² shared, 6 m² single. ICRC (2012): 3.4 m² shared, 5.4 m²
single. ECtHR Muršić v. Croatia [GC] 2016 §138: below 3 m² per person a strong presumption of
a violation (used here as both figures).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal


@dataclass(frozen=True)
class Standard:
    code: str
    shared_m2: Decimal
    single_m2: Decimal
    source: str


STANDARDS: dict[str, Standard] = {
    "icrc": Standard("icrc", Decimal("3.4"), Decimal("5.4"), "ICRC 2012 supplementary guidance"),
    "cpt": Standard("cpt", Decimal("4"), Decimal("6"), "CPT/Inf(2015)44"),
    "ecthr": Standard("ecthr", Decimal("3"), Decimal("3"), "ECtHR, Muršić v. Croatia [GC] §138"),
}

#: Below this many m² per person the ECtHR presumes a violation (Muršić §138).
MURSIC_MINIMUM_M2 = Decimal("3")


def usable_area(floor_area_m2: Decimal, sanitary_area_m2: Decimal) -> Decimal:
    return max(Decimal(0), Decimal(floor_area_m2) - Decimal(sanitary_area_m2))


def certified_capacity(
    floor_area_m2: Decimal | float | str, sanitary_area_m2: Decimal | float | str, standard: str
) -> int:
    """CNA of one cell under ``standard``. Examples (STANDARDS.md): CPT A=18 → 4, A=24 → 6,
    A=7 → 1, A=5 → 0; ICRC A=96 → 28."""
    spec = STANDARDS[standard]
    area = usable_area(Decimal(str(floor_area_m2)), Decimal(str(sanitary_area_m2)))
    shared = int((area / spec.shared_m2).to_integral_value(rounding=ROUND_FLOOR))
    if shared >= 2:
        return shared
    return 1 if area >= spec.single_m2 else 0


def space_per_person(
    floor_area_m2: Decimal, sanitary_area_m2: Decimal, occupants: int
) -> Decimal | None:
    """Usable m² per occupant (None for an empty cell)."""
    if occupants <= 0:
        return None
    area = usable_area(floor_area_m2, sanitary_area_m2)
    return (area / occupants).quantize(Decimal("0.01"))
