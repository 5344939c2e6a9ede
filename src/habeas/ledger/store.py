"""The database-backed node store of the incremental Merkle tree (RFC 9162 §2.1)."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connections

from habeas.ledger.models import NODE_LEVEL_SHIFT, LedgerEntry, LedgerNode, node_key

_CHUNK = 900  # below SQLite's host-parameter limit
_MASK = (1 << NODE_LEVEL_SHIFT) - 1


class DatabaseNodeStore:
    """Fetches stored perfect-subtree hashes: level 0 (the leaves) from the entries'
    ``leaf_hash``, internal nodes from ``LedgerNode``; one raw query per table per call (per
    chunk of keys). Proofs are served to the public, so this path skips the ORM."""

    def __init__(self, using: str = "default") -> None:
        self.using = using

    def get_nodes(self, keys: Sequence[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
        connection = connections[self.using]
        q = connection.ops.quote_name
        found: dict[tuple[int, int], bytes] = {}
        leaves = [idx for level, idx in keys if level == 0]
        inner = [node_key(level, idx) for level, idx in keys if level > 0]
        with connection.cursor() as cursor:
            for start in range(0, len(leaves), _CHUNK):
                part = leaves[start : start + _CHUNK]
                cursor.execute(
                    f"SELECT {q('index')}, {q('leaf_hash')} FROM "  # noqa: S608 - constants
                    f"{q(LedgerEntry._meta.db_table)} WHERE {q('index')} IN "
                    f"({', '.join(['%s'] * len(part))})",
                    part,
                )
                for index, leaf_hex in cursor.fetchall():
                    found[(0, index)] = bytes.fromhex(leaf_hex)
            for start in range(0, len(inner), _CHUNK):
                part = inner[start : start + _CHUNK]
                cursor.execute(
                    f"SELECT {q('key')}, {q('hash')} FROM "  # noqa: S608 - constants
                    f"{q(LedgerNode._meta.db_table)} WHERE {q('key')} IN "
                    f"({', '.join(['%s'] * len(part))})",
                    part,
                )
                for key, value in cursor.fetchall():
                    found[(key >> NODE_LEVEL_SHIFT, key & _MASK)] = bytes(value)
        missing = [(level, idx) for level, idx in keys if (level, idx) not in found]
        if missing:
            raise LookupError(f"ledger tree nodes missing: {missing[:5]}")
        return found


class PrefetchedStore:
    """Nodes fetched once for several plans (a proof, its root, the leaf) and served from
    memory: one round trip per table instead of one per plan."""

    def __init__(self, keys: Sequence[tuple[int, int]], using: str = "default") -> None:
        wanted = list(dict.fromkeys(keys))
        self.nodes = DatabaseNodeStore(using).get_nodes(wanted) if wanted else {}

    def get_nodes(self, keys: Sequence[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
        return {k: self.nodes[k] for k in keys if k in self.nodes}
