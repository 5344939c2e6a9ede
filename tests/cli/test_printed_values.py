"""What Habeas prints, as INTERFACES.md v1.1 says: hashes in hex (the signed checkpoint keeps
the base64 of its signed-note format and names the same root in hex), ``stats --json`` rates
as JSON numbers, and a ``locate --ref`` that finds nobody echoes no reference as a name."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import admit, make_person, removal_order, run_cli, sentence

HEX_ROOT = re.compile(r"root ([0-9a-f]{64}) \(hex")


@pytest.mark.django_db
def test_stats_rates_are_numbers_with_one_decimal(world: dict[str, Any], actor: Any) -> None:
    admit(actor, make_person(actor, sex="F"), world["tec"], world["us"], bases=[removal_order()])
    admit(actor, make_person(actor), world["tec"], world["us"], bases=[sentence("P2Y")])
    code, out, _ = run_cli("stats", "--json")
    assert code == 0
    doc = json.loads(out)
    tec = next(f for f in doc["facilities"] if f["code"] == "TEC")
    assert tec["occupancy_rate_certified"] == 7.1  # 2 × 100 / 28, a JSON number
    assert tec["occupancy_rate_working"] == 9.1  # 2 × 100 / 22
    assert '"occupancy_rate_certified": 7.1' in out
    for module in tec["modules"]:
        for key in ("occupancy_rate_certified", "occupancy_rate_working"):
            assert module[key] is None or isinstance(module[key], float), module
    w1 = next(m for m in tec["modules"] if m["code"] == "W1")
    assert w1["occupancy_rate_certified"] == 33.3
    empty = next(f for f in doc["facilities"] if f["code"] == "OTH")
    assert empty["occupancy_rate_certified"] == 0.0


@pytest.mark.django_db
def test_locate_an_unknown_reference_puts_no_reference_in_name(world: dict[str, Any]) -> None:
    code, out, _ = run_cli("locate", "--ref", "NOPE-404", "--json")
    assert code == 0
    (match,) = json.loads(out)["matches"]
    assert match["status"] == "not_found"
    assert match["name"] == ""
    assert "NOPE-404" not in json.dumps(match)
    code, out, _ = run_cli("locate", "--ref", "NOPE-404")
    assert out.strip() == "reference NOPE-404: not found"


@pytest.mark.django_db
def test_checkpoint_names_the_hex_root_it_carries_in_base64(
    world: dict[str, Any], actor: Any, tmp_path: Path
) -> None:
    admit(actor, make_person(actor), world["tec"], world["us"])
    cp = tmp_path / "cp.txt"
    code, out, _ = run_cli("ledger", "checkpoint", "--out", str(cp))
    assert code == 0
    said = HEX_ROOT.search(out)
    assert said, out
    note_root = base64.b64decode(cp.read_text().splitlines()[2], validate=True)
    assert note_root.hex() == said.group(1)
    code, out, _ = run_cli("verify-ledger", "--json")
    assert code == 0
    assert json.loads(out)["root"] == said.group(1)
    # printed to stdout, the note stays alone there (ready to redirect); the hex root on stderr
    code, out, err = run_cli("ledger", "checkpoint")
    assert code == 0
    assert base64.b64decode(out.splitlines()[2]).hex() == HEX_ROOT.search(err).group(1)  # type: ignore[union-attr]
    assert "(hex" not in out
