"""Properties of the ledger write path (RFC 9162 §2.1.1; ARCHITECTURE.md rule 4).

Any sequence of appends (single and batched, random actions, subjects and payloads, any
Unicode) yields a stored tree whose root is the Merkle tree hash of the leaves recomputed from
the stored canonical text, at every intermediate size; and changing any single byte of any
entry's canonical text changes the recomputed root (tamper evidence).

Each Hypothesis example runs in its own savepoint that is rolled back at the end, so examples
are independent although they share the function-scoped ``db`` fixture.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from habeas.core.actor import Actor
from habeas.ledger import merkle
from habeas.ledger.models import LedgerEntry
from habeas.ledger.services import Event, ledger_append_many, ledger_root, ledger_size

SETTINGS = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


class _Rollback(Exception):
    pass


@contextmanager
def rolled_back() -> Iterator[None]:
    """Run the body in a savepoint and always roll it back."""
    try:
        with transaction.atomic():
            yield
            raise _Rollback
    except _Rollback:
        pass


# No NUL: PostgreSQL text columns cannot hold it (the payload escapes it as \u0000 anyway);
# codec="utf-8" keeps lone surrogates out (they cannot be encoded at all).
_text = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=20)
_word = st.text("abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=12)
actions = st.builds(lambda a, v: f"{a}.{v}", _word, _word)
subjects = st.builds(lambda k, v: f"{k}:{v}", _word, _text)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53), max_value=2**53)
    | st.text(max_size=12),  # any Unicode, control characters included
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)
payloads = st.dictionaries(st.text(max_size=8), json_values, max_size=3)
events = st.builds(
    lambda a, s, p: Event(action=a, subject=s, payload=p), actions, subjects, payloads
)
batches = st.lists(st.lists(events, min_size=1, max_size=4), min_size=1, max_size=5)
actors = st.builds(lambda n: Actor(name=n), _text.filter(bool))


def stored_canonicals() -> list[bytes]:
    return [
        c.encode("utf-8")
        for c in LedgerEntry.objects.order_by("index").values_list("canonical", flat=True)
    ]


def root_of(canonicals: list[bytes]) -> bytes:
    return merkle.root_from_leaves([hashlib.sha256(b"\x00" + c).digest() for c in canonicals])


@pytest.mark.django_db
@SETTINGS
@given(actor=actors, batches=batches)
def test_any_sequence_of_appends_gives_a_root_that_verifies(
    actor: Actor, batches: list[list[Event]]
) -> None:
    with rolled_back():
        assert ledger_size() == 0
        for batch in batches:
            ledger_append_many(actor=actor, events=batch)
        total = sum(len(b) for b in batches)
        canonicals = stored_canonicals()
        assert len(canonicals) == total == ledger_size()
        entries = list(LedgerEntry.objects.order_by("index"))
        assert [e.index for e in entries] == list(range(total))
        flat = [e for b in batches for e in b]
        for entry, event in zip(entries, flat, strict=True):
            assert entry.action == event.action
            assert entry.subject == event.subject
            assert entry.document["actor"] == actor.name
            assert entry.payload == _json_roundtrip(event.payload)
            assert entry.leaf_hash == hashlib.sha256(b"\x00" + entry.canonical_bytes).hexdigest()
        for size in range(total + 1):
            assert ledger_root(size) == root_of(canonicals[:size])


def _json_roundtrip(value: Any) -> Any:
    import json

    from habeas.core.canonical import canonical_bytes

    return json.loads(canonical_bytes(value))


@pytest.mark.django_db
@SETTINGS
@given(batches=batches, data=st.data())
def test_any_changed_byte_in_any_entry_changes_the_root(
    batches: list[list[Event]], data: st.DataObject
) -> None:
    with rolled_back():
        for batch in batches:
            ledger_append_many(actor=Actor(name="t"), events=batch)
        canonicals = stored_canonicals()
        assert root_of(canonicals) == ledger_root()
        which = data.draw(st.integers(0, len(canonicals) - 1), label="entry")
        position = data.draw(st.integers(0, len(canonicals[which]) - 1), label="byte")
        old = canonicals[which][position]
        new = data.draw(st.integers(0, 255).filter(lambda b: b != old), label="new byte")
        tampered = list(canonicals)
        changed = bytearray(tampered[which])
        changed[position] = new
        tampered[which] = bytes(changed)
        assert root_of(tampered) != ledger_root()
