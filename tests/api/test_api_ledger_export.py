"""``GET /api/v1/ledger/export``: the witness copy, streamed, for oversight and the auditor;
what it streams is what ``habeas ledger witness`` checks (docs/ledger.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from habeas.ledger.services import ledger_size
from tests.conftest import admit, make_person, run_cli


def fetch(client: Any, path: Path, query: str = "") -> Path:
    response = client.get(f"/api/v1/ledger/export{query}")
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "application/jsonl"
    assert "attachment" in response["Content-Disposition"]
    path.write_bytes(b"".join(response.streaming_content))
    return path


def test_export_for_oversight_is_witnessed_and_extended(
    scene: dict[str, Any], client_for: Any, actor: Any, tmp_path: Path
) -> None:
    old = fetch(client_for("oversight"), tmp_path / "old.jsonl")
    old_size = ledger_size()
    code, _, err = run_cli("ledger", "witness", str(old))
    assert code == 0, err
    admit(actor, make_person(actor), scene["tec"], scene["us"])
    new = fetch(client_for("auditor"), tmp_path / "new.jsonl")
    code, _, err = run_cli("ledger", "witness", str(new), "--against", str(old))
    assert code == 0, err
    increment = fetch(client_for("auditor"), tmp_path / "inc.jsonl", f"?from={old_size}")
    header = json.loads(increment.read_text(encoding="utf-8").splitlines()[0])
    assert header["from"] == old_size
    assert header["size"] == ledger_size()
    code, _, err = run_cli("ledger", "witness", str(increment), "--against", str(old))
    assert code == 0, err


def test_export_edited_in_transit_fails_the_witness(
    scene: dict[str, Any], client_for: Any, tmp_path: Path
) -> None:
    path = fetch(client_for("oversight"), tmp_path / "copy.jsonl")
    rows = path.read_text(encoding="utf-8").splitlines(keepends=True)
    doc = json.loads(rows[2])
    doc["canonical"] = doc["canonical"].replace('"index":1,', '"index":1,"x":0,', 1)
    path.write_text("".join([*rows[:2], json.dumps(doc) + "\n", *rows[3:]]), encoding="utf-8")
    code, _, err = run_cli("ledger", "witness", str(path))
    assert code == 1
    assert "entry 1 (line 3)" in err


def test_bad_from_and_other_roles_are_refused(scene: dict[str, Any], client_for: Any) -> None:
    oversight = client_for("oversight")
    for query in ("?from=-1", "?from=x", f"?from={ledger_size() + 1}"):
        response = oversight.get(f"/api/v1/ledger/export{query}")
        assert response.status_code == 400, query
        assert response.json()["code"] == "invalid"
    response = client_for("liaison_us").get("/api/v1/ledger/export")
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
