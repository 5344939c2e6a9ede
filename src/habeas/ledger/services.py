"""Appending to the ledger (ARCHITECTURE.md, the one rule; Mandela Rule 6).

Services call :func:`ledger_append` (or :func:`ledger_append_many` for bulk work) inside their
own transaction; the entry commits or rolls back with the change it records.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connections

from habeas.core.actor import Actor
from habeas.core.canonical import canonical_bytes, plain
from habeas.core.clock import now
from habeas.ledger import merkle
from habeas.ledger.models import LedgerEntry, LedgerHead, LedgerNode, node_key
from habeas.ledger.store import DatabaseNodeStore


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
    """Append events with consecutive indices: one lock on the head, one bulk insert of the
    entries, one of the new tree nodes (O(log n) nodes per entry at most)."""
    if not connections[using].in_atomic_block:
        raise LedgerOutsideTransaction("ledger_append must run inside the service's transaction")
    if not events:
        return []
    head = LedgerHead.objects.using(using).select_for_update().get(pk=1)
    start = head.size
    recorded_at = now()
    entries: list[LedgerEntry] = []
    leaves: list[bytes] = []
    for offset, event in enumerate(events):
        occurred_at = event.occurred_at or recorded_at
        doc = entry_document(
            index=start + offset,
            occurred_at=occurred_at,
            recorded_at=recorded_at,
            actor=actor.ledger_name,
            action=event.action,
            subject=event.subject,
            payload=plain(event.payload),
        )
        data = canonical_bytes(doc)
        leaf = merkle.leaf_hash(data)
        leaves.append(leaf)
        entries.append(
            LedgerEntry(
                index=start + offset,
                occurred_at=occurred_at,
                recorded_at=recorded_at,
                actor=actor.ledger_name,
                action=event.action,
                subject=event.subject,
                canonical=data.decode("utf-8"),
                leaf_hash=leaf.hex(),
            )
        )
    LedgerEntry.objects.using(using).bulk_create(entries, batch_size=500)
    new_nodes = merkle.compute_new_nodes(start, leaves, DatabaseNodeStore(using))
    rows = [LedgerNode(key=node_key(0, start + i), hash=leaf) for i, leaf in enumerate(leaves)]
    rows += [LedgerNode(key=node_key(level, idx), hash=h) for (level, idx), h in new_nodes.items()]
    LedgerNode.objects.using(using).bulk_create(rows, batch_size=500)
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
