"""RFC 9162 (Certificate Transparency v2) Merkle tree hashing, proofs and proof verification.

Hashing follows RFC 9162 §2.1.1 with SHA-256: the Merkle Tree Hash (MTH) of an empty list is
``SHA-256()``, a leaf is ``SHA-256(0x00 || data)`` and an interior node is
``SHA-256(0x01 || left || right)``, the left child covering the largest power of two strictly
below the number of leaves. Inclusion proofs are the PATH of §2.1.3.1 and consistency proofs the
PROOF/SUBPROOF of §2.1.4.1; :func:`verify_inclusion` and :func:`verify_consistency` port the
verification algorithms of §2.1.3.2 and §2.1.4.2 step by step.

The tree is kept incrementally: only *perfect* subtrees are stored. Node ``(level, i)`` is the
hash of leaves ``[i * 2**level, (i + 1) * 2**level)``; level 0 holds the leaf hashes. A stored
node never changes once the tree has grown past it, so every historical root and proof can be
computed from the same nodes. The hash of any subtree a proof needs is the fold of at most
O(log n) stored nodes (:func:`perfect_subtrees`), so each proof is planned first (which nodes,
how to fold them), then fetched from a :class:`NodeStore` in one batch, then folded.

All hashes are 32-byte ``bytes``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from itertools import repeat
from operator import add
from typing import NamedTuple, Protocol

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "MemoryTree",
    "MissingNodeError",
    "NodeKey",
    "NodeStore",
    "ProofError",
    "border_levels",
    "compute_new_nodes",
    "consistency_ok",
    "consistency_proof_from_store",
    "consistency_proof_plan",
    "fold",
    "fold_plan",
    "grow",
    "inclusion_ok",
    "inclusion_proof_from_store",
    "inclusion_proof_plan",
    "leaf_hash",
    "leaf_hashes",
    "left_siblings",
    "node_hash",
    "nodes_completed_by_append",
    "pair_hashes",
    "perfect_subtrees",
    "root_from_leaves",
    "root_from_store",
    "subtree_keys_for_root",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE = 32
"""Length in bytes of every hash (SHA-256)."""

EMPTY_ROOT = hashlib.sha256(b"").digest()
"""MTH({}): the root of the empty tree (RFC 9162 §2.1.1)."""

NodeKey = tuple[int, int]
"""``(level, index)``: the perfect subtree of leaves ``[index << level, (index + 1) << level)``."""

_sha256 = hashlib.sha256
_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"
_NODE_STATE = hashlib.sha256(_NODE_PREFIX)  # copied, never updated in place
_digest = type(_NODE_STATE).digest  # the unbound method, for ``map``


class ProofError(ValueError):
    """A Merkle proof does not verify; the message says which check failed."""


class MissingNodeError(LookupError):
    """The node store lacks a node that a root or proof needs (the store is incomplete)."""


class NodeStore(Protocol):
    """Where the stored perfect-subtree hashes live (memory, database...)."""

    def get_nodes(self, keys: Sequence[NodeKey]) -> dict[NodeKey, bytes]:
        """Return the hashes of the requested nodes in one batch.

        Keys that are not stored may be left out of the result (or the store may raise a
        :class:`LookupError` itself); callers report them as :class:`MissingNodeError`.
        """
        ...


# --- hashing ------------------------------------------------------------------------------


def leaf_hash(data: bytes) -> bytes:
    """MTH({d}) = SHA-256(0x00 || d): the hash of one leaf (RFC 9162 §2.1.1)."""
    return _sha256(_LEAF_PREFIX + data).digest()


def leaf_hashes(datas: Iterable[bytes]) -> list[bytes]:
    """:func:`leaf_hash` of each, with no Python-level loop (``map`` over C functions): the
    ledger hashes every entry it writes and every entry it verifies."""
    return list(map(_digest, map(_sha256, map(add, repeat(_LEAF_PREFIX), datas))))


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || left || right): the hash of an interior node (RFC 9162 §2.1.1)."""
    return _sha256(_NODE_PREFIX + left + right).digest()


def _check_hash(value: bytes, what: str) -> None:
    if len(value) != HASH_SIZE:
        raise ValueError(f"{what} must be {HASH_SIZE} bytes, got {len(value)}")


def _check_leaf_hashes(leaf_hashes: Sequence[bytes]) -> None:
    if all(map(HASH_SIZE.__eq__, map(len, leaf_hashes))):  # no per-hash bytecode
        return
    for position, value in enumerate(leaf_hashes):
        if len(value) != HASH_SIZE:
            raise ValueError(f"leaf hash {position} must be {HASH_SIZE} bytes, got {len(value)}")


def root_from_leaves(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH over already-hashed leaves, computed level by level (no recursion, no slicing).

    Pairing neighbours on each level and carrying an unpaired last node up unchanged builds
    exactly the left-balanced tree of RFC 9162 §2.1.1.
    """
    if not leaf_hashes:
        return EMPTY_ROOT
    _check_leaf_hashes(leaf_hashes)
    sha = _sha256
    prefix = _NODE_PREFIX
    level = list(leaf_hashes)
    while len(level) > 1:
        count = len(level)
        upper = [sha(prefix + level[i] + level[i + 1]).digest() for i in range(0, count - 1, 2)]
        if count & 1:
            upper.append(level[-1])
        level = upper
    return level[0]


# --- planning proofs over stored perfect subtrees -----------------------------------------


def perfect_subtrees(start: int, end: int) -> list[NodeKey]:
    """The stored nodes whose fold is MTH(D[start:end]), left to right (largest first).

    The range must be one that appears in the tree's own structure, as every range used by
    RFC 9162 proofs does: ``start`` is a multiple of the largest power of two not above
    ``end - start``. Its MTH is then ``node_hash(h0, node_hash(h1, ... hk))`` over the returned
    nodes (see :func:`_fold`), one node per set bit of ``end - start``.
    """
    if not 0 <= start <= end:
        raise ValueError(f"invalid leaf range [{start}, {end})")
    count = end - start
    if count == 0:
        return []
    top = count.bit_length() - 1
    if start & ((1 << top) - 1):
        raise ValueError(f"leaf range [{start}, {end}) is not a subtree of the Merkle tree")
    keys: list[NodeKey] = []
    for level in range(top, -1, -1):
        if count >> level & 1:
            keys.append((level, start >> level))
            start += 1 << level
    return keys


def subtree_keys_for_root(size: int) -> list[NodeKey]:
    """The stored nodes whose fold is the root of the tree of ``size`` leaves (at most log n)."""
    return perfect_subtrees(0, size)


def _fold(hashes: Sequence[bytes]) -> bytes:
    """Right-to-left fold of perfect-subtree hashes listed largest (leftmost) first."""
    result = hashes[-1]
    for i in range(len(hashes) - 2, -1, -1):
        result = _sha256(_NODE_PREFIX + hashes[i] + result).digest()
    return result


def fold(border: Sequence[bytes]) -> bytes:
    """The root of a tree from its right border (the hashes of ``perfect_subtrees(0, size)``,
    largest first); the empty border is the empty tree."""
    return _fold(border) if border else EMPTY_ROOT


def border_levels(size: int) -> list[int]:
    """Levels of the perfect subtrees of ``[0, size)``, largest first: the set bits of size."""
    return [level for level in range(size.bit_length() - 1, -1, -1) if size >> level & 1]


def _path_plan(level: int, index: int, size: int) -> list[list[NodeKey]]:
    """Plan of the RFC 9162 PATH from stored node ``(level, index)`` to the root of ``size``.

    Each proof element is the fold of the listed nodes. The path climbs through ``inner``
    perfect siblings to the ``fork`` node, the highest perfect ancestor of the node; then comes
    the subtree right of the fork (``[end, size)``, if any), then the left siblings on the
    tree's right border: the perfect subtrees of ``[0, begin)``, smallest first.
    """
    inner = (index ^ (size >> level)).bit_length() - 1
    plan = [[(level + j, (index >> j) ^ 1)] for j in range(inner)]
    fork_level = level + inner
    begin = (index >> inner) << fork_level
    end = begin + (1 << fork_level)
    if end < size:
        plan.append(perfect_subtrees(end, size))
    plan.extend([key] for key in reversed(perfect_subtrees(0, begin)))
    return plan


def inclusion_proof_plan(index: int, size: int) -> list[list[NodeKey]]:
    """Which stored nodes make up each element of PATH(index, D[size]) (RFC 9162 §2.1.3.1).

    Element ``k`` of the proof is the fold of ``plan[k]`` (one node, or the nodes of one
    subtree on the right border). Requires ``0 <= index < size``.
    """
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is outside a tree of size {size}")
    return _path_plan(0, index, size)


def consistency_proof_plan(size1: int, size2: int) -> list[list[NodeKey]]:
    """Which stored nodes make up each element of PROOF(size1, D[size2]) (RFC 9162 §2.1.4.1).

    Requires ``0 < size1 <= size2``; equal sizes give the empty proof. The proof is the
    largest perfect subtree ending at ``size1`` (left out when that subtree is the whole old
    tree, i.e. ``size1`` is a power of two) followed by that subtree's PATH in the new tree.
    """
    if not 0 < size1 <= size2:
        raise ValueError(f"no consistency proof from size {size1} to size {size2}")
    if size1 == size2:
        return []
    level = (size1 & -size1).bit_length() - 1
    index = (size1 - 1) >> level
    plan: list[list[NodeKey]] = [] if index == 0 else [[(level, index)]]
    plan += _path_plan(level, index, size2)
    return plan


def _fetch(store: NodeStore, keys: Iterable[NodeKey]) -> dict[NodeKey, bytes]:
    wanted = list(dict.fromkeys(keys))
    if not wanted:
        return {}
    found = store.get_nodes(wanted)
    missing = [key for key in wanted if key not in found]
    if missing:
        raise MissingNodeError(f"Merkle tree nodes missing from the store: {missing[:5]}")
    return found


def _execute(plan: list[list[NodeKey]], store: NodeStore) -> list[bytes]:
    nodes = _fetch(store, (key for element in plan for key in element))
    return fold_plan(plan, nodes)


def fold_plan(plan: list[list[NodeKey]], nodes: dict[NodeKey, bytes]) -> list[bytes]:
    """The proof a plan describes, from nodes already fetched (each element is the fold of
    its nodes); a node missing from ``nodes`` is a :class:`MissingNodeError`."""
    try:
        return [
            nodes[element[0]] if len(element) == 1 else _fold([nodes[key] for key in element])
            for element in plan
        ]
    except KeyError as exc:
        raise MissingNodeError(f"Merkle tree node missing: {exc.args[0]}") from None


def root_from_store(size: int, store: NodeStore) -> bytes:
    """The root of the tree of ``size`` leaves, from at most log n stored nodes (one fetch)."""
    if size < 0:
        raise ValueError(f"invalid tree size {size}")
    if size == 0:
        return EMPTY_ROOT
    keys = subtree_keys_for_root(size)
    nodes = _fetch(store, keys)
    return _fold([nodes[key] for key in keys])


def inclusion_proof_from_store(index: int, size: int, store: NodeStore) -> list[bytes]:
    """PATH(index, D[size]) (RFC 9162 §2.1.3.1), from one fetch of O(log n) stored nodes."""
    return _execute(inclusion_proof_plan(index, size), store)


def consistency_proof_from_store(size1: int, size2: int, store: NodeStore) -> list[bytes]:
    """PROOF(size1, D[size2]) (RFC 9162 §2.1.4.1), from one fetch of O(log n) stored nodes."""
    return _execute(consistency_proof_plan(size1, size2), store)


# --- growing the stored tree --------------------------------------------------------------


def nodes_completed_by_append(index: int) -> list[NodeKey]:
    """The nodes that become complete when leaf ``index`` is appended, bottom up.

    The first is the leaf itself, ``(0, index)``; then one node per trailing one bit of
    ``index``: ``(level, ((index + 1) >> level) - 1)``.
    """
    if index < 0:
        raise ValueError(f"invalid leaf index {index}")
    keys: list[NodeKey] = [(0, index)]
    count = index + 1
    level = 0
    while count & 1 == 0:
        count >>= 1
        level += 1
        keys.append((level, count - 1))
    return keys


def left_siblings(start: int, count: int) -> list[NodeKey]:
    """The old nodes that appending ``count`` leaves at ``start`` hashes with new ones: at
    each level, the first new node's left sibling when their parent completes in the batch.
    All are nodes of the right border of the old tree."""
    end = start + count
    needed: list[NodeKey] = []
    level = 0
    while (end >> level) > 1:
        first = start >> level
        if first & 1 and (first + 1) << level <= end:
            needed.append((level, first - 1))
        level += 1
    return needed


def compute_new_nodes(
    start_index: int, new_leaf_hashes: Sequence[bytes], store: NodeStore
) -> dict[NodeKey, bytes]:
    """Every interior node (level >= 1) completed by appending leaves at ``start_index``.

    The tree's first ``start_index`` leaves must already be stored. At most one
    ``store.get_nodes`` call fetches the existing left siblings the batch completes (at most
    one per level); the new leaves themselves (level 0) are not in the result.
    """
    if start_index < 0:
        raise ValueError(f"invalid start index {start_index}")
    _check_leaf_hashes(new_leaf_hashes)
    end = start_index + len(new_leaf_hashes)
    old = _fetch(store, left_siblings(start_index, len(new_leaf_hashes)))
    result: dict[NodeKey, bytes] = {}
    current = list(new_leaf_hashes)  # nodes of this level, from index start_index >> level
    level = 0
    sha = _sha256
    prefix = _NODE_PREFIX
    while (end >> level) > 1:
        first = start_index >> level
        if first & 1:
            if (first + 1) << level > end:
                break  # nothing new above this level
            current = [old[(level, first - 1)], *current]
            first -= 1
        upper = [
            sha(prefix + current[i] + current[i + 1]).digest()
            for i in range(0, len(current) - 1, 2)
        ]
        level += 1
        upper_first = first >> 1
        for offset, value in enumerate(upper):
            result[(level, upper_first + offset)] = value
        current = upper
        if not current:
            break
    return result


class Grown(NamedTuple):
    """What :func:`grow` returns."""

    levels: list[tuple[int, int, list[bytes]]]
    """The interior nodes completed, bottom up: ``(level, first index, hashes)`` per level."""
    border: list[bytes]
    """The right border of the grown tree (see :func:`fold`)."""


def pair_hashes(nodes: Sequence[bytes]) -> list[bytes]:
    """``node_hash(nodes[2i], nodes[2i + 1])`` for every complete pair, with no Python-level
    loop (``map`` over C functions): this is half the hashing of a full verification."""
    prefixed = map(add, repeat(_NODE_PREFIX), nodes[0::2])
    return list(map(_digest, map(_sha256, map(add, prefixed, nodes[1::2]))))


def grow(
    start: int, border: Sequence[bytes], leaf_hashes: Sequence[bytes], *, checked: bool = True
) -> Grown:
    """Append leaves to a tree known only by its right border (``border`` of ``start``
    leaves): every interior node the new leaves complete, and the new border.

    The left sibling a new node may need is always a node of the old border, so neither an
    append nor a full recomputation of the root reads any other stored node; memory is
    O(batch + log n). ``checked=False`` skips the length check of each hash, for callers
    that made them with :func:`leaf_hashes` (the border is always checked).
    """
    if start < 0:
        raise ValueError(f"invalid start index {start}")
    old_levels = border_levels(start)
    if len(border) != len(old_levels):
        raise ValueError(
            f"a tree of {start} leaves has {len(old_levels)} border hashes, got {len(border)}"
        )
    _check_leaf_hashes(border)
    if checked:
        _check_leaf_hashes(leaf_hashes)
    left = dict(zip(old_levels, border, strict=True))
    end = start + len(leaf_hashes)
    new_border: dict[int, bytes] = {}
    levels: list[tuple[int, int, list[bytes]]] = []
    current = list(leaf_hashes)
    level = 0
    while current:
        first = start >> level
        if first & 1:  # the first new node's left sibling is old: the border node of its level
            current = [left[level], *current]  # a new list: ``levels`` holds the old one
            first -= 1
        if len(current) & 1:
            new_border[level] = current[-1]
        current = pair_hashes(current)
        level += 1
        if current:
            levels.append((level, first >> 1, current))
    # Above the last level that changed, the border is the old one.
    return Grown(levels, [new_border.get(lv) or left[lv] for lv in border_levels(end)])


class MemoryTree:
    """An in-memory stored incremental tree (a :class:`NodeStore`), for tests and benchmarks.

    Each level is one ``bytearray`` of concatenated 32-byte hashes, so ten million leaves fit
    in about 640 MB. Appends are O(1) amortised, O(log n) worst case.
    """

    def __init__(self, leaf_hashes: Sequence[bytes] = ()) -> None:
        self._levels: list[bytearray] = [bytearray()]
        self._size = 0
        self.append_many(leaf_hashes)

    @property
    def size(self) -> int:
        """Number of leaves."""
        return self._size

    def get_nodes(self, keys: Sequence[NodeKey]) -> dict[NodeKey, bytes]:
        """Stored nodes among ``keys``; keys not (yet) stored are left out."""
        levels = self._levels
        found: dict[NodeKey, bytes] = {}
        for key in keys:
            level, index = key
            if 0 <= level < len(levels) and index >= 0:
                offset = index * HASH_SIZE
                row = levels[level]
                if offset + HASH_SIZE <= len(row):
                    found[key] = bytes(row[offset : offset + HASH_SIZE])
        return found

    def append(self, leaf_hash: bytes) -> int:
        """Append one leaf hash, storing the nodes it completes; returns its index."""
        _check_hash(leaf_hash, "leaf hash")
        index = self._size
        levels = self._levels
        levels[0] += leaf_hash
        count = index + 1
        level = 0
        while count & 1 == 0:
            node = _NODE_STATE.copy()
            node.update(levels[level][-2 * HASH_SIZE :])
            level += 1
            if level == len(levels):
                levels.append(bytearray())
            levels[level] += node.digest()
            count >>= 1
        self._size = index + 1
        return index

    def append_many(self, leaf_hashes: Sequence[bytes]) -> None:
        """Append a batch of leaf hashes, level by level."""
        _check_leaf_hashes(leaf_hashes)
        if not leaf_hashes:
            return
        levels = self._levels
        levels[0] += b"".join(leaf_hashes)
        self._size += len(leaf_hashes)
        level = 0
        while (self._size >> level) > 1:
            if level + 1 == len(levels):
                levels.append(bytearray())
            row = levels[level]
            done = len(levels[level + 1]) // HASH_SIZE
            complete = (self._size >> level) // 2
            pair = 2 * HASH_SIZE
            state = _NODE_STATE
            upper: list[bytes] = []
            for offset in range(done * pair, complete * pair, pair):
                node = state.copy()
                node.update(row[offset : offset + pair])
                upper.append(node.digest())
            levels[level + 1] += b"".join(upper)
            level += 1

    def root(self, size: int | None = None) -> bytes:
        """Root of the tree of ``size`` leaves (default: all of them)."""
        return root_from_store(self._check_size(size), self)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """PATH(index, D[size]) (RFC 9162 §2.1.3.1); ``size`` defaults to the current size."""
        return inclusion_proof_from_store(index, self._check_size(size), self)

    def consistency_proof(self, size1: int, size2: int | None = None) -> list[bytes]:
        """PROOF(size1, D[size2]) (RFC 9162 §2.1.4.1); ``size2`` defaults to the current size."""
        return consistency_proof_from_store(size1, self._check_size(size2), self)

    def _check_size(self, size: int | None) -> int:
        if size is None:
            return self._size
        if not 0 <= size <= self._size:
            raise ValueError(f"tree size {size} is outside 0..{self._size}")
        return size


# --- verification (RFC 9162 §2.1.3.2 and §2.1.4.2) ----------------------------------------


def _check_proof_hashes(proof: Sequence[bytes]) -> None:
    for position, value in enumerate(proof):
        if len(value) != HASH_SIZE:
            raise ProofError(f"proof[{position}] is {len(value)} bytes, expected {HASH_SIZE}")


def verify_inclusion(
    index: int, size: int, leaf_hash: bytes, proof: Sequence[bytes], root: bytes
) -> None:
    """Check that ``leaf_hash`` is leaf ``index`` of the tree of ``size`` leaves with ``root``.

    The algorithm of RFC 9162 §2.1.3.2; also refuses hashes that are not 32 bytes. Raises
    :class:`ProofError` on any failure, returns ``None`` on success.
    """
    if index < 0 or size < 0:
        raise ProofError(f"negative leaf index or tree size ({index}, {size})")
    # 1. leaf_index must be below tree_size.
    if index >= size:
        raise ProofError(f"leaf index {index} is not below tree size {size}")
    if len(leaf_hash) != HASH_SIZE:
        raise ProofError(f"leaf hash is {len(leaf_hash)} bytes, expected {HASH_SIZE}")
    if len(root) != HASH_SIZE:
        raise ProofError(f"root is {len(root)} bytes, expected {HASH_SIZE}")
    _check_proof_hashes(proof)
    # 2. and 3.
    fn, sn = index, size - 1
    r = leaf_hash
    # 4.
    for p in proof:
        # a.
        if sn == 0:
            raise ProofError(f"inclusion proof is longer than the path ({len(proof)} hashes)")
        # b.
        if fn & 1 or fn == sn:
            r = _sha256(_NODE_PREFIX + p + r).digest()
            while fn & 1 == 0 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = _sha256(_NODE_PREFIX + r + p).digest()
        # c.
        fn >>= 1
        sn >>= 1
    # 5.
    if sn != 0:
        raise ProofError(f"inclusion proof is shorter than the path ({len(proof)} hashes)")
    if r != root:
        raise ProofError(
            f"inclusion proof for leaf {index} gives root {r.hex()}, expected {root.hex()}"
        )


def verify_consistency(
    size1: int, size2: int, root1: bytes, root2: bytes, proof: Sequence[bytes]
) -> None:
    """Check that the tree of ``size2`` leaves with ``root2`` extends the one of ``size1``.

    The algorithm of RFC 9162 §2.1.4.2, which is defined for ``0 < size1 < size2``. Equal
    sizes need an empty proof and equal roots. A size1 of 0 is refused: a consistency proof
    from the empty tree proves nothing. Raises :class:`ProofError` on any failure.
    """
    if size1 < 0 or size2 < 0:
        raise ProofError(f"negative tree size ({size1}, {size2})")
    if size1 > size2:
        raise ProofError(f"first tree size {size1} is larger than second tree size {size2}")
    if size1 == 0:
        raise ProofError("consistency with the empty tree is not defined (RFC 9162: 0 < first)")
    if size1 == size2:
        if proof:
            raise ProofError(f"tree sizes are equal but the proof has {len(proof)} hashes")
        if root1 != root2:
            raise ProofError(f"tree sizes are equal ({size1}) but the roots differ")
        return
    # 1.
    if not proof:
        raise ProofError("consistency proof is empty")
    if len(root1) != HASH_SIZE or len(root2) != HASH_SIZE:
        raise ProofError(f"roots must be {HASH_SIZE} bytes, got {len(root1)} and {len(root2)}")
    _check_proof_hashes(proof)
    # 2.
    path = list(proof)
    if size1 & (size1 - 1) == 0:
        path.insert(0, root1)
    # 3.
    fn, sn = size1 - 1, size2 - 1
    # 4.
    while fn & 1:
        fn >>= 1
        sn >>= 1
    # 5.
    fr = sr = path[0]
    # 6.
    for c in path[1:]:
        # a.
        if sn == 0:
            raise ProofError(f"consistency proof is too long ({len(proof)} hashes)")
        # b.
        if fn & 1 or fn == sn:
            fr = _sha256(_NODE_PREFIX + c + fr).digest()
            sr = _sha256(_NODE_PREFIX + c + sr).digest()
            while fn & 1 == 0 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = _sha256(_NODE_PREFIX + sr + c).digest()
        # c.
        fn >>= 1
        sn >>= 1
    # 7.
    if sn != 0:
        raise ProofError(f"consistency proof is too short ({len(proof)} hashes)")
    if fr != root1:
        raise ProofError(f"consistency proof gives first root {fr.hex()}, expected {root1.hex()}")
    if sr != root2:
        raise ProofError(f"consistency proof gives second root {sr.hex()}, expected {root2.hex()}")


def inclusion_ok(
    index: int, size: int, leaf_hash: bytes, proof: Sequence[bytes], root: bytes
) -> bool:
    """:func:`verify_inclusion` as a boolean."""
    try:
        verify_inclusion(index, size, leaf_hash, proof, root)
    except ProofError:
        return False
    return True


def consistency_ok(
    size1: int, size2: int, root1: bytes, root2: bytes, proof: Sequence[bytes]
) -> bool:
    """:func:`verify_consistency` as a boolean."""
    try:
        verify_consistency(size1, size2, root1, root2, proof)
    except ProofError:
        return False
    return True
