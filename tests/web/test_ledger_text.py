"""Human summaries of ledger entries in a person's history (plain functions)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.utils import translation

from habeas.ledger.models import LedgerEntry
from habeas.web.ledger_text import action_label, entry_summary, visible_in_history


def entry(action: str, payload: Any) -> LedgerEntry:
    return LedgerEntry(index=7, action=action, canonical=json.dumps({"payload": payload}))


def test_admission_summary_hides_the_cell_when_asked() -> None:
    admitted = entry(
        "custody.admitted",
        {
            "episode": {"facility": "TEC", "agreement": "US-SV"},
            "legal_bases": [{"kind": "removal_order"}],
            "placement": {"cell": "TEC/M7-01"},
        },
    )
    shown = entry_summary(admitted, show_cells=True)
    assert shown == (
        "Admitted to TEC under agreement US-SV; legal basis: Removal order; "
        "placed in cell TEC/M7-01"
    )
    assert "M7-01" not in entry_summary(admitted, show_cells=False)


def test_move_summary_without_cells_says_only_that_a_move_happened() -> None:
    moved = entry(
        "placement.moved",
        {"ended": {"cell": "TEC/M1-01"}, "placement": {"cell": "TEC/M1-02", "reason": "x"}},
    )
    assert entry_summary(moved, show_cells=True) == (
        "Moved from cell TEC/M1-01 to cell TEC/M1-02; reason: x"
    )
    assert entry_summary(moved, show_cells=False) == "Moved to another cell; reason: x"


def test_unknown_action_falls_back_to_flattened_scalar_fields() -> None:
    other = entry(
        "conditions.alert_raised",
        {"kind": "heat", "value": "41.2", "cell": "TEC/M1-01", "detail": {"band": "danger"}},
    )
    assert entry_summary(other, show_cells=True) == (
        "cell: TEC/M1-01; detail band: danger; kind: heat; value: 41.2"
    )
    assert "M1-01" not in entry_summary(other, show_cells=False)
    assert action_label("conditions.alert_raised") == "conditions.alert_raised"


def test_long_payload_is_cut() -> None:
    long = entry("x.y", {"note": "a" * 500})
    assert len(entry_summary(long, show_cells=True)) == 200


def test_unreadable_payload_does_not_break_the_page() -> None:
    broken = LedgerEntry(index=1, action="x.y", canonical="{not json")
    assert entry_summary(broken, show_cells=True) == "(payload unreadable)"
    odd = entry("custody.admitted", ["not", "a", "dict"])
    assert entry_summary(odd, show_cells=True) == ""


def test_liaison_history_leaves_out_the_admission_record() -> None:
    assert visible_in_history("custody.admitted", show_cells=False)
    assert not visible_in_history("transfers.admission_recorded", show_cells=False)
    assert visible_in_history("transfers.admission_recorded", show_cells=True)


@pytest.mark.parametrize(
    ("language", "expected"), [("en", "Released: Repatriated"), ("es", "Puesta en libertad")]
)
def test_summaries_are_translated(language: str, expected: str) -> None:
    released = entry("custody.released", {"episode": {"reason": "repatriated"}})
    with translation.override(language):
        assert entry_summary(released, show_cells=True).startswith(expected)
        assert action_label("custody.released") in {"Released", "Puesta en libertad"}


def test_no_summary_shows_a_commitment() -> None:
    committed = "hmac-sha256:" + "0" * 64
    release = entry(
        "custody.released",
        {"episode": {"reason": "repatriated", "destination": "VE", "note": committed}},
    )
    assert entry_summary(release, show_cells=True) == "Released: Repatriated; destination VE"
    unknown = entry("x.y", {"note": committed, "record": {"family": committed, "language": "es"}})
    assert entry_summary(unknown, show_cells=True) == "record language: es"


def test_fallback_leaves_out_registry_ids_and_digests() -> None:
    other = entry(
        "x.y",
        {"record": {"id": 87, "language": "es"}, "notification": {"id": 154},
         "person_id": 3, "file_sha256": "ab" * 32, "channel": "email"},
    )  # fmt: skip
    text = entry_summary(other, show_cells=True)
    assert text == "channel: email; record language: es"
    assert "87" not in text
    assert "154" not in text


def test_labels_and_visibility_come_from_the_registry() -> None:
    assert action_label("placement.moved") == "Cell move"
    assert action_label("facilities.keep_apart_opened") == "Keep-apart opened"
    assert visible_in_history("placement.moved", show_cells=False)
    assert not visible_in_history("custody.absence_started", show_cells=False)
    assert not visible_in_history("x.y", show_cells=False)
