"""Ledger storage (ARCHITECTURE.md, the one rule; RFC 9162 §2.1).

* ``LedgerEntry``: one domain event, gapless 0-based ``index`` (the leaf index), the exact
  canonical bytes that were hashed and ``leaf_hash = SHA-256(0x00 || canonical)``.
* ``LedgerNode``: the stored incremental Merkle tree: the hash of every *perfect* subtree
  (level ≥ 1, idx) covering leaves [idx·2^level, (idx+1)·2^level) — level 0, the leaves, is
  the entries' ``leaf_hash`` —, so
  an append costs O(log n) and a root or proof folds O(log n) stored nodes.
* ``LedgerHead``: the single row that allocates indices; it is locked for the duration of the
  appending transaction so concurrent writers on PostgreSQL queue instead of racing.
* ``LedgerCheckpoint``: signed tree heads handed to oversight bodies.

UPDATE and DELETE on entries and nodes are refused by database triggers (migration 0002).
"""

from __future__ import annotations

import json
from typing import Any

from django.db import models

NODE_LEVEL_SHIFT = 48


def node_key(level: int, idx: int) -> int:
    return (level << NODE_LEVEL_SHIFT) | idx


class LedgerEntry(models.Model):
    """One event: who did what to which subject, when it happened and when it was recorded."""

    index = models.BigIntegerField(primary_key=True)
    occurred_at = models.DateTimeField()
    recorded_at = models.DateTimeField()
    actor = models.CharField(max_length=150)
    action = models.CharField(max_length=64, db_index=True)
    subject = models.CharField(max_length=128, db_index=True)
    canonical = models.TextField(help_text="The canonical JSON of the entry, exactly as hashed.")
    leaf_hash = models.CharField(max_length=64, help_text="hex SHA-256(0x00 || canonical)")

    class Meta:
        ordering = ["index"]
        verbose_name_plural = "ledger entries"
        constraints = [
            models.CheckConstraint(condition=models.Q(index__gte=0), name="ledger_index_nonneg"),
        ]

    def __str__(self) -> str:
        return f"#{self.index} {self.action} {self.subject}"

    @property
    def document(self) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(self.canonical)
        return value

    @property
    def payload(self) -> dict[str, Any]:
        value: dict[str, Any] = self.document["payload"]
        return value

    @property
    def canonical_bytes(self) -> bytes:
        return self.canonical.encode("utf-8")


class LedgerNode(models.Model):
    """A perfect-subtree hash; ``key = level << 48 | idx``."""

    key = models.BigIntegerField(primary_key=True)
    hash = models.BinaryField(max_length=32)

    class Meta:
        ordering = ["key"]

    def __str__(self) -> str:
        return f"node {self.key >> NODE_LEVEL_SHIFT}/{self.key & ((1 << NODE_LEVEL_SHIFT) - 1)}"


class LedgerHead(models.Model):
    """The index allocator: exactly one row (id 1), locked by every appending transaction."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    size = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(id=1), name="ledger_head_singleton"),
        ]

    def __str__(self) -> str:
        return f"ledger size {self.size}"


class LedgerCheckpoint(models.Model):
    """A signed tree head (signed-note text) that was issued; kept for oversight."""

    size = models.BigIntegerField()
    root = models.CharField(max_length=64)
    text = models.TextField()
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-size"]

    def __str__(self) -> str:
        return f"checkpoint {self.size}"


class LedgerVerification(models.Model):
    """The outcome of a ``verify-ledger`` run (shown to oversight)."""

    ran_at = models.DateTimeField()
    size = models.BigIntegerField()
    root = models.CharField(max_length=64)
    ok = models.BooleanField()
    problems = models.JSONField(default=list)

    class Meta:
        ordering = ["-ran_at"]

    def __str__(self) -> str:
        return f"verification {self.ran_at:%Y-%m-%d %H:%M} {'ok' if self.ok else 'FAILED'}"
