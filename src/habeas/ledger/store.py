"""The database-backed node store of the incremental Merkle tree (RFC 9162 §2.1)."""

from __future__ import annotations

from collections.abc import Sequence

from habeas.ledger.models import NODE_LEVEL_SHIFT, LedgerNode, node_key

_CHUNK = 900  # below SQLite's host-parameter limit


class DatabaseNodeStore:
    """Fetches stored perfect-subtree hashes in one query per call (per chunk of keys)."""

    def __init__(self, using: str = "default") -> None:
        self.using = using

    def get_nodes(self, keys: Sequence[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
        wanted = {node_key(level, idx): (level, idx) for level, idx in keys}
        found: dict[tuple[int, int], bytes] = {}
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
        missing = [k for k in wanted.values() if k not in found]
        if missing:
            raise LookupError(f"ledger tree nodes missing: {missing[:5]}")
        return found
