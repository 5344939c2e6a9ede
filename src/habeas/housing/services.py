"""Housing writes: keep-apart records and their overrides, roll counts, applied plans
(HMPPS establishment roll; Mandela Rules 6, 11, 36). Each service runs in one transaction
and appends its ledger entries in it.

Every payload carries the full new state of what it changed, so ``verify-ledger`` can replay
it against the tables.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from django.db.models import Count, Q

from habeas.core.actor import Actor
from habeas.core.clock import now
from habeas.core.errors import Conflict, NotFound, ValidationFailed
from habeas.core.services import service
from habeas.facilities.choices import (
    KeepApartRole,
    KeepApartScope,
    KeepApartSource,
    RollCountSource,
)
from habeas.facilities.models import Cell, Facility
from habeas.facilities.services import require_admin
from habeas.housing.allocator import Refusal
from habeas.housing.models import KeepApart, KeepApartOverride, RollCount, RollCountLine
from habeas.housing.selectors import out_of_cells
from habeas.ledger.services import Event, ledger_append_many
from habeas.people.models import Person

MSG_REASON = "{what} needs a reason"
MSG_SAME_PERSON = "a person cannot be kept apart from themselves"
MSG_KEEP_APART_EXISTS = (
    "persons {a} and {b} already have an open keep-apart record ({ka}); close it first"
)
MSG_KEEP_APART_CLOSED = "keep-apart record {ka} is already closed"
MSG_UNKNOWN_SCOPE = "unknown keep-apart scope {scope!r} (cell, module or facility)"
MSG_UNKNOWN_ROLE = "unknown keep-apart role {role!r}"
MSG_NOT_OVERRIDABLE = "rule {rule} cannot be overridden"
MSG_UNKNOWN_CELL = "row {row}: no cell {cell} in facility {facility}"
MSG_BAD_COUNT = "row {row}: counted must be a whole number ≥ 0"
MSG_DUPLICATE_CELL = "row {row}: cell {cell} is counted twice"
MSG_FUTURE = "{what} is in the future ({at})"
MSG_EMPTY_ROLL = "a roll count needs at least one cell"


def _cell_label(cell: Cell) -> str:
    return f"{cell.facility.code}/{cell.code}"


# --- keep apart --------------------------------------------------------------------------


def keep_apart_snapshot(ka: KeepApart) -> dict[str, Any]:
    return {
        "id": ka.pk,
        "person_a": ka.person_a_id,
        "person_b": ka.person_b_id,
        "role_a": ka.role_a,
        "role_b": ka.role_b,
        "scope": ka.scope,
        "reason": ka.reason,
        "source": ka.source,
        "source_ref": ka.source_ref,
        "opened_at": ka.opened_at,
        "opened_by": ka.opened_by,
        "closed_at": ka.closed_at,
        "closed_by": ka.closed_by,
        "close_reason": ka.close_reason,
    }


@dataclass(frozen=True)
class KeepApartSpec:
    """One keep-apart record to open: ``person`` (role) kept apart from ``other``
    (other_role)."""

    person: Person
    other: Person
    scope: str
    reason: str
    role: str = KeepApartRole.OTHER
    other_role: str = KeepApartRole.OTHER
    source: str = KeepApartSource.STAFF
    source_ref: str = ""


def _check_spec(spec: KeepApartSpec) -> None:
    if spec.person.pk == spec.other.pk:
        raise ValidationFailed(MSG_SAME_PERSON)
    if spec.scope not in KeepApartScope.values:
        raise ValidationFailed(MSG_UNKNOWN_SCOPE.format(scope=spec.scope))
    for role in (spec.role, spec.other_role):
        if role not in KeepApartRole.values:
            raise ValidationFailed(MSG_UNKNOWN_ROLE.format(role=role))
    if spec.source not in KeepApartSource.values:
        raise ValidationFailed(f"unknown keep-apart source {spec.source!r}")
    if not spec.reason.strip():
        raise ValidationFailed(MSG_REASON.format(what="a keep-apart record"))


@service
def keep_apart_open_many(
    *, actor: Actor, specs: Sequence[KeepApartSpec], at: dt.datetime | None = None
) -> list[KeepApart]:
    """Open keep-apart records (from a manifest's ``keep_apart_from`` or a staff decision),
    one ``facilities.keep_apart_opened`` entry each. All or nothing."""
    at = at or now()
    rows: list[KeepApart] = []
    seen: set[tuple[int, int]] = set()
    for spec in specs:
        _check_spec(spec)
        first, second = sorted(
            [(spec.person, spec.role), (spec.other, spec.other_role)], key=lambda pr: pr[0].pk
        )
        pair = (first[0].pk, second[0].pk)
        if pair in seen:
            raise ValidationFailed(
                MSG_KEEP_APART_EXISTS.format(a=pair[0], b=pair[1], ka="in this request")
            )
        seen.add(pair)
        rows.append(
            KeepApart(
                person_a=first[0],
                person_b=second[0],
                role_a=first[1],
                role_b=second[1],
                scope=spec.scope,
                reason=spec.reason.strip(),
                source=spec.source,
                source_ref=spec.source_ref,
                opened_at=at,
                opened_by=actor.name,
            )
        )
    existing = KeepApart.objects.open().filter(
        person_a_id__in=[a for a, _ in seen], person_b_id__in=[b for _, b in seen]
    )
    for ka in existing:
        if (ka.person_a_id, ka.person_b_id) in seen:
            raise Conflict(
                MSG_KEEP_APART_EXISTS.format(a=ka.person_a_id, b=ka.person_b_id, ka=ka.pk)
            )
    created = KeepApart.objects.bulk_create(rows, batch_size=500)
    ledger_append_many(
        actor=actor,
        events=[
            Event(
                action="facilities.keep_apart_opened",
                subject=f"keep_apart:{ka.pk}",
                occurred_at=at,
                payload={"keep_apart": keep_apart_snapshot(ka)},
            )
            for ka in created
        ],
    )
    return created


def keep_apart_open(
    *,
    actor: Actor,
    person: Person,
    other: Person,
    scope: str,
    reason: str,
    role: str = KeepApartRole.OTHER,
    other_role: str = KeepApartRole.OTHER,
    source: str = KeepApartSource.STAFF,
    source_ref: str = "",
    at: dt.datetime | None = None,
) -> KeepApart:
    """Open one keep-apart record (see :func:`keep_apart_open_many`)."""
    return keep_apart_open_many(
        actor=actor,
        specs=[
            KeepApartSpec(
                person=person,
                other=other,
                scope=scope,
                reason=reason,
                role=role,
                other_role=other_role,
                source=source,
                source_ref=source_ref,
            )
        ],
        at=at,
    )[0]


@service
def keep_apart_close(
    *, actor: Actor, keep_apart: KeepApart, reason: str, at: dt.datetime | None = None
) -> KeepApart:
    """Close a keep-apart record; the row stays (history is never erased)."""
    if not reason.strip():
        raise ValidationFailed(MSG_REASON.format(what="closing a keep-apart record"))
    ka = KeepApart.objects.select_for_update().get(pk=keep_apart.pk)
    if ka.closed_at is not None:
        raise Conflict(MSG_KEEP_APART_CLOSED.format(ka=ka.pk))
    at = at or now()
    if at < ka.opened_at:
        at = ka.opened_at
    ka.closed_at = at
    ka.closed_by = actor.name
    ka.close_reason = reason.strip()
    ka.save(update_fields=["closed_at", "closed_by", "close_reason"])
    ledger_append_many(
        actor=actor,
        events=[
            Event(
                action="facilities.keep_apart_closed",
                subject=f"keep_apart:{ka.pk}",
                occurred_at=at,
                payload={"keep_apart": keep_apart_snapshot(ka)},
            )
        ],
    )
    return ka


@service
def keep_apart_merge(
    *, actor: Actor, kept: Person, merged: Person, at: dt.datetime | None = None
) -> list[KeepApart]:
    """When two person records are merged, ``merged``'s open keep-apart records move to
    ``kept``: each is closed and reopened for the kept person (a record between the two
    merged records themselves is closed; a duplicate keeps the wider scope). Returns the
    records opened."""
    at = at or now()
    widths = {"cell": 0, "module": 1, "facility": 2}
    mine = {ka.other(kept.pk): ka for ka in KeepApart.objects.open().involving(kept.pk)}
    opened: list[KeepApartSpec] = []
    for ka in list(
        KeepApart.objects.open().involving(merged.pk).select_related("person_a", "person_b")
    ):
        other_id = ka.other(merged.pk)
        keep_apart_close(
            actor=actor, keep_apart=ka, reason=f"person {merged.pk} merged into {kept.pk}", at=at
        )
        if other_id == kept.pk:
            continue
        current = mine.get(other_id)
        if current is not None:
            if widths[current.scope] >= widths[ka.scope]:
                continue
            keep_apart_close(
                actor=actor,
                keep_apart=current,
                reason=f"superseded by a wider scope from merged person {merged.pk}",
                at=at,
            )
        other = ka.person_b if other_id == ka.person_b_id else ka.person_a
        opened.append(
            KeepApartSpec(
                person=kept,
                other=other,
                scope=ka.scope,
                reason=ka.reason,
                role=ka.role_of(merged.pk),
                other_role=ka.role_of(other_id),
                source=ka.source,
                source_ref=ka.source_ref,
            )
        )
    return keep_apart_open_many(actor=actor, specs=opened, at=at) if opened else []


@service
def keep_apart_override(
    *,
    actor: Actor,
    refused: Sequence[Refusal],
    person_id: int,
    cell: Cell,
    reason: str,
    at: dt.datetime | None = None,
) -> list[Refusal]:
    """Record a facility admin's override of module- or facility-scope keep-apart refusals
    for one placement (``facilities.keep_apart_overridden``, with the reason). Returns the
    refusals that still stand: a cell-scope keep-apart or any other rule never yields.
    Without a reason nothing is overridden."""
    if not reason.strip():
        return list(refused)
    standing = [r for r in refused if not r.overridable]
    yielding = [r for r in refused if r.overridable]
    if standing or not yielding:
        return list(refused)
    require_admin(actor, "override a keep-apart record")
    at = at or now()
    rows = KeepApartOverride.objects.bulk_create(
        [
            KeepApartOverride(
                keep_apart_id=cast(int, r.keep_apart),
                person_id=person_id,
                cell=cell,
                at=at,
                actor=actor.name,
                reason=reason.strip(),
            )
            for r in yielding
        ]
    )
    ledger_append_many(
        actor=actor,
        events=[
            Event(
                action="facilities.keep_apart_overridden",
                subject=f"keep_apart:{row.keep_apart_id}",
                occurred_at=at,
                payload={
                    "override": {
                        "id": row.pk,
                        "keep_apart": row.keep_apart_id,
                        "person": person_id,
                        "cell": f"{cell.facility.code}/{cell.code}",
                        "rule": r.rule,
                        "reason": row.reason,
                        "at": at,
                        "actor": row.actor,
                    }
                },
            )
            for row, r in zip(rows, yielding, strict=True)
        ],
    )
    return []


# --- roll count --------------------------------------------------------------------------


@dataclass(frozen=True)
class RollLine:
    cell: str
    counted: int
    row: int = 0


@service
def roll_count_record(
    *,
    actor: Actor,
    facility: Facility,
    counted_at: dt.datetime,
    lines: Sequence[RollLine],
    source: str = RollCountSource.CLI,
) -> RollCount:
    """Record a counted roll (HMPPS establishment roll): the expected figure per cell is
    the number of open placements now less the people out of the facility at ``counted_at``
    (a temporary absence: court, hospital...; they keep their bed but are not in the cell);
    a difference is a discrepancy (a ``roll_count`` alert, see
    :mod:`habeas.facilities.alerts`). One ``facilities.roll_counted`` entry."""
    if not lines:
        raise ValidationFailed(MSG_EMPTY_ROLL)
    if counted_at > now() + dt.timedelta(minutes=5):
        raise ValidationFailed(MSG_FUTURE.format(what="the count time", at=counted_at.isoformat()))
    cells = {
        c.code: c
        for c in Cell.objects.filter(facility=facility).annotate(
            n=Count("placements", filter=Q(placements__ended_at__isnull=True))
        )
    }
    seen: set[str] = set()
    for line in lines:
        if line.cell not in cells:
            raise NotFound(
                MSG_UNKNOWN_CELL.format(row=line.row, cell=line.cell, facility=facility.code)
            )
        if line.cell in seen:
            raise ValidationFailed(MSG_DUPLICATE_CELL.format(row=line.row, cell=line.cell))
        if line.counted < 0:
            raise ValidationFailed(MSG_BAD_COUNT.format(row=line.row))
        seen.add(line.cell)
    out = {
        cell_id: sum(per.values())
        for cell_id, per in out_of_cells(facility=facility, at=counted_at).items()
    }
    expected = {
        line.cell: int(getattr(cells[line.cell], "n", 0)) - out.get(cells[line.cell].pk, 0)
        for line in lines
    }
    roll = RollCount(
        facility=facility,
        counted_at=counted_at,
        recorded_at=now(),
        recorded_by=actor.name,
        source=source,
        expected=sum(expected.values()),
        counted=sum(line.counted for line in lines),
        discrepancies=sum(1 for line in lines if line.counted != expected[line.cell]),
    )
    roll.save()
    rows = RollCountLine.objects.bulk_create(
        [
            RollCountLine(
                roll_count=roll,
                cell=cells[line.cell],
                expected=expected[line.cell],
                counted=line.counted,
            )
            for line in lines
        ],
        batch_size=500,
    )
    ledger_append_many(
        actor=actor,
        events=[
            Event(
                action="facilities.roll_counted",
                subject=f"facility:{facility.code}",
                occurred_at=counted_at,
                payload={
                    "roll_count": {
                        "id": roll.pk,
                        "facility": facility.code,
                        "counted_at": counted_at,
                        "source": source,
                        "expected": roll.expected,
                        "counted": roll.counted,
                        "discrepancies": roll.discrepancies,
                        "recorded_at": roll.recorded_at,
                        "recorded_by": roll.recorded_by,
                    },
                    "lines": [[line.cell, expected[line.cell], line.counted] for line in lines],
                    "line_ids": [row.pk for row in rows],
                },
            )
        ],
    )
    return roll


@service
def roll_count_record_file(
    *,
    actor: Actor,
    facility: Facility,
    rolls: Mapping[dt.datetime, Sequence[RollLine]],
    source: str = RollCountSource.CLI,
) -> list[RollCount]:
    """Record every roll of one file (``habeas roll-count``) or one API request, oldest
    first: lines sharing a ``counted_at`` are one roll, and all the rolls are recorded or
    none (the one rule: one transaction; one ``facilities.roll_counted`` entry per roll)."""
    return [
        roll_count_record(actor=actor, facility=facility, counted_at=at, lines=lines, source=source)
        for at, lines in sorted(rolls.items())
    ]


def roll_lines_from(rows: Mapping[str, int]) -> list[RollLine]:
    return [RollLine(cell=c, counted=n, row=i) for i, (c, n) in enumerate(rows.items(), 1)]


@service
def housing_plan_record(
    *, actor: Actor, facility: Facility, document: Mapping[str, Any], at: dt.datetime | None = None
) -> None:
    """Record that a housing plan is being carried out (``facilities.plan_applied``: its
    figures before and after; each move is its own ``placement.moved`` entry in the same
    transaction)."""
    summary = {k: v for k, v in document.items() if k != "moves"}
    ledger_append_many(
        actor=actor,
        events=[
            Event(
                action="facilities.plan_applied",
                subject=f"facility:{facility.code}",
                occurred_at=at,
                payload={"facility": facility.code, **summary, "moves": len(document["moves"])},
            )
        ],
    )
