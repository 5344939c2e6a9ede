"""Ledger actions of facilities covered through the registry: cell certifications (HMPPS
certified normal accommodation; STANDARDS.md, space standards). The facility, module and cell
declarations and amendments are replayed by ``facilities/replay.py``."""

from __future__ import annotations

from typing import Any

from habeas.core.events import State, covers, dec, instant, on_replay

CC = "facilities.CellCertification"
AREAS = ("floor_area_m2", "sanitary_area_m2")
CAPACITIES = ("certified_capacity", "working_capacity", "max_capacity")


@on_replay("facilities.cell_certified")
def _certified(state: State, p: dict[str, Any]) -> None:
    cell = p["cell"]
    state.setdefault(CC, {})[p["certification"]] = {
        "cell_id": cell["id"],
        "certified_at": instant(p["certified_at"]),
        "approved_by_id": p["approved_by_id"],
        "approved_by_name": p["approved_by"],
        "space_standard": p["space_standard"],
        **{k: dec(cell[k]) for k in AREAS},
        **{k: cell[k] for k in CAPACITIES},
        "reason": p["reason"],
    }


@covers(CC)
def _certifications() -> dict[Any, dict[str, Any]]:
    from habeas.facilities.models import CellCertification

    rows = {}
    for c in CellCertification.objects.values(
        "id", "cell_id", "certified_at", "approved_by_id", "approved_by_name", "space_standard",
        *AREAS, *CAPACITIES, "reason",
    ):  # fmt: skip
        c["certified_at"] = instant(c["certified_at"])
        for k in AREAS:
            c[k] = dec(c[k])
        rows[c.pop("id")] = c
    return rows
