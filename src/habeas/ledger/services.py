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
from habeas.core.canonical import canonical_text_of_plain, instant_text, plain
from habeas.core.clock import now
from habeas.core.errors import ValidationFailed
from habeas.ledger import merkle
from habeas.ledger.models import LedgerEntry, LedgerHead, LedgerNode, node_key
from habeas.ledger.store import DatabaseNodeStore

MSG_BAD_TEXT = "text contains invalid Unicode (a lone surrogate); nothing was recorded"


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


def ledger_append(
    *,
    actor: Actor,
    action: str,
    subject: str,
    payload: dict[str, Any],
    occurred_at: dt.datetime | None = None,
    using: str = "default",
) -> LedgerEntry:
    """Append one event; must run inside the calling service's transaction."""
    return ledger_append_many(
        actor=actor,
        events=[Event(action=action, subject=subject, payload=payload, occurred_at=occurred_at)],
        using=using,
    )[0]


def ledger_append_many(
    *, actor: Actor, events: Sequence[Event], using: str = "default"
) -> list[LedgerEntry]:
    """Append events with consecutive indices: one lock on the head, one multi-row insert of
    the entries and one of the new tree nodes (O(log n) nodes per entry at most).

    The inserts bypass the ORM's per-field preparation (the ledger is the hottest write path:
    every domain event lands here); the rows are plain text, integers and bytes."""
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
    entries: list[LedgerEntry] = []
    leaves: list[bytes] = []
    rows: list[tuple[Any, ...]] = []
    adapt = connection.ops.adapt_datetimefield_value
    recorded_db = adapt(recorded_at)
    sha = hashlib.sha256
    for offset, event in enumerate(events):
        index = start + offset
        occurred_at = event.occurred_at or recorded_at
        doc = {
            "action": event.action,
            "actor": who,
            "index": index,
            "occurred_at": instant_text(occurred_at),
            "payload": plain(event.payload),
            "recorded_at": recorded_text,
            "subject": event.subject,
        }
        text = canonical_text_of_plain(doc)
        try:
            data = text.encode("utf-8")
        except UnicodeEncodeError:
            # A lone surrogate cannot be stored as UTF-8 nor hashed canonically: refuse the
            # whole change (the caller's transaction rolls back).
            raise ValidationFailed(MSG_BAD_TEXT, details={"subject": event.subject}) from None
        leaf = sha(b"\x00" + data).digest()
        leaves.append(leaf)
        entries.append(
            LedgerEntry(
                index=index,
                occurred_at=occurred_at,
                recorded_at=recorded_at,
                actor=who,
                action=event.action,
                subject=event.subject,
                canonical=text,
                leaf_hash=leaf.hex(),
            )
        )
        rows.append(
            (
                index,
                adapt(occurred_at),
                recorded_db,
                who,
                event.action,
                event.subject,
                text,
                leaf.hex(),
            )
        )
    new_nodes = merkle.compute_new_nodes(start, leaves, DatabaseNodeStore(using))
    nodes = [(node_key(0, start + i), leaf) for i, leaf in enumerate(leaves)]
    nodes += [(node_key(level, idx), h) for (level, idx), h in new_nodes.items()]
    q = connection.ops.quote_name
    entry_sql = (  # table and column names are constants, values are parameters
        f"INSERT INTO {q(LedgerEntry._meta.db_table)} ({q('index')}, {q('occurred_at')}, "  # noqa: S608
        f"{q('recorded_at')}, {q('actor')}, {q('action')}, {q('subject')}, {q('canonical')}, "
        f"{q('leaf_hash')}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
    )
    node_sql = (
        f"INSERT INTO {q(LedgerNode._meta.db_table)} ({q('key')}, {q('hash')}) "  # noqa: S608
        "VALUES (%s, %s)"
    )
    with connection.cursor() as cursor:
        cursor.executemany(entry_sql, rows)
        cursor.executemany(node_sql, nodes)
    LedgerHead.objects.using(using).filter(pk=1).update(size=start + len(events))
    return entries


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
