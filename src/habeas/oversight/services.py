"""Writes of the oversight app: the access log and the locator's derived search index.

Neither writes a ledger entry, on purpose (see ``models``): the access log is a security
record of *reads* (one per page view; on the ledger it would grow the Merkle tree without
bound and bury the events Habeas answers for), protected instead by append-only triggers;
the locator index is a cache rebuilt from the people table and kept in step with the
``people.*`` ledger events. Neither table is a ``ServiceModel``; nothing here changes who is
held, where or why.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db import connection, transaction

from habeas.core.clock import now
from habeas.ledger.models import LedgerEntry
from habeas.ledger.services import ledger_size
from habeas.oversight.choices import AccessChannel
from habeas.oversight.locator import person_tokens
from habeas.oversight.models import AccessLog, LocatorState, LocatorToken
from habeas.people.models import Person

MSG_UNKNOWN_CHANNEL = "unknown access channel"

#: People re-indexed per batch (bounded memory and SQLite variable count).
INDEX_BATCH = 2000


def _role(user: Any) -> str:
    role = str(getattr(user, "role", "") or "")
    if not role and getattr(user, "is_superuser", False):
        return "superuser"
    return role


def access_log_record(
    *, user: Any, person: Person | int, channel: str, at: dt.datetime | None = None
) -> AccessLog:
    """Record that ``user`` opened ``person``'s file (Mandela Rule 9: need-to-know, every
    access recorded; Rule 6: audit trail against unauthorised access).

    A plain append to ``AccessLog`` (append-only by database trigger), not a ledger event: a
    read changes nothing Habeas answers for, and one Merkle leaf per page view would make the
    ledger grow with traffic instead of with events. Call it only *after* the scoped lookup
    succeeded, so that a refused (404) request is not logged as a view."""
    if channel not in AccessChannel.values:
        raise ValueError(MSG_UNKNOWN_CHANNEL)
    person_id = person if isinstance(person, int) else person.pk
    authenticated = getattr(user, "is_authenticated", False)
    return AccessLog.objects.create(
        viewed_at=at or now(),
        user=user if authenticated else None,
        username=str(getattr(user, "username", "")) if authenticated else "anonymous",
        role=_role(user) if authenticated else "",
        person_id=person_id,
        channel=channel,
    )


# --- the locator index ---------------------------------------------------------------------


def _token_rows(people: Iterable[Person]) -> list[LocatorToken]:
    rows: list[LocatorToken] = []
    for p in people:
        tokens = set(person_tokens(p.given_names, p.first_surname, p.second_surname).all)
        for nationality in {str(c).upper() for c in p.nationalities or []}:
            rows.extend(
                LocatorToken(
                    person_id=p.pk,
                    nationality=nationality,
                    birth_year=p.date_of_birth.year if p.date_of_birth else None,
                    token=t[:64],
                )
                for t in sorted(tokens)
            )
    return rows


def _reindex(person_ids: list[int]) -> None:
    for start in range(0, len(person_ids), INDEX_BATCH):
        chunk = person_ids[start : start + INDEX_BATCH]
        LocatorToken.objects.filter(person_id__in=chunk).delete()
        people = Person.objects.filter(pk__in=chunk).only(
            "pk",
            "given_names",
            "first_surname",
            "second_surname",
            "date_of_birth",
            "nationalities",
        )
        LocatorToken.objects.bulk_create(_token_rows(people), batch_size=INDEX_BATCH)


def locator_index_sync() -> int:
    """Bring the locator index up to the current ledger: re-index every person named by a
    ``people.*`` entry appended since the last sync. Cheap when nothing changed (two indexed
    reads). Returns the number of people re-indexed."""
    # One round trip when nothing changed (every search pays it): the ledger's size and ours.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT size FROM ledger_ledgerhead WHERE id = 1), "
            "(SELECT ledger_size FROM oversight_locatorstate WHERE id = 1)"
        )
        size, indexed = cursor.fetchone()
    size = int(size or 0)
    if indexed is not None and int(indexed) >= size:
        return 0
    with transaction.atomic():
        state, _created = LocatorState.objects.select_for_update().get_or_create(pk=1)
        if state.ledger_size >= size:
            return 0
        subjects = (
            LedgerEntry.objects.filter(
                index__gte=state.ledger_size, index__lt=size, action__startswith="people."
            )
            .values_list("subject", flat=True)
            .distinct()
        )
        ids = sorted({int(s.split(":", 1)[1]) for s in subjects if s.startswith("person:")})
        _reindex(ids)
        LocatorState.objects.filter(pk=1).update(ledger_size=size)
    return len(ids)


def locator_index_rebuild() -> int:
    """Rebuild the whole locator index from the people table (after a restore, or when the
    normalisation rules change). Returns the number of people indexed."""
    size = ledger_size()
    with transaction.atomic():
        LocatorToken.objects.all().delete()
        ids = list(Person.objects.order_by("pk").values_list("pk", flat=True))
        for start in range(0, len(ids), INDEX_BATCH):
            chunk = ids[start : start + INDEX_BATCH]
            people = Person.objects.filter(pk__in=chunk).only(
                "pk",
                "given_names",
                "first_surname",
                "second_surname",
                "date_of_birth",
                "nationalities",
            )
            LocatorToken.objects.bulk_create(_token_rows(people), batch_size=INDEX_BATCH)
        LocatorState.objects.update_or_create(pk=1, defaults={"ledger_size": size})
    return len(ids)
