"""Ledger storage (ARCHITECTURE.md, the one rule; RFC 9162 §2.1).

* ``LedgerEntry``: one domain event, gapless 0-based ``index`` (the leaf index), the exact
  canonical bytes that were hashed and ``leaf_hash = SHA-256(0x00 || canonical)``.
* ``LedgerNode``: the stored incremental Merkle tree: the hash of every *perfect* subtree
  (level ≥ 4, idx) covering leaves [idx·2^level, (idx+1)·2^level). Level 0, the leaves, is
  the entries' ``leaf_hash``; levels 1-3 are recomputed from the at most 8 leaves under them
  when a proof needs them (about one node row per 8 entries instead of one per entry: the
  append writes an eighth of the node rows, and a proof's lowest siblings come from one short
  run of entries). An append costs O(log n) and a root or proof folds O(log n) stored nodes.
  Ledgers written before this rule also hold levels 1-3; those rows are simply not read.
* ``LedgerHead``: the single row that allocates indices; it is locked for the duration of the
  appending transaction so concurrent writers on PostgreSQL queue instead of racing. It also
  keeps a copy of the tree's right border (the ≤ 48 perfect-subtree hashes whose fold is the
  current root), so the root is one row and a proof at the current size reads only the nodes
  inside the tree. Appends rewrite it; they hash new nodes with siblings read from the
  append-only tables, never from this copy. ``verify-ledger`` checks it against the entries.
* ``LedgerCheckpoint``: signed tree heads handed to oversight bodies.

UPDATE and DELETE on entries and nodes are refused by database triggers (migration 0002).
"""

from __future__ import annotations

import json
from typing import Any

from django.db import models

NODE_LEVEL_SHIFT = 48
NODE_MIN_STORED_LEVEL = 4
"""Internal nodes below this level are not stored: they are recomputed from the leaves."""


def node_key(level: int, idx: int) -> int:
    return (level << NODE_LEVEL_SHIFT) | idx


class RowidKeyField(models.BigIntegerField):  # type: ignore[type-arg]
    """A 64-bit primary key that SQLite keeps as the table's rowid (``integer primary key``):
    one B-tree per table. Django's ``bigint primary key`` makes SQLite keep a second, unique
    index beside the table, which every insert and every lookup paid for. PostgreSQL:
    ``bigint``, unchanged."""

    def db_type(self, connection: Any) -> str | None:
        if connection.vendor == "sqlite":
            return "integer"
        return super().db_type(connection)


class LedgerEntry(models.Model):
    """One event: who did what to which subject, when it happened and when it was recorded.

    Indexed by ``index`` (the primary key) and ``subject`` (a person's or a manifest's
    history); nothing looks entries up by ``action`` alone, so it has no index of its own (one
    fewer B-tree for every append)."""

    index = RowidKeyField(primary_key=True)
    occurred_at = models.DateTimeField()
    recorded_at = models.DateTimeField()
    actor = models.CharField(max_length=150)
    action = models.CharField(max_length=64)
    subject = models.CharField(max_length=128)
    canonical = models.TextField(help_text="The canonical JSON of the entry, exactly as hashed.")
    leaf_hash = models.CharField(max_length=64, help_text="hex SHA-256(0x00 || canonical)")

    class Meta:
        ordering = ["index"]
        verbose_name_plural = "ledger entries"
        constraints = [
            models.CheckConstraint(condition=models.Q(index__gte=0), name="ledger_index_nonneg"),
        ]
        # A plain index (``db_index`` would add a second, pattern-ops one on PostgreSQL that
        # no query uses: subjects are only looked up by equality).
        indexes = [models.Index(fields=["subject"], name="ledger_entry_subject")]

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
    """A perfect-subtree hash; ``key = level << 48 | idx``, level ≥ ``NODE_MIN_STORED_LEVEL``."""

    key = RowidKeyField(primary_key=True)
    hash = models.BinaryField(max_length=32)

    class Meta:
        ordering = ["key"]

    def __str__(self) -> str:
        return f"node {self.key >> NODE_LEVEL_SHIFT}/{self.key & ((1 << NODE_LEVEL_SHIFT) - 1)}"


#: The ledger format this version of Habeas writes and verifies. Format 1 carried personal
#: data in clear in the payloads; format 2 holds only public facts and keyed commitments of
#: personal fields (ARCHITECTURE.md, "Personal data and the ledger"; docs/ledger.md).
LEDGER_FORMAT = 2


class LedgerHead(models.Model):
    """The index allocator: exactly one row (id 1), locked by every appending transaction.
    ``format`` is the ledger format the entries were written in (:data:`LEDGER_FORMAT`)."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    format = models.PositiveSmallIntegerField(default=LEDGER_FORMAT)
    size = models.BigIntegerField(default=0)
    border = models.BinaryField(
        default=b"",
        help_text="hashes of the perfect subtrees of [0, size), largest first, 32 bytes each",
    )

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


class SubjectKey(models.Model):
    """The key that commits one data subject's personal fields on the ledger (HMAC-SHA-256;
    ARCHITECTURE.md, "Personal data and the ledger"). Kept outside the ledger on purpose:
    erasure deletes the key and the bodies, and the ledger's commitments can no longer be
    linked to anything, while every entry still verifies. ``name`` is the subject, such as
    ``person:12`` or ``entry:345`` (a manifest row whose person is not known)."""

    name = models.CharField(max_length=64, unique=True)
    key = models.BinaryField()
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"key of {self.name}"
