"""Commitments of personal values (habeas.ledger.privacy): the paths walked together give
what applying them one after the other gives, and a text's commitment is the HMAC of its
canonical bytes."""

from __future__ import annotations

import hashlib
import hmac
import os
from typing import Any

import pytest

from habeas.core.canonical import canonical_bytes
from habeas.ledger import privacy
from habeas.ledger.privacy import Keyed, _commit_at, _parts, committed

PAYLOAD: dict[str, Any] = {
    "entry": {
        "id": 7,
        "data": {"given_names": "José", "x": ["a", 1]},
        "given_names": "José",
        "first_surname": "Núñez",
        "rules": [
            {"rule": "U1", "message": "ok", "message_es": "bien"},
            {"rule": "U2", "message": "no", "source": "MR 7"},
            "not a rule",
        ],
        "tags": ["a", "b"],
        "nothing": None,
    },
    "other": 1,
}


def _one_by_one(payload: dict[str, Any], paths: tuple[str, ...], key: bytes) -> Any:
    keyed = Keyed(key)
    result = payload
    for path in paths:
        result = _commit_at(result, _parts(path), keyed)
    return result


@pytest.mark.parametrize(
    "paths",
    [
        ("entry.data", "entry.given_names", "entry.rules.*.message", "entry.rules.*.message_es"),
        ("entry.tags.*", "entry.missing", "entry.id.deeper", "other", "entry.nothing"),
        ("entry.data", "entry.data.given_names"),  # one path runs through another's value
        ("entry.data.given_names", "entry.data"),
        ("entry.*", "entry.rules.*.rule"),  # '*' of a mapping: left alone
    ],
)
def test_walking_the_paths_together_equals_one_by_one(paths: tuple[str, ...]) -> None:
    key = os.urandom(32)
    before = repr(PAYLOAD)
    assert committed(PAYLOAD, paths, key) == _one_by_one(PAYLOAD, paths, key)
    assert repr(PAYLOAD) == before  # the caller's payload is left as it was


@pytest.mark.parametrize("value", ["", "José Núñez", 'quote " and \\ and \n', "null", 3, None])
def test_a_commitment_is_the_hmac_of_the_canonical_bytes(value: Any) -> None:
    key = os.urandom(32)
    want = hmac.new(key, canonical_bytes(value), hashlib.sha256).hexdigest()
    assert privacy.commitment(key, value) == privacy.PREFIX + want


def test_a_lone_surrogate_is_refused() -> None:
    with pytest.raises(ValueError):
        privacy.commitment(os.urandom(32), "\ud800")
