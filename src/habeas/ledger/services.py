"""Appending to the ledger (ARCHITECTURE.md, the one rule; Mandela Rule 6).

Services call :func:`ledger_append` (or :func:`ledger_append_many` for bulk work) inside their
own transaction; the entry commits or rolls back with the change it records.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import chain, repeat
from operator import attrgetter
from typing import Any, overload

from django.db import connections

from habeas.core import events as events_registry
from habeas.core.actor import Actor
from habeas.core.canonical import (
    canonical_bytes,
    canonical_bytes_many,
    instant_text,
    instant_texts,
    loads,
)
from habeas.core.clock import now
from habeas.core.errors import ValidationFailed
from habeas.ledger import merkle, privacy
from habeas.ledger.models import (
    NODE_MIN_STORED_LEVEL,
    LedgerEntry,
    LedgerHead,
    LedgerNode,
    node_key,
)
from habeas.ledger.store import DatabaseNodeStore, HeadStore, border_from_nodes, read_head

MSG_BAD_PAYLOAD = "nothing was recorded: {error}"

_action = attrgetter("action")
_subject = attrgetter("subject")


class InvalidPayload(ValidationFailed, ValueError):
    """A value that has no canonical JSON form (a naive time, NaN, a lone surrogate)."""


class LedgerOutsideTransaction(RuntimeError):
    """An append outside a transaction could commit without the change it records."""


@dataclass(frozen=True)
class Event:
    """One domain event to record: ``action`` is ``<app>.<past-tense verb>``."""

    action: str
    subject: str
    payload: dict[str, Any] = field(default_factory=dict)
    occurred_at: dt.datetime | None = None


def entry_document(
    *,
    index: int,
    occurred_at: dt.datetime,
    recorded_at: dt.datetime,
    actor: str,
    action: str,
    subject: str,
    payload: dict[str, Any],
) -> dict[str, Any]:
    """The document whose canonical bytes are the leaf (index binds the entry's position)."""
    return {
        "index": index,
        "occurred_at": occurred_at,
        "recorded_at": recorded_at,
        "actor": actor,
        "action": action,
        "subject": subject,
        "payload": payload,
    }


@dataclass(frozen=True, slots=True)
class AppendedEntry:
    """What an append wrote (the stored row is :class:`~habeas.ledger.models.LedgerEntry`)."""

    index: int
    occurred_at: dt.datetime
    recorded_at: dt.datetime
    actor: str
    action: str
    subject: str
    canonical: str
    leaf_hash: str

    @property
    def payload(self) -> dict[str, Any]:
        value: dict[str, Any] = loads(self.canonical)["payload"]
        return value


class AppendedEntries(Sequence[AppendedEntry]):
    """The entries one append wrote, built on access: bulk callers rarely look at them, and
    building a thousand objects they discard would be a tenth of the append."""

    __slots__ = ("_occurred", "_recorded_at", "_rows")

    def __init__(
        self, rows: list[tuple[Any, ...]], occurred: list[dt.datetime], recorded_at: dt.datetime
    ) -> None:
        self._rows = rows
        self._occurred = occurred
        self._recorded_at = recorded_at

    def __len__(self) -> int:
        return len(self._rows)

    @overload
    def __getitem__(self, i: int) -> AppendedEntry: ...
    @overload
    def __getitem__(self, i: slice) -> list[AppendedEntry]: ...
    def __getitem__(self, i: int | slice) -> AppendedEntry | list[AppendedEntry]:
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(len(self._rows)))]
        index, _occ, _rec, who, action, subject, text, leaf_hex = self._rows[i]
        return AppendedEntry(
            index, self._occurred[i], self._recorded_at, who, action, subject, text, leaf_hex
        )


def ledger_append(
    *,
    actor: Actor,
    action: str,
    subject: str,
    payload: dict[str, Any],
    occurred_at: dt.datetime | None = None,
    using: str = "default",
) -> AppendedEntry:
    """Append one event; must run inside the calling service's transaction."""
    return ledger_append_many(
        actor=actor,
        events=[Event(action=action, subject=subject, payload=payload, occurred_at=occurred_at)],
        using=using,
    )[0]


def ledger_append_many(
    *, actor: Actor, events: Sequence[Event], using: str = "default"
) -> Sequence[AppendedEntry]:
    """Append events with consecutive indices: one locked read of the head (size and the
    tree's right border), one read of the few stored nodes the new ones are hashed with, one
    multi-row insert of the entries, one of the internal tree nodes they complete at the
    stored levels (about one per 8 entries), one update of the head (size and new border).

    The ledger is the hottest write path (every domain event lands here), so it bypasses the
    ORM: the rows are plain text, integers and bytes, and times are formatted once each."""
    connection = connections[using]
    if not connection.in_atomic_block:
        raise LedgerOutsideTransaction("ledger_append must run inside the service's transaction")
    if not events:
        return []
    sql = _statements(connection)
    with connection.cursor() as cursor:
        cursor.execute(sql.lock_head)
        row = cursor.fetchone()
        if row is None:
            raise LookupError("the ledger head row is missing")
        start, border_bytes = int(row[0]), bytes(row[1])
        recorded_at = now()
        recorded_text = instant_text(recorded_at)
        who = actor.ledger_name
        db_time = _db_time(connection)
        recorded_db = db_time(recorded_at, recorded_text)
        # Every time in one batch (C-level passes; formatted one by one only when a value is
        # not a plain aware datetime).
        occurred_list = [event.occurred_at or recorded_at for event in events]
        occurred_texts = instant_texts(occurred_list)
        occurred_db = _db_times(connection, occurred_list, occurred_texts)
        end = start + len(events)
        documents = [
            {
                "action": action,
                "actor": who,
                "index": index,
                "occurred_at": occurred_text,
                "payload": payload,
                "recorded_at": recorded_text,
                "subject": subject,
            }
            for index, action, occurred_text, payload, subject in zip(
                range(start, end),
                map(_action, events),
                occurred_texts,
                _public_payloads(events, using),
                map(_subject, events),
                strict=True,
            )
        ]
        try:
            datas = canonical_bytes_many(documents)
        except ValueError:
            # e.g. a lone surrogate or a naive time: not storable nor hashable canonically.
            # Refuse the whole change (the caller's transaction rolls back), naming the event.
            _refuse(events, documents)
            raise
        # Leaf hashes and the rows, column by column with C-level maps (no per-row bytecode).
        leaves = merkle.leaf_hashes(datas)
        rows = list(
            zip(
                range(start, end),
                occurred_db,
                repeat(recorded_db),
                repeat(who),
                map(_action, events),
                map(_subject, events),
                map(bytes.decode, datas),
                map(bytes.hex, leaves),
                strict=False,
            )
        )
        grown = merkle.grow(
            start, _trusted_border(start, len(leaves), border_bytes, using), leaves, checked=False
        )
        nodes: list[tuple[int, bytes]] = []
        for level, first, hashes in grown.levels:
            if level >= NODE_MIN_STORED_LEVEL:
                base = node_key(level, first)
                nodes.extend(zip(range(base, base + len(hashes)), hashes, strict=True))
        _insert_many(connection, cursor, sql.insert_entry, rows)
        if nodes:
            _insert_many(connection, cursor, sql.insert_node, nodes)
        cursor.execute(sql.update_head, [end, b"".join(grown.border)])
    events_registry.dispatch(events)
    return AppendedEntries(rows, occurred_list, recorded_at)


def _refuse(events: Sequence[Event], documents: list[dict[str, Any]]) -> None:
    """Raise :class:`InvalidPayload` for the first event whose entry has no canonical form."""
    for event, document in zip(events, documents, strict=True):
        try:
            canonical_bytes(document)
        except ValueError as exc:
            raise InvalidPayload(
                MSG_BAD_PAYLOAD.format(error=exc), details={"subject": event.subject}
            ) from None


def _public_payloads(events: Sequence[Event], using: str) -> list[dict[str, Any]]:
    """Each event's payload as the ledger keeps it: the values its action declares personal
    replaced by commitments under the data subject's key (:mod:`habeas.ledger.privacy`)."""
    declared = events_registry.REGISTRY.actions
    names: dict[int, str] = {}
    # a batch is mostly one or two actions: per action, its personal paths and the payload
    # keys they start from (a plain-dict payload holding none of those keys has no personal
    # value: one C-level ``isdisjoint`` instead of a walk per path)
    personal_of: dict[str, tuple[tuple[str, ...], frozenset[str]]] = {}
    present = privacy.present
    for i, event in enumerate(events):
        found = personal_of.get(event.action)
        if found is None:
            spec = declared.get(event.action)
            paths = spec.personal if spec is not None else ()
            found = personal_of[event.action] = (
                paths,
                frozenset(path.split(".", 1)[0] for path in paths),
            )
        personal, heads = found
        if not personal:
            continue
        payload = event.payload
        if type(payload) is dict and heads.isdisjoint(payload):
            continue
        if present(payload, personal):
            names[i] = declared[event.action].key_for(event.subject, payload)
    if not names:
        return [e.payload for e in events]
    keys = privacy.keys_for(names.values(), create=True, using=using)
    return [
        privacy.committed(e.payload, declared[e.action].personal, keys[names[i]])
        if i in names
        else e.payload
        for i, e in enumerate(events)
    ]


#: Rows per INSERT statement: one statement binds and steps many rows, which costs the
#: database and the driver much less per row than one statement per row (as for the cell
#: readings); 100 rows of 8 values stay below SQLite's 999 parameters.
ROWS_PER_STATEMENT = 100


def _insert_many(
    connection: Any, cursor: Any, insert: _Insert, rows: list[tuple[Any, ...]]
) -> None:
    """Insert the rows, ``ROWS_PER_STATEMENT`` a statement (``executemany`` of the full
    statements, one more for the rest). On PostgreSQL through a server-side-binding psycopg
    cursor on the same connection (and transaction): Django's default client-side-binding
    cursor quotes every value in Python, which made the append two to three times slower
    than the same rows inserted plainly. Errors are translated as Django's own cursor would."""
    per = ROWS_PER_STATEMENT
    width = insert.columns * per
    flat = list(chain.from_iterable(rows))
    full = len(rows) // per * width
    chunks = [flat[i : i + width] for i in range(0, full, width)]
    rest = (len(flat) - full) // insert.columns
    if connection.vendor != "postgresql":
        if chunks:
            cursor.executemany(insert.values(per), chunks)
        if rest:
            cursor.execute(insert.values(rest), flat[full:])
        return
    import psycopg

    with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as raw:
        if chunks:
            raw.executemany(insert.values(per), chunks)
        if rest:
            raw.execute(insert.values(rest), flat[full:])


@dataclass
class _Insert:
    """A multi-row INSERT into one table: ``values(n)`` is the statement for ``n`` rows."""

    head: str
    columns: int
    _sql: dict[int, str] = field(default_factory=dict)

    def values(self, rows: int) -> str:
        found = self._sql.get(rows)
        if found is None:
            one = "(" + ", ".join(["%s"] * self.columns) + ")"
            found = self._sql[rows] = self.head + ", ".join([one] * rows)
        return found


def _trusted_border(start: int, count: int, head_border: bytes, using: str) -> list[bytes]:
    """The old tree's right border for growing it: the head's copy, except that the nodes the
    new ones are hashed with (:func:`merkle.left_siblings`, about one per append) are read
    from the append-only stored tree, so a damaged head row can never be built into stored
    nodes (at worst it serves a wrong root until this append rewrites it, and verify-ledger
    names it)."""
    levels = merkle.border_levels(start)
    border = [head_border[i : i + 32] for i in range(0, len(head_border), 32)]
    if len(border) != len(levels) or any(len(h) != 32 for h in border):
        return border_from_nodes(start, using)
    used = merkle.left_siblings(start, count)
    if used:
        stored = DatabaseNodeStore(using).get_nodes(used)
        position = {level: i for i, level in enumerate(levels)}
        for key in used:
            border[position[key[0]]] = stored[key]
    return border


def _db_time(connection: Any) -> Any:
    """How a datetime is handed to the database. SQLite stores naive UTC text
    (``YYYY-MM-DD HH:MM:SS[.ffffff]``, what Django's adapter writes), which is the instant's
    canonical text (``…T…Z``, UTC) respelt; other engines take the aware datetime."""
    if _sqlite_utc(connection):

        def sqlite_time(value: dt.datetime, text: str) -> str:
            return text[:-1].replace("T", " ")

        return sqlite_time
    adapt = connection.ops.adapt_datetimefield_value

    def adapted(value: dt.datetime, text: str) -> Any:
        return adapt(value)

    return adapted


def _sqlite_utc(connection: Any) -> bool:
    return bool(connection.vendor == "sqlite" and connection.timezone is dt.UTC)


def _db_times(connection: Any, values: list[dt.datetime], texts: list[str]) -> list[Any]:
    """:func:`_db_time` of a batch: on SQLite the canonical texts respelt in one pass over
    their join (each has one ``T`` and a final ``Z``; none has a line break)."""
    if _sqlite_utc(connection):
        return "\n".join(texts).replace("T", " ").replace("Z", "").split("\n")
    return list(map(connection.ops.adapt_datetimefield_value, values))


@dataclass(frozen=True)
class _Statements:
    head_size: str
    lock_head: str
    insert_entry: _Insert
    insert_node: _Insert
    update_head: str


_STATEMENTS: dict[str, _Statements] = {}


def _statements(connection: Any) -> _Statements:
    """The append's SQL for one engine; table and column names are constants, values are
    parameters. PostgreSQL locks the head row until commit (concurrent appenders queue);
    SQLite transactions here are IMMEDIATE (settings), so the write lock is already held."""
    found = _STATEMENTS.get(connection.vendor)
    if found is not None:
        return found
    q = connection.ops.quote_name
    head = q(LedgerHead._meta.db_table)
    entry_columns = (
        "index", "occurred_at", "recorded_at", "actor", "action", "subject", "canonical",
        "leaf_hash",
    )  # fmt: skip
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""

    def insert(table: str, columns: tuple[str, ...]) -> _Insert:
        head = f"INSERT INTO {q(table)} ({', '.join(q(c) for c in columns)}) VALUES "  # noqa: S608
        return _Insert(head, len(columns))

    found = _STATEMENTS[connection.vendor] = _Statements(
        head_size=f"SELECT {q('size')} FROM {head} WHERE {q('id')} = 1",  # noqa: S608
        lock_head=f"SELECT {q('size')}, {q('border')} FROM {head} WHERE {q('id')} = 1{lock}",  # noqa: S608
        insert_entry=insert(LedgerEntry._meta.db_table, entry_columns),
        insert_node=insert(LedgerNode._meta.db_table, ("key", "hash")),
        update_head=f"UPDATE {head} SET {q('size')} = %s, {q('border')} = %s WHERE {q('id')} = 1",  # noqa: S608
    )
    return found


def ledger_size(using: str = "default") -> int:
    """The number of entries (the head's size; one raw query)."""
    connection = connections[using]
    with connection.cursor() as cursor:
        cursor.execute(_statements(connection).head_size)
        row = cursor.fetchone()
    if row is None:
        raise LookupError("the ledger head row is missing")
    return int(row[0])


def ledger_root(size: int | None = None, using: str = "default") -> bytes:
    """The Merkle tree hash of the first ``size`` entries: the fold of the head's border for
    the current size, of at most log n stored nodes for an older one."""
    head = read_head(using)
    if size is None or size == head.size:
        return head.root
    if size == 0:
        return merkle.EMPTY_ROOT
    return merkle.root_from_store(size, HeadStore(head, merkle.subtree_keys_for_root(size), using))


def verification_record(
    *, size: int, root: bytes, ok: bool, problems: list[dict[str, str]]
) -> None:
    """Keep the outcome of a verification run for the oversight pages. Operational data, not
    a domain event: it is not itself appended to the ledger it describes."""
    from habeas.ledger.models import LedgerVerification

    LedgerVerification.objects.create(
        ran_at=now(), size=size, root=root.hex(), ok=ok, problems=problems
    )
