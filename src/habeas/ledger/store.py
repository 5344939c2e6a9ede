"""The database-backed node store of the incremental Merkle tree (RFC 9162 §2.1)."""

from __future__ import annotations

from collections.abc import Sequence

from habeas.ledger.models import NODE_LEVEL_SHIFT, LedgerEntry, LedgerNode, node_key

_CHUNK = 900  # below SQLite's host-parameter limit


class DatabaseNodeStore:
    """Fetches stored perfect-subtree hashes in one query per call (per chunk of keys)."""

    def __init__(self, using: str = "default") -> None:
        self.using = using

    def get_nodes(self, keys: Sequence[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
        """Level 0 (the leaves) is read from the entries' ``leaf_hash``; internal nodes from
        ``LedgerNode``."""
        found: dict[tuple[int, int], bytes] = {}
        leaves = [idx for level, idx in keys if level == 0]
        for start in range(0, len(leaves), _CHUNK):
            leaf_rows = (
                LedgerEntry.objects.using(self.using)
                .filter(index__in=leaves[start : start + _CHUNK])
                .values_list("index", "leaf_hash")
            )
            for index, leaf_hex in leaf_rows:
                found[(0, index)] = bytes.fromhex(leaf_hex)
        wanted = {node_key(level, idx): (level, idx) for level, idx in keys if level > 0}
        ids = list(wanted)
        mask = (1 << NODE_LEVEL_SHIFT) - 1
        for start in range(0, len(ids), _CHUNK):
            rows = (
                LedgerNode.objects.using(self.using)
                .filter(key__in=ids[start : start + _CHUNK])
                .values_list("key", "hash")
            )
            for key, value in rows:
                found[(key >> NODE_LEVEL_SHIFT, key & mask)] = bytes(value)
        missing = [(level, idx) for level, idx in keys if (level, idx) not in found]
        if missing:
            raise LookupError(f"ledger tree nodes missing: {missing[:5]}")
        return found
