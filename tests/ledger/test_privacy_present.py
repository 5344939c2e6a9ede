"""``privacy.present`` (whether an event holds a personal value, which decides whether a data
subject's key is made) and the commitments' HMAC (ARCHITECTURE.md, "Personal data and the
ledger")."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from habeas.ledger.privacy import present

KEYS = st.sampled_from(["a", "b", "name", "*"])
VALUES = st.recursive(
    st.none() | st.integers(-(2**63), 2**63 - 1) | st.text(max_size=3),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(["a", "b", "name", "*"]), inner, max_size=3)
    ),
    max_leaves=10,
)


def reference(node: Any, parts: list[str]) -> bool:
    """The definition, recursively: ``*`` is every element of a list; a path is present when
    every step exists (its value may be anything, ``None`` included)."""
    head, rest = parts[0], parts[1:]
    if head == "*":
        return isinstance(node, list) and any(not rest or reference(i, rest) for i in node)
    if not isinstance(node, Mapping) or head not in node:
        return False
    return not rest or reference(node[head], rest)


@settings(max_examples=300, deadline=None)
@given(
    payload=st.dictionaries(st.sampled_from(["a", "b", "name"]), VALUES, max_size=3),
    paths=st.lists(st.lists(KEYS, min_size=1, max_size=4).map(".".join), max_size=3),
)
def test_present_matches_the_definition(payload: dict[str, Any], paths: list[str]) -> None:
    expected = any(reference(payload, p.split(".")) for p in paths)
    assert present(payload, paths) is expected


def test_present_examples() -> None:
    assert present({"person": {"names": None}}, ["person.names"])
    assert not present({"person": {}}, ["person.names"])
    assert present({"people": [{"dob": "1990"}]}, ["people.*.dob"])
    assert not present({"people": []}, ["people.*"])
    assert present({"people": [1]}, ["people.*"])
    assert not present({"people": [{"x": 1}]}, ["people.*.dob"])
    assert not present({"people": "text"}, ["people.*"])


@settings(max_examples=300, deadline=None)
@given(key=st.binary(max_size=100), data=st.binary(max_size=300), value=VALUES)
def test_keyed_is_hmac_sha256(key: bytes, data: bytes, value: Any) -> None:
    """The precomputed-state HMAC is RFC 2104 HMAC-SHA-256 (keys shorter and longer than the
    block), and a commitment is the HMAC of the value's canonical JSON."""
    import hashlib
    import hmac

    from habeas.core.canonical import canonical_bytes
    from habeas.ledger.privacy import PREFIX, Keyed, commitment

    keyed = Keyed(key)
    assert keyed.digest(data) == hmac.new(key, data, hashlib.sha256).digest()
    assert keyed.digest(data) == keyed.digest(data)  # the stored states are never consumed
    expected = PREFIX + hmac.new(key, canonical_bytes(value), hashlib.sha256).hexdigest()
    assert commitment(key, value) == expected
    assert keyed.commitment(value) == expected


def committed_one_by_one(payload: Any, paths: list[str], key: bytes) -> Any:
    """The definition of ``committed``: each path applied in turn."""
    from habeas.ledger.privacy import Keyed, _commit_at

    keyed = Keyed(key)
    for path in paths:
        payload = _commit_at(payload, path.split("."), keyed)
    return payload


@settings(max_examples=500, deadline=None)
@given(
    payload=st.dictionaries(st.sampled_from(["a", "b", "name"]), VALUES, max_size=3),
    paths=st.lists(st.lists(KEYS, min_size=1, max_size=4).map(".".join), max_size=6),
)
def test_committed_at_once_is_each_path_in_turn(payload: dict[str, Any], paths: list[str]) -> None:
    """Committing every path in one walk (the paths as a tree) gives what applying them one
    after the other gives, and leaves the caller's payload as it was."""
    from copy import deepcopy

    from habeas.ledger.privacy import committed

    before = deepcopy(payload)
    assert committed(payload, paths, b"k" * 32) == committed_one_by_one(payload, paths, b"k" * 32)
    assert payload == before
