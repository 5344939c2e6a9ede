"""Personal data on a permanent ledger: keyed commitments (ARCHITECTURE.md, "Personal data and
the ledger"; docs/ledger.md, format 2).

An entry keeps its public facts in clear. Each value that its action declares personal
(``habeas.core.events.Action.personal``) is replaced, before the entry is hashed, by
``hmac-sha256:<hex>`` = HMAC-SHA-256(key, canonical JSON of the value), under the key of the
data subject (:class:`~habeas.ledger.models.SubjectKey`, one random 256-bit key per person, or
per manifest row whose person is not known). The body stays in its table, scoped by role;
``verify-ledger`` recomputes each commitment from the row with the same key.

Erasure destroys the key (and the service deletes the bodies): the commitments on the ledger
can then no longer be tested against any guess, while every entry, leaf hash and proof stays
valid. HMAC rather than a plain hash because a plain hash of a date of birth or a common name
could be found by trying every candidate.
"""

from __future__ import annotations

import functools
import hashlib
import os
from collections.abc import Iterable, Mapping
from typing import Any

from orjson import JSONEncodeError
from orjson import dumps as _dumps

from habeas.core.canonical import canonical_bytes
from habeas.core.clock import now

PREFIX = "hmac-sha256:"
KEY_BYTES = 32


def commitment(key: bytes, value: Any) -> str:
    """The commitment of one personal value (any JSON value: text, date, list, object)."""
    return Keyed(key).commitment(value)


_BLOCK = 64  # SHA-256's block size
_TRANS_36 = bytes(x ^ 0x36 for x in range(256))
_TRANS_5C = bytes(x ^ 0x5C for x in range(256))


class Keyed:
    """HMAC-SHA-256 under one key (RFC 2104), the key's padded inner and outer hash states
    computed once and copied per value. The same bytes as ``hmac.new(key, data, sha256)``,
    about three times faster per value: an imported manifest row commits some thirty
    personal values under one key, and ``hmac.new`` sets the key up again for each."""

    __slots__ = ("_inner", "_outer")

    def __init__(self, key: bytes) -> None:
        if len(key) > _BLOCK:
            key = hashlib.sha256(key).digest()
        key = key.ljust(_BLOCK, b"\0")
        self._inner = hashlib.sha256(key.translate(_TRANS_36))
        self._outer = hashlib.sha256(key.translate(_TRANS_5C))

    def digest(self, data: bytes) -> bytes:
        inner = self._inner.copy()
        inner.update(data)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.digest()

    def commitment(self, value: Any) -> str:
        if type(value) is str:  # most personal values: orjson's bytes are the canonical ones
            try:
                data = _dumps(value)
            except JSONEncodeError:  # a lone surrogate: the checked path refuses it
                data = canonical_bytes(value)
        else:
            data = canonical_bytes(value)
        inner = self._inner.copy()
        inner.update(data)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return PREFIX + outer.digest().hex()


def is_commitment(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX) and len(value) == len(PREFIX) + 64


def keys_for(names: Iterable[str], *, create: bool, using: str = "default") -> dict[str, bytes]:
    """The keys of these subjects; with ``create``, a new random key for each that has none
    (inside the appending transaction: the key and the entries commit together)."""
    from django.db import connections

    from habeas.core.rows import Rows
    from habeas.ledger.models import SubjectKey

    wanted = sorted(set(names))
    found: dict[str, bytes] = {}
    connection = connections[using]
    table = connection.ops.quote_name(SubjectKey._meta.db_table)
    with connection.cursor() as cursor:
        for start in range(0, len(wanted), 900):
            chunk = wanted[start : start + 900]
            cursor.execute(
                f"SELECT name, {connection.ops.quote_name('key')} FROM {table} "  # noqa: S608 - the model's table
                f"WHERE name IN ({', '.join(['%s'] * len(chunk))})",
                chunk,
            )
            found.update((name, bytes(key)) for name, key in cursor.fetchall())
    missing = [n for n in wanted if n not in found]
    if create and missing:
        rows = Rows(using)
        created_at = rows.instant(now())
        fresh = {n: os.urandom(KEY_BYTES) for n in missing}
        rows.insert(
            SubjectKey,
            ("id", "name", "key", "created_at"),
            [
                (pk, n, k, created_at)
                for pk, (n, k) in zip(rows.ids(SubjectKey, len(fresh)), fresh.items(), strict=True)
            ],
        )
        found.update(fresh)
    return found


def all_keys(using: str = "default") -> dict[str, bytes]:
    """Every subject's key (verify-ledger reads them once per run)."""
    from habeas.ledger.models import SubjectKey

    return {
        name: bytes(key)
        for name, key in SubjectKey.objects.using(using)
        .values_list("name", "key")
        .iterator(chunk_size=10_000)
    }


def destroy_keys(names: Iterable[str], using: str = "default") -> int:
    """Erasure: delete these subjects' keys. Only the erasure service calls this, in the
    transaction that records the ``erased`` event."""
    from habeas.ledger.models import SubjectKey

    wanted = sorted(set(names))
    deleted = 0
    for start in range(0, len(wanted), 900):
        deleted += (
            SubjectKey.objects.using(using).filter(name__in=wanted[start : start + 900]).delete()[0]
        )
    return deleted


def present(payload: dict[str, Any], paths: Iterable[str]) -> bool:
    """Whether any of the paths holds a value in ``payload`` (an event with nothing personal
    in it needs no key: no key is made for it). Every event of a bulk append is tested, so
    the walk is a loop with plain-dict fast paths rather than recursion per step."""
    for path in paths:  # noqa: SIM110 (a loop, not a generator per event)
        if _present(payload, _parts(path), 0):
            return True
    return False


@functools.cache
def _parts(path: str) -> list[str]:
    return path.split(".")


def _present(node: Any, parts: list[str], i: int) -> bool:
    n = len(parts)
    while i < n:
        head = parts[i]
        i += 1
        if head == "*":
            if not isinstance(node, list):
                return False
            if i == n:
                return bool(node)
            return any(_present(item, parts, i) for item in node)
        if type(node) is dict:
            if head not in node:
                return False
        elif not isinstance(node, Mapping) or head not in node:
            return False
        node = node[head]
    return True


def committed(payload: dict[str, Any], paths: Iterable[str], key: bytes) -> dict[str, Any]:
    """A copy of ``payload`` with the value at each path replaced by its commitment. A path is
    dot-separated; ``*`` stands for every element of a list. Absent paths are skipped; only the
    containers on a path are copied (the caller's payload is left as it was), each once: the
    paths are walked together (:func:`_trie`)."""
    paths = paths if type(paths) is tuple else tuple(paths)
    keyed = Keyed(key)
    trie = _trie(paths)
    if trie is not None:
        return _walk(payload, trie, keyed.commitment)
    result = payload
    for path in paths:
        result = _commit_at(result, _parts(path), keyed)
    return result


_LEAF: dict[str, Any] = {}


@functools.lru_cache(maxsize=256)
def _trie(paths: tuple[str, ...]) -> dict[str, Any] | None:
    """The paths as a tree of their parts (:data:`_LEAF` where a value is committed), or
    ``None`` when a path runs through another's value (then they are applied one after the
    other, in order, as :func:`_commit_at` does)."""
    root: dict[str, Any] = {}
    for path in paths:
        node = root
        parts = _parts(path)
        for i, part in enumerate(parts):
            child = node.get(part)
            if i == len(parts) - 1:
                if child is not None:
                    return None
                node[part] = _LEAF
            else:
                if child is _LEAF:
                    return None
                node = node.setdefault(part, {})
    return root


def _walk(node: Any, trie: dict[str, Any], commit: Any) -> Any:
    """:func:`_commit_at` of every path of ``trie`` at once."""
    if isinstance(node, list):
        sub = trie.get("*")
        if sub is None:
            return node
        if sub is _LEAF:
            return list(map(commit, node))
        return [_walk(item, sub, commit) for item in node]
    if not isinstance(node, Mapping):
        return node
    copy = None
    for head, sub in trie.items():
        if head == "*" or head not in node:
            continue
        if copy is None:
            copy = dict(node)
        value = node[head]
        copy[head] = commit(value) if sub is _LEAF else _walk(value, sub, commit)
    return node if copy is None else copy


def _commit_at(node: Any, parts: list[str], keyed: Keyed) -> Any:
    head, rest = parts[0], parts[1:]
    if head == "*":
        if not isinstance(node, list):
            return node
        if not rest:
            return list(map(keyed.commitment, node))
        return [_commit_at(item, rest, keyed) for item in node]
    if not isinstance(node, Mapping) or head not in node:
        return node
    copy = dict(node)
    copy[head] = _commit_at(node[head], rest, keyed) if rest else keyed.commitment(node[head])
    return copy
