"""Writes of the oversight app: the access log and the locator's derived search index.

Neither writes a ledger entry, on purpose (see ``models``): the access log is a security
record of *reads* (one per page view; on the ledger it would grow the Merkle tree without
bound and bury the events Habeas answers for), protected instead by append-only triggers;
the locator index is a cache rebuilt from the people table and kept in step with the
``people.*`` ledger events by a listener run in their transaction (``events.py``). Neither
table is a ``ServiceModel``; nothing here changes who is held, where or why.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

from django.db import connection, transaction

from habeas.accounts.permissions import access_log_role
from habeas.core.clock import now
from habeas.oversight.choices import AccessChannel, AccessQuery
from habeas.oversight.locator import (
    INDEX_TABLE,
    TOKEN_MAX_LENGTH,
    VARIANT_TABLE,
    deletion_variants,
    person_tokens,
)
from habeas.oversight.models import AccessLog, LocatorToken
from habeas.people.models import Person
from habeas.people.names import skeleton

MSG_UNKNOWN_CHANNEL = "unknown access channel"
MSG_UNKNOWN_QUERY = "unknown access query"

#: People re-indexed per batch (bounded memory and SQLite variable count).
INDEX_BATCH = 2000

#: People read per chunk by a full rebuild.
REBUILD_BATCH = 20_000


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
        role=access_log_role(user) if authenticated else "",
        person_id=person_id,
        channel=channel,
    )


def access_log_query(
    *, user: Any, query: str, subject: str, channel: str, at: dt.datetime | None = None
) -> AccessLog:
    """Record a probe of the registry by ``user``: a manifest dry run or an identity matching
    call (Mandela Rule 9: every access recorded, a probe that stores nothing included). The
    same append-only log as file views, with no person."""
    if channel not in AccessChannel.values:
        raise ValueError(MSG_UNKNOWN_CHANNEL)
    if query not in AccessQuery.values or not query:
        raise ValueError(MSG_UNKNOWN_QUERY)
    authenticated = getattr(user, "is_authenticated", False)
    return AccessLog.objects.create(
        viewed_at=at or now(),
        user=user if authenticated else None,
        username=str(getattr(user, "username", "")) if authenticated else "anonymous",
        role=access_log_role(user) if authenticated else "",
        person=None,
        channel=channel,
        query=query,
        subject=subject[:300],
    )


# --- the locator index ---------------------------------------------------------------------
#
# Raw SQL on purpose: the index is a derived cache of a million people or more, rebuilt in
# chunks of plain tuples (COPY on PostgreSQL, executemany on SQLite), never model instances.


def _people_columns() -> str:
    """The people columns the index is built from; the year of birth is cut in SQL (no date
    objects for a million rows)."""
    if connection.vendor == "postgresql":
        year = "CAST(EXTRACT(YEAR FROM date_of_birth) AS integer)"
    else:
        year = "CAST(substr(date_of_birth, 1, 4) AS integer)"
    return f"id, given_names, first_surname, second_surname, {year}, nationalities"


@lru_cache(maxsize=4096)
def _nationalities(value: str) -> tuple[str, ...]:
    return tuple(sorted({str(c).upper()[:3] for c in json.loads(value) or []}))


@lru_cache(maxsize=200_000)
def _field_tokens(text: str) -> tuple[str, ...]:
    """The index tokens of one name field (fields repeat far more than whole names): each
    word's key, and the folded word where it differs (``villalobos`` beside its key
    ``vilalobos``: a typo is measured on either)."""
    tokens = person_tokens(text, "")
    words = list(tokens.all)
    words += [t for k, t in zip(tokens.all, tokens.all_typed, strict=True) if t != k]
    return tuple(t[:TOKEN_MAX_LENGTH] for t in words)


def _token_rows(people: Iterable[Sequence[Any]]) -> list[tuple[str, str, int | None, int]]:
    """(token, nationality, birth_year, person_id) rows of ``people`` (rows of
    :func:`_people_columns`): one per word of the name and nationality. A repeated word
    ("Martínez Martínez") has a row per occurrence: the search counts rows, and a search
    "martinez martniez" must count two."""
    rows: list[tuple[str, str, int | None, int]] = []
    for pk, given, s1, s2, year, nationalities in people:
        words = _field_tokens(given) + _field_tokens(s1) + _field_tokens(s2 or "")
        raw = nationalities if isinstance(nationalities, str) else json.dumps(nationalities)
        for nationality in _nationalities(raw):
            rows.extend([(t, nationality, year, pk) for t in words])
    return rows


def _copy_or_insert(cursor: Any, table: str, columns: str, rows: Sequence[Sequence[Any]]) -> None:
    if not rows:
        return
    if connection.vendor == "postgresql":
        with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    marks = ", ".join(["%s"] * len(rows[0]))
    cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", rows)  # noqa: S608


def _insert_tokens(cursor: Any, rows: list[tuple[str, str, int | None, int]]) -> None:
    _copy_or_insert(cursor, INDEX_TABLE, "token, nationality, birth_year, person_id", rows)


def _variant_rows(words: Iterable[str]) -> list[tuple[str, str]]:
    """Each word's own row (variant = token: the word is known), its deletion variants
    (typos) and its consonant skeleton (transliteration to or from Arabic script)."""
    rows: set[tuple[str, str]] = set()
    for w in words:
        rows.add((w, w))
        rows.update((v, w) for v in deletion_variants(w))
        key = skeleton(w)
        if key:
            rows.add((key[:TOKEN_MAX_LENGTH], w))
    return sorted(rows)


def _add_variants(cursor: Any, words: set[str]) -> None:
    """The variant rows of the words not yet in ``LocatorVariant`` (a word's own row,
    variant = token, says it is there)."""
    if not words:
        return
    marks = ", ".join(["%s"] * len(words))
    cursor.execute(
        f"SELECT variant FROM {VARIANT_TABLE} WHERE variant IN ({marks}) AND token = variant",  # noqa: S608
        sorted(words),
    )
    new = words - {str(r[0]) for r in cursor.fetchall()}
    if new:
        cursor.executemany(
            f"INSERT INTO {VARIANT_TABLE} (variant, token) VALUES (%s, %s) "  # noqa: S608
            "ON CONFLICT DO NOTHING",
            _variant_rows(new),
        )


def _reindex(person_ids: list[int]) -> None:
    """Replace the index rows of these people by rows read from the people table."""
    with connection.cursor() as cursor:
        for start in range(0, len(person_ids), INDEX_BATCH):
            chunk = person_ids[start : start + INDEX_BATCH]
            marks = ", ".join(["%s"] * len(chunk))
            delete = f"DELETE FROM {INDEX_TABLE} WHERE person_id IN ({marks})"  # noqa: S608
            cursor.execute(delete, chunk)
            select = f"SELECT {_people_columns()} FROM people_person WHERE id IN ({marks})"  # noqa: S608
            cursor.execute(select, chunk)
            rows = _token_rows(cursor.fetchall())
            _add_variants(cursor, {r[0] for r in rows})
            _insert_tokens(cursor, rows)


def locator_index_people(person_ids: Sequence[int]) -> int:
    """Re-index these people from the people table (their old rows go, their current names
    come in). Called by ``habeas.oversight.events`` in the transaction of the ``people.*``
    event that changed them, never by a search. Returns the number of people given."""
    _reindex(sorted(set(person_ids)))
    return len(person_ids)


def locator_index_rebuild() -> int:
    """Rebuild the whole locator index from the people table (after a restore, or when the
    normalisation rules change), in chunks of :data:`REBUILD_BATCH` people read by primary
    key. The table's indexes are dropped for the load and built again at the end (one sort
    instead of millions of random B-tree inserts); on PostgreSQL searches therefore wait for
    the rebuild to commit (they are never answered from a half-built index). Returns the number
    of people indexed."""
    indexed = 0
    qn = connection.ops.quote_name
    # The model's own indexes (its fields are plain columns of the same name).
    indexes = [
        (qn(str(index.name)), ", ".join(qn(f) for f in index.fields))
        for index in LocatorToken._meta.indexes
    ]
    with transaction.atomic(), connection.cursor() as cursor:
        for table in (INDEX_TABLE, VARIANT_TABLE):
            if connection.vendor == "postgresql":
                cursor.execute(f"TRUNCATE {table}")
            else:
                cursor.execute(f"DELETE FROM {table}")  # noqa: S608
        for name, _columns in indexes:
            cursor.execute(f"DROP INDEX IF EXISTS {name}")
        select = f"SELECT {_people_columns()} FROM people_person WHERE id > %s ORDER BY id LIMIT %s"  # noqa: S608
        last = 0
        words: set[str] = set()
        while True:
            cursor.execute(select, [last, REBUILD_BATCH])
            people = cursor.fetchall()
            if not people:
                break
            rows = _token_rows(people)
            words.update(r[0] for r in rows)
            _insert_tokens(cursor, rows)
            indexed += len(people)
            last = int(people[-1][0])
        _copy_or_insert(
            cursor,
            VARIANT_TABLE,
            "variant, token",
            _variant_rows(words),
        )
        for name, columns in indexes:
            cursor.execute(f"CREATE INDEX {name} ON {INDEX_TABLE} ({columns})")
        if connection.vendor == "postgresql":
            cursor.execute(f"ANALYZE {INDEX_TABLE}")
            cursor.execute(f"ANALYZE {VARIANT_TABLE}")
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        # The visibility map, so that searches are index-only scans from the first one on
        # (autovacuum would get there, later); VACUUM cannot run inside a transaction.
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM (ANALYZE) {INDEX_TABLE}")
            cursor.execute(f"VACUUM (ANALYZE) {VARIANT_TABLE}")
    return indexed
