"""Appending to the ledger (ARCHITECTURE.md, the one rule; Mandela Rule 6).

Services call :func:`ledger_append` (or :func:`ledger_append_many` for bulk work) inside their
own transaction; the entry commits or rolls back with the change it records.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connections

from habeas.core.actor import Actor
from habeas.core.canonical import canonical_bytes, instant_text, loads
from habeas.core.clock import now
from habeas.core.errors import ValidationFailed
from habeas.ledger import merkle
from habeas.ledger.models import LedgerEntry, LedgerHead, LedgerNode, node_key
from habeas.ledger.store import DatabaseNodeStore

MSG_BAD_PAYLOAD = "nothing was recorded: {error}"


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
) -> list[AppendedEntry]:
    """Append events with consecutive indices: one lock on the head, one multi-row insert of
    the entries and one of the new internal tree nodes (at most O(log n) per entry; leaves
    are read from the entries themselves).

    The ledger is the hottest write path (every domain event lands here), so the inserts
    bypass the ORM's per-field preparation: the rows are plain text, integers and bytes."""
    connection = connections[using]
    if not connection.in_atomic_block:
        raise LedgerOutsideTransaction("ledger_append must run inside the service's transaction")
    if not events:
        return []
    head = LedgerHead.objects.using(using).select_for_update().get(pk=1)
    start = head.size
    recorded_at = now()
    recorded_text = instant_text(recorded_at)
    who = actor.ledger_name
    adapt = connection.ops.adapt_datetimefield_value
    recorded_db = adapt(recorded_at)
    sha = hashlib.sha256
    appended: list[AppendedEntry] = []
    leaves: list[bytes] = []
    rows: list[tuple[Any, ...]] = []
    texts: dict[dt.datetime, tuple[str, Any]] = {}
    for offset, event in enumerate(events):
        index = start + offset
        occurred_at = event.occurred_at or recorded_at
        occurred = texts.get(occurred_at)
        if occurred is None:
            occurred = texts[occurred_at] = (instant_text(occurred_at), adapt(occurred_at))
        doc = {
            "action": event.action,
            "actor": who,
            "index": index,
            "occurred_at": occurred[0],
            "payload": event.payload,
            "recorded_at": recorded_text,
            "subject": event.subject,
        }
        try:
            data = canonical_bytes(doc)
        except ValueError as exc:
            # e.g. a lone surrogate or a naive time: not storable nor hashable canonically.
            # Refuse the whole change (the caller's transaction rolls back).
            raise InvalidPayload(
                MSG_BAD_PAYLOAD.format(error=exc), details={"subject": event.subject}
            ) from None
        leaf = sha(b"\x00" + data).digest()
        leaves.append(leaf)
        text = data.decode("utf-8")
        leaf_hex = leaf.hex()
        rows.append(
            (index, occurred[1], recorded_db, who, event.action, event.subject, text, leaf_hex)
        )
        appended.append(
            AppendedEntry(
                index, occurred_at, recorded_at, who, event.action, event.subject, text, leaf_hex
            )
        )
    new_nodes = merkle.compute_new_nodes(start, leaves, DatabaseNodeStore(using))
    nodes = [(node_key(level, idx), h) for (level, idx), h in new_nodes.items()]
    with connection.cursor() as cursor:
        cursor.executemany(_insert_sql(connection, "entry"), rows)
        if nodes:
            cursor.executemany(_insert_sql(connection, "node"), nodes)
    LedgerHead.objects.using(using).filter(pk=1).update(size=start + len(events))
    return appended


def _insert_sql(connection: Any, table: str) -> str:
    """The two INSERT statements; table and column names are constants, values parameters."""
    q = connection.ops.quote_name
    columns: tuple[str, ...]
    if table == "entry":
        columns = (
            "index", "occurred_at", "recorded_at", "actor", "action", "subject", "canonical",
            "leaf_hash",
        )  # fmt: skip
        name = LedgerEntry._meta.db_table
    else:
        columns = ("key", "hash")
        name = LedgerNode._meta.db_table
    marks = ", ".join(["%s"] * len(columns))
    return f"INSERT INTO {q(name)} ({', '.join(q(c) for c in columns)}) VALUES ({marks})"  # noqa: S608


def ledger_size(using: str = "default") -> int:
    return int(LedgerHead.objects.using(using).values_list("size", flat=True).get(pk=1))


def ledger_root(size: int | None = None, using: str = "default") -> bytes:
    """The Merkle tree hash of the first ``size`` entries, from the stored tree."""
    if size is None:
        size = ledger_size(using)
    if size == 0:
        return merkle.EMPTY_ROOT
    return merkle.root_from_store(size, DatabaseNodeStore(using))


def verification_record(
    *, size: int, root: bytes, ok: bool, problems: list[dict[str, str]]
) -> None:
    """Keep the outcome of a verification run for the oversight pages. Operational data, not
    a domain event: it is not itself appended to the ledger it describes."""
    from habeas.ledger.models import LedgerVerification

    LedgerVerification.objects.create(
        ran_at=now(), size=size, root=root.hex(), ok=ok, problems=problems
    )
