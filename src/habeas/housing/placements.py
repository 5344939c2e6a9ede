"""Placements: the first cell at admission, moves between cells, the end at release
(Mandela Rule 7(c): every admission, transfer and release recorded; Rule 11 separation).

Custody sits below housing and never imports it (ARCHITECTURE.md, Layout). An admission's
first placement is opened by :func:`place_admissions`, which the callers above custody hand
to ``custody_admit_many`` (:func:`admit_and_place_many` does), so the ``custody.admitted``
entry still records the cell; a release's open placement is closed by
:func:`placement_close_on_release`, which ``habeas.housing.events`` registers as a listener
on ``custody.released`` (same transaction; a refusal rolls the release back).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from habeas.agreements.models import Agreement
from habeas.core.actor import Actor
from habeas.core.errors import Conflict, ValidationFailed
from habeas.core.events import AppendedEvent
from habeas.core.rows import Rows
from habeas.core.services import service
from habeas.custody.models import CustodyEpisode
from habeas.custody.services import (
    MSG_BEFORE,
    AdmissionSpec,
    LegalBasisSpec,
    _not_future,
    custody_admit_many,
    episode_open_locked,
    is_youth,
    regime_for,
)
from habeas.facilities.models import Cell, Facility
from habeas.housing.allocator import Allocator, Occupant, is_untried, refusals
from habeas.housing.models import Placement
from habeas.housing.services import housing_plan_record, keep_apart_override
from habeas.ledger.services import Event, ledger_append_many
from habeas.people.models import Person

if TYPE_CHECKING:  # the planner loads OR-Tools (seconds): only its Move type is needed here
    from habeas.housing.planner import Move

MSG_NO_CELL = "no cell in {facility} can take person {person}: {why}"
MSG_CELL_REFUSED = "cell {cell} refused: {why}"
MSG_SAME_CELL = "person {person} is already in cell {cell}"


def occupant_for(
    person: Person, kinds: Sequence[str], on: dt.date, *, untried: bool = False
) -> Occupant:
    return Occupant(
        sex=person.sex,
        youth=is_youth(person, on),
        regime=regime_for(kinds),
        untried=untried,
        person_id=person.pk,
    )


def _cell_label(cell: Cell, facility: Facility) -> str:
    return f"{facility.code}/{cell.code}"


def place_admissions(
    facility: Facility, admissions: Sequence[AdmissionSpec], episodes: Sequence[CustodyEpisode]
) -> list[dict[str, Any]]:
    """Choose (or check the asked-for) cell of each person admitted and open their first
    placement (Mandela Rule 11; working capacity the hard cap): custody's ``Placer``. A
    refusal raises ``Conflict`` and nobody of the batch is admitted."""
    allocator = Allocator(facility)
    allocator.prepare({adm.person.pk for adm in admissions})  # keep-apart records, few queries
    cells: list[Cell] = []
    for adm in admissions:
        who = occupant_for(
            adm.person,
            [b.kind for b in adm.legal_bases],
            adm.admitted_at.date(),
            untried=is_untried((b.kind, b.judgment_final) for b in adm.legal_bases),
        )
        if adm.cell_code:
            cell = allocator.by_code.get(adm.cell_code)
            if cell is None:
                raise ValidationFailed(f"no cell {adm.cell_code} in {facility.code}")
            refused = allocator.refusals(cell, who)
            if refused:
                raise Conflict(
                    MSG_CELL_REFUSED.format(
                        cell=cell.code, why="; ".join(r.message for r in refused)
                    ),
                    details={"rules": ", ".join(r.rule for r in refused)},
                )
        else:
            chosen = allocator.choose(who)
            if chosen is None:
                raise Conflict(
                    MSG_NO_CELL.format(
                        facility=facility.code,
                        person=adm.person.pk,
                        why="every cell for this population and regime is at working capacity "
                        "or refused by a separation or keep-apart rule",
                    )
                )
            cell = chosen
        allocator.take(cell, who)
        cells.append(cell)
    rows = Rows()
    ids = rows.ids(Placement, len(cells))
    instant = rows.instant
    rows.insert(
        Placement,
        ("id", "episode_id", "cell_id", "started_at", "ended_at", "reason"),
        [
            (pk, ep.pk, cell.pk, instant(adm.admitted_at), None, "admission")
            for pk, ep, cell, adm in zip(ids, episodes, cells, admissions, strict=True)
        ],
    )
    return [
        {
            "id": pk,
            "cell": _cell_label(cell, facility),
            "started_at": adm.admitted_at,
            "reason": "admission",
        }
        for pk, cell, adm in zip(ids, cells, admissions, strict=True)
    ]


@service
def admit_and_place_many(
    *,
    actor: Actor,
    facility: Facility,
    agreement: Agreement | None,
    admissions: Sequence[AdmissionSpec],
) -> list[CustodyEpisode]:
    """Admit people and place each in a cell, all or nothing (Mandela Rules 7 and 11): the
    admission of ``custody_admit_many`` with :func:`place_admissions` as its placer."""
    return custody_admit_many(
        actor=actor,
        facility=facility,
        agreement=agreement,
        admissions=admissions,
        place=place_admissions,
    )


def admit_and_place(
    *,
    actor: Actor,
    person: Person,
    facility: Facility,
    agreement: Agreement | None,
    legal_bases: Sequence[LegalBasisSpec],
    admitted_at: dt.datetime,
    cell_code: str | None = None,
) -> CustodyEpisode:
    """Admit one person and place them (minimal admission; the full Rule 7 record comes
    with intake)."""
    return admit_and_place_many(
        actor=actor,
        facility=facility,
        agreement=agreement,
        admissions=[
            AdmissionSpec(
                person=person,
                legal_bases=legal_bases,
                admitted_at=admitted_at,
                cell_code=cell_code,
            )
        ],
    )[0]


def _open_placement(episode: CustodyEpisode) -> Placement | None:
    return (
        Placement.objects.select_for_update()
        .filter(episode=episode, ended_at__isnull=True)
        .select_related("cell")
        .first()
    )


@service
def placement_move(
    *,
    actor: Actor,
    person: Person,
    cell: Cell,
    at: dt.datetime,
    reason: str,
    override_reason: str = "",
) -> Placement:
    """Move a person to another cell of the same facility (Mandela Rule 7(c): every transfer
    recorded), under the same housing rules as admission. ``override_reason``: a facility
    admin overrides module- or facility-scope keep-apart refusals (never any other rule)."""
    _not_future(at, "the move time")
    if not reason.strip():
        raise ValidationFailed("a move needs a reason")
    episode = episode_open_locked(person)
    if cell.facility_id != episode.facility_id:
        raise ValidationFailed(f"cell {cell.code} is not in {episode.facility.code}")
    current = _open_placement(episode)
    if current is not None and current.cell_id == cell.pk:
        raise Conflict(MSG_SAME_CELL.format(person=person.pk, cell=cell.code))
    if current is not None and at < current.started_at:
        raise ValidationFailed(
            MSG_BEFORE.format(
                what="the move",
                at=at.isoformat(),
                other="the current placement",
                other_at=current.started_at.isoformat(),
            )
        )
    locked = Cell.objects.select_for_update().select_related("module").get(pk=cell.pk)
    occupants = Placement.objects.filter(cell=locked, ended_at__isnull=True).count()
    bases = list(episode.legal_bases.values_list("kind", "judgment_final"))
    who = occupant_for(person, [k for k, _ in bases], at.date(), untried=is_untried(bases))
    refused = refusals(locked, occupants, who)
    refused = keep_apart_override(
        actor=actor,
        refused=refused,
        person_id=person.pk,
        cell=locked,
        reason=override_reason,
        at=at,
    )
    if refused:
        raise Conflict(
            MSG_CELL_REFUSED.format(cell=cell.code, why="; ".join(r.message for r in refused)),
            details={"rules": ", ".join(r.rule for r in refused)},
        )
    ended: dict[str, Any] | None = None
    if current is not None:
        current.ended_at = at
        current.save(update_fields=["ended_at"])
        ended = {
            "id": current.pk,
            "cell": f"{episode.facility.code}/{current.cell.code}",
            "ended_at": at,
        }
    placement = Placement(episode=episode, cell=locked, started_at=at, reason=reason.strip())
    placement.save()
    ledger_append_many(
        actor=actor,
        events=[
            Event(
                action="placement.moved",
                subject=f"person:{person.pk}",
                occurred_at=at,
                payload={
                    "episode": episode.pk,
                    "ended": ended,
                    "placement": {
                        "id": placement.pk,
                        "cell": f"{episode.facility.code}/{locked.code}",
                        "started_at": at,
                        "reason": placement.reason,
                    },
                },
            )
        ],
    )
    return placement


def placement_close_on_release(events: Sequence[AppendedEvent]) -> None:
    """Close the open placement of each released episode at the release time (Mandela Rule
    7(c)), in the release's transaction: a ``custody.released`` listener. A release before
    the current placement began is refused, and the release rolls back with it."""
    for event in events:
        episode = event.payload["episode"]
        current = (
            Placement.objects.select_for_update()
            .filter(episode_id=episode["id"], ended_at__isnull=True)
            .first()
        )
        if current is None:
            continue
        at = episode["released_at"]
        if at < current.started_at:
            raise ValidationFailed(
                MSG_BEFORE.format(
                    what="the release",
                    at=at.isoformat(),
                    other="the current placement",
                    other_at=current.started_at.isoformat(),
                )
            )
        current.ended_at = at
        current.save(update_fields=["ended_at"])


@service
def housing_plan_apply(
    *,
    actor: Actor,
    facility: Facility,
    document: Mapping[str, Any],
    moves: Sequence[Move],
    at: dt.datetime,
) -> int:
    """Carry out a whole-facility housing plan (``habeas housing-plan --apply``): the plan's
    ``facilities.plan_applied`` entry, then each move, in the order given (sequenced by
    :func:`habeas.housing.planner.order_moves`), through :func:`placement_move` under
    the same housing rules, each its own ``placement.moved`` entry. The one rule: one
    transaction, so the whole plan is carried out or none of it. Returns the moves made."""
    people = Person.objects.in_bulk([m.person for m in moves])
    cells = Cell.objects.in_bulk([m.to_cell for m in moves])
    housing_plan_record(actor=actor, facility=facility, document=document, at=at)
    for move in moves:
        placement_move(
            actor=actor,
            person=people[move.person],
            cell=cells[move.to_cell],
            at=at,
            reason="housing plan",
        )
    return len(moves)
