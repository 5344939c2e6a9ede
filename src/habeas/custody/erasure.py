"""Erasure of a person's personal data after the retention period (ARCHITECTURE.md,
"Personal data and the ledger"; docs/ledger.md).

Habeas keeps personal data while anyone is held and for the agreement's retention period
after the last release (``Agreement.retention_days``): long enough for appeals, complaints and
claims about the custody. After that, ``habeas erase`` destroys the person's commitment keys
and deletes the bodies — names, date of birth, identifiers, the Rule 7 record's injuries,
complaints, property and relatives, notifications' recipients, free text — and records
``people.erased``. The custody facts (who was held, where, from when to when, under which
agreement and legal basis kind) stay, in the tables and on the ledger, provable by inclusion
proof; the ledger's commitments can no longer be tested against any guess.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from habeas.agreements.models import DEFAULT_RETENTION_DAYS
from habeas.core.actor import Actor
from habeas.core.clock import now
from habeas.core.errors import Conflict, ValidationFailed
from habeas.core.events import REGISTRY, AppendedEvent, blank_values, keys_of_person, on_appended
from habeas.core.services import service
from habeas.custody.models import CustodyEpisode, LegalBasis, TemporaryAbsence
from habeas.people.models import Person
from habeas.people.services import person_personal_data_erase

MSG_REASON = "an erasure needs a reason (the request or the retention rule that applies)"
MSG_IN_CUSTODY = (
    "person {person} is in custody: personal data is kept while a person is held (Mandela "
    "Rule 7); release them first"
)
MSG_RETENTION = (
    "person {person} may be erased from {until}: the retention period of agreement "
    "{agreement} ({days} days after the last release) has not passed"
)


def retention_until(person: Person) -> tuple[dt.date, str, int]:
    """The first day the person's data may be erased, and the agreement that sets it: the
    latest of each episode's release day plus its agreement's retention period (the default
    period for custody under no agreement); for someone never admitted, the registration day
    plus the default period."""
    latest: tuple[dt.date, str, int] | None = None
    episodes = CustodyEpisode.objects.filter(person=person).select_related("agreement")
    for episode in episodes:
        if episode.released_at is None:
            raise Conflict(MSG_IN_CUSTODY.format(person=person.pk))
        agreement = episode.agreement
        days = agreement.retention_days if agreement is not None else DEFAULT_RETENTION_DAYS
        code = agreement.code if agreement is not None else "(none: held under no agreement)"
        until = episode.released_at.date() + dt.timedelta(days=days)
        if latest is None or until > latest[0]:
            latest = (until, code, days)
    if latest is None:
        until = person.created_at.date() + dt.timedelta(days=DEFAULT_RETENTION_DAYS)
        latest = (until, "(none: never admitted)", DEFAULT_RETENTION_DAYS)
    return latest


@service
def person_erase(
    *, actor: Actor, person: Person, reason: str, at: dt.datetime | None = None
) -> Person:
    """Erase a person's personal data (see the module). Refused while the person is in
    custody or before the retention period has passed; one ``people.erased`` entry."""
    reason = reason.strip()
    if not reason:
        raise ValidationFailed(MSG_REASON)
    at = at or now()
    locked = Person.objects.select_for_update().get(pk=person.pk)
    until, agreement, days = retention_until(locked)
    if at.date() < until:
        raise Conflict(
            MSG_RETENTION.format(
                person=person.pk, until=until.isoformat(), agreement=agreement, days=days
            ),
            details={"erasable_from": until.isoformat()},
        )
    return person_personal_data_erase(
        actor=actor, person=locked, reason=reason, keys=keys_of_person(locked.pk), at=at
    )


def _blank_personal(table: str, queryset: Any) -> None:
    """Empty the columns the registry declares personal for ``table`` (nothing if none)."""
    covered = REGISTRY.tables.get(table)
    if covered is not None and covered.personal:
        queryset.update(**blank_values(queryset.model, covered.personal))


@on_appended("people.erased")
def _erase_custody_bodies(events: Sequence[AppendedEvent]) -> None:
    """Custody's personal bodies (free text about the person) go with the erasure."""
    for event in events:
        pid = event.payload["person"]
        _blank_personal("custody.LegalBasis", LegalBasis.objects.filter(person_id=pid))
        _blank_personal("custody.CustodyEpisode", CustodyEpisode.objects.filter(person_id=pid))
        _blank_personal(
            "custody.TemporaryAbsence", TemporaryAbsence.objects.filter(episode__person_id=pid)
        )
