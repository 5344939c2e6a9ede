"""The database-backed node store of the incremental Merkle tree (RFC 9162 §2.1).

Three places hold hashes: the entries (level 0, ``leaf_hash``), ``LedgerNode`` (every complete
perfect subtree from level 4 up; levels 1-3 are recomputed from the leaves under them) and the
head row (a copy of the right border of the current tree: the perfect subtrees of
``[0, size)``, largest first). Proofs are served to the public, so this path skips the ORM: one
raw query for the head, one for the nodes a proof needs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connections

from habeas.ledger import merkle
from habeas.ledger.models import (
    NODE_LEVEL_SHIFT,
    NODE_MIN_STORED_LEVEL,
    LedgerEntry,
    LedgerHead,
    LedgerNode,
)

_CHUNK = 900  # below SQLite's host-parameter limit
_MASK = (1 << NODE_LEVEL_SHIFT) - 1

NodeKey = tuple[int, int]


@dataclass(frozen=True)
class Head:
    """The head row: the ledger's size and its right border."""

    size: int
    border: list[bytes]

    @property
    def root(self) -> bytes:
        return merkle.fold(self.border)

    def border_nodes(self) -> dict[NodeKey, bytes]:
        """The border as stored-tree nodes: ``perfect_subtrees(0, size)`` → hash."""
        return dict(zip(merkle.perfect_subtrees(0, self.size), self.border, strict=True))


def _split_border(raw: Any, size: int) -> list[bytes] | None:
    """The head's border as hashes, or ``None`` if it cannot be the border of ``size``
    leaves (wrong length: a damaged head row)."""
    data = bytes(raw or b"")
    if len(data) != merkle.HASH_SIZE * len(merkle.border_levels(size)):
        return None
    return [data[i : i + merkle.HASH_SIZE] for i in range(0, len(data), merkle.HASH_SIZE)]


def head_row(using: str = "default") -> tuple[Any, Any] | None:
    """The head row's ``(size, border)`` as stored, in one raw query; ``None`` if missing."""
    connection = connections[using]
    q = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {q('size')}, {q('border')} FROM {q(LedgerHead._meta.db_table)} "  # noqa: S608
            f"WHERE {q('id')} = 1"
        )
        row = cursor.fetchone()
    return None if row is None else (row[0], row[1])


def read_head(using: str = "default") -> Head:
    """The head row in one raw query. Its size and border are written together by every
    append, so they always describe the same tree. A border of the wrong length (a damaged
    row; ``verify-ledger`` names it) is replaced by the one folded from the stored nodes."""
    row = head_row(using)
    if row is None:
        raise LookupError("the ledger head row is missing")
    size = int(row[0])
    border = _split_border(row[1], size)
    return Head(size, border_from_nodes(size, using) if border is None else border)


def border_from_nodes(size: int, using: str = "default") -> list[bytes]:
    """The right border of the tree of ``size`` leaves, from the stored nodes (not the head)."""
    keys = merkle.perfect_subtrees(0, size)
    nodes = DatabaseNodeStore(using).get_nodes(keys)
    return [nodes[key] for key in keys]


def rebuild_head(using: str = "default") -> None:
    """Write the head's border from the stored nodes for its size (after laying a ledger down
    outside ``ledger_append_many``, as the benchmarks do; the migration does the same)."""
    size = int(LedgerHead.objects.using(using).values_list("size", flat=True).get(pk=1))
    LedgerHead.objects.using(using).filter(pk=1).update(
        border=b"".join(border_from_nodes(size, using))
    )


class DatabaseNodeStore:
    """Fetches perfect-subtree hashes: level 0 (the leaves) from the entries' ``leaf_hash``,
    levels ≥ ``NODE_MIN_STORED_LEVEL`` from ``LedgerNode``, the levels between recomputed from
    the leaves under them (at most 8). One raw query for both tables (per chunk of keys): the
    leaves as runs of consecutive indices, the nodes by key."""

    def __init__(self, using: str = "default") -> None:
        self.using = using

    def get_nodes(self, keys: Sequence[NodeKey]) -> dict[NodeKey, bytes]:
        connection = connections[self.using]
        stored = NODE_MIN_STORED_LEVEL
        inner = [(level << NODE_LEVEL_SHIFT) | idx for level, idx in keys if level >= stored]
        runs = _merge([((i << lv), (i + 1) << lv) for lv, i in keys if lv < stored])
        leaves: dict[int, Any] = {}
        found: dict[NodeKey, bytes] = {}
        with connection.cursor() as cursor:
            while runs or inner:
                part_runs, runs = runs[: _CHUNK // 2], runs[_CHUNK // 2 :]
                room = _CHUNK - 2 * len(part_runs)
                part_inner, inner = inner[:room], inner[room:]
                cursor.execute(
                    _select(connection, len(part_runs), len(part_inner)),
                    [*(bound for run in part_runs for bound in run), *part_inner],
                )
                for key, value in cursor.fetchall():
                    if key <= _MASK:  # a leaf index: the entry's hash (hex text on SQLite)
                        leaves[key] = value
                    else:
                        found[(key >> NODE_LEVEL_SHIFT, key & _MASK)] = bytes(value)
        if leaves:
            decoded = {
                i: bytes.fromhex(value) if type(value) is str else bytes(value)
                for i, value in leaves.items()
            }
            for level, idx in keys:
                if level < NODE_MIN_STORED_LEVEL:
                    try:
                        hashes = [decoded[i] for i in range(idx << level, (idx + 1) << level)]
                    except KeyError:
                        continue  # reported as missing below
                    for _ in range(level):
                        hashes = merkle.pair_hashes(hashes)
                    found[(level, idx)] = hashes[0]
        missing = [key for key in keys if key not in found]
        if missing:
            raise LookupError(f"ledger tree nodes missing: {missing[:5]}")
        return found


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Half-open index ranges merged into disjoint runs, in order."""
    runs: list[tuple[int, int]] = []
    for lo, hi in sorted(spans):
        if runs and lo <= runs[-1][1]:
            if hi > runs[-1][1]:
                runs[-1] = (runs[-1][0], hi)
        else:
            runs.append((lo, hi))
    return runs


_SELECTS: dict[tuple[str, int, int], str] = {}


def _select(connection: Any, runs: int, inner: int) -> str:
    """One statement for leaves and internal nodes: ``key, hash`` rows (a ``UNION ALL`` of
    primary-key range scans of the entries and a primary-key lookup of the nodes; a leaf's
    key is its index, below every internal node's key). The leaves' hash comes as hex text
    on SQLite and is decoded to bytes by PostgreSQL, whose ``UNION`` needs one type per
    column."""
    cache_key = (connection.vendor, runs, inner)
    found = _SELECTS.get(cache_key)
    if found is not None:
        return found
    q = connection.ops.quote_name
    index = q("index")
    leaf = q("leaf_hash")
    if connection.vendor == "postgresql":
        leaf = f"decode({leaf}, 'hex')"
    entries = q(LedgerEntry._meta.db_table)
    parts = [
        f"SELECT {index}, {leaf} FROM {entries} WHERE {index} >= %s AND {index} < %s"  # noqa: S608
        for _ in range(runs)
    ]
    if inner:
        parts.append(
            f"SELECT {q('key')}, {q('hash')} FROM {q(LedgerNode._meta.db_table)} "  # noqa: S608
            f"WHERE {q('key')} IN ({', '.join(['%s'] * inner)})"
        )
    found = _SELECTS[cache_key] = " UNION ALL ".join(parts)
    return found


class HeadStore:
    """A node store for proofs and roots: the border nodes from the head row (already read),
    every other node from the database in one query, all fetched once for several plans (a
    proof, its root, the leaf) and served from memory."""

    def __init__(self, head: Head, keys: Sequence[NodeKey], using: str = "default") -> None:
        self.nodes = head.border_nodes()
        wanted = [key for key in dict.fromkeys(keys) if key not in self.nodes]
        if wanted:
            self.nodes.update(DatabaseNodeStore(using).get_nodes(wanted))

    def get_nodes(self, keys: Sequence[NodeKey]) -> dict[NodeKey, bytes]:
        return {k: self.nodes[k] for k in keys if k in self.nodes}
