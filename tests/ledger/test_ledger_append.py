"""The ledger write path (ARCHITECTURE.md, the one rule, points 2-5; RFC 9162 §2.1.1).

Gapless 0-based indices, ``leaf_hash = SHA-256(0x00 || canonical)``, the stored incremental
tree gives the same root as hashing every leaf, the database refuses UPDATE and DELETE on
entries and nodes (triggers, both engines), and an append outside a transaction is refused.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from decimal import Decimal
from typing import Any

import pytest
from django.db import DatabaseError, connection, transaction

from habeas.core.actor import Actor
from habeas.ledger import merkle
from habeas.ledger.models import LedgerEntry, LedgerNode
from habeas.ledger.services import (
    Event,
    LedgerOutsideTransaction,
    ledger_append,
    ledger_append_many,
    ledger_root,
    ledger_size,
)

ACTOR = Actor(name="test:ledger", role="system")


def _append(n: int, start: int = 0) -> list[LedgerEntry]:
    return [
        ledger_append(
            actor=ACTOR,
            action="test.appended",
            subject=f"thing:{start + i}",
            payload={"n": start + i, "name": "Ñandú 北京", "amount": Decimal("54.79")},
        )
        for i in range(n)
    ]


def _append_batch(n: int, start: int = 0) -> None:
    ledger_append_many(
        actor=ACTOR,
        events=[
            Event(action="test.batched", subject=f"b:{start + i}", payload={"i": start + i})
            for i in range(n)
        ],
    )


def recomputed_root(size: int | None = None) -> bytes:
    rows = list(LedgerEntry.objects.order_by("index").values_list("canonical", flat=True))
    if size is not None:
        rows = rows[:size]
    return merkle.root_from_leaves([merkle.leaf_hash(c.encode("utf-8")) for c in rows])


# --- outside a transaction (no database: the check comes before any query) ----------------------


def test_append_outside_a_transaction_is_refused() -> None:
    assert not connection.in_atomic_block
    with pytest.raises(LedgerOutsideTransaction):
        ledger_append(actor=ACTOR, action="test.appended", subject="x", payload={})
    with pytest.raises(LedgerOutsideTransaction):
        ledger_append_many(actor=ACTOR, events=[Event(action="test.appended", subject="x")])


# --- indices, leaf hashes, root -----------------------------------------------------------------


@pytest.mark.django_db
def test_empty_ledger() -> None:
    assert ledger_size() == 0
    assert ledger_root() == merkle.EMPTY_ROOT == hashlib.sha256(b"").digest()


@pytest.mark.django_db
def test_indices_are_gapless_from_zero_across_single_and_batch_appends() -> None:
    _append(3)
    ledger_append_many(
        actor=ACTOR,
        events=[Event(action="test.batched", subject=f"b:{i}", payload={"i": i}) for i in range(6)],
    )
    assert ledger_append_many(actor=ACTOR, events=[]) == []
    _append(2, start=9)
    indices = list(LedgerEntry.objects.values_list("index", flat=True))
    assert indices == list(range(11))
    assert ledger_size() == 11
    for entry in LedgerEntry.objects.all():
        assert entry.document["index"] == entry.index


@pytest.mark.django_db
def test_leaf_hash_is_sha256_of_zero_byte_and_canonical_bytes() -> None:
    _append(5)
    for entry in LedgerEntry.objects.all():
        expected = hashlib.sha256(b"\x00" + entry.canonical.encode("utf-8")).hexdigest()
        assert entry.leaf_hash == expected
    # Level 0 of the stored tree is the entries themselves: no duplicate leaf rows; levels
    # 1-3 are recomputed from the leaves, so five entries store no node at all.
    assert not LedgerNode.objects.exists()


@pytest.mark.django_db
def test_canonical_text_is_sorted_compact_utf8_json_of_the_entry() -> None:
    at = dt.datetime(2025, 3, 16, 14, 5, tzinfo=dt.timezone(dt.timedelta(hours=-6)))
    entry = ledger_append(
        actor=ACTOR,
        action="test.canonical_text",
        subject="person:7",
        payload={"b": [1, "dos"], "a": Decimal("1.50"), "when": at, "día": dt.date(2025, 3, 1)},
        occurred_at=at,
    )
    doc = json.loads(entry.canonical)
    assert entry.canonical == json.dumps(
        doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    assert "día" in entry.canonical  # UTF-8, not \u escapes
    assert doc["payload"] == {
        "a": "1.50",
        "b": [1, "dos"],
        "día": "2025-03-01",
        "when": "2025-03-16T20:05:00Z",
    }
    assert doc["occurred_at"] == "2025-03-16T20:05:00Z"
    assert doc["actor"] == "test:ledger"
    assert doc["action"] == entry.action == "test.canonical_text"
    assert doc["subject"] == entry.subject == "person:7"
    assert entry.occurred_at == at
    assert entry.recorded_at >= entry.occurred_at


@pytest.mark.django_db
def test_naive_datetime_in_payload_is_refused_and_nothing_written() -> None:
    with pytest.raises(ValueError, match="naive"), transaction.atomic():
        ledger_append(
            actor=ACTOR, action="t.x", subject="s", payload={"at": dt.datetime(2025, 1, 1)}
        )
    assert ledger_size() == 0
    assert not LedgerEntry.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("count", [1, 2, 3, 7, 8, 9, 16, 17])
def test_stored_root_equals_root_of_all_leaves(count: int) -> None:
    _append(count)
    leaves = [bytes.fromhex(h) for h in LedgerEntry.objects.values_list("leaf_hash", flat=True)]
    assert ledger_root() == merkle.root_from_leaves(leaves) == recomputed_root()
    for size in range(count + 1):
        assert ledger_root(size) == merkle.root_from_leaves(leaves[:size])


@pytest.mark.django_db
def test_stored_nodes_agree_with_an_in_memory_tree() -> None:
    _append(4)
    _append_batch(9, start=4)
    _append_batch(61, start=13)
    _append(3, start=74)
    leaves = [bytes.fromhex(h) for h in LedgerEntry.objects.values_list("leaf_hash", flat=True)]
    assert len(leaves) == 77
    tree = merkle.MemoryTree(leaves)
    shift = 48
    stored = {
        (k >> shift, k & ((1 << shift) - 1)): bytes(h)
        for k, h in LedgerNode.objects.values_list("key", "hash")
    }
    assert stored == tree.get_nodes(list(stored))
    # Every internal perfect subtree of 77 leaves from level 4 up is stored: 4 + 2 + 1
    # nodes (levels 1-3 are recomputed from the leaves when needed).
    assert sorted(stored) == [(4, 0), (4, 1), (4, 2), (4, 3), (5, 0), (5, 1), (6, 0)]


@pytest.mark.django_db
def test_head_keeps_the_border_of_the_stored_tree() -> None:
    from habeas.ledger.store import border_from_nodes, read_head

    for count in (1, 2, 15, 1, 17, 33):
        _append_batch(count, start=ledger_size())
        head = read_head()
        assert head.border == border_from_nodes(head.size)
        assert head.root == recomputed_root()


@pytest.mark.django_db
def test_proofs_from_the_stored_tree_equal_the_in_memory_tree_at_every_size() -> None:
    """Inclusion and consistency proofs, at the current size (border from the head) and at
    every older size (border from the stored nodes), equal the in-memory tree's and verify."""
    from habeas.ledger.proofs import consistency_proof, inclusion_proof, tree_head

    _append_batch(70)
    _append(3, start=70)
    leaves = [bytes.fromhex(h) for h in LedgerEntry.objects.values_list("leaf_hash", flat=True)]
    tree = merkle.MemoryTree(leaves)
    assert tree_head() == {"size": 73, "root": tree.root().hex()}
    for size in range(1, 74):
        root = tree.root(size)
        for index in {0, size // 2, size - 1, (7 * size) % size}:
            doc = inclusion_proof(index, size)
            proof = [bytes.fromhex(p) for p in doc["proof"]]
            assert proof == tree.inclusion_proof(index, size)
            assert doc["root"] == root.hex()
            merkle.verify_inclusion(index, size, leaves[index], proof, root)
        for old in {1, size // 3 or 1, size - 1 or 1, size}:
            cons = consistency_proof(old, size)
            proof = [bytes.fromhex(p) for p in cons["proof"]]
            assert proof == tree.consistency_proof(old, size)
            assert cons["old_root"] == tree.root(old).hex()
            merkle.verify_consistency(old, size, tree.root(old), root, proof)


@pytest.mark.django_db
def test_rolled_back_append_leaves_no_entry_no_node_and_the_size_unchanged() -> None:
    _append_batch(15)
    _append(1, start=15)
    root = ledger_root()

    class Boom(Exception):
        pass

    def append_then_fail() -> None:
        with transaction.atomic():
            _append_batch(16, start=16)
            assert ledger_size() == 32
            raise Boom

    with pytest.raises(Boom):
        append_then_fail()
    assert ledger_size() == 16
    assert LedgerEntry.objects.count() == 16
    assert LedgerNode.objects.count() == 1  # the one stored node, over leaves 0-15
    assert ledger_root() == root
    # The next append reuses index 16: no gap, and the head's border was rolled back too.
    assert _append(1, start=16)[0].index == 16
    assert ledger_root() == recomputed_root()


# --- append-only: the database refuses UPDATE and DELETE -----------------------------------------


def _refused(sql: str, params: list[Any] | None = None) -> None:
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cur,
    ):
        cur.execute(sql, params or [])


@pytest.mark.django_db
@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE ledger_ledgerentry SET action = 'forged' WHERE index = 0",
        "UPDATE ledger_ledgerentry SET canonical = canonical WHERE index = 1",
        "UPDATE ledger_ledgerentry SET leaf_hash = 'x'",
        "DELETE FROM ledger_ledgerentry WHERE index = 2",
        "DELETE FROM ledger_ledgerentry",
        "UPDATE ledger_ledgernode SET hash = hash",
        f"DELETE FROM ledger_ledgernode WHERE key = {4 << 48}",
        "DELETE FROM ledger_ledgernode",
    ],
)
def test_database_refuses_update_and_delete_on_the_ledger(sql: str) -> None:
    _append_batch(16)  # sixteen leaves: one stored node, (4, 0)
    assert LedgerNode.objects.filter(key=4 << 48).exists()
    before = list(LedgerEntry.objects.values_list("index", "canonical", "leaf_hash"))
    nodes = list(LedgerNode.objects.values_list("key", "hash"))
    quoted = sql.replace(" index ", f" {connection.ops.quote_name('index')} ")
    quoted = quoted.replace(" key ", f" {connection.ops.quote_name('key')} ")
    _refused(quoted)
    # The test transaction survives and nothing changed.
    assert list(LedgerEntry.objects.values_list("index", "canonical", "leaf_hash")) == before
    assert list(LedgerNode.objects.values_list("key", "hash")) == nodes


@pytest.mark.django_db
def test_orm_updates_and_deletes_are_refused_too() -> None:
    _append(2)
    _append_batch(14, start=2)  # sixteen leaves: one stored node
    assert LedgerNode.objects.count() == 1
    entry = LedgerEntry.objects.get(index=0)
    entry.action = "forged"
    with pytest.raises(DatabaseError), transaction.atomic():
        entry.save()
    with pytest.raises(DatabaseError), transaction.atomic():
        LedgerEntry.objects.filter(index=0).update(subject="forged")
    with pytest.raises(DatabaseError), transaction.atomic():
        LedgerEntry.objects.filter(index=0).delete()
    with pytest.raises(DatabaseError), transaction.atomic():
        LedgerNode.objects.all().delete()
    assert LedgerEntry.objects.get(index=0).action == "test.appended"


@pytest.mark.django_db
def test_database_refuses_truncate_on_postgresql() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has no TRUNCATE (DELETE without WHERE is covered above)")
    _append(3)
    _refused("TRUNCATE ledger_ledgerentry, ledger_ledgernode")
    assert LedgerEntry.objects.count() == 3


@pytest.mark.django_db
def test_times_that_differ_only_by_fold_are_recorded_as_different_instants() -> None:
    """01:30 on the night New York's clocks go back happens twice (fold 0: EDT, fold 1: EST).
    The two times compare equal in Python, but they are different instants."""
    from zoneinfo import ZoneInfo

    first = dt.datetime(2025, 11, 2, 1, 30, tzinfo=ZoneInfo("America/New_York"))
    second = first.replace(fold=1)
    assert first == second
    written = ledger_append_many(
        actor=ACTOR,
        events=[
            Event(action="t.x", subject="a", payload={"at": first}, occurred_at=first),
            Event(action="t.x", subject="b", payload={"at": second}, occurred_at=second),
            Event(action="t.x", subject="c", payload={"at": first}, occurred_at=first),
        ],
    )
    docs = [json.loads(e.canonical) for e in written]
    instants = ["2025-11-02T05:30:00Z", "2025-11-02T06:30:00Z", "2025-11-02T05:30:00Z"]
    assert [d["occurred_at"] for d in docs] == instants
    assert [d["payload"]["at"] for d in docs] == instants
    stored = LedgerEntry.objects.order_by("index")
    assert [e.occurred_at for e in stored] == [
        dt.datetime(2025, 11, 2, 5, 30, tzinfo=dt.UTC),
        dt.datetime(2025, 11, 2, 6, 30, tzinfo=dt.UTC),
        dt.datetime(2025, 11, 2, 5, 30, tzinfo=dt.UTC),
    ]


@pytest.mark.django_db
def test_stored_times_are_the_instants_recorded_to_the_microsecond() -> None:
    at = dt.datetime(2025, 3, 16, 14, 5, 7, 123456, tzinfo=dt.timezone(dt.timedelta(hours=-6)))
    entry = ledger_append(actor=ACTOR, action="t.x", subject="s", payload={}, occurred_at=at)
    stored = LedgerEntry.objects.get(index=entry.index)
    assert stored.occurred_at == at
    assert stored.recorded_at == entry.recorded_at
    assert json.loads(stored.canonical)["occurred_at"] == "2025-03-16T20:05:07.123456Z"
