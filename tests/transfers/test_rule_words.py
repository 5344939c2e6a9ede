"""Every rule a reader of a manifest can meet is named in words, with a citation that is a
standard or the manifest format by name, never an identifier or a file name (issue: words for
people everywhere) — the format checks ``valid:<column>`` as much as the library's rules."""

from __future__ import annotations

import pytest
from django.utils import translation

from habeas.transfers.manifest import COLUMNS
from habeas.transfers.rule_text import RULE_TEXT, rule_words


@pytest.mark.parametrize("column", COLUMNS)
def test_each_format_check_is_named_in_words(column: str) -> None:
    words = {k: str(v) for k, v in rule_words(f"valid:{column}").items()}
    assert "valid:" not in words["name"]
    assert "_" not in words["name"], words["name"]
    assert words["explanation"]
    assert words["citation"]
    assert ".md" not in words["citation"], words["citation"]


def test_a_format_check_with_a_standard_cites_it() -> None:
    assert rule_words("valid:date_of_birth")["citation"].startswith("Mandela Rule 7(a)")
    assert rule_words("valid:sex")["citation"] == "the transfer manifest format, v1"


def test_format_checks_are_in_spanish_too() -> None:
    with translation.override("es"):
        assert str(rule_words("valid:legal_basis")["name"]) == "Dato válido: base legal"
        assert "valid" not in str(rule_words("valid:contact_email")["explanation"])


def test_library_rules_keep_their_own_words() -> None:
    for rule_id, (name, _explanation) in RULE_TEXT.items():
        assert rule_words(rule_id)["name"] == name
    assert rule_words("Z9")["name"] == "Z9"  # a rule unknown to the library keeps its id
