"""Plausible values (security review, item 6): each check is a ``valid:<column>`` rule with
its citation, tested on both sides of its boundary (MANIFEST.md: a row with an invalid value
is decided ineligible; docs/interfaces.md, "Limits")."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from habeas.transfers.manifest import CITATIONS, validate_row
from tests.transfers.helpers import row, to_json

TODAY = dt.date.today()  # noqa: DTZ011 - a calendar date, as the checks use


def problems_of(**changes: Any) -> dict[str, str]:
    parsed, problems = validate_row(row(**changes))
    assert (parsed is None) == bool(problems)
    return dict(problems)


@pytest.mark.parametrize(
    ("column", "good", "bad"),
    [
        ("date_of_birth", "1900-01-01", "1899-12-31"),
        ("date_of_birth", "1900", "1899"),
        ("date_of_birth", TODAY.isoformat(), (TODAY + dt.timedelta(days=1)).isoformat()),
        ("conviction_date", TODAY.isoformat(), (TODAY + dt.timedelta(days=1)).isoformat()),
        ("sentence_start", "2199-12-31", "2200-01-01"),
        ("sentence_start", "1900-01-01", "1899-12-31"),
        ("sentence", "P150Y", "P150Y1D"),
        ("sentence", "P1800M", "P1801M"),
        ("custody_credit_days", str(150 * 366), str(150 * 366 + 1)),
        ("given_names", "a" * 200, "a" * 201),
        ("first_surname", " ".join(["Pérez"] * 10), " ".join(["Pérez"] * 11)),
        ("second_surname", "x" * 200, "x" * 201),
        ("aliases", ";".join(["Juan Pérez"] * 20), ";".join(["Juan Pérez"] * 21)),
        ("aliases", "Juan " + "b" * 195, "Juan " + "b" * 196),
        ("contact_email", "maria.perez@example.org", "maria.perez@"),
        ("contact_email", "m@example.org", "not an address"),
        ("contact_phone", "+503 2222 3333", "2222 3333"),
        ("contact_phone", "+58 412 1234567", "+58 000"),
        ("contact_name", "María " * 10, "María " * 11),
        ("keep_apart_from", "A101", "A100"),
        (
            "keep_apart_from",
            ";".join(f"B{i}" for i in range(50)),
            ";".join(f"B{i}" for i in range(51)),
        ),
    ],
)
def test_plausibility_boundary(column: str, good: str, bad: str) -> None:
    assert column not in problems_of(**{column: good})
    assert column in problems_of(**{column: bad})


def test_phone_is_stored_in_e164() -> None:
    parsed, problems = validate_row(row(contact_phone="+503 2222-3333"))
    assert not problems
    assert parsed is not None
    assert parsed.contact_phone == "+50322223333"


def test_keep_apart_self_names_the_person_themselves() -> None:
    assert problems_of(keep_apart_from="A101;A100")["keep_apart_from"] == (
        "names the person themselves"
    )


@pytest.mark.parametrize(
    ("changes", "rule"),
    [
        ({"date_of_birth": "1800-01-01"}, "valid:date_of_birth"),
        ({"date_of_birth": "0001"}, "valid:date_of_birth"),
        ({"conviction_date": "9999-12-31"}, "valid:conviction_date"),
        ({"aliases": ";".join(["Juan Pérez"] * 10_000)}, "valid:aliases"),
        ({"contact_email": "nobody"}, "valid:contact_email"),
        ({"keep_apart_from": "A100"}, "valid:keep_apart_from"),
    ],
)
def test_implausible_rows_are_ineligible_with_a_cited_rule(
    importer: Any, changes: dict[str, str], rule: str
) -> None:
    """Through the import service: the row is ineligible, its rule cites its standard, and so
    it can never be accepted and then fail at admission."""
    if rule == "valid:aliases":
        changes = {"aliases": ";".join(["Juan Pérez"] * 21)}  # a file-level cap keeps 10,000 out
    result = importer(to_json([row(**changes)]), dry_run=True)
    (entry,) = result.report["entries"]
    assert entry["decision"] == "ineligible"
    failed = {r["rule"]: r for r in entry["rules"] if r["outcome"] == "fail"}
    assert rule in failed
    column = rule.removeprefix("valid:")
    assert failed[rule]["source"] == CITATIONS[column]


def test_ten_thousand_aliases_refuse_the_file(importer: Any) -> None:
    from habeas.transfers.manifest import ManifestRefused

    with pytest.raises(ManifestRefused) as refused:
        importer(to_json([row(aliases=";".join(["Juan Pérez"] * 10_000))]), dry_run=True)
    (problem,) = refused.value.details["problems"]
    assert problem["column"] == "aliases"
    assert problem["row"] == 1
