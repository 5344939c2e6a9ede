"""The alarm conditions of every open episode (A4.1-A4.6, :mod:`habeas.custody.check`), kept
as events happen (Mandela Rule 7(b): nobody held without a valid order, seen at once).

Evaluated over the whole registry, the conditions cost a join of every open episode with its
orders; the alerts and the statistics asked for them on every request. They change for two
reasons only: an event (an admission, a release, a transfer, an order vacated or converted, a
release date recalculated, an agreement's term amended), and the calendar (a date passes in a
facility's time zone). So:

* every ``custody.*`` event re-evaluates the episodes of the people it names, in its own
  transaction (:func:`standing_update`, a listener registered by the app at start-up), and
  an amended agreement re-evaluates the episodes held under it;
* the rows are valid for the *day key* of :class:`~habeas.custody.models.StandingDay`
  (each facility's date, the removal and notice periods). When the key no longer names the
  present, the readers evaluate live (:func:`standing_conditions` answers ``None``) until
  ``check-custody`` — the daily safety net — evaluates every episode again
  (:func:`standing_refresh`).

A read never writes (the statistics may be answered by a read replica).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.db import connection
from django.db.models import Count, QuerySet

from habeas.core.events import AppendedEvent
from habeas.core.rows import Rows
from habeas.custody.check import (
    _today_by_facility,
    agreement_notice_days,
    conditions_for,
    removal_period_days,
)
from habeas.custody.models import CustodyEpisode, StandingCondition, StandingDay

CHUNK = 5000
Conditions = dict[tuple[int, str], tuple[dt.date, str]]


def day_key(at: dt.datetime) -> str:
    """What the conditions at ``at`` depend on besides the tables: each facility's date in its
    own time zone and the two periods."""
    days = ",".join(f"{pk}:{d.isoformat()}" for pk, d in sorted(_today_by_facility(at).items()))
    return f"{removal_period_days()}|{agreement_notice_days()}|{days}"


def _current_key() -> str | None:
    return StandingDay.objects.filter(pk=1).values_list("key", flat=True).first()


def _facilities(episode_ids: Sequence[int]) -> dict[int, int]:
    return {
        pk: facility
        for i in range(0, len(episode_ids), CHUNK)
        for pk, facility in CustodyEpisode.objects.filter(
            pk__in=episode_ids[i : i + CHUNK]
        ).values_list("pk", "facility_id")
    }


def _rows(found: Conditions, facilities: dict[int, int]) -> list[StandingCondition]:
    return [
        StandingCondition(
            episode_id=ep, facility_id=facilities[ep], rule=rule, since=since, value=value
        )
        for (ep, rule), (since, value) in sorted(found.items())
    ]


def standing_stale(at: dt.datetime) -> bool:
    """Whether the kept rows name another day than ``at``'s (or none yet)."""
    return _current_key() != day_key(at)


def standing_refresh(at: dt.datetime) -> None:
    """Evaluate every open episode at ``at`` and name that day (run by ``check-custody``)."""
    found = conditions_for(None, at)
    StandingCondition.objects.all().delete()
    facilities = _facilities(sorted({ep for ep, _rule in found}))
    StandingCondition.objects.bulk_create(_rows(found, facilities), batch_size=1000)
    StandingDay.objects.update_or_create(pk=1, defaults={"key": day_key(at)})


def standing_update(episode_ids: Sequence[int], at: dt.datetime) -> None:
    """Evaluate these episodes again (a released one holds no condition). Nothing to do
    while the rows name another day: they are not read then, and the next refresh rewrites
    them all. Per chunk: the set-based evaluation, one plain delete, one plain read of the
    facilities and one ``executemany`` of the rows (:mod:`habeas.core.rows`)."""
    if _current_key() != day_key(at):
        return
    ids = sorted(set(episode_ids))
    table = StandingCondition._meta.db_table
    episodes = CustodyEpisode._meta.db_table
    for i in range(0, len(ids), CHUNK):
        part = ids[i : i + CHUNK]
        found = conditions_for(part, at)
        marks = ", ".join(["%s"] * len(part))
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {table} WHERE episode_id IN ({marks})", part)  # noqa: S608
            if not found:
                continue
            wanted = sorted({ep for ep, _rule in found})
            cursor.execute(
                f"SELECT id, facility_id FROM {episodes} "  # noqa: S608 - names from the models
                f"WHERE id IN ({', '.join(['%s'] * len(wanted))})",
                wanted,
            )
            facilities = dict(cursor.fetchall())
        writer = Rows()
        date = writer.date
        conditions = sorted(found.items())
        writer.insert(
            StandingCondition,
            ("id", "episode_id", "facility_id", "rule", "since", "value"),
            [
                (pk, ep, facilities[ep], rule, date(since), value)
                for pk, ((ep, rule), (since, value)) in zip(
                    writer.ids(StandingCondition, len(conditions)), conditions, strict=True
                )
            ],
        )


def standing_conditions(episodes: QuerySet[CustodyEpisode], at: dt.datetime) -> Conditions | None:
    """(episode, rule) → (since, value) of the conditions holding at ``at`` for ``episodes``
    (open episodes), from the kept rows; ``None`` when they do not name ``at``'s day (the
    caller evaluates live)."""
    if _current_key() != day_key(at):
        return None
    rows = StandingCondition.objects.filter(episode_id__in=episodes.order_by().values("pk"))
    return {
        (ep, rule): (since, value)
        for ep, rule, since, value in rows.values_list("episode_id", "rule", "since", "value")
    }


def standing_count(facility_ids: Sequence[int], at: dt.datetime) -> int | None:
    """How many conditions hold at ``at`` in these facilities (``None``: not kept for that
    day)."""
    if _current_key() != day_key(at):
        return None
    found = StandingCondition.objects.filter(facility_id__in=list(facility_ids)).aggregate(
        n=Count("pk")
    )
    return int(found["n"] or 0)


def episodes_named(events: Sequence[AppendedEvent]) -> list[int]:
    """The episodes of the people the events name (subjects ``person:N``, or a payload's
    ``person``), released ones included (their rows are removed)."""
    people: set[int] = set()
    for event in events:
        kind, _sep, pk = event.subject.partition(":")
        if kind == "person" and pk.isdigit():
            people.add(int(pk))
        person = event.payload.get("person")
        if isinstance(person, int):
            people.add(person)
    if not people:
        return []
    ids = sorted(people)
    found: list[int] = []
    with connection.cursor() as cursor:
        for i in range(0, len(ids), CHUNK):
            part = ids[i : i + CHUNK]
            cursor.execute(
                f"SELECT id FROM {CustodyEpisode._meta.db_table} "  # noqa: S608 - the model's table
                f"WHERE person_id IN ({', '.join(['%s'] * len(part))})",
                part,
            )
            found += [pk for (pk,) in cursor.fetchall()]
    return found


#: Events that can change the conditions of many episodes at once: an agreement's term or
#: facilities, a facility's time zone. Rare; every episode is evaluated again.
REGISTRY_CHANGES = (
    "agreements.agreement_amended",
    "agreements.agreement_facilities_set",
    "facilities.facility_amended",
    "facilities.facility_declared",
)


def on_custody_events(events: Sequence[AppendedEvent]) -> None:
    """Listener of every ``custody.*`` action (registered by the app at start-up)."""
    from django.utils import timezone

    ids = episodes_named(events)
    if ids:
        standing_update(ids, timezone.now())


def on_registry_changes(events: Sequence[AppendedEvent]) -> None:
    from django.utils import timezone

    standing_refresh(timezone.now())
