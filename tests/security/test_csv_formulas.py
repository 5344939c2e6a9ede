"""Every CSV export neutralises spreadsheet formulas (issue 10, deliver 6e; OWASP "CSV
Injection"): a cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is
written with a leading apostrophe, through the one helper ``habeas.core.csvsafe``."""

from __future__ import annotations

import ast
import csv
import io
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from habeas.core import csvsafe
from tests.conftest import run_cli

SRC = Path(__file__).resolve().parents[2] / "src" / "habeas"

HOSTILE = ["=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(A1:A9)", "\t=1", "\r=1"]


@pytest.mark.parametrize("value", HOSTILE)
def test_safe_cell_prefixes_every_formula_start(value: str) -> None:
    assert csvsafe.safe_cell(value) == "'" + value


@pytest.mark.parametrize("value", [-3, 2.5, Decimal("-54.79"), None, True, "Ana", "", "a=b"])
def test_safe_cell_leaves_numbers_and_plain_text_alone(value: Any) -> None:
    assert csvsafe.safe_cell(value) == value


@given(st.text())
def test_no_written_cell_starts_a_formula_and_nothing_is_lost(value: str) -> None:
    buffer = io.StringIO(newline="")
    csvsafe.writer(buffer).writerow([value])
    (cell,) = next(csv.reader(io.StringIO(buffer.getvalue(), newline="")))
    assert not cell.startswith(csvsafe.FORMULA_STARTS)
    assert cell == value or (cell == "'" + value and value.startswith(csvsafe.FORMULA_STARTS))


def test_dict_writer_neutralises_header_and_cells() -> None:
    buffer = io.StringIO(newline="")
    writer = csvsafe.dict_writer(buffer, fieldnames=["=h", "n"], lineterminator="\n")
    writer.writeheader()
    writer.writerow({"=h": "@x", "n": -1})
    assert buffer.getvalue() == "'=h,n\n'@x,-1\n"


def test_link_output_neutralises_a_formula_in_a_reference(tmp_path: Path, db: Any) -> None:
    """``habeas link`` writes the references as given: a hostile one comes out as text."""
    rows = "sending_ref,given_names,first_surname,date_of_birth\n"
    left, right = tmp_path / "left.csv", tmp_path / "right.csv"
    left.write_text(rows + "=HYPERLINK(1),Ana,Uno,1990-05-17\n", encoding="utf-8")
    right.write_text(rows + "@R1,Ana,Uno,1990-05-17\n", encoding="utf-8")
    out = tmp_path / "pairs.csv"
    code, _, err = run_cli("link", str(left), str(right), "--out", str(out))
    assert code == 0, err
    (header, pair) = list(csv.reader(out.open(newline="", encoding="utf-8")))
    assert header == ["left_ref", "right_ref", "score"]
    assert pair[:2] == ["'=HYPERLINK(1)", "'@R1"]


def test_every_csv_writer_in_the_code_is_the_shared_helper() -> None:
    """No module writes CSV with the standard library's writer directly (the demo's manifest
    is an input file for the importer, not an export)."""
    allowed = {SRC / "core" / "csvsafe.py", SRC / "transfers" / "demo.py"}
    direct = []
    for path in SRC.rglob("*.py"):
        if path in allowed:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Attribute)
                and node.attr in {"writer", "DictWriter"}
                and isinstance(node.value, ast.Name)
                and node.value.id == "csv"
            ):
                direct.append(f"{path.relative_to(SRC)}:{node.lineno}")
    assert direct == []
