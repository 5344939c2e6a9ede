"""``habeas verify-ledger``: recompute every leaf hash and the Merkle root (RFC 9162 §2.1).

Checks, in order, reporting the first entry at fault for each kind of problem:

1. indices are gapless from 0 and the head's size equals the number of entries;
2. each stored ``leaf_hash`` equals SHA-256(0x00 || canonical bytes), and the canonical text
   is itself canonical and names its own index (an edited payload is found);
3. the root recomputed from the leaves equals the root folded from the stored tree nodes
   (an edited or missing node is found), and the head's copy of the tree's right border
   (what roots and proofs are served from) is that of the recomputed tree.

4. the tables agree with the state the ledger implies (``habeas.ledger.replay``): a row
   changed, added or removed behind Habeas's back is named ``table.row.field``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from itertools import repeat
from operator import itemgetter
from typing import Any

from django.db import connection

from habeas.core.canonical import canonical_bytes_of_plain, loads
from habeas.ledger import merkle
from habeas.ledger.models import LedgerEntry
from habeas.ledger.store import DatabaseNodeStore, head_row

_BATCH = 20_000


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


def entry_sql(*, leaf: bool = True, leaf_bytes: bool = False) -> str:
    """The page query of a pass over the entries: ``index`` and the canonical text as its
    stored UTF-8 bytes (the exact bytes that were hashed: no decode and re-encode per row),
    plus the stored ``leaf_hash`` unless ``leaf`` is false (the benchmark's raw chain reads
    the same pages without it). ``leaf_bytes`` reads the hash as its ASCII bytes on SQLite
    (a copy, where a ``str`` is decoded and checked as UTF-8: the verifier only compares
    it); other engines give text either way. Keyset pages: ``WHERE index > last ORDER BY
    index``."""
    q = connection.ops.quote_name
    text = q("canonical")
    sqlite = connection.vendor != "postgresql"
    data = f"CAST({text} AS BLOB)" if sqlite else f"convert_to({text}, 'UTF8')"
    stored = f"CAST({q('leaf_hash')} AS BLOB)" if sqlite and leaf_bytes else q("leaf_hash")
    columns = [q("index"), data, *([stored] if leaf else [])]
    return (
        f"SELECT {', '.join(columns)} FROM {q(LedgerEntry._meta.db_table)} "  # noqa: S608
        f"WHERE {q('index')} > %s ORDER BY {q('index')} LIMIT %s"
    )


def entry_pages(
    sql: str, batch: int | None = None, *, after: int = -1
) -> Iterator[list[tuple[Any, ...]]]:
    """Stream the rows of :func:`entry_sql` with an index above ``after`` in index order, a
    page (default ``_BATCH`` rows) at a time, with a raw cursor (the ORM's per-row work would
    dominate a pass over millions of entries)."""
    batch = batch or _BATCH
    last = after
    with connection.cursor() as cursor:
        while True:
            cursor.execute(sql, [last, batch])
            rows = cursor.fetchall()
            if not rows:
                return
            yield rows
            last = rows[-1][0]


#: Top-level keys are sorted ("action", "actor", "index", …) and string values are escaped,
#: so the first unescaped ``"index":`` is the entry's own index, followed by a comma.
_INDEX_KEY = b'"index":'


def _names_index(data: bytes, index: int) -> bool:
    """Whether the text's first ``"index":`` is followed by ``index`` and a comma (without
    parsing the whole document); :func:`_names_own_indices` is the same test for a page."""
    position = data.find(_INDEX_KEY)
    return position >= 0 and data.startswith(b"%d," % index, position + 8)


def _names_own_indices(indices: Sequence[int], datas: Sequence[bytes]) -> bool:
    """Whether every text's first ``"index":`` is followed by its own index and a comma:
    :func:`_names_index` for a page, with C-level ``map`` (one ``find``, one formatted
    expectation and one ``startswith`` per text; no copy of the page)."""
    positions = list(map(bytes.find, datas, repeat(_INDEX_KEY)))
    if -1 in positions:
        return False
    expected = map(b'"index":%d,'.__mod__, indices)
    return all(map(bytes.startswith, datas, expected, positions))


_column_0, _column_1, _column_2 = itemgetter(0), itemgetter(1), itemgetter(2)


@dataclass
class _Scan:
    """The state of one pass: the next expected index, the tree's right border so far, and
    which kinds of problem were already reported (the first entry at fault for each)."""

    result: VerifyResult
    deep: bool
    count: int = 0
    next_index: int = 0
    border: list[bytes] = field(default_factory=list)
    seen_gap: bool = False
    seen_hash: bool = False
    seen_doc: bool = False

    def page(self, rows: list[tuple[Any, ...]]) -> None:
        """Check one page: batch-wide comparisons first (C-level ``map``/``join``), and a
        row-by-row pass only over a page where one of them failed, to name the entry."""
        indices = list(map(_column_0, rows))
        datas = list(map(_column_1, rows))
        stored = list(map(_column_2, rows))
        if type(datas[0]) is not bytes:  # PostgreSQL drivers may hand bytea as memoryview
            datas = list(map(bytes, datas))
        leaves = merkle.leaf_hashes(datas)
        start = self.count
        expected = self.next_index
        hexes = b"".join(leaves).hex()
        clean = (
            indices == list(range(expected, expected + len(indices)))
            and (
                hexes.encode("ascii") == b"".join(stored)
                if type(stored[0]) is bytes
                else hexes == "".join(stored)
            )
            and _names_own_indices(indices, datas)
            and not self.deep
        )
        if not clean:
            self._rows(indices, datas, stored, leaves)
        self.border = merkle.grow(start, self.border, leaves, checked=False).border
        self.count = start + len(leaves)
        self.next_index = indices[-1] + 1

    def _rows(
        self,
        indices: Sequence[int],
        datas: Sequence[bytes],
        stored: Sequence[str | bytes],
        leaves: Sequence[bytes],
    ) -> None:
        problems = self.result.problems
        expected = self.next_index
        for index, data, stored_value, leaf in zip(indices, datas, stored, leaves, strict=True):
            stored_hex = (
                stored_value.decode("ascii", "replace")
                if type(stored_value) is bytes
                else stored_value
            )
            if index != expected and not self.seen_gap:
                problems.append(
                    Problem(f"entry {expected}", f"missing: the next stored entry is {index}")
                )
                self.seen_gap = True
            expected = index + 1
            if leaf.hex() != stored_hex and not self.seen_hash:
                problems.append(
                    Problem(
                        f"entry {index}", "leaf hash does not match the entry's canonical bytes"
                    )
                )
                self.seen_hash = True
            if not self.seen_doc and (
                not _names_index(data, index) or (self.deep and not _is_canonical(data))
            ):
                problems.append(
                    Problem(f"entry {index}", "entry text is not canonical or names another index")
                )
                self.seen_doc = True


def verify_ledger(*, progress: Any = None, tables: bool = True, deep: bool = False) -> VerifyResult:
    """Recompute every leaf hash and the root; ``deep`` also re-encodes every entry to check
    its text is canonical (a slower pass: the hash binds the exact bytes either way).

    One pass over the entries with O(page + log n) memory: the root is folded from the
    tree's right border, grown page by page (:func:`habeas.ledger.merkle.grow`)."""
    result = VerifyResult()
    if not _format_supported(result):
        return result
    scan = _Scan(result, deep)
    for rows in entry_pages(entry_sql(leaf_bytes=True)):
        scan.page(rows)
        if progress is not None:
            progress(len(rows))
    result.entries = scan.count
    recomputed = merkle.fold(scan.border)
    result.root = recomputed
    _check_head(result, scan.border)
    if scan.count:
        try:
            stored_root = merkle.root_from_store(scan.count, DatabaseNodeStore(connection.alias))
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


MSG_OLD_FORMAT = (
    "this ledger was written in format {found} by an earlier version of Habeas, which kept "
    "personal data in clear in the entries; this version verifies format {current} only. "
    "Verify it with the version that wrote it (and keep that result), then start a new "
    "database with 'habeas init' and load the registry again through 'habeas apply' and the "
    "manifests: a permanent ledger cannot be rewritten to remove personal data."
)


def _format_supported(result: VerifyResult) -> bool:
    """A ledger of another format is refused whole, with what to do (docs/ledger.md)."""
    from habeas.ledger.models import LEDGER_FORMAT, LedgerHead

    found = LedgerHead.objects.filter(pk=1).values_list("format", flat=True).first()
    if found is None or found == LEDGER_FORMAT:
        return True
    result.problems.append(
        Problem(
            "ledger_ledgerhead.format", MSG_OLD_FORMAT.format(found=found, current=LEDGER_FORMAT)
        )
    )
    return False


def _check_head(result: VerifyResult, border: list[bytes]) -> None:
    """The head's size is the number of entries and its copy of the right border (what roots
    and proofs are served from) is the border of the tree of the entries."""
    row = head_row()
    if row is None:
        result.problems.append(Problem("ledger_ledgerhead", "the head row is missing"))
        return
    size = int(row[0])
    if size != result.entries:
        result.problems.append(
            Problem(
                "ledger_ledgerhead.size",
                f"head says {size} entries, the table holds {result.entries}",
            )
        )
    elif bytes(row[1] or b"") != b"".join(border):
        result.problems.append(
            Problem(
                "ledger_ledgerhead.border",
                "the head's copy of the tree's right border differs from the tree of the entries",
            )
        )


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
