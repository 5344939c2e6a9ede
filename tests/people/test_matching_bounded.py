"""Identity matching does bounded work per record (security review, item 2): a 10,000-word
name once made one request run past the worker's timeout, its cost growing with the square of
the words. The words of a name field and the aliases are capped (docs/interfaces.md,
"Limits"), so the cost is linear in the text's length and the match of an ordinary name is
unchanged."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from habeas.core.limits import MAX_ALIASES, MAX_NAME_WORDS
from habeas.people.matching import PersonRecord, registry_match, score, tokens
from tests.conftest import make_person


def _words(n: int, salt: str) -> str:
    return " ".join(f"{salt}{i:05d}x" for i in range(n))


def _timed(n: int, salt: str) -> float:
    a = PersonRecord(ref="a", given_names=_words(n, salt + "g"), first_surname=_words(n, salt))
    b = PersonRecord(
        ref="b",
        given_names=_words(n, salt + "h"),
        first_surname=_words(n, salt + "t"),
        aliases=[_words(n, salt + str(k)) for k in range(MAX_ALIASES + 5)],
    )
    started = time.process_time()
    score(a, b)
    return time.process_time() - started


def test_tokens_are_capped_per_name_field() -> None:
    assert len(tokens(_words(10_000, "cap"))) == MAX_NAME_WORDS
    assert tokens("José de la Cruz Pérez") == ["jose", "cruz", "perez"]


def test_scoring_a_10000_word_name_is_fast_and_linear() -> None:
    small = _timed(1_000, "s")
    large = _timed(10_000, "l")
    assert large < 1.0
    # ten times the words: at most about ten times the time (quadratic would be a hundred)
    assert large < 25 * small + 0.05


def test_only_the_first_aliases_count() -> None:
    aliases = ["Pedro Uno"] * MAX_ALIASES + ["José Hernández"]
    a = PersonRecord(ref="a", given_names="X", first_surname="Y", aliases=aliases)
    b = PersonRecord(ref="b", given_names="José", first_surname="Hernández")
    assert len(a.variants) == 1 + MAX_ALIASES
    assert score(a, b).band == "different"


def test_ordinary_names_still_match(db: Any, actor: Any) -> None:
    person = make_person(actor, given_names="José Alberto", first_surname="Hernández")
    found = registry_match(
        PersonRecord(
            ref="q",
            given_names="JOSE ALBERTO",
            first_surname="HERNANDEZ",
            second_surname="RAMIREZ",
            date_of_birth=dt.date(1990, 5, 17),
        )
    )
    assert [m.ref for m in found if m.band == "same"] == [str(person.pk)]
