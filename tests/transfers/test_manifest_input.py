"""The malformed corpus (MANIFEST.md "What bad input gets"): refused whole or row-rejected,
never half-stored; the same manifest twice is stored once."""

from __future__ import annotations

from typing import Any

import pytest

from habeas.ledger.services import ledger_size
from habeas.transfers.manifest import ManifestRefused
from habeas.transfers.models import Manifest, ManifestEntry, RuleOutcome
from tests.transfers.helpers import BASE, row, to_csv, to_json


def nothing_stored(size_before: int) -> None:
    assert Manifest.objects.count() == 0
    assert ManifestEntry.objects.count() == 0
    assert RuleOutcome.objects.count() == 0
    assert ledger_size() == size_before


def refused(importer: Any, data: bytes, **kw: Any) -> list[tuple[int, str, str]]:
    before = ledger_size()
    with pytest.raises(ManifestRefused) as caught:
        importer(data, **kw)
    nothing_stored(before)
    return [(p.row, p.column, p.message) for p in caught.value.problems]


def test_csv_with_bom_and_quoting(importer: Any) -> None:
    data = to_csv(
        [row(given_names='Ana "La Flaca"', aliases="Ana Pérez; A. P.", offence="robbery, armed")],
        bom=True,
    )
    result = importer(data)
    entry = ManifestEntry.objects.get()
    assert entry.given_names == 'Ana "La Flaca"'
    assert entry.data["offence"] == "robbery, armed"
    assert result.report["counts"]["eligible"] == 1


@pytest.mark.parametrize("wrapped", [False, True])
def test_json_list_and_wrapped(importer: Any, wrapped: bool) -> None:
    result = importer(to_json([row(), row(sending_ref="A2", given_names="Luis")], wrapped=wrapped))
    assert result.manifest.file_format == "json"
    assert len(result.report["entries"]) == 2


def test_wrong_encoding_refused(importer: Any) -> None:
    data = to_csv([row()]).replace("Hernández".encode(), "Hernández".encode("latin-1"))
    problems = refused(importer, data)
    assert problems[0][0] == 2
    assert "UTF-8" in problems[0][2]


def test_missing_and_unknown_columns_refused_naming_every_one(importer: Any) -> None:
    r = row(favourite_colour="blue")
    del r["sex"]
    del r["nationalities"]
    problems = refused(importer, to_csv([r]))
    cols = {(c, m) for _, c, m in problems}
    assert ("favourite_colour", "unknown column") in cols
    assert ("sex", "required column missing") in cols
    assert ("nationalities", "required column missing") in cols


def test_unknown_json_key_refused(importer: Any) -> None:
    problems = refused(importer, to_json([row(), row(sending_ref="A2", shoe_size="44")]))
    assert (2, "shoe_size", "unknown column") in problems


def test_duplicate_refs_refused(importer: Any) -> None:
    problems = refused(importer, to_csv([row(), row(given_names="Otro"), row(sending_ref="B")]))
    assert problems == [(2, "sending_ref", "'A100' already given on row 1")]


def test_not_csv_nor_json(importer: Any) -> None:
    assert refused(importer, b'[{"sending_ref": "A1"')[0][1] == ""
    assert refused(importer, b'"a","b\n')  # unterminated quote: not RFC 4180
    assert refused(importer, b"")


def test_row_limit(importer: Any, settings: Any) -> None:
    settings.HABEAS_MANIFEST_MAX_ROWS = 3
    rows = [row(sending_ref=f"A{i}") for i in range(4)]
    problems = refused(importer, to_csv(rows))
    assert problems == [(4, "", "more than 3 rows (the configured limit)")]


def test_a_50_mb_file_is_refused(importer: Any) -> None:
    """Generated here (never committed): above the default row limit, refused whole."""
    line = ",".join(BASE[c] for c in sorted(BASE)).encode()
    header = ",".join(sorted(BASE)).encode()
    ref_index = sorted(BASE).index("sending_ref")
    parts = [header]
    size = len(header)
    i = 0
    while size < 50 * 1024 * 1024:
        fields = line.split(b",")
        fields[ref_index] = b"R%d" % i
        rec = b",".join(fields)
        parts.append(rec)
        size += len(rec) + 2
        i += 1
    data = b"\r\n".join(parts) + b"\r\n"
    assert len(data) >= 50 * 1024 * 1024
    problems = refused(importer, data)
    assert "limit" in problems[0][2]


@pytest.mark.parametrize(
    ("changes", "column"),
    [
        ({"date_of_birth": "1990-02-30"}, "date_of_birth"),
        ({"nationalities": "XX"}, "nationalities"),
        ({"custody_credit_days": "-3"}, "custody_credit_days"),
        ({"sentence": "ten years"}, "sentence"),
        ({"sex": "male"}, "sex"),
        ({"conviction_date": "2024-13-01"}, "conviction_date"),
        ({"sentence": None}, "sentence"),
        ({"given_names": ""}, "given_names"),
        ({"language": "zz"}, "language"),
    ],
)
def test_invalid_values_make_the_row_ineligible(
    importer: Any, changes: dict[str, Any], column: str
) -> None:
    result = importer(to_csv([row(**changes), row(sending_ref="OK1", given_names="Luis")]))
    bad, good = result.report["entries"]
    assert bad["decision"] == "ineligible"
    assert any(r["rule"] == f"valid:{column}" and r["outcome"] == "fail" for r in bad["rules"])
    assert good["decision"] == "eligible"


def test_alpha3_and_partial_dates(importer: Any) -> None:
    result = importer(to_csv([row(nationalities="VEN;col", date_of_birth="1988-07")]))
    assert result.report["entries"][0]["decision"] == "eligible"
    from habeas.transfers.manifest import validate_row

    parsed, problems = validate_row(row(nationalities="VEN;col", date_of_birth="1988-07"))
    assert parsed is not None
    assert not problems
    assert parsed.nationalities == ("VE", "CO")
    assert parsed.date_of_birth[1] == "month"


def test_markup_is_data(importer: Any) -> None:
    importer(
        to_csv([row(given_names="<script>alert(1)</script>", first_surname="'; DROP TABLE x; --")])
    )
    entry = ManifestEntry.objects.get()
    assert entry.given_names == "<script>alert(1)</script>"
    assert entry.first_surname == "'; DROP TABLE x; --"


def test_same_ref_or_same_content_is_recognised(importer: Any) -> None:
    data = to_csv([row()])
    first = importer(data, ref="FLIGHT-1")
    size = ledger_size()
    again = importer(data, ref="FLIGHT-1")
    assert again.recognised
    assert again.manifest.pk == first.manifest.pk
    same_content = importer(data)
    assert same_content.recognised
    assert same_content.manifest.pk == first.manifest.pk
    assert Manifest.objects.count() == 1
    assert ManifestEntry.objects.count() == 1
    assert ledger_size() == size
    from habeas.core.errors import Conflict

    with pytest.raises(Conflict):
        importer(to_csv([row(given_names="Otro")]), ref="FLIGHT-1")


def test_killed_import_leaves_nothing_and_rerun_stores_once(
    importer: Any, monkeypatch: Any
) -> None:
    """A failure in the middle (the second chunk) rolls the whole import back."""
    from habeas.transfers import services

    monkeypatch.setattr(services, "CHUNK", 2)
    calls = {"n": 0}
    real = services._decide_batch

    def dying(**kw: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt  # the process is interrupted mid-import
        real(**kw)

    monkeypatch.setattr(services, "_decide_batch", dying)
    data = to_csv([row(sending_ref=f"K{i}", given_names=f"N{i}") for i in range(5)])
    before = ledger_size()
    with pytest.raises(KeyboardInterrupt):
        importer(data, ref="K")
    nothing_stored(before)
    monkeypatch.setattr(services, "_decide_batch", real)
    importer(data, ref="K")
    importer(data, ref="K")
    assert Manifest.objects.count() == 1
    assert ManifestEntry.objects.count() == 5


def test_dry_run_stores_nothing(importer: Any) -> None:
    before = ledger_size()
    result = importer(to_csv([row()]), dry_run=True)
    assert result.dry_run
    assert result.report["counts"]["eligible"] == 1
    nothing_stored(before)
