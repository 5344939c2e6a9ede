"""Tree heads, entries and RFC 9162 proofs from the stored tree (INTERFACES.md:
``ledger entry``, ``ledger proof``; issue: accountability). Indices are 0-based."""

from __future__ import annotations

import base64
from typing import Any

from django.conf import settings
from django.db import transaction

from habeas.core.clock import now
from habeas.core.errors import NotFound, ValidationFailed
from habeas.ledger import merkle
from habeas.ledger.checkpoint import Checkpoint, sign
from habeas.ledger.keys import load_signing_key
from habeas.ledger.models import LedgerCheckpoint, LedgerEntry
from habeas.ledger.services import ledger_root, ledger_size
from habeas.ledger.store import PrefetchedStore


def tree_head() -> dict[str, Any]:
    """Size and root. No transaction is needed: the nodes of a given size never change, so a
    root read after a concurrent append is still the root of the size read first."""
    size = ledger_size()
    return {"size": size, "root": ledger_root(size).hex()}


def entry_document(index: int) -> dict[str, Any]:
    """``ledger entry INDEX --json``: the exact bytes hashed, base64, and the leaf hash."""
    entry = LedgerEntry.objects.filter(index=index).first()
    if entry is None:
        raise NotFound(f"no ledger entry {index}")
    return {
        "index": entry.index,
        "leaf_hash": entry.leaf_hash,
        "canonical": base64.b64encode(entry.canonical_bytes).decode("ascii"),
        "action": entry.action,
        "subject": entry.subject,
        "actor": entry.actor,
        "occurred_at": entry.occurred_at.isoformat(),
        "recorded_at": entry.recorded_at.isoformat(),
    }


def _keys(plan: list[list[tuple[int, int]]]) -> list[tuple[int, int]]:
    return [key for element in plan for key in element]


def inclusion_proof(index: int, size: int | None = None) -> dict[str, Any]:
    """PATH(index, D[size]) with the root and the leaf, from one fetch of stored nodes."""
    current = ledger_size()
    size = current if size is None else size
    if not 0 < size <= current:
        raise ValidationFailed(f"size must be between 1 and {current}")
    if not 0 <= index < size:
        raise ValidationFailed(f"index must be between 0 and {size - 1}")
    plan = merkle.inclusion_proof_plan(index, size)
    store = PrefetchedStore([*_keys(plan), *merkle.subtree_keys_for_root(size), (0, index)])
    proof = merkle.inclusion_proof_from_store(index, size, store)
    root = merkle.root_from_store(size, store)
    return {
        "index": index,
        "leaf_hash": store.nodes[(0, index)].hex(),
        "proof": [p.hex() for p in proof],
        "root": root.hex(),
        "size": size,
    }


def consistency_proof(size1: int, size2: int | None = None) -> dict[str, Any]:
    """PROOF(size1, D[size2]) with both roots, from one fetch of stored nodes."""
    current = ledger_size()
    size2 = current if size2 is None else size2
    if not 0 < size1 <= size2 <= current:
        raise ValidationFailed(f"sizes must satisfy 0 < M ≤ N ≤ {current}")
    plan = merkle.consistency_proof_plan(size1, size2)
    store = PrefetchedStore(
        [
            *_keys(plan),
            *merkle.subtree_keys_for_root(size1),
            *merkle.subtree_keys_for_root(size2),
        ]
    )
    proof = merkle.consistency_proof_from_store(size1, size2, store)
    return {
        "proof": [p.hex() for p in proof],
        "root": merkle.root_from_store(size2, store).hex(),
        "size": size2,
        "old_root": merkle.root_from_store(size1, store).hex(),
        "old_size": size1,
    }


def key_name() -> str:
    return str(settings.LEDGER_ORIGIN)


def checkpoint_issue() -> LedgerCheckpoint:
    """Sign the current tree head and keep the checkpoint (for the oversight pages). The
    checkpoint is a statement *about* the ledger, so it is not itself a ledger entry."""
    with transaction.atomic():
        size = ledger_size()
        root = ledger_root(size)
        text = sign(
            Checkpoint(origin=key_name(), size=size, root=root),
            load_signing_key(),
            name=key_name(),
        )
        return LedgerCheckpoint.objects.create(
            size=size, root=root.hex(), text=text, created_at=now()
        )
