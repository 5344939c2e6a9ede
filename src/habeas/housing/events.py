"""Housing's ledger actions, their replays and the housing tables they cover (ARCHITECTURE.md,
the one rule, item 6; Mandela Rules 6, 7(c), 11 and 36).

The action names keep the spelling they were first recorded with (``placement.moved``,
``facilities.keep_apart_…``, ``facilities.roll_counted``, ``facilities.plan_applied``): they
are on ledgers already. Custody's actions change housing's tables too, and the dependency
points upward through the registry: housing replays the placement part of
``custody.admitted`` and ``custody.released`` (:func:`habeas.core.events.on_replay`) and
closes the open placement when custody appends ``custody.released``
(:func:`habeas.core.events.on_appended`, in the release's transaction). Housing also registers
the hooks lower apps read: how many people each cell holds (:mod:`habeas.facilities.occupancy`)
and the cell a person is in (:mod:`habeas.custody.cells`).

Every snapshot returns ``{row id: {field: value}}`` in the representation its replay builds
(:func:`~habeas.core.events.instant`, :func:`~habeas.core.events.day`,
:func:`~habeas.core.events.dec`), so ``verify-ledger`` names a row changed, added or removed
behind the services as ``housing.<Model>.<id>``.

Personal on the ledger, as commitments: a keep-apart's ``reason`` and ``close_reason`` (why
two people must not share a cell: a threat, a co-defendant, an assault), under the key of
``person_a`` (the record's first person: one key, so the table's row and the entry agree);
an override's ``reason``, under the key of the person placed despite the keep-apart (the
override's ``person``). Roles, scopes, sources, cells, times and actors stay in clear.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from habeas.core.events import (
    Action,
    Committed,
    Payload,
    State,
    Table,
    covers,
    declare,
    instant,
    on_appended,
    on_replay,
)
from habeas.custody import cells as custody_cells
from habeas.facilities import occupancy as facility_occupancy
from habeas.facilities.models import Cell
from habeas.housing.allocator import occupancy
from habeas.housing.models import KeepApart, KeepApartOverride, Placement, RollCount, RollCountLine
from habeas.housing.placements import placement_close_on_release
from habeas.housing.relocation import transfer_summary
from habeas.housing.selectors import current_placement

PL = "housing.Placement"
KA = "housing.KeepApart"
KO = "housing.KeepApartOverride"
RC = "housing.RollCount"
RL = "housing.RollCountLine"

KEEP_APART_TEXT = (
    "role_a", "role_b", "scope", "reason", "source", "source_ref", "opened_by", "closed_by",
    "close_reason",
)  # fmt: skip
KEEP_APART_PERSONAL = ("reason", "close_reason")
ROLL_FIGURES = ("source", "expected", "counted", "discrepancies")


# --- replays ----------------------------------------------------------------------------


def _placement_opened(state: State, episode: int, placement: dict[str, Any]) -> None:
    state.setdefault(PL, {})[placement["id"]] = {
        "episode_id": episode,
        "cell": placement["cell"],
        "started_at": instant(placement["started_at"]),
        "ended_at": None,
        "reason": placement.get("reason", "admission"),
    }


def _placement_ended(state: State, ended: dict[str, Any]) -> None:
    state.setdefault(PL, {}).setdefault(ended["id"], {})["ended_at"] = instant(ended["ended_at"])


def _admitted(state: State, p: dict[str, Any]) -> None:
    """The first placement an admission opened (absent when nobody was placed)."""
    if p.get("placement"):
        _placement_opened(state, p["episode"]["id"], p["placement"])


def _released(state: State, p: dict[str, Any]) -> None:
    """A release ends the episode's open placement at the release time. Entries recorded
    before housing listened to releases name it (``placement_ended``); later ones do not,
    and the open placement of the episode in the replayed state is the one closed."""
    if "placement_ended" in p:
        if p["placement_ended"]:
            _placement_ended(state, p["placement_ended"])
        return
    episode = p["episode"]
    for row in state.get(PL, {}).values():
        if row.get("episode_id") == episode["id"] and row.get("ended_at") is None:
            row["ended_at"] = instant(episode["released_at"])


def _moved(state: State, p: dict[str, Any]) -> None:
    if p.get("ended"):
        _placement_ended(state, p["ended"])
    _placement_opened(state, p["episode"], p["placement"])


def _transferred(state: State, p: dict[str, Any]) -> None:
    """The episode's facility becomes the destination; the placement there opens."""
    state.setdefault("custody.CustodyEpisode", {}).setdefault(p["episode"], {})["facility"] = p[
        "destination"
    ]
    _moved(state, p)


def _keep_apart(state: State, p: dict[str, Any]) -> None:
    ka = p["keep_apart"]
    state.setdefault(KA, {})[ka["id"]] = {
        **{k: ka.get(k) or "" for k in KEEP_APART_TEXT},
        "person_a_id": ka["person_a"],
        "person_b_id": ka["person_b"],
        "opened_at": instant(ka["opened_at"]),
        "closed_at": instant(ka.get("closed_at")),
    }


def _overridden(state: State, p: dict[str, Any]) -> None:
    o = p["override"]
    state.setdefault(KO, {})[o["id"]] = {
        "keep_apart_id": o["keep_apart"],
        "person_id": o["person"],
        "cell": o["cell"],
        "at": instant(o.get("at")),
        "actor": o.get("actor"),
        "reason": o["reason"],
    }


def _roll_counted(state: State, p: dict[str, Any]) -> None:
    roll = p["roll_count"]
    state.setdefault(RC, {})[roll["id"]] = {
        **{k: roll[k] for k in ROLL_FIGURES},
        "facility": roll["facility"],
        "counted_at": instant(roll["counted_at"]),
        "recorded_at": instant(roll.get("recorded_at")),
        "recorded_by": roll.get("recorded_by"),
    }
    lines = state.setdefault(RL, {})
    for line_id, (cell, expected, counted) in zip(p.get("line_ids") or [], p["lines"], strict=True):
        lines[line_id] = {
            "roll_count_id": roll["id"],
            "cell": f"{roll['facility']}/{cell}",
            "expected": expected,
            "counted": counted,
        }


def _plan_applied(state: State, p: dict[str, Any]) -> None:
    """A plan's figures only: each of its moves is its own ``placement.moved`` entry."""


def _moved_summary(payload: dict[str, Any], show_cells: bool) -> str:
    placement = payload.get("placement") or {}
    reason = placement.get("reason") or ""
    if not show_cells:
        text = _("Moved to another cell")
    else:
        ended = payload.get("ended") or {}
        if ended.get("cell"):
            text = _("Moved from cell %(old)s to cell %(new)s") % {
                "old": ended["cell"],
                "new": placement.get("cell", ""),
            }
        else:
            text = _("Placed in cell %(new)s") % {"new": placement.get("cell", "")}
    if reason:
        text += "; " + _("reason: %(reason)s") % {"reason": reason}
    return text


def _keep_apart_key(subject: str, p: dict[str, Any]) -> str:
    return f"person:{p['keep_apart']['person_a']}"


def _override_key(subject: str, p: dict[str, Any]) -> str:
    return f"person:{p['override']['person']}"


# --- payload schemas (Action.schema) -------------------------------------------------------


class EndedPlacement(Payload):
    id: int
    cell: str
    ended_at: dt.datetime


class NewPlacement(Payload):
    id: int
    cell: str
    started_at: dt.datetime
    reason: str


class MovedPayload(Payload):
    episode: int
    ended: EndedPlacement | None
    placement: NewPlacement


class TransferredPayload(Payload):
    episode: int
    #: Facility codes.
    origin: str
    destination: str
    reason: str
    ended: EndedPlacement | None
    placement: NewPlacement


class KeepApartRow(Payload):
    id: int
    person_a: int
    person_b: int
    role_a: str
    role_b: str
    scope: str
    source: str
    source_ref: str
    reason: str | Committed
    opened_at: dt.datetime
    opened_by: str
    closed_at: dt.datetime | None
    closed_by: str
    close_reason: str | Committed


class KeepApartOpenedPayload(Payload):
    keep_apart: KeepApartRow


class KeepApartClosedPayload(Payload):
    keep_apart: KeepApartRow


class OverrideRow(Payload):
    id: int
    keep_apart: int
    person: int
    cell: str
    rule: str
    reason: str | Committed
    actor: str
    at: dt.datetime


class KeepApartOverriddenPayload(Payload):
    override: OverrideRow


class RollCountRow(Payload):
    id: int
    facility: str
    counted_at: dt.datetime
    recorded_at: dt.datetime
    recorded_by: str
    source: str
    expected: int
    counted: int
    discrepancies: int


class RollCountedPayload(Payload):
    roll_count: RollCountRow
    #: ``[cell code, expected, counted]`` per line.
    lines: list[tuple[str, int, int]]
    line_ids: list[int]


class PlanFigures(Payload):
    population: int
    above_certified: int
    worst_excess: int
    cells_over_certified: int
    moves: int


class PlanAppliedPayload(Payload):
    """A plan's figures (``habeas.housing.planner.Plan.document``) and its number of moves."""

    facility: str
    status: str
    before: PlanFigures
    first_fit_decreasing: PlanFigures
    after: PlanFigures
    lower_bound: PlanFigures
    seconds: float
    solver: dict[str, Any]
    unplaced: list[str]
    moves: int


declare(
    Action(
        "placement.moved",
        schema=MovedPayload,
        label=pgettext_lazy("ledger action", "Cell move"),
        replay=_moved,
        summary=_moved_summary,
        housing="placements",
        public_history=True,
    ),
    Action(
        "custody.transferred",
        schema=TransferredPayload,
        label=pgettext_lazy("ledger action", "Transfer to another facility"),
        replay=_transferred,
        summary=transfer_summary,
        housing="placements",
        public_history=True,
    ),
    Action(
        "facilities.keep_apart_opened",
        schema=KeepApartOpenedPayload,
        label=pgettext_lazy("ledger action", "Keep-apart opened"),
        personal=tuple(f"keep_apart.{f}" for f in KEEP_APART_PERSONAL),
        key=_keep_apart_key,
        replay=_keep_apart,
        housing=None,  # keep-apart records are read afresh for every suggestion
    ),
    Action(
        "facilities.keep_apart_closed",
        schema=KeepApartClosedPayload,
        label=pgettext_lazy("ledger action", "Keep-apart closed"),
        personal=tuple(f"keep_apart.{f}" for f in KEEP_APART_PERSONAL),
        key=_keep_apart_key,
        replay=_keep_apart,
        housing=None,
    ),
    Action(
        "facilities.keep_apart_overridden",
        schema=KeepApartOverriddenPayload,
        label=pgettext_lazy("ledger action", "Keep-apart overridden"),
        personal=("override.reason",),
        key=_override_key,
        replay=_overridden,
        housing=None,
    ),
    Action(
        "facilities.roll_counted",
        schema=RollCountedPayload,
        label=pgettext_lazy("ledger action", "Roll counted"),
        replay=_roll_counted,
        housing=None,
    ),
    Action(
        "facilities.plan_applied",
        schema=PlanAppliedPayload,
        label=pgettext_lazy("ledger action", "Housing plan applied"),
        replay=_plan_applied,
        housing=None,  # its moves are their own placement.moved entries
    ),
)
on_replay("custody.admitted")(_admitted)
on_replay("custody.released")(_released)


# --- the same transaction as custody's release ----------------------------------------------


@on_appended("custody.released")
def _close_placement_on_release(events: Sequence[Any]) -> None:
    placement_close_on_release(events)


# --- snapshots --------------------------------------------------------------------------


def _cell_label(row: Mapping[str, Any], prefix: str = "cell__") -> str:
    return f"{row[prefix + 'facility__code']}/{row[prefix + 'code']}"


@covers(PL, models=(PL,))
def placements() -> Table:
    return {
        pl["id"]: {
            "episode_id": pl["episode_id"],
            "cell": _cell_label(pl),
            "started_at": instant(pl["started_at"]),
            "ended_at": instant(pl["ended_at"]),
            "reason": pl["reason"],
        }
        for pl in Placement.objects.values(
            "id", "episode_id", "cell__facility__code", "cell__code", "started_at", "ended_at",
            "reason",
        ).iterator(chunk_size=5000)
    }  # fmt: skip


@covers(
    KA,
    models=(KA,),
    personal=KEEP_APART_PERSONAL,
    key=lambda kid, row: f"person:{row['person_a_id']}",
)
def keep_aparts() -> Table:
    return {
        ka["id"]: {
            **{k: ka[k] for k in KEEP_APART_TEXT},
            "person_a_id": ka["person_a_id"],
            "person_b_id": ka["person_b_id"],
            "opened_at": instant(ka["opened_at"]),
            "closed_at": instant(ka["closed_at"]),
        }
        for ka in KeepApart.objects.values(
            "id", "person_a_id", "person_b_id", "opened_at", "closed_at", *KEEP_APART_TEXT
        ).iterator(chunk_size=5000)
    }


@covers(KO, models=(KO,), personal=("reason",), key=lambda oid, row: f"person:{row['person_id']}")
def keep_apart_overrides() -> Table:
    return {
        o["id"]: {
            "keep_apart_id": o["keep_apart_id"],
            "person_id": o["person_id"],
            "cell": _cell_label(o),
            "at": instant(o["at"]),
            "actor": o["actor"],
            "reason": o["reason"],
        }
        for o in KeepApartOverride.objects.values(
            "id", "keep_apart_id", "person_id", "cell__facility__code", "cell__code", "at",
            "actor", "reason",
        ).iterator(chunk_size=5000)
    }  # fmt: skip


@covers(RC, models=(RC,))
def roll_counts() -> Table:
    return {
        r["id"]: {
            **{k: r[k] for k in ROLL_FIGURES},
            "facility": r["facility__code"],
            "counted_at": instant(r["counted_at"]),
            "recorded_at": instant(r["recorded_at"]),
            "recorded_by": r["recorded_by"],
        }
        for r in RollCount.objects.values(
            "id", "facility__code", "counted_at", "recorded_at", "recorded_by", *ROLL_FIGURES
        ).iterator(chunk_size=5000)
    }


@covers(RL, models=(RL,))
def roll_count_lines() -> Table:
    return {
        line["id"]: {
            "roll_count_id": line["roll_count_id"],
            "cell": _cell_label(line),
            "expected": line["expected"],
            "counted": line["counted"],
        }
        for line in RollCountLine.objects.values(
            "id", "roll_count_id", "cell__facility__code", "cell__code", "expected", "counted"
        ).iterator(chunk_size=5000)
    }


# --- hooks the lower apps read ------------------------------------------------------------


def _occupants(cell_ids: Sequence[int]) -> dict[int, int]:
    return occupancy(list(cell_ids))


def _current_cell(person: Any) -> Cell | None:
    placement = current_placement(person)
    return placement.cell if placement is not None else None


facility_occupancy.register(_occupants)
custody_cells.register(_current_cell)
