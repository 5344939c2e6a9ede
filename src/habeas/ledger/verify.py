"""``habeas verify-ledger``: recompute every leaf hash and the Merkle root (RFC 9162 §2.1).

Checks, in order, reporting the first entry at fault for each kind of problem:

1. indices are gapless from 0 and the head's size equals the number of entries;
2. each stored ``leaf_hash`` equals SHA-256(0x00 || canonical bytes), and the canonical text
   is itself canonical and names its own index (an edited payload is found);
3. the root recomputed from the leaves equals the root folded from the stored tree nodes
   (an edited or missing node is found).

4. the tables agree with the state the ledger implies (``habeas.ledger.replay``): a row
   changed, added or removed behind Habeas's back is named ``table.row.field``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db import connection

from habeas.core.canonical import canonical_bytes_of_plain, loads
from habeas.ledger import merkle
from habeas.ledger.models import LedgerEntry, LedgerHead
from habeas.ledger.store import DatabaseNodeStore

_BATCH = 5000


@dataclass
class Problem:
    where: str
    message: str


@dataclass
class VerifyResult:
    entries: int = 0
    root: bytes = merkle.EMPTY_ROOT
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def document(self) -> dict[str, Any]:
        """The ``verify-ledger --json`` document (INTERFACES.md)."""
        return {
            "ok": self.ok,
            "entries": self.entries,
            "root": self.root.hex(),
            "problems": [{"where": p.where, "message": p.message} for p in self.problems],
        }


def _rows(batch: int = _BATCH) -> Iterator[list[tuple[int, str, str]]]:
    """Stream (index, canonical, leaf_hash) in index order, a batch at a time, with a raw
    cursor (the ORM's per-row work would dominate a pass over millions of entries)."""
    q = connection.ops.quote_name
    sql = (
        f"SELECT {q('index')}, {q('canonical')}, {q('leaf_hash')} "  # noqa: S608 - constants
        f"FROM {q(LedgerEntry._meta.db_table)} WHERE {q('index')} > %s "
        f"ORDER BY {q('index')} LIMIT {int(batch)}"
    )
    last = -1
    with connection.cursor() as cursor:
        while True:
            cursor.execute(sql, [last])
            rows = cursor.fetchall()
            if not rows:
                return
            yield rows
            last = rows[-1][0]


#: Top-level keys are sorted ("action", "actor", "index", …) and string values are escaped,
#: so the first unescaped ``"index":`` is the entry's own index.
_INDEX = re.compile(rb'"index":(\d+)')


def _named_index(data: bytes) -> int | None:
    """The index an entry's canonical text names, without parsing the whole document."""
    match = _INDEX.search(data)
    return int(match.group(1)) if match else None


def verify_ledger(*, progress: Any = None, tables: bool = True, deep: bool = False) -> VerifyResult:
    """Recompute every leaf hash and the root; ``deep`` also re-encodes every entry to check
    its text is canonical (a slower pass: the hash binds the exact bytes either way)."""
    result = VerifyResult()
    leaves: list[bytes] = []
    expected = 0
    seen_gap = seen_hash = seen_doc = False
    sha = hashlib.sha256
    append = leaves.append
    for rows in _rows():
        for index, canonical, stored in rows:
            data = canonical.encode("utf-8")
            leaf = sha(b"\x00" + data).digest()
            append(leaf)
            if index != expected and not seen_gap:
                result.problems.append(
                    Problem(f"entry {expected}", f"missing: the next stored entry is {index}")
                )
                seen_gap = True
            expected = index + 1
            if leaf.hex() != stored and not seen_hash:
                result.problems.append(
                    Problem(
                        f"entry {index}", "leaf hash does not match the entry's canonical bytes"
                    )
                )
                seen_hash = True
            if not seen_doc and (_named_index(data) != index or (deep and not _is_canonical(data))):
                result.problems.append(
                    Problem(f"entry {index}", "entry text is not canonical or names another index")
                )
                seen_doc = True
        if progress is not None:
            progress(len(rows))
    result.entries = len(leaves)
    head = LedgerHead.objects.filter(pk=1).values_list("size", flat=True).first()
    if head is None:
        result.problems.append(Problem("ledger_ledgerhead", "the head row is missing"))
    elif head != len(leaves):
        result.problems.append(
            Problem(
                "ledger_ledgerhead.size", f"head says {head} entries, the table holds {len(leaves)}"
            )
        )
    recomputed = merkle.root_from_leaves(leaves)
    result.root = recomputed
    if leaves:
        try:
            stored_root = merkle.root_from_store(len(leaves), DatabaseNodeStore(connection.alias))
        except LookupError as exc:
            result.problems.append(Problem("ledger_ledgernode", f"stored tree incomplete: {exc}"))
        else:
            if stored_root != recomputed:
                result.problems.append(
                    Problem(
                        "ledger_ledgernode",
                        "the stored Merkle tree's root differs from the root of the entries",
                    )
                )
    if tables:
        from habeas.ledger.replay import compare

        for diff in compare().differences:
            result.problems.append(Problem(diff.where, diff.message))
    return result


def _is_canonical(data: bytes) -> bool:
    try:
        return canonical_bytes_of_plain(loads(data)) == data
    except ValueError:
        return False


def verify_against(text: str, result: VerifyResult) -> None:
    """Prove the ledger extends a signed checkpoint (RFC 9162 §2.1.4 consistency proof from
    the stored tree, checked against the root recomputed from the entries)."""
    from habeas.ledger.checkpoint import CheckpointError, parse_and_verify
    from habeas.ledger.keys import public_key
    from habeas.ledger.proofs import key_name

    try:
        old = parse_and_verify(text, public_key(), name=key_name())
    except CheckpointError as exc:
        result.problems.append(Problem("checkpoint", str(exc)))
        return
    size = result.entries
    if old.size > size:
        result.problems.append(
            Problem(
                f"entry {size}",
                f"the ledger holds {size} entries but the checkpoint vouches for {old.size}: "
                "entries were removed",
            )
        )
        return
    if old.size == 0:
        return
    try:
        proof = (
            merkle.consistency_proof_from_store(old.size, size, DatabaseNodeStore(connection.alias))
            if old.size < size
            else []
        )
    except LookupError as exc:
        result.problems.append(Problem("ledger_ledgernode", f"stored tree incomplete: {exc}"))
        return
    try:
        merkle.verify_consistency(old.size, size, old.root, result.root, proof)
    except merkle.ProofError as exc:
        result.problems.append(
            Problem(
                "checkpoint",
                f"the ledger does not extend the checkpoint of size {old.size}: {exc}",
            )
        )
