"""The NWS heat index (STANDARDS.md "Heat"), computed as the US National Weather Service
computes it: https://www.wpc.ncep.noaa.gov/html/heatindex_equation.shtml

1. Steadman's simple formula, ``0.5 × (T + 61 + (T − 68) × 1.2 + RH × 0.094)``, averaged with
   the temperature; if that is below 80 °F it is the heat index.
2. Otherwise the Rothfusz regression (NWS Technical Attachment SR 90-23, 1990), with the NWS
   adjustments: where RH < 13 % and 80 ≤ T ≤ 112 °F subtract
   ``((13 − RH) / 4) × √((17 − |T − 95|) / 17)``; where RH > 85 % and 80 ≤ T ≤ 87 °F add
   ``((RH − 85) / 10) × ((87 − T) / 5)``.

Bands (NWS): caution ≥ 80 °F, extreme caution ≥ 90 °F, danger ≥ 103 °F, extreme danger
≥ 125 °F. The housing limit of Cole v. Collier (S.D. Tex. 2017) and its 2018 settlement is a
heat index of 88 °F (31.1 °C).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from numpy.typing import NDArray

#: Cole v. Collier (S.D. Tex. 2017), 2018 settlement: heat index ≤ 88 °F in housing areas.
HOUSING_LIMIT_F = 88.0
HOUSING_LIMIT_C = 31.1

#: NWS bands, lowest first: (name, lower bound in °F).
BANDS: tuple[tuple[str, float], ...] = (
    ("caution", 80.0),
    ("extreme_caution", 90.0),
    ("danger", 103.0),
    ("extreme_danger", 125.0),
)
BAND_LABELS: dict[str, Promise] = {
    "none": _("Below caution"),
    "caution": _("Caution"),
    "extreme_caution": _("Extreme caution"),
    "danger": _("Danger"),
    "extreme_danger": _("Extreme danger"),
}


def c_to_f(c: float) -> float:
    return c * 9.0 / 5.0 + 32.0


def f_to_c(f: float) -> float:
    return (f - 32.0) * 5.0 / 9.0


def heat_index_f(t: float, rh: float) -> float:
    """The NWS heat index in °F of an air temperature ``t`` (°F) and relative humidity
    ``rh`` (%)."""
    simple = 0.5 * (t + 61.0 + ((t - 68.0) * 1.2) + (rh * 0.094))
    if (simple + t) / 2.0 < 80.0:
        return (simple + t) / 2.0
    hi = (
        -42.379
        + 2.04901523 * t
        + 10.14333127 * rh
        - 0.22475541 * t * rh
        - 0.00683783 * t * t
        - 0.05481717 * rh * rh
        + 0.00122874 * t * t * rh
        + 0.00085282 * t * rh * rh
        - 0.00000199 * t * t * rh * rh
    )
    if rh < 13.0 and 80.0 <= t <= 112.0:
        hi -= ((13.0 - rh) / 4.0) * math.sqrt((17.0 - abs(t - 95.0)) / 17.0)
    elif rh > 85.0 and 80.0 <= t <= 87.0:
        hi += ((rh - 85.0) / 10.0) * ((87.0 - t) / 5.0)
    return hi


def heat_index_c(t_c: float, rh: float) -> float:
    """The NWS heat index in °C of a temperature in °C (computed in °F, as the NWS does)."""
    return f_to_c(heat_index_f(c_to_f(t_c), rh))


def heat_index_c_array(t_c: NDArray[np.float64], rh: NDArray[np.float64]) -> NDArray[np.float64]:
    """:func:`heat_index_c` of whole arrays at once (the same operations in the same order,
    so every value is the same double as the scalar function's)."""
    t = t_c * 9.0 / 5.0 + 32.0
    simple = 0.5 * (t + 61.0 + ((t - 68.0) * 1.2) + (rh * 0.094))
    mean = (simple + t) / 2.0
    hi = (
        -42.379
        + 2.04901523 * t
        + 10.14333127 * rh
        - 0.22475541 * t * rh
        - 0.00683783 * t * t
        - 0.05481717 * rh * rh
        + 0.00122874 * t * t * rh
        + 0.00085282 * t * rh * rh
        - 0.00000199 * t * t * rh * rh
    )
    in_range = (t >= 80.0) & (t <= 112.0)
    dry = (rh < 13.0) & in_range
    if dry.any():
        root = np.sqrt(np.where(dry, (17.0 - np.abs(t - 95.0)) / 17.0, 0.0))
        hi = np.where(dry, hi - ((13.0 - rh) / 4.0) * root, hi)
    humid = ~dry & (rh > 85.0) & (t >= 80.0) & (t <= 87.0)
    if humid.any():
        hi = np.where(humid, hi + ((rh - 85.0) / 10.0) * ((87.0 - t) / 5.0), hi)
    result = np.where(mean < 80.0, mean, hi)
    return (result - 32.0) * 5.0 / 9.0


def band_of_f(hi_f: float) -> str:
    """The NWS band of a heat index in °F (``none`` below caution)."""
    found = "none"
    for name, lower in BANDS:
        if hi_f >= lower:
            found = name
    return found


@dataclass(frozen=True)
class HeatIndex:
    """A heat index in both units with its NWS band."""

    c: float
    f: float
    band: str

    @property
    def band_label(self) -> str:
        return str(BAND_LABELS[self.band])


def heat_index(t_c: float, rh: float) -> HeatIndex:
    """The heat index of a reading (°C, %) in °C and °F, with its NWS band."""
    f = heat_index_f(c_to_f(t_c), rh)
    return HeatIndex(c=round(f_to_c(f), 1), f=round(f, 1), band=band_of_f(f))
