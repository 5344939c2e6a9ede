"""Tree heads, entries and RFC 9162 proofs from the stored tree (INTERFACES.md:
``ledger entry``, ``ledger proof``; issue: accountability). Indices are 0-based."""

from __future__ import annotations

import base64
from typing import Any

from django.conf import settings
from django.db import transaction

from habeas.core.clock import now
from habeas.core.errors import Conflict, NotFound, ValidationFailed
from habeas.ledger import merkle
from habeas.ledger.checkpoint import Checkpoint, sign
from habeas.ledger.keys import load_signing_key
from habeas.ledger.models import LedgerCheckpoint, LedgerEntry
from habeas.ledger.store import DatabaseNodeStore, Head, HeadStore, read_head

MSG_HEAD_DIFFERS = (
    "not signed: the ledger head's root differs from the stored tree's; run verify-ledger"
)


def tree_head() -> dict[str, Any]:
    """Size and root, from the head row alone (its border folds to the root). Size and border
    are written together by every append, so they always describe the same tree."""
    head = read_head()
    return {"size": head.size, "root": head.root.hex()}


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


def _root(head: Head, size: int, nodes: dict[tuple[int, int], bytes]) -> bytes:
    if size == head.size:
        return head.root
    return merkle.fold_plan([merkle.subtree_keys_for_root(size)], nodes)[0]


def inclusion_proof(index: int, size: int | None = None) -> dict[str, Any]:
    """PATH(index, D[size]) with the root and the leaf: the head row, then one query for the
    nodes inside the tree (the right border, most of a proof's upper half, is in the head;
    at an older size its border is fetched with the rest)."""
    head = read_head()
    current = head.size
    size = current if size is None else size
    if not 0 < size <= current:
        raise ValidationFailed(f"size must be between 1 and {current}")
    if not 0 <= index < size:
        raise ValidationFailed(f"index must be between 0 and {size - 1}")
    plan = merkle.inclusion_proof_plan(index, size)
    keys = [*_keys(plan), (0, index)]
    if size != current:
        keys += merkle.subtree_keys_for_root(size)
    nodes = HeadStore(head, keys).nodes
    return {
        "index": index,
        "leaf_hash": nodes[(0, index)].hex(),
        "proof": [p.hex() for p in merkle.fold_plan(plan, nodes)],
        "root": _root(head, size, nodes).hex(),
        "size": size,
    }


def consistency_proof(size1: int, size2: int | None = None) -> dict[str, Any]:
    """PROOF(size1, D[size2]) with both roots: the head row, then one query for the nodes
    inside the tree (the old root's nodes are among the proof's own, or on the border)."""
    head = read_head()
    current = head.size
    size2 = current if size2 is None else size2
    if not 0 < size1 <= size2 <= current:
        raise ValidationFailed(f"sizes must satisfy 0 < M ≤ N ≤ {current}")
    plan = merkle.consistency_proof_plan(size1, size2)
    keys = [*_keys(plan), *merkle.subtree_keys_for_root(size1)]
    if size2 != current:
        keys += merkle.subtree_keys_for_root(size2)
    nodes = HeadStore(head, keys).nodes
    return {
        "proof": [p.hex() for p in merkle.fold_plan(plan, nodes)],
        "root": _root(head, size2, nodes).hex(),
        "size": size2,
        "old_root": _root(head, size1, nodes).hex(),
        "old_size": size1,
    }


def key_name() -> str:
    return str(settings.LEDGER_ORIGIN)


def checkpoint_issue() -> LedgerCheckpoint:
    """Sign the current tree head and keep the checkpoint (for the oversight pages). The
    checkpoint is a statement *about* the ledger, so it is not itself a ledger entry.

    The head row is not append-only (every append rewrites it), so before signing, its root
    is checked against the root folded from the append-only stored nodes."""
    with transaction.atomic():
        head = read_head()
        size, root = head.size, head.root
        if size and merkle.root_from_store(size, DatabaseNodeStore()) != root:
            raise Conflict(MSG_HEAD_DIFFERS)
        text = sign(
            Checkpoint(origin=key_name(), size=size, root=root),
            load_signing_key(),
            name=key_name(),
        )
        return LedgerCheckpoint.objects.create(
            size=size, root=root.hex(), text=text, created_at=now()
        )
