"""Batch matching against the registry (habeas.people.matching.registry_match_many): the keys
it looks up, batch independence, identifiers and the cut of a pathological block."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterable
from typing import Any

import pytest

from habeas.people import matching
from habeas.people.matching import (
    NO_GIVEN,
    PersonRecord,
    date_key,
    first_word,
    fold,
    initial,
    phonetic,
    query_keys,
    registry_match,
    registry_match_many,
    tokens,
)
from habeas.people.synthetic import messy_copy, person
from tests.conftest import make_person

_ANY_GIVEN = {NO_GIVEN} | {initial(c) for c in "abcdefghijklmnopqrstuvwxyz0123456789"}


def reference_query_keys(record: PersonRecord) -> dict[str, set[str]]:
    """:func:`query_keys` written out plainly, as the matcher first defined it (the fast
    version builds the same sets in fewer steps)."""
    d = record.date_of_birth
    year = str(d.year) if d else ""
    if d is None:
        whens = [""]
    elif record.dob_precision == "year":
        whens = [year]
    elif record.dob_precision == "month":
        whens = [date_key(d, "month"), year]
    else:
        whens = [date_key(d, "day"), date_key(d, "month"), year]
        if d.day <= 12 and d.day != d.month:
            try:
                other = dt.date(d.year, d.day, d.month)
            except ValueError:
                other = None
            if other is not None:
                whens += [date_key(other, "day"), date_key(other, "month")]
    coarse = d is None or record.dob_precision != "day"
    given_words = [(first_word(record.given_names) or [""])[0]]
    for alias in record.aliases:
        words = tokens(alias)
        if words:
            given_words.append(fold(alias).split()[0] if len(words) >= 2 else "")
    g: set[str] = set()
    dk: set[str] = set()
    p: set[str] = set()
    y: set[str] = set()
    for variant, given in zip(record.variants, given_words, strict=True):
        phon = [phonetic(s) for s in variant.surnames]
        gis: Iterable[str]
        if given:
            gis = (initial(given), NO_GIVEN)
            big_g = phonetic(given)
            g |= {f"{big_g}|{when}" for when in whens}
        else:
            gis = _ANY_GIVEN
        if not phon:
            continue
        sis = {initial(s) for s in variant.surnames}
        for gi in gis:
            dk |= {f"{gi}|{si}|{when}" for si in sis for when in whens}
            for i, a in enumerate(phon):
                p.add(f"{gi}|{a}|{year}")
                p |= {f"{gi}|{'|'.join(sorted((a, b)))}|{year}" for b in phon[i + 1 :]}
        if given and (coarse or len(phon) < 2):
            y |= {f"{big_g}|{s}|{year}" for s in phon}
    main = record.variants[0]
    if main.given and main.surnames and d is not None:  # given names and surnames exchanged
        dk.add(f"{initial(main.surnames[0])}|{initial(main.given[0])}|{whens[0]}")
    cut = {k[:64] for k in dk}
    return {
        "match_key_gd": {k[:64] for k in g},
        "match_key_d1": cut,
        "match_key_d2": cut,
        "match_key_a": cut,
        "match_key_p": {k[:64] for k in p},
        "match_key_y1": {k[:64] for k in y},
        "match_key_y2": {k[:64] for k in y},
    }


def test_query_keys_as_defined() -> None:
    rng = random.Random(5)
    records = [
        PersonRecord(ref="a", given_names="", first_surname="De la Cruz y Peña"),
        PersonRecord(ref="b", given_names="Y.", first_surname="", date_of_birth=None),
        PersonRecord(
            ref="c",
            given_names="A" * 80,
            first_surname="B" * 80,
            second_surname="C" * 80,
            date_of_birth=dt.date(1990, 1, 2),
            aliases=["Juan", "de la Peña", "Zé Carlos da Silva Vázquez"],
        ),
        PersonRecord(
            ref="d",
            given_names="María",
            first_surname="Núñez",
            date_of_birth=dt.date(1990, 5, 5),
            dob_precision="month",
        ),
    ]
    records += [
        messy_copy(rng, person(rng, f"p{i}"), f"q{i}", mess=rng.choice([0, 1, 2, 3, 4]))
        for i in range(2000)
    ]
    for record in records:
        assert query_keys(record) == reference_query_keys(record), record


def test_variants_are_the_name_then_each_alias() -> None:
    r = PersonRecord(
        ref="a",
        given_names="José Luis",
        first_surname="de la Cruz",
        second_surname="Peña",
        aliases=("Pepe", "Juan del Valle Ruiz"),
    )
    assert [tuple(v) for v in r.variants] == [
        (("jose", "luis"), ("cruz", "pena")),
        ((), ("pepe",)),
        (("juan",), ("valle", "ruiz")),
    ]
    same_names = PersonRecord(
        ref="b",
        given_names="José Luis",
        first_surname="de la Cruz",
        second_surname="Peña",
        aliases=["Pepe", "Juan del Valle Ruiz"],  # a list: the same names as the tuple
    )
    assert same_names.variants == r.variants


@pytest.mark.django_db
def test_a_batch_matches_as_each_record_alone(actor: Any) -> None:
    """Matching a batch gives every record what matching it alone gives (the keys of the
    whole batch are looked up together), identifiers included."""
    rng = random.Random(3)
    people = []
    for i in range(30):
        p = person(rng, f"r{i}")
        people.append(
            make_person(
                actor,
                given_names=p.given_names,
                first_surname=p.first_surname,
                second_surname=p.second_surname,
                dob=p.date_of_birth,
                nationality=p.nationalities[0],
            )
        )
    ident = people[4].identifiers.get()
    queries = [
        messy_copy(
            rng,
            PersonRecord(
                ref=f"q{i}",
                given_names=x.given_names,
                first_surname=x.first_surname,
                second_surname=x.second_surname,
                date_of_birth=x.date_of_birth,
                sex="M",
                nationalities=list(x.nationalities),
            ),
            f"q{i}",
            mess=2,
        )
        for i, x in enumerate(people[:20])
    ]
    # Person 4 under the identifier the registry knows them by, with no date of birth and
    # one surname: no blocking key finds them, the identifier does.
    queries.append(
        PersonRecord(
            ref="by-identifier",
            given_names=people[4].given_names,
            first_surname=people[4].first_surname,
            identifiers=(f"{ident.authority}:{ident.value}",),
        )
    )
    batch = registry_match_many(queries)
    assert batch == [registry_match(q) for q in queries]
    assert sum(1 for found in batch[:20] if found and found[0].band == "same") >= 15
    by_identifier = {m.ref: m for m in batch[-1]}
    assert str(people[4].pk) in by_identifier
    assert "same identifier" in by_identifier[str(people[4].pk)].reasons


@pytest.mark.django_db
def test_a_pathological_block_is_cut_to_most_shared_then_lowest_id(
    actor: Any, monkeypatch: Any
) -> None:
    """More candidates than MAX_CANDIDATES: those sharing most keys stay, the lower person
    id first among equals, whatever else is matched in the same batch."""
    twins = [make_person(actor, given_names="Ana", first_surname="Gil") for _ in range(4)]
    near = make_person(actor, given_names="Ana", first_surname="Gil", second_surname="Ruiz")
    monkeypatch.setattr(matching, "MAX_CANDIDATES", 2)
    query = PersonRecord(
        ref="q",
        given_names="Ana",
        first_surname="Gil",
        second_surname="Ramírez",
        date_of_birth=dt.date(1990, 5, 17),
        sex="M",
        nationalities=["VE"],
    )
    alone = registry_match(query)
    assert sorted(int(m.ref) for m in alone) == sorted(p.pk for p in twins)[:2]
    other = PersonRecord(ref="o", given_names="Ana", first_surname="Ruiz")
    assert registry_match_many([other, query])[1] == alone
    assert str(near.pk) not in {m.ref for m in alone}
