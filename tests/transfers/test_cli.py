"""The intake commands through the CLI (INTERFACES.md): exit codes, stderr, report document."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.transfers.helpers import row, to_csv


def run(capsys: Any, *args: str) -> tuple[int, str, str]:
    """The command as ``habeas`` runs it, minus ``run_from_argv``'s closing of every database
    connection (which would close the test transaction's connection on PostgreSQL)."""
    import sys

    from django.core.management import call_command
    from django.core.management.base import CommandError

    try:
        call_command(*args)
        code = 0
    except CommandError as exc:
        sys.stderr.write(f"{exc}\n")
        code = exc.returncode
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.django_db
def test_import_accept_admit(capsys: Any, world: Any, tmp_path: Path) -> None:
    path = tmp_path / "flight.csv"
    path.write_bytes(
        to_csv([row(), row(sending_ref="A2", given_names="Luis", first_surname="Mora")])
    )
    report = tmp_path / "report.json"
    code, out, err = run(
        capsys,
        "import-manifest",
        str(path),
        "--agreement",
        "US-SV",
        "--ref",
        "F1",
        "--report",
        str(report),
        "--on",
        "2025-03-20",
    )
    assert code == 0, err
    doc = json.loads(report.read_text())
    assert doc["manifest"] == "F1"
    assert doc["agreement"] == "US-SV"
    assert doc["counts"] == {"eligible": 2, "ineligible": 0, "needs_review": 0}
    entry = doc["entries"][0]
    assert set(entry) >= {"row", "sending_ref", "decision", "person", "matched_existing", "rules"}
    assert set(entry["rules"][0]) >= {"rule", "outcome", "message", "source"}
    code, out, _ = run(capsys, "import-manifest", str(path), "--agreement", "US-SV", "--ref", "F1")
    assert code == 0
    assert "recognised" in out
    code, out, err = run(capsys, "accept-manifest", "F1", "--all-eligible")
    assert code == 0, err
    code, out, err = run(capsys, "admit", "F1", "--arrived-at", "2025-03-21T14:05:00-06:00")
    assert code == 0, err
    assert "2 admitted" in out
    code, _, err = run(capsys, "admit", "F1", "--arrived-at", "2025-03-21T14:05:00")
    assert code == 2


@pytest.mark.django_db
def test_refused_file_exits_2_naming_row_and_column(
    capsys: Any, world: Any, tmp_path: Path
) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(to_csv([row(), row()]))
    code, _, err = run(capsys, "import-manifest", str(path), "--agreement", "US-SV")
    assert code == 2
    assert "bad.csv: row 2, column sending_ref" in err
    assert "nothing stored" in err


def write_people(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(
            fh,
            fieldnames=[
                "sending_ref",
                "given_names",
                "first_surname",
                "second_surname",
                "date_of_birth",
                "sex",
                "nationalities",
            ],
        )
        w.writeheader()
        w.writerows(rows)


def test_link_cli(capsys: Any, tmp_path: Path) -> None:
    left, right, out = tmp_path / "l.csv", tmp_path / "r.csv", tmp_path / "pairs.csv"
    write_people(
        left,
        [
            {
                "sending_ref": "L1",
                "given_names": "José Luis",
                "first_surname": "Núñez",
                "second_surname": "Peña",
                "date_of_birth": "1985-03-04",
                "sex": "M",
                "nationalities": "VE",
            },
            {
                "sending_ref": "L2",
                "given_names": "Ana",
                "first_surname": "Mora",
                "second_surname": "",
                "date_of_birth": "1999",
                "sex": "F",
                "nationalities": "SV",
            },
        ],
    )
    write_people(
        right,
        [
            {
                "sending_ref": "R1",
                "given_names": "JOSE LUIS",
                "first_surname": "Pena",
                "second_surname": "Nunez",
                "date_of_birth": "1985-04-03",
                "sex": "M",
                "nationalities": "VEN",
            },
            {
                "sending_ref": "R2",
                "given_names": "Pedro",
                "first_surname": "Mora",
                "second_surname": "",
                "date_of_birth": "1970-01-01",
                "sex": "M",
                "nationalities": "SV",
            },
        ],
    )
    code, _, err = run(capsys, "link", str(left), str(right), "--out", str(out))
    assert code == 0, err
    lines = out.read_text().splitlines()
    assert lines[0] == "left_ref,right_ref,score"
    assert [line.split(",")[:2] for line in lines[1:]] == [["L1", "R1"]]


def _report_json(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


@pytest.mark.django_db
def test_report_is_written_page_by_page_byte_identical(
    capsys: Any, world: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    """The command writes the --report document from the stored rows a page at a time; the
    text is exactly the document's ``json.dumps`` (INTERFACES.md), whatever the page size,
    and a dry run writes the same document without storing anything."""
    from habeas.transfers import selectors
    from habeas.transfers.models import Manifest, ManifestEntry
    from habeas.transfers.selectors import manifest_report

    monkeypatch.setattr(selectors, "REPORT_PAGE", 2)
    rows = [
        row(sending_ref=f"A{i}", given_names=name, sentence=sentence)
        for i, (name, sentence) in enumerate(
            [("Luis", "P5Y"), ("Ñandú", "life"), ("Ana", "P1M"), ("José", "P2Y"), ("Eva", "x")]
        )
    ]
    path = tmp_path / "five.csv"
    path.write_bytes(to_csv(rows))
    dry = tmp_path / "dry.json"
    code, out, err = run(
        capsys, "import-manifest", str(path), "--agreement", "US-SV", "--ref", "F5",
        "--dry-run", "--report", str(dry), "--on", "2025-03-20",
    )  # fmt: skip
    assert code == 0, err
    assert "dry run: nothing stored" in out
    assert not Manifest.objects.filter(ref="F5").exists()
    code, quiet, err = run(
        capsys, "import-manifest", str(path), "--agreement", "US-SV", "--ref", "F5",
        "--dry-run", "--on", "2025-03-20",
    )  # fmt: skip
    assert code == 0, err
    assert quiet == out  # without --report: the same counts line, no report built
    assert not Manifest.objects.filter(ref="F5").exists()
    report = tmp_path / "report.json"
    code, out, err = run(
        capsys, "import-manifest", str(path), "--agreement", "US-SV", "--ref", "F5",
        "--report", str(report), "--on", "2025-03-20",
    )  # fmt: skip
    assert code == 0, err
    doc = manifest_report(Manifest.objects.get(ref="F5"))
    assert [e["sending_ref"] for e in doc["entries"]] == [f"A{i}" for i in range(5)]
    assert ManifestEntry.objects.filter(manifest__ref="F5").count() == 5
    assert all(e["rules"] for e in doc["entries"])
    assert report.read_text(encoding="utf-8") == _report_json(doc)
    assert any(ord(ch) > 127 for ch in report.read_text(encoding="utf-8"))  # Spanish messages
    assert json.loads(dry.read_text(encoding="utf-8")) == doc
    c = doc["counts"]
    assert out.strip() == (
        f"manifest F5 (imported): {c['eligible']} eligible, {c['needs_review']} need review, "
        f"{c['ineligible']} ineligible"
    )
    assert c["ineligible"] >= 1  # the row whose sentence is not a duration


@settings(max_examples=60, deadline=None)
@given(
    summary=st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=3),
    entries=st.lists(
        st.dictionaries(
            st.text(max_size=6),
            st.recursive(
                st.none() | st.booleans() | st.integers() | st.text(max_size=8),
                lambda inner: (
                    st.lists(inner, max_size=3)
                    | st.dictionaries(st.text(max_size=4), inner, max_size=3)
                ),
                max_leaves=6,
            ),
            max_size=4,
        ),
        max_size=4,
    ),
)
def test_report_text_is_json_dumps(summary: dict[str, str], entries: list[Any]) -> None:
    """The streamed report text equals ``json.dumps(indent=2, ensure_ascii=False)`` of the
    whole document, for any entries (newlines, quotes, non-ASCII, nesting, none at all)."""
    from habeas.transfers.selectors import report_text

    summary = {k: v for k, v in summary.items() if k != "entries"}
    whole = json.dumps({**summary, "entries": entries}, indent=2, ensure_ascii=False)
    assert "".join(report_text(summary, iter(entries))) == whole
