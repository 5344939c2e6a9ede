"""Fellegi–Sunter weights of identity matching (habeas.people.weights): properties of the
score and of the estimation (ISSUE 15 item 2)."""

from __future__ import annotations

import datetime as dt
import math
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from habeas.people import weights
from habeas.people.matching import (
    Index,
    PersonRecord,
    comparison_vector,
    initial_params,
    score,
    train_on_lists,
)
from habeas.people.synthetic import linked_lists

NAMES = ["José", "Jose", "María", "J.", "Ana Lucía", "Luis", "Hernández", "Hernandez", "Ramírez"]
SURNAMES = ["Hernández", "Ramírez", "López", "de la Cruz", "Lopes", "Gil", ""]


@st.composite
def records(draw: st.DrawFn, ref: str) -> PersonRecord:
    precision = draw(st.sampled_from(["day", "month", "year"]))
    dob = draw(st.none() | st.dates(dt.date(1950, 1, 1), dt.date(2005, 12, 31)))
    return PersonRecord(
        ref=ref,
        given_names=draw(st.sampled_from(NAMES)),
        first_surname=draw(st.sampled_from(SURNAMES[:-1])),
        second_surname=draw(st.sampled_from(SURNAMES)),
        aliases=tuple(draw(st.lists(st.sampled_from(["José Hernández", "Luis Gil"]), max_size=1))),
        date_of_birth=dob,
        dob_precision=precision,
        sex=draw(st.sampled_from(["M", "F", ""])),
        nationalities=tuple(draw(st.lists(st.sampled_from(["VE", "SV", "MX"]), max_size=2))),
        identifiers=tuple(draw(st.lists(st.sampled_from(["P:1", "P:2"]), max_size=1))),
    )


@settings(max_examples=300, deadline=None)
@given(records("a"), records("b"))
def test_contributions_sum_to_the_weight_and_give_the_probability(
    a: PersonRecord, b: PersonRecord
) -> None:
    m = score(a, b)
    assert m.contributions[0][0] == "prior"
    assert math.isclose(sum(c[2] for c in m.contributions), m.weight, abs_tol=1e-4)
    probability = 1 / (1 + 2 ** (-m.weight))
    capped = m.score < probability - 1e-4  # a disagreeing date or sex keeps it below same
    assert capped or math.isclose(m.score, probability, abs_tol=1e-4)
    if capped:
        assert m.band != "same"
    fields = [c[0] for c in m.contributions]
    assert len(fields) == len(set(fields)), "a field counted twice"


@settings(max_examples=300, deadline=None)
@given(records("a"), records("b"))
def test_date_sex_nationality_levels_are_symmetric(a: PersonRecord, b: PersonRecord) -> None:
    """The levels of the date, nationality and sex do not depend on which record is which;
    nor does the score when both records have one name, no alias, and no exchanged order
    to try."""
    ab, ba = comparison_vector(a, b), comparison_vector(b, a)
    assert ab[2:] == ba[2:]
    plain = not a.aliases and not b.aliases and a.swapped is None and b.swapped is None
    if plain:
        assert ab == ba
        assert math.isclose(score(a, b).weight, score(b, a).weight, abs_tol=1e-6)


def test_common_surname_counts_less_than_a_rare_one() -> None:
    """Term frequencies: an exact agreement on a surname most of the list has counts less
    than on one nobody else has."""
    people = [
        PersonRecord(ref=f"p{i}", given_names=f"N{i}x", first_surname="Hernández")
        for i in range(50)
    ]
    people.append(PersonRecord(ref="rare", given_names="Ana", first_surname="Xolotl"))
    p = initial_params()
    p.tf, p.tf_total = weights.token_counts(people)
    common = score(
        people[0], PersonRecord(ref="q", given_names="Bea", first_surname="Hernández"), p
    )
    rare = score(people[-1], PersonRecord(ref="q", given_names="Bea", first_surname="Xolotl"), p)
    w_common = {f: w for f, _, w in common.contributions}["surnames"]
    w_rare = {f: w for f, _, w in rare.contributions}["surnames"]
    assert w_rare > w_common + 4


def test_training_is_reproducible_and_separates_matches() -> None:
    """The same lists and seed give the same parameters; the trained weights put exact
    agreement above disagreement on every field, and link the lists well."""
    left, right, truth = linked_lists(random.Random(3), 600, duplicates=0.5, mess=2)
    start = initial_params()
    one = train_on_lists(left, right, start=start)
    two = train_on_lists(left, right, start=start)
    assert one.to_json() == two.to_json()
    for field in ("given", "surnames", "date_of_birth"):
        w = one.weights[field]
        assert w[0] > 0 > w[-1], (field, w)
    index = Index(right)
    found = {(a.ref, m.ref) for a in left for m in index.best(a, params=one) if m.band == "same"}
    tp = len(found & truth)
    assert tp / len(found) >= 0.97, (tp, len(found))
    assert tp / len(truth) >= 0.95, (tp, len(truth))
