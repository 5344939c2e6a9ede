"""Appending to the ledger (ARCHITECTURE.md, the one rule; Mandela Rule 6).

Services call :func:`ledger_append` (or :func:`ledger_append_many` for bulk work) inside their
own transaction; the entry commits or rolls back with the change it records.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import repeat
from operator import attrgetter
from typing import Any, overload

from django.db import connections

from habeas.core import events as events_registry
from habeas.core.actor import Actor
from habeas.core.canonical import canonical_bytes, instant_text, loads
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
        datas: list[bytes] = []
        occurred_db: list[Any] = []
        occurred_list: list[dt.datetime] = []
        # Times formatted once per distinct instant. The key carries ``fold``: two aware
        # times with the same zone and wall clock compare equal even when ``fold`` makes them
        # different instants (the repeated hour when clocks go back).
        texts: dict[tuple[dt.datetime, int], tuple[str, Any]] = {
            (recorded_at, recorded_at.fold): (recorded_text, recorded_db)
        }
        encode = canonical_bytes
        payloads = _public_payloads(events, using)
        for index, event, payload in zip(
            range(start, start + len(events)), events, payloads, strict=True
        ):
            occurred_at = event.occurred_at or recorded_at
            occurred = texts.get((occurred_at, occurred_at.fold))
            if occurred is None:
                occurred_text = instant_text(occurred_at)
                occurred = texts[(occurred_at, occurred_at.fold)] = (
                    occurred_text,
                    db_time(occurred_at, occurred_text),
                )
            try:
                datas.append(
                    encode(
                        {
                            "action": event.action,
                            "actor": who,
                            "index": index,
                            "occurred_at": occurred[0],
                            "payload": payload,
                            "recorded_at": recorded_text,
                            "subject": event.subject,
                        }
                    )
                )
            except ValueError as exc:
                # e.g. a lone surrogate or a naive time: not storable nor hashable canonically.
                # Refuse the whole change (the caller's transaction rolls back).
                raise InvalidPayload(
                    MSG_BAD_PAYLOAD.format(error=exc), details={"subject": event.subject}
                ) from None
            occurred_db.append(occurred[1])
            occurred_list.append(occurred_at)
        # Leaf hashes and the rows, column by column with C-level maps (no per-row bytecode).
        leaves = merkle.leaf_hashes(datas)
        end = start + len(datas)
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


def _public_payloads(events: Sequence[Event], using: str) -> list[dict[str, Any]]:
    """Each event's payload as the ledger keeps it: the values its action declares personal
    replaced by commitments under the data subject's key (:mod:`habeas.ledger.privacy`)."""
    declared = events_registry.REGISTRY.actions
    names: dict[int, str] = {}
    personal_of: dict[str, tuple[str, ...]] = {}  # a batch is mostly one or two actions
    present = privacy.present
    for i, event in enumerate(events):
        personal = personal_of.get(event.action)
        if personal is None:
            spec = declared.get(event.action)
            personal = personal_of[event.action] = spec.personal if spec is not None else ()
        if personal and present(event.payload, personal):
            names[i] = declared[event.action].key_for(event.subject, event.payload)
    if not names:
        return [e.payload for e in events]
    keys = privacy.keys_for(names.values(), create=True, using=using)
    return [
        privacy.committed(e.payload, declared[e.action].personal, keys[names[i]])
        if i in names
        else e.payload
        for i, e in enumerate(events)
    ]


def _insert_many(connection: Any, cursor: Any, sql: str, rows: list[tuple[Any, ...]]) -> None:
    """``executemany`` of the rows. On PostgreSQL through a server-side-binding psycopg cursor
    on the same connection (and transaction): Django's default client-side-binding cursor
    quotes every value in Python, which made the append two to three times slower than the
    same rows inserted plainly. Errors are translated as Django's own cursor would."""
    if connection.vendor != "postgresql":
        cursor.executemany(sql, rows)
        return
    import psycopg

    with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as raw:
        raw.executemany(sql, rows)


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
    if connection.vendor == "sqlite" and connection.timezone is dt.UTC:

        def sqlite_time(value: dt.datetime, text: str) -> str:
            return text[:-1].replace("T", " ")

        return sqlite_time
    adapt = connection.ops.adapt_datetimefield_value

    def adapted(value: dt.datetime, text: str) -> Any:
        return adapt(value)

    return adapted


@dataclass(frozen=True)
class _Statements:
    head_size: str
    lock_head: str
    insert_entry: str
    insert_node: str
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

    def insert(table: str, columns: tuple[str, ...]) -> str:
        marks = ", ".join(["%s"] * len(columns))
        return f"INSERT INTO {q(table)} ({', '.join(q(c) for c in columns)}) VALUES ({marks})"  # noqa: S608

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
