"""``habeas ledger export`` and ``habeas ledger witness`` (docs/ledger.md): a witness keeps a
copy of the public ledger and checks each new export against it, with no database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.db import connection

from habeas.ledger import merkle
from habeas.ledger.checkpoint import Checkpoint, sign
from habeas.ledger.keys import public_key_pem
from habeas.ledger.models import LedgerEntry
from habeas.ledger.services import ledger_root, ledger_size
from tests.conftest import admit, make_person, run_cli


@pytest.fixture
def held(world: dict[str, Any], actor: Any) -> list[Any]:
    people = [make_person(actor) for _ in range(3)]
    for p in people:
        admit(actor, p, world["tec"], world["us"])
    return people


def export(path: Path, *extra: str) -> Path:
    code, _, err = run_cli("ledger", "export", "--out", str(path), *extra)
    assert code == 0, err
    return path


def witness(*args: Any) -> tuple[int, str, str]:
    return run_cli("ledger", "witness", *map(str, args))


def lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines(keepends=True)


def rewrite(path: Path, new: list[str]) -> Path:
    path.write_text("".join(new), encoding="utf-8")
    return path


def entry_line(index: int, canonical: str, leaf: str | None = None) -> str:
    leaf = leaf or merkle.leaf_hash(canonical.encode("utf-8")).hex()
    doc = {"index": index, "canonical": canonical, "leaf_hash": leaf}
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n"


def test_export_holds_the_signed_head_and_the_hashed_bytes(held: list[Any], tmp_path: Path) -> None:
    path = export(tmp_path / "copy.jsonl")
    header, *entries = (json.loads(line) for line in lines(path))
    assert header["type"] == "habeas-ledger-export"
    assert (header["export"], header["format"], header["from"]) == (1, 2, 0)
    assert header["size"] == ledger_size() == len(entries)
    assert header["root"] == ledger_root().hex()
    assert header["checkpoint"].split("\n")[1] == str(ledger_size())
    assert header["base"] is None
    stored = list(LedgerEntry.objects.values_list("index", "canonical", "leaf_hash"))
    assert [(e["index"], e["canonical"], e["leaf_hash"]) for e in entries] == stored
    code, out, err = witness(path)
    assert code == 0, err
    assert out.startswith("witness ok: entries 0–")
    assert "the key the export carries" in out


def test_export_to_stdout_pages_and_from(
    held: list[Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from habeas.ledger import verify

    monkeypatch.setattr(verify, "_BATCH", 3)
    code, out, _ = run_cli("ledger", "export")
    assert code == 0
    docs = [json.loads(line) for line in out.splitlines()]
    assert [d["index"] for d in docs[1:]] == list(range(ledger_size()))
    code, out, _ = run_cli("ledger", "export", "--from", "4")
    docs = [json.loads(line) for line in out.splitlines()]
    assert docs[0]["base"]["size"] == 4
    assert [d["index"] for d in docs[1:]] == list(range(4, ledger_size()))


def test_witness_extends_its_older_copy(
    held: list[Any], world: dict[str, Any], actor: Any, tmp_path: Path
) -> None:
    old = export(tmp_path / "old.jsonl")
    old_size = ledger_size()
    checkpoint = tmp_path / "old-checkpoint.txt"
    checkpoint.write_text(json.loads(lines(old)[0])["checkpoint"], encoding="utf-8")
    admit(actor, make_person(actor), world["tec"], world["us"])
    new = export(tmp_path / "new.jsonl")
    assert ledger_size() > old_size
    code, out, err = witness(new, "--against", old)
    assert code == 0, err
    assert "extends the older copy" in out
    assert "the key of the older copy" in out
    code, out, err = witness(new, "--checkpoint", checkpoint)
    assert code == 0, err
    increment = export(tmp_path / "inc.jsonl", "--from", str(old_size))
    assert len(lines(increment)) == 1 + ledger_size() - old_size
    for reference in (["--against", old], ["--checkpoint", checkpoint]):
        code, out, err = witness(increment, *reference)
        assert code == 0, err
    # The same-size case: nothing appended since the older copy.
    code, _, err = witness(new, "--against", new)
    assert code == 0, err


def test_witness_with_the_key_from_elsewhere(held: list[Any], tmp_path: Path) -> None:
    path = export(tmp_path / "copy.jsonl")
    key = tmp_path / "ledger.pub"
    key.write_text(public_key_pem(), encoding="ascii")
    code, out, err = witness(path, "--key", key)
    assert code == 0, err
    assert f"the key in {key}" in out
    other = tmp_path / "other.pub"
    other.write_bytes(
        Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    code, _, err = witness(path, "--key", other)
    assert code == 1
    assert "export checkpoint: no signature by" in err


def test_an_edited_entry_is_named(held: list[Any], tmp_path: Path) -> None:
    path = export(tmp_path / "copy.jsonl")
    old = export(tmp_path / "old.jsonl")
    rows = lines(path)
    doc = json.loads(rows[3])
    edited = doc["canonical"].replace('"index":2,', '"index":2,"x":1,', 1)
    assert edited != doc["canonical"]
    # Only the text edited: its own leaf hash gives it away.
    rewrite(path, [*rows[:3], entry_line(2, edited, doc["leaf_hash"]), *rows[4:]])
    code, _, err = witness(path)
    assert code == 1
    assert "entry 2 (line 4): the leaf hash does not match the canonical text" in err
    # Text and leaf hash edited together: the signed root gives it away, the older copy names it.
    rewrite(path, [*rows[:3], entry_line(2, edited), *rows[4:]])
    code, _, err = witness(path)
    assert code == 1
    assert "root: the root of the exported entries" in err
    code, _, err = witness(path, "--against", old)
    assert code == 1
    assert "entry 2 (line 4): differs from the same entry of the older copy" in err


def test_a_removed_entry_is_named(held: list[Any], tmp_path: Path) -> None:
    path = export(tmp_path / "copy.jsonl")
    rows = lines(path)
    header = json.loads(rows[0])
    rewrite(path, [*rows[:4], *rows[5:], rows[-1]])  # entry 3 gone, the file as long
    code, _, err = witness(path)
    assert code == 1
    assert "entry 3: missing: line 5 holds entry 4" in err
    assert header["size"] > 5


def test_reordered_entries_are_named(held: list[Any], tmp_path: Path) -> None:
    path = export(tmp_path / "copy.jsonl")
    rows = lines(path)
    rewrite(path, [*rows[:3], rows[4], rows[3], *rows[5:]])
    code, _, err = witness(path)
    assert code == 1
    assert "entry 2: missing: line 4 holds entry 3" in err
    assert "entry 2 (line 5): out of order" in err
    # Renumbered to hide the swap: the canonical texts still name their own indices.
    a, b = json.loads(rows[3]), json.loads(rows[4])
    rewrite(
        path,
        [
            *rows[:3],
            entry_line(2, b["canonical"], b["leaf_hash"]),
            entry_line(3, a["canonical"], a["leaf_hash"]),
            *rows[5:],
        ],
    )
    code, _, err = witness(path)
    assert code == 1
    assert "entry 2 (line 4): the canonical text names index 3, not 2" in err


def test_a_forged_checkpoint_is_refused(held: list[Any], tmp_path: Path) -> None:
    path = export(tmp_path / "copy.jsonl")
    rows = lines(path)
    header = json.loads(rows[0])
    # The body's root changed under the operator's signature.
    body, _, sig = header["checkpoint"].partition("\n\n")
    origin, size, _root = body.split("\n")[:3]
    fake_root = merkle.leaf_hash(b"forged")
    import base64

    forged = dict(header, root=fake_root.hex())
    forged["checkpoint"] = f"{origin}\n{size}\n{base64.b64encode(fake_root).decode()}\n\n{sig}"
    rewrite(path, [json.dumps(forged) + "\n", *rows[1:]])
    code, _, err = witness(path)
    assert code == 1
    assert "export checkpoint: the checkpoint's signature does not verify" in err
    # A checkpoint signed by another key, which the export also carries: the older copy's key
    # (or --key) is the one trusted.
    old = export(tmp_path / "old.jsonl")
    other = Ed25519PrivateKey.generate()
    resigned = dict(
        header,
        checkpoint=sign(
            Checkpoint(origin=origin, size=int(size), root=bytes.fromhex(header["root"])),
            other,
            name=origin,
        ),
        public_key=other.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode(),
    )
    rewrite(path, [json.dumps(resigned) + "\n", *rows[1:]])
    code, _, err = witness(path, "--against", old)
    assert code == 1
    assert "export checkpoint: no signature by" in err
    # The header's size and root must be the signed ones.
    rewrite(path, [json.dumps(dict(header, size=header["size"] - 1)) + "\n", *rows[1:-1]])
    code, _, err = witness(path)
    assert code == 1
    assert "export checkpoint: the header says size" in err


def test_a_shorter_export_than_the_older_copy_is_refused(
    held: list[Any], world: dict[str, Any], actor: Any, tmp_path: Path
) -> None:
    short = export(tmp_path / "short.jsonl")
    admit(actor, make_person(actor), world["tec"], world["us"])
    longer = export(tmp_path / "long.jsonl")
    code, _, err = witness(short, "--against", longer)
    assert code == 1
    assert "entries were removed" in err


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "the file is empty"),
        ("hello\n", ":1: not a JSON line"),
        ('{"type": "something else"}\n', ":1: not a ledger export"),
        ("\x00\x01garbage", ":1: the line is cut short"),
    ],
)
def test_garbage_is_bad_input(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "garbage.jsonl"
    path.write_text(content, encoding="utf-8")
    code, _, err = witness(path)
    assert code == 2
    assert f"{path}" in err
    assert message in err


def test_a_truncated_export_is_bad_input(held: list[Any], tmp_path: Path) -> None:
    path = export(tmp_path / "copy.jsonl")
    data = path.read_bytes()
    cut = tmp_path / "cut.jsonl"
    cut.write_bytes(data[: len(data) - 40])
    code, _, err = witness(cut)
    assert code == 2
    assert f"{cut}:{len(lines(path))}: the line is cut short" in err
    rows = lines(path)
    rewrite(cut, rows[:-2])
    code, _, err = witness(cut)
    assert code == 2
    assert "the export is incomplete" in err
    rewrite(cut, [rows[0], rows[1], '{"index": 1, "canonical": 5, "leaf_hash": "00"}\n'])
    code, _, err = witness(cut)
    assert code == 2
    assert f'{cut}:3: "canonical" must be a string' in err
    code, _, err = witness(tmp_path / "missing.jsonl")
    assert code == 2


def test_witness_touches_no_database(
    held: list[Any], tmp_path: Path, django_db_blocker: Any
) -> None:
    """In-process with database access blocked, then as the real command with no database
    (an unreachable ``DATABASE_URL``, an empty home: nothing but the files)."""
    path = export(tmp_path / "copy.jsonl")
    with django_db_blocker.block():
        code, _, err = witness(path)
    assert code == 0, err
    home = tmp_path / "witness-home"
    env = dict(
        os.environ,
        HABEAS_HOME=str(home),
        DATABASE_URL=f"sqlite:///{tmp_path}/no/such/dir/db.sqlite3",
    )
    done = subprocess.run(
        [sys.executable, "-m", "habeas", "ledger", "witness", str(path)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "witness ok" in done.stdout
    assert not (tmp_path / "no").exists()
    assert not list(home.glob("*.sqlite3"))


def _set_format(value: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute("UPDATE ledger_ledgerhead SET format = %s WHERE id = 1", [value])


def test_a_format_1_ledger_is_refused_by_verify_and_export(held: list[Any]) -> None:
    _set_format(1)
    code, _, err = run_cli("verify-ledger")
    assert code == 1
    assert "ledger_ledgerhead.format" in err
    assert "format 1" in err
    assert "verifies format 2 only" in err
    assert "habeas init" in err
    code, out, err = run_cli("ledger", "export")
    assert code == 2
    assert "format 1" in err
    assert out == ""


def test_export_from_beyond_the_size_is_refused(held: list[Any]) -> None:
    code, _, err = run_cli("ledger", "export", "--from", str(ledger_size() + 1))
    assert code == 2
    assert "beyond the ledger's size" in err
