"""verify-ledger: hashes, stored tree, table-vs-ledger replay, signed checkpoints, proofs."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from habeas.core.actor import Actor
from habeas.ledger import merkle
from habeas.ledger.checkpoint import Checkpoint, CheckpointError, parse_and_verify, sign
from habeas.ledger.keys import ensure_signing_key, load_signing_key, public_key
from habeas.ledger.models import LedgerEntry
from habeas.ledger.proofs import (
    checkpoint_issue,
    consistency_proof,
    entry_document,
    inclusion_proof,
    key_name,
)
from habeas.ledger.services import ledger_root, ledger_size
from habeas.ledger.verify import verify_against, verify_ledger
from tests.conftest import admit, direct_write, make_person, removal_order, run_cli

# Every test here changes the tables or the ledger behind the services on purpose.
pytestmark = pytest.mark.tampers


def tamper(sql: str, params: list[Any] | None = None) -> None:
    """Write behind Habeas's back: drop the append-only triggers (the test transaction rolls the
    DDL back on both engines) and run ``sql``."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            for table in ("ledger_ledgerentry", "ledger_ledgernode"):
                for op in ("update", "delete"):
                    cursor.execute(f"DROP TRIGGER IF EXISTS {table}_no_{op}")
        else:
            for table in ("ledger_ledgerentry", "ledger_ledgernode"):
                cursor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        cursor.execute(sql, params or [])


@pytest.fixture
def held(world: dict[str, Any], actor: Any) -> list[Any]:
    people = [make_person(actor) for _ in range(5)]
    for p in people[:3]:
        admit(actor, p, world["tec"], world["us"])
    admit(actor, people[3], world["tec"], world["us"], bases=[removal_order()])
    return people


@pytest.fixture
def signing_key(settings: Any, tmp_path: Path) -> Path:
    settings.LEDGER_KEY_PATH = tmp_path / "key.pem"
    path, _ = ensure_signing_key(settings.LEDGER_KEY_PATH)
    return path


def test_verify_ok_and_root_matches_stored_tree(held: list[Any]) -> None:
    result = verify_ledger()
    assert result.ok, result.problems
    assert result.entries == ledger_size()
    assert result.root == ledger_root()


def test_edited_domain_row_is_named(held: list[Any]) -> None:
    person = held[0]
    tamper("UPDATE people_person SET first_surname = %s WHERE id = %s", ["Nadie", person.pk])
    result = verify_ledger()
    assert not result.ok
    where = [p.where for p in result.problems]
    assert f"people.Person.{person.pk}.first_surname" in where


def test_added_and_removed_rows_are_named(held: list[Any]) -> None:
    from habeas.housing.models import Placement

    placement = Placement.objects.filter(episode__person=held[0]).get()
    tamper("DELETE FROM custody_placement WHERE id = %s", [placement.pk])
    from habeas.people.models import Person

    columns = ", ".join(f.column for f in Person._meta.concrete_fields if not f.primary_key)
    tamper(
        f"INSERT INTO people_person ({columns}) SELECT {columns} FROM people_person WHERE id = %s",
        [held[0].pk],
    )
    messages = {p.where: p.message for p in verify_ledger().problems}
    assert any(
        w == f"housing.Placement.{placement.pk}" and "removed" in m for w, m in messages.items()
    )
    assert any(w.startswith("people.Person.") and "added" in m for w, m in messages.items())


def test_edited_ledger_payload_is_named(held: list[Any]) -> None:
    tamper(
        "UPDATE ledger_ledgerentry SET canonical = REPLACE(canonical, 'TEC', 'TEX') "
        "WHERE action = 'custody.admitted'"
    )
    code, out, _ = run_cli("verify-ledger", "--json")
    assert code == 1
    doc = json.loads(out)
    assert doc["ok"] is False
    assert doc["problems"][0]["where"].startswith("entry ")
    assert "leaf hash" in doc["problems"][0]["message"]


def test_checkpoint_round_trip_and_truncation_found(
    held: list[Any], signing_key: Path, tmp_path: Path
) -> None:
    cp = tmp_path / "cp.txt"
    code, out, _ = run_cli("ledger", "checkpoint", "--out", str(cp))
    assert code == 0
    text = cp.read_text()
    old = parse_and_verify(text, public_key(), name=key_name())
    assert old.size == ledger_size()
    assert old.root == ledger_root()
    # more events: the ledger still extends the checkpoint
    admit(Actor(name="test"), held[4], held[0].episodes.get().facility, None)
    code, out, _ = run_cli("verify-ledger", "--against", str(cp))
    assert code == 0, out
    # truncation (with the triggers dropped) is found with only the old checkpoint
    size = ledger_size()
    tamper('DELETE FROM ledger_ledgerentry WHERE "index" >= %s', [old.size - 2])
    tamper("UPDATE ledger_ledgerhead SET size = %s", [old.size - 2])
    code, out, _ = run_cli("verify-ledger", "--against", str(cp), "--json")
    assert code == 1
    problems = json.loads(out)["problems"]
    assert any("removed" in p["message"] for p in problems), problems
    assert size > old.size


def test_rewritten_history_fails_consistency(held: list[Any], signing_key: Path) -> None:
    checkpoint = checkpoint_issue()
    # rewrite an old leaf and its node consistently with the entry: hashes line up locally,
    # but the history no longer extends the signed checkpoint.
    result = verify_ledger(tables=False)
    assert result.ok
    forged = Checkpoint(origin=key_name(), size=checkpoint.size, root=b"\x01" * 32)
    text = sign(forged, load_signing_key(), name=key_name())
    verify_against(text, result)
    assert any("does not extend" in p.message for p in result.problems)


def test_checkpoint_with_a_changed_byte_is_refused(signing_key: Path) -> None:
    text = sign(Checkpoint("o", 3, b"\x02" * 32), load_signing_key(), name="o")
    with pytest.raises(CheckpointError):
        parse_and_verify(text.replace("\n3\n", "\n4\n"), public_key(), name="o")
    with pytest.raises(CheckpointError):
        parse_and_verify(text, public_key(), name="other")


def test_entry_document_is_the_hashed_bytes(held: list[Any]) -> None:
    doc = entry_document(3)
    raw = base64.b64decode(doc["canonical"])
    assert merkle.leaf_hash(raw).hex() == doc["leaf_hash"]
    assert json.loads(raw)["index"] == 3


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_stored_tree_proofs_verify(held: list[Any], data: st.DataObject) -> None:
    n = ledger_size()
    size = data.draw(st.integers(1, n))
    index = data.draw(st.integers(0, size - 1))
    doc = inclusion_proof(index, size)
    merkle.verify_inclusion(
        index,
        size,
        bytes.fromhex(doc["leaf_hash"]),
        [bytes.fromhex(p) for p in doc["proof"]],
        bytes.fromhex(doc["root"]),
    )
    m = data.draw(st.integers(1, size))
    cons = consistency_proof(m, size)
    merkle.verify_consistency(
        m,
        size,
        bytes.fromhex(cons["old_root"]),
        bytes.fromhex(cons["root"]),
        [bytes.fromhex(p) for p in cons["proof"]],
    )


def test_housing_events_replay_cleanly(world: dict[str, Any]) -> None:
    """Certification, deactivation and reactivation change cells: the replay must agree."""
    from habeas.facilities.models import Cell
    from habeas.facilities.services import cell_certify, cell_deactivate, cell_reactivate

    director = Actor(name="director", role="facility_admin")
    cell = Cell.objects.get(facility=world["tec"], code="M2-02")
    cell_certify(actor=director, cell=cell, working_capacity=5, max_capacity=6, reason="survey")
    cell_deactivate(actor=director, cell=cell, reason="maintenance", note="roof")
    assert verify_ledger().ok, verify_ledger().problems
    cell_reactivate(actor=director, cell=cell, note="fixed")
    result = verify_ledger()
    assert result.ok, result.problems
    tamper("UPDATE facilities_cell SET working_capacity = 3 WHERE id = %s", [cell.pk])
    assert [p.where for p in verify_ledger().problems] == [
        f"facilities.Cell.{cell.pk}.working_capacity"
    ]


# --- the hash pass alone (tables=False), page by page ------------------------------------------


@pytest.fixture(params=[1, 7, 20_000], ids=lambda n: f"page{n}")
def ledger_40(request: Any, monkeypatch: pytest.MonkeyPatch, db: None) -> int:
    """Forty entries, verified in pages of 1, 7 or 20,000 rows (the page-wide checks and the
    row-by-row pass that names the entry must agree whatever the page boundaries)."""
    from habeas.ledger import verify
    from habeas.ledger.services import Event, ledger_append_many

    monkeypatch.setattr(verify, "_BATCH", request.param)
    direct_write(
        lambda: ledger_append_many(
            actor=Actor(name="test"),
            events=[
                Event("test.appended", f"thing:{i}", {"n": i, "name": "Ñandú", "index": 99 - i})
                for i in range(40)
            ],
        )
    )
    assert verify_ledger(tables=False).ok
    return 40


def _where(result: Any) -> list[tuple[str, str]]:
    return [(p.where, p.message) for p in result.problems]


def test_verify_pages_give_the_root_and_count(ledger_40: int) -> None:
    result = verify_ledger(tables=False)
    assert result.entries == ledger_40 == ledger_size()
    assert result.root == ledger_root()


@pytest.mark.parametrize("which", [0, 6, 7, 19, 39])
def test_any_changed_byte_of_a_payload_is_found(ledger_40: int, which: int) -> None:
    tamper(
        "UPDATE ledger_ledgerentry SET canonical = REPLACE(canonical, 'Ñandú', 'Ñandu') "
        'WHERE "index" = %s',
        [which],
    )
    problems = _where(verify_ledger(tables=False))
    assert (f"entry {which}", "leaf hash does not match the entry's canonical bytes") in problems
    assert len([p for p in problems if "leaf hash" in p[1]]) == 1  # the first at fault


def test_a_changed_leaf_hash_is_found(ledger_40: int) -> None:
    tamper('UPDATE ledger_ledgerentry SET leaf_hash = %s WHERE "index" = 13', ["ab" * 32])
    problems = _where(verify_ledger(tables=False))
    assert ("entry 13", "leaf hash does not match the entry's canonical bytes") in problems
    assert any(w == "ledger_ledgernode" for w, _ in problems) is False  # the root is unchanged


@pytest.mark.parametrize("which", [0, 8, 20])
def test_a_removed_row_is_found(ledger_40: int, which: int) -> None:
    tamper('DELETE FROM ledger_ledgerentry WHERE "index" = %s', [which])
    problems = _where(verify_ledger(tables=False))
    assert (f"entry {which}", f"missing: the next stored entry is {which + 1}") in problems
    assert ("ledger_ledgerhead.size", "head says 40 entries, the table holds 39") in problems


def test_an_added_row_is_found(ledger_40: int) -> None:
    from habeas.core.canonical import canonical_bytes

    data = canonical_bytes(
        {"action": "x.y", "actor": "t", "index": 40, "occurred_at": "2025-01-01T00:00:00Z",
         "payload": {}, "recorded_at": "2025-01-01T00:00:00Z", "subject": "s"}
    )  # fmt: skip
    tamper(
        'INSERT INTO ledger_ledgerentry ("index", occurred_at, recorded_at, actor, action, '
        "subject, canonical, leaf_hash) VALUES (40, %s, %s, 't', 'x.y', 's', %s, %s)",
        ["2025-01-01 00:00:00", "2025-01-01 00:00:00", data.decode(), merkle.leaf_hash(data).hex()],
    )
    result = verify_ledger(tables=False)
    assert result.entries == 41
    assert ("ledger_ledgerhead.size", "head says 40 entries, the table holds 41") in _where(result)


def test_a_consistently_rewritten_entry_is_found_by_the_tree(ledger_40: int) -> None:
    """Payload and leaf hash rewritten together: the row checks pass, the stored tree's root
    and the head's border no longer match the entries."""
    row = LedgerEntry.objects.get(index=21)
    forged = row.canonical.replace("Ñandú", "Nadie").encode()
    tamper(
        'UPDATE ledger_ledgerentry SET canonical = %s, leaf_hash = %s WHERE "index" = 21',
        [forged.decode(), merkle.leaf_hash(forged).hex()],
    )
    wheres = [w for w, _ in _where(verify_ledger(tables=False))]
    assert wheres == ["ledger_ledgerhead.border", "ledger_ledgernode"]


def test_an_entry_naming_another_index_is_found(ledger_40: int) -> None:
    row = LedgerEntry.objects.get(index=5)
    forged = row.canonical.replace('"index":5,', '"index":6,').encode()
    assert forged != row.canonical.encode()
    tamper(
        'UPDATE ledger_ledgerentry SET canonical = %s, leaf_hash = %s WHERE "index" = 5',
        [forged.decode(), merkle.leaf_hash(forged).hex()],
    )
    problems = _where(verify_ledger(tables=False))
    assert ("entry 5", "entry text is not canonical or names another index") in problems


def test_the_payload_index_key_does_not_count_as_the_entry_index(ledger_40: int) -> None:
    """Every payload here holds an ``"index"`` key of its own (99 - n): only the first, the
    entry's, is read, so the clean ledger verifies (see the fixture) and a forged top-level
    index is still found although the payload names the entry's position."""
    row = LedgerEntry.objects.get(index=30)
    assert '"index":69' in row.canonical
    forged = row.canonical.replace('"index":30,', '"index":31,', 1).replace(
        '"index":69', '"index":30'
    )
    tamper(
        'UPDATE ledger_ledgerentry SET canonical = %s, leaf_hash = %s WHERE "index" = 30',
        [forged, merkle.leaf_hash(forged.encode()).hex()],
    )
    problems = _where(verify_ledger(tables=False))
    assert ("entry 30", "entry text is not canonical or names another index") in problems


def test_a_tampered_head_border_is_found_and_not_signed(ledger_40: int, signing_key: Path) -> None:
    tamper("UPDATE ledger_ledgerhead SET border = %s WHERE id = 1", [b"\x07" * 64])
    assert _where(verify_ledger(tables=False)) == [
        (
            "ledger_ledgerhead.border",
            "the head's copy of the tree's right border differs from the tree of the entries",
        )
    ]
    from habeas.core.errors import Conflict

    with pytest.raises(Conflict, match="differs from the stored tree"):
        checkpoint_issue()


def test_deep_verification_reencodes_every_entry(ledger_40: int) -> None:
    assert verify_ledger(tables=False, deep=True).ok
    row = LedgerEntry.objects.get(index=3)
    spaced = row.canonical.replace('"action":', '"action": ', 1).encode()
    tamper(
        'UPDATE ledger_ledgerentry SET canonical = %s, leaf_hash = %s WHERE "index" = 3',
        [spaced.decode(), merkle.leaf_hash(spaced).hex()],
    )
    assert ("entry 3", "entry text is not canonical or names another index") in _where(
        verify_ledger(tables=False, deep=True)
    )


@pytest.mark.parametrize(
    "garbage", [b"\x07" * 64, b"\x07" * 5], ids=["wrong-hashes", "wrong-length"]
)
def test_a_damaged_head_is_never_built_into_the_stored_tree(ledger_40: int, garbage: bytes) -> None:
    """Appends hash new nodes with siblings read from the append-only stored tree, not from
    the head's copy of the border: after a damaged head, the next appends store correct
    nodes and rewrite the head."""
    from habeas.ledger.services import Event, ledger_append_many

    tamper("UPDATE ledger_ledgerhead SET border = %s WHERE id = 1", [garbage])
    direct_write(  # 40 → 64 leaves: every old border node is a left sibling
        lambda: ledger_append_many(
            actor=Actor(name="test"),
            events=[Event("test.appended", f"more:{i}", {"n": i}) for i in range(24)],
        )
    )
    result = verify_ledger(tables=False)
    assert result.ok, result.problems
    assert result.root == ledger_root()
