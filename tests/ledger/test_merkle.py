"""RFC 9162 Merkle tree: hashing, stored-tree proofs and verifiers (plain functions, no Django).

The verifiers are checked against the transparency-dev/merkle vectors in tests/data/rfc9162
(Apache-2.0, see NOTICE.md there); the stored-tree proofs against those vectors and against a
direct transcription of the recursive definitions of RFC 9162 §2.1.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from habeas.ledger import merkle
from habeas.ledger.merkle import (
    EMPTY_ROOT,
    MemoryTree,
    MissingNodeError,
    NodeKey,
    ProofError,
    compute_new_nodes,
    consistency_ok,
    consistency_proof_from_store,
    inclusion_ok,
    inclusion_proof_from_store,
    leaf_hash,
    node_hash,
    nodes_completed_by_append,
    perfect_subtrees,
    root_from_leaves,
    root_from_store,
    subtree_keys_for_root,
    verify_consistency,
    verify_inclusion,
)

VECTORS = Path(__file__).parent.parent / "data" / "rfc9162"

# NOTICE.md constants (RFC 9162 §2.1.1 with SHA-256).
EMPTY_ROOT_HEX = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
EMPTY_LEAF_HEX = "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
EIGHT_LEAVES = [
    bytes.fromhex(h)
    for h in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]
EIGHT_ROOT_HEX = "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"


def _vector_files(kind: str) -> list[Path]:
    return sorted((VECTORS / kind).rglob("*.json"))


def _vector_id(path: Path) -> str:
    return path.relative_to(VECTORS).as_posix()


def _load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _b64(value: str | None) -> bytes:
    return base64.b64decode(value) if value else b""


def _b64_list(values: list[str] | None) -> list[bytes]:
    return [_b64(v) for v in values or []]


# --- an oracle: RFC 9162 §2.1 transcribed literally (recursive, slicing, small inputs only) ----


def _largest_power_below(n: int) -> int:
    return 1 << ((n - 1).bit_length() - 1)


def _mth(hashes: Sequence[bytes]) -> bytes:
    if not hashes:
        return EMPTY_ROOT
    if len(hashes) == 1:
        return hashes[0]
    k = _largest_power_below(len(hashes))
    return node_hash(_mth(hashes[:k]), _mth(hashes[k:]))


def _path(m: int, hashes: Sequence[bytes]) -> list[bytes]:
    if len(hashes) == 1:
        return []
    k = _largest_power_below(len(hashes))
    if m < k:
        return [*_path(m, hashes[:k]), _mth(hashes[k:])]
    return [*_path(m - k, hashes[k:]), _mth(hashes[:k])]


def _subproof(m: int, hashes: Sequence[bytes], whole: bool) -> list[bytes]:
    n = len(hashes)
    if m == n:
        return [] if whole else [_mth(hashes)]
    k = _largest_power_below(n)
    if m <= k:
        return [*_subproof(m, hashes[:k], whole), _mth(hashes[k:])]
    return [*_subproof(m - k, hashes[k:], False), _mth(hashes[:k])]


def _leaves(count: int) -> list[bytes]:
    return [leaf_hash(i.to_bytes(4, "big")) for i in range(count)]


MAX_SIZE = 300
LEAVES = _leaves(MAX_SIZE)
TREE = MemoryTree(LEAVES)  # proofs for every smaller size come from the same stored nodes
ROOTS = [root_from_leaves(LEAVES[:size]) for size in range(MAX_SIZE + 1)]


class DictStore:
    """A NodeStore over a plain dict that counts its fetches."""

    def __init__(self, nodes: dict[NodeKey, bytes] | None = None) -> None:
        self.nodes: dict[NodeKey, bytes] = dict(nodes or {})
        self.calls = 0

    def get_nodes(self, keys: Sequence[NodeKey]) -> dict[NodeKey, bytes]:
        self.calls += 1
        return {key: self.nodes[key] for key in keys if key in self.nodes}


def _all_keys(size: int) -> list[NodeKey]:
    keys: list[NodeKey] = []
    level = 0
    while size >> level:
        keys += [(level, i) for i in range(size >> level)]
        level += 1
    return keys


def _flip(value: bytes, bit: int) -> bytes:
    bit %= len(value) * 8
    out = bytearray(value)
    out[bit // 8] ^= 1 << (bit % 8)
    return bytes(out)


# --- the vectors --------------------------------------------------------------------------


def test_vectors_are_present() -> None:
    if not VECTORS.is_dir():
        pytest.skip(f"RFC 9162 vectors not found at {VECTORS}")
    assert len(_vector_files("inclusion")) == 98
    assert len(_vector_files("consistency")) == 98
    assert (VECTORS / "NOTICE.md").is_file()


@pytest.mark.parametrize("path", _vector_files("inclusion"), ids=_vector_id)
def test_inclusion_vector(path: Path) -> None:
    v = _load(path)
    args = (
        v["leafIdx"],
        v["treeSize"],
        _b64(v["leafHash"]),
        _b64_list(v["proof"]),
        _b64(v["root"]),
    )
    assert inclusion_ok(*args) is (not v["wantErr"]), v["desc"]
    if v["wantErr"]:
        with pytest.raises(ProofError):
            verify_inclusion(*args)
    else:
        verify_inclusion(*args)


@pytest.mark.parametrize("path", _vector_files("consistency"), ids=_vector_id)
def test_consistency_vector(path: Path) -> None:
    v = _load(path)
    args = (
        v["size1"],
        v["size2"],
        _b64(v["root1"]),
        _b64(v["root2"]),
        _b64_list(v["proof"]),
    )
    assert consistency_ok(*args) is (not v["wantErr"]), v["desc"]
    if v["wantErr"]:
        with pytest.raises(ProofError):
            verify_consistency(*args)
    else:
        verify_consistency(*args)


def _happy_paths(kind: str) -> list[Path]:
    # The numbered folders are proofs over the eight NOTICE.md leaves.
    return [
        p for p in _vector_files(kind) if p.parent.name.isdigit() and p.name == "happy-path.json"
    ]


@pytest.mark.parametrize("path", _happy_paths("inclusion"), ids=_vector_id)
def test_memory_tree_inclusion_proof_matches_vector(path: Path) -> None:
    v = _load(path)
    tree = MemoryTree([leaf_hash(d) for d in EIGHT_LEAVES])
    assert tree.inclusion_proof(v["leafIdx"], v["treeSize"]) == _b64_list(v["proof"])
    assert tree.root(v["treeSize"]) == _b64(v["root"])
    assert leaf_hash(EIGHT_LEAVES[v["leafIdx"]]) == _b64(v["leafHash"])


@pytest.mark.parametrize("path", _happy_paths("consistency"), ids=_vector_id)
def test_memory_tree_consistency_proof_matches_vector(path: Path) -> None:
    v = _load(path)
    tree = MemoryTree([leaf_hash(d) for d in EIGHT_LEAVES])
    assert tree.consistency_proof(v["size1"], v["size2"]) == _b64_list(v["proof"])
    assert tree.root(v["size1"]) == _b64(v["root1"])
    assert tree.root(v["size2"]) == _b64(v["root2"])


def test_happy_path_vectors_are_found() -> None:
    assert len(_happy_paths("inclusion")) == 5
    assert len(_happy_paths("consistency")) == 5


# --- hashing ------------------------------------------------------------------------------


def test_notice_constants() -> None:
    assert EMPTY_ROOT.hex() == EMPTY_ROOT_HEX
    assert root_from_leaves([]) == EMPTY_ROOT
    assert MemoryTree().root() == EMPTY_ROOT
    assert leaf_hash(b"").hex() == EMPTY_LEAF_HEX
    eight = [leaf_hash(d) for d in EIGHT_LEAVES]
    assert root_from_leaves(eight).hex() == EIGHT_ROOT_HEX
    assert MemoryTree(eight).root().hex() == EIGHT_ROOT_HEX


def test_leaf_and_node_hash_domain_separation() -> None:
    a, b = leaf_hash(b"a"), leaf_hash(b"b")
    assert leaf_hash(b"a") == hashlib.sha256(b"\x00a").digest()
    assert node_hash(a, b) == hashlib.sha256(b"\x01" + a + b).digest()
    assert len(node_hash(a, b)) == merkle.HASH_SIZE


@settings(deadline=None)
@given(st.lists(st.binary(max_size=8), max_size=70))
def test_root_from_leaves_matches_rfc_definition(data: list[bytes]) -> None:
    hashes = [leaf_hash(d) for d in data]
    assert root_from_leaves(hashes) == _mth(hashes)
    assert MemoryTree(hashes).root() == _mth(hashes)


def test_root_from_leaves_refuses_short_hash() -> None:
    with pytest.raises(ValueError, match="leaf hash 1"):
        root_from_leaves([EMPTY_ROOT, b"short"])


# --- the stored tree ----------------------------------------------------------------------


def test_perfect_subtrees() -> None:
    assert perfect_subtrees(0, 0) == []
    assert perfect_subtrees(0, 13) == [(3, 0), (2, 2), (0, 12)]
    assert perfect_subtrees(8, 13) == [(2, 2), (0, 12)]
    assert perfect_subtrees(12, 14) == [(1, 6)]
    assert subtree_keys_for_root(7) == [(2, 0), (1, 2), (0, 6)]
    with pytest.raises(ValueError, match="not a subtree"):
        perfect_subtrees(2, 7)
    with pytest.raises(ValueError, match="invalid leaf range"):
        perfect_subtrees(5, 4)


def test_proofs_match_rfc_definitions_exhaustively() -> None:
    for size in range(1, 41):
        hashes = LEAVES[:size]
        assert TREE.root(size) == _mth(hashes)
        for index in range(size):
            assert TREE.inclusion_proof(index, size) == _path(index, hashes)
        for size1 in range(1, size + 1):
            assert TREE.consistency_proof(size1, size) == _subproof(size1, hashes, True)


@settings(deadline=None)
@given(st.data())
def test_inclusion_proofs_verify(data: st.DataObject) -> None:
    size = data.draw(st.integers(1, MAX_SIZE), label="size")
    index = data.draw(st.integers(0, size - 1), label="index")
    proof = TREE.inclusion_proof(index, size)
    verify_inclusion(index, size, LEAVES[index], proof, ROOTS[size])
    assert TREE.root(size) == ROOTS[size]


@settings(deadline=None)
@given(st.data())
def test_consistency_proofs_verify(data: st.DataObject) -> None:
    size2 = data.draw(st.integers(1, MAX_SIZE), label="size2")
    size1 = data.draw(st.integers(1, size2), label="size1")
    proof = TREE.consistency_proof(size1, size2)
    verify_consistency(size1, size2, ROOTS[size1], ROOTS[size2], proof)


@settings(deadline=None)
@given(st.data())
def test_inclusion_fails_on_any_flipped_bit(data: st.DataObject) -> None:
    size = data.draw(st.integers(1, MAX_SIZE), label="size")
    index = data.draw(st.integers(0, size - 1), label="index")
    proof = TREE.inclusion_proof(index, size)
    leaf, root = LEAVES[index], ROOTS[size]
    target = data.draw(st.integers(-2, len(proof) - 1), label="target")
    bit = data.draw(st.integers(0, 255), label="bit")
    if target == -2:
        leaf = _flip(leaf, bit)
    elif target == -1:
        root = _flip(root, bit)
    else:
        proof[target] = _flip(proof[target], bit)
    assert not inclusion_ok(index, size, leaf, proof, root)


@settings(deadline=None)
@given(st.data())
def test_consistency_fails_on_any_flipped_bit(data: st.DataObject) -> None:
    size2 = data.draw(st.integers(1, MAX_SIZE), label="size2")
    size1 = data.draw(st.integers(1, size2), label="size1")
    proof = TREE.consistency_proof(size1, size2)
    root1, root2 = ROOTS[size1], ROOTS[size2]
    target = data.draw(st.integers(-2, len(proof) - 1), label="target")
    bit = data.draw(st.integers(0, 255), label="bit")
    if target == -2:
        root1 = _flip(root1, bit)
    elif target == -1:
        root2 = _flip(root2, bit)
    else:
        proof[target] = _flip(proof[target], bit)
    assert not consistency_ok(size1, size2, root1, root2, proof)


@settings(deadline=None)
@given(st.data())
def test_proofs_do_not_verify_for_other_positions(data: st.DataObject) -> None:
    size = data.draw(st.integers(2, MAX_SIZE), label="size")
    index = data.draw(st.integers(0, size - 1), label="index")
    other = data.draw(st.integers(0, size - 1).filter(lambda i: i != index), label="other")
    proof = TREE.inclusion_proof(index, size)
    assert not inclusion_ok(other, size, LEAVES[index], proof, ROOTS[size])
    assert not inclusion_ok(index, size, LEAVES[other], proof, ROOTS[size])


@settings(max_examples=50, deadline=None)
@given(
    st.integers(0, MAX_SIZE),
    st.lists(st.integers(0, MAX_SIZE), max_size=6),
)
def test_compute_new_nodes_in_batches_equals_one_by_one(size: int, cuts: list[int]) -> None:
    bounds = sorted({0, size, *(c for c in cuts if c <= size)})
    store = DictStore()
    for start, end in itertools.pairwise(bounds):
        batch = LEAVES[start:end]
        calls = store.calls
        new = compute_new_nodes(start, batch, store)
        assert store.calls - calls <= 1
        assert all(level >= 1 for level, _ in new)
        assert not set(new) & set(store.nodes)
        store.nodes.update({(0, start + i): h for i, h in enumerate(batch)})
        store.nodes.update(new)
    one_by_one = MemoryTree()
    for leaf in LEAVES[:size]:
        one_by_one.append(leaf)
    keys = _all_keys(size)
    assert store.nodes == one_by_one.get_nodes(keys)
    assert len(store.nodes) == len(keys)
    assert root_from_store(size, store) == ROOTS[size]


@settings(max_examples=80, deadline=None)
@given(
    st.integers(0, MAX_SIZE),
    st.lists(st.integers(0, MAX_SIZE), max_size=6),
)
def test_grow_from_the_border_alone_equals_the_full_tree(size: int, cuts: list[int]) -> None:
    """Appending batch by batch with only the right border kept gives every interior node
    of the stored tree exactly once, and each batch's border is that of its size."""
    bounds = sorted({0, size, *(c for c in cuts if c <= size)})
    border: list[bytes] = []
    nodes: dict[NodeKey, bytes] = {}
    for start, end in itertools.pairwise(bounds):
        grown = merkle.grow(start, border, LEAVES[start:end])
        for level, first, hashes in grown.levels:
            assert level >= 1
            for offset, value in enumerate(hashes):
                assert (level, first + offset) not in nodes
                nodes[(level, first + offset)] = value
        border = grown.border
        keys = perfect_subtrees(0, end)
        assert len(border) == len(keys) == len(merkle.border_levels(end))
        assert border == [TREE.get_nodes([k])[k] for k in keys]
        assert merkle.fold(border) == ROOTS[end]
    interior = [key for key in _all_keys(size) if key[0] >= 1]
    assert nodes == TREE.get_nodes(interior)
    assert merkle.grow(size, border, []).border == border


def test_grow_refuses_a_border_of_the_wrong_size() -> None:
    with pytest.raises(ValueError, match="border hashes"):
        merkle.grow(3, [LEAVES[0]], LEAVES[3:4])
    with pytest.raises(ValueError, match="32 bytes"):
        merkle.grow(1, [b"short"], LEAVES[1:2])
    with pytest.raises(ValueError):
        merkle.grow(-1, [], [])


def test_fold_border_levels_and_leaf_hashes() -> None:
    assert merkle.fold([]) == EMPTY_ROOT
    assert merkle.border_levels(0) == []
    assert merkle.border_levels(13) == [3, 2, 0]
    data = [b"", b"a", "Ñandú".encode()]
    assert merkle.leaf_hashes(data) == [leaf_hash(d) for d in data]
    assert merkle.leaf_hashes([]) == []


def test_nodes_completed_by_append() -> None:
    assert nodes_completed_by_append(0) == [(0, 0)]
    assert nodes_completed_by_append(1) == [(0, 1), (1, 0)]
    assert nodes_completed_by_append(6) == [(0, 6)]
    assert nodes_completed_by_append(7) == [(0, 7), (1, 3), (2, 1), (3, 0)]
    seen: list[NodeKey] = []
    for index in range(100):
        seen += nodes_completed_by_append(index)
    assert sorted(seen) == sorted(_all_keys(100))


def test_append_and_append_many_store_the_same_nodes() -> None:
    single = MemoryTree()
    for i, leaf in enumerate(LEAVES):
        assert single.append(leaf) == i
    batched = MemoryTree(LEAVES[:37])
    batched.append_many(LEAVES[37:38])
    batched.append_many([])
    batched.append_many(LEAVES[38:])
    keys = _all_keys(MAX_SIZE)
    assert single.size == batched.size == MAX_SIZE
    assert single.get_nodes(keys) == batched.get_nodes(keys) == TREE.get_nodes(keys)
    assert single.get_nodes([(0, MAX_SIZE), (9, 0), (-1, 0), (0, -1)]) == {}


def test_store_functions_fetch_once() -> None:
    store = DictStore(TREE.get_nodes(_all_keys(MAX_SIZE)))
    assert root_from_store(MAX_SIZE, store) == ROOTS[MAX_SIZE]
    assert inclusion_proof_from_store(5, 201, store) == TREE.inclusion_proof(5, 201)
    assert consistency_proof_from_store(77, 201, store) == TREE.consistency_proof(77, 201)
    assert store.calls == 3
    assert consistency_proof_from_store(64, 64, store) == []
    assert root_from_store(0, store) == EMPTY_ROOT
    assert store.calls == 3


def test_missing_nodes_are_reported() -> None:
    store = DictStore({(0, 0): LEAVES[0]})
    with pytest.raises(MissingNodeError, match=r"\(1, 0\)"):
        root_from_store(2, store)
    with pytest.raises(MissingNodeError):
        inclusion_proof_from_store(0, 2, store)
    with pytest.raises(MissingNodeError):
        compute_new_nodes(3, LEAVES[3:4], store)


def test_bad_proof_requests() -> None:
    with pytest.raises(ValueError, match="outside"):
        TREE.inclusion_proof(5, 5)
    with pytest.raises(ValueError, match="outside"):
        TREE.inclusion_proof(0, MAX_SIZE + 1)
    with pytest.raises(ValueError, match="no consistency proof"):
        TREE.consistency_proof(0, 5)
    with pytest.raises(ValueError, match="no consistency proof"):
        TREE.consistency_proof(6, 5)
    with pytest.raises(ValueError, match="32 bytes"):
        MemoryTree().append(b"short")
    with pytest.raises(ValueError, match="32 bytes"):
        compute_new_nodes(0, [b"short"], DictStore())


# --- verifier error cases -----------------------------------------------------------------


def test_verify_inclusion_messages() -> None:
    proof = TREE.inclusion_proof(3, 10)
    with pytest.raises(ProofError, match="not below tree size"):
        verify_inclusion(10, 10, LEAVES[3], proof, ROOTS[10])
    with pytest.raises(ProofError, match="leaf hash is 3 bytes"):
        verify_inclusion(3, 10, b"abc", proof, ROOTS[10])
    with pytest.raises(ProofError, match="shorter"):
        verify_inclusion(3, 10, LEAVES[3], proof[:-1], ROOTS[10])
    with pytest.raises(ProofError, match="longer"):
        verify_inclusion(3, 10, LEAVES[3], [*proof, ROOTS[10]], ROOTS[10])
    with pytest.raises(ProofError, match=r"proof\[1\] is 0 bytes"):
        verify_inclusion(3, 10, LEAVES[3], [proof[0], b"", *proof[1:]], ROOTS[10])
    with pytest.raises(ProofError, match="gives root"):
        verify_inclusion(3, 10, LEAVES[4], proof, ROOTS[10])


def test_verify_consistency_messages() -> None:
    proof = TREE.consistency_proof(6, 10)
    with pytest.raises(ProofError, match="larger than"):
        verify_consistency(10, 6, ROOTS[10], ROOTS[6], proof)
    with pytest.raises(ProofError, match="empty tree"):
        verify_consistency(0, 10, EMPTY_ROOT, ROOTS[10], [])
    with pytest.raises(ProofError, match="proof is empty"):
        verify_consistency(6, 10, ROOTS[6], ROOTS[10], [])
    with pytest.raises(ProofError, match="too short"):
        verify_consistency(6, 10, ROOTS[6], ROOTS[10], proof[:-1])
    with pytest.raises(ProofError, match="too long"):
        verify_consistency(6, 10, ROOTS[6], ROOTS[10], [*proof, ROOTS[6]])
    with pytest.raises(ProofError, match="first root"):
        verify_consistency(6, 10, ROOTS[7], ROOTS[10], proof)
    with pytest.raises(ProofError, match="second root"):
        verify_consistency(6, 10, ROOTS[6], ROOTS[9], proof)
    with pytest.raises(ProofError, match="roots differ"):
        verify_consistency(6, 6, ROOTS[6], ROOTS[7], [])
    with pytest.raises(ProofError, match="proof has 1 hashes"):
        verify_consistency(6, 6, ROOTS[6], ROOTS[6], [ROOTS[6]])
    verify_consistency(6, 6, ROOTS[6], ROOTS[6], [])
