"""Identity matching (habeas.people.matching): folding, particles, surname order, initials,
aliases, dates, nationality; blocking against the registry; FEBRL-style linkage."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import pytest

from habeas.people.matching import (
    Index,
    PersonRecord,
    fold,
    link,
    registry_match,
    registry_match_many,
    score,
    search_keys,
    tokens,
)
from habeas.people.synthetic import linked_lists, precision_recall
from tests.conftest import make_person


def rec(ref: str = "a", **kw: Any) -> PersonRecord:
    base: dict[str, Any] = {
        "given_names": "José Alberto",
        "first_surname": "Hernández",
        "second_surname": "Ramírez",
        "date_of_birth": dt.date(1990, 5, 7),
        "sex": "M",
        "nationalities": ["VE"],
    }
    base.update(kw)
    return PersonRecord(ref=ref, **base)


def test_fold_and_particles() -> None:
    assert fold("Núñez-PEÑA") == "nunez pena"
    assert tokens("de la Cruz y Peña") == ["cruz", "pena"]


@pytest.mark.parametrize(
    ("changes", "band"),
    [
        (
            {
                "given_names": "JOSE ALBERTO",
                "first_surname": "HERNANDEZ",
                "second_surname": "RAMIREZ",
            },
            "same",
        ),
        ({"first_surname": "Ramírez", "second_surname": "Hernández"}, "same"),
        ({"second_surname": ""}, "same"),
        ({"given_names": "J. Alberto"}, "same"),
        ({"given_names": "José A."}, "same"),
        ({"date_of_birth": dt.date(1990, 7, 5)}, "same"),  # day/month swap
        ({"date_of_birth": dt.date(1990, 1, 1), "dob_precision": "year"}, "same"),
        # day/month swap, then kept to the month only (1990-05-07 written 07/05/1990)
        ({"date_of_birth": dt.date(1990, 7, 1), "dob_precision": "month"}, "same"),
        # given names and surnames in each other's fields
        (
            {
                "given_names": "Hernández Ramírez",
                "first_surname": "José",
                "second_surname": "Alberto",
            },
            "same",
        ),
        # one digit of the date mistyped: a person looks at it
        ({"date_of_birth": dt.date(1990, 8, 7)}, "possible"),
        ({"date_of_birth": dt.date(1909, 5, 7)}, "possible"),
        ({"given_names": "Pedro", "first_surname": "López", "second_surname": "Gil"}, "different"),
        ({"date_of_birth": dt.date(1971, 2, 3)}, "different"),
    ],
)
def test_bands(changes: dict[str, Any], band: str) -> None:
    assert score(rec(), rec("b", **changes)).band == band


def test_particles_in_surnames() -> None:
    a = rec(first_surname="de la Cruz", second_surname="del Valle")
    b = rec("b", first_surname="Cruz", second_surname="Valle")
    assert score(a, b).band == "same"


def test_alias_matches() -> None:
    a = rec(
        given_names="Luis",
        first_surname="Mora",
        second_surname="",
        aliases=["José Hernández Ramírez"],
    )
    assert score(a, rec("b")).band == "same"


def test_nationality_and_sex_count_against() -> None:
    # The evidence (the log2-odds weight): the probability of both rounds to 1.
    assert score(rec(), rec("b", nationalities=["SV"])).weight < score(rec(), rec("b")).weight
    assert score(rec(), rec("b", sex="F")).band != "same"


def test_keys_tolerate_accents_and_surname_order() -> None:
    """The same person written with accents dropped, capitals and the surnames swapped shares
    the both-surnames key (``match_key_p``) and finds each surname in the other's keys."""
    written: dict[str, Any] = {
        "aliases": [],
        "date_of_birth": dt.date(1990, 1, 1),
        "dob_precision": "year",
    }
    k1 = search_keys(given_names="José", first_surname="Vásquez", second_surname="Núñez", **written)
    k2 = search_keys(given_names="JOSE", first_surname="NUNEZ", second_surname="BASQUES", **written)
    assert k1["match_key_p"] == k2["match_key_p"] != ""
    assert k1["match_key_y1"] == k2["match_key_y2"] != ""
    assert k1["match_key_y2"] == k2["match_key_y1"] != ""


def test_swapped_name_is_looked_up() -> None:
    """A list that writes the surname in the given-name field still finds the person (the
    initials-and-date key of the exchanged name)."""
    stored = rec("b", given_names="Matthews", first_surname="Bradley", second_surname="")
    query = rec(given_names="Bradley", first_surname="Matthews", second_surname="")
    found = Index([stored]).best(query)
    assert [m.ref for m in found] == ["b"]
    assert found[0].band == "same"


@pytest.mark.django_db
def test_registry_match_finds_the_held_person(actor: Any) -> None:
    target = make_person(
        actor,
        given_names="José Alberto",
        first_surname="Hernández",
        second_surname="Ramírez",
        dob=dt.date(1990, 5, 7),
    )
    make_person(
        actor,
        given_names="Pedro",
        first_surname="Hernández",
        second_surname="Gil",
        dob=dt.date(1990, 5, 7),
    )
    found = registry_match(
        rec(given_names="JOSE A", first_surname="RAMIREZ", second_surname="HERNANDEZ")
    )
    assert found[0].ref == str(target.pk)
    assert found[0].band == "same"


@pytest.mark.django_db
def test_registry_match_forgives_the_clerical_errors_as_score_does(actor: Any) -> None:
    """The registry path (keys looked up in the database, batch scoring that passes over
    candidates who cannot reach *possible*) finds each clerical error and scores it exactly
    as :func:`score` does: given names and surnames exchanged (*same*), a full date whose day
    and month were swapped and then kept to the month (*same*), a month mistyped by one
    digit (*possible*: a person looks at it)."""
    from habeas.people.services import PersonSpec, person_create

    exchanged = make_person(
        actor,
        given_names="Matthews",
        first_surname="Bradley",
        second_surname="",
        dob=dt.date(1964, 4, 9),
    )
    by_month = person_create(
        actor=actor,
        spec=PersonSpec(
            given_names="José Alberto",
            first_surname="Hernández",
            second_surname="Ramírez",
            sex="M",
            nationalities=["VE"],
            date_of_birth=dt.date(1990, 7, 1),
            dob_precision="month",
        ),
    )
    slipped = make_person(
        actor,
        given_names="Carmen",
        first_surname="Ibarra",
        second_surname="Soto",
        sex="F",
        dob=dt.date(1990, 8, 7),
    )
    queries = [
        rec(
            "q1",
            given_names="Bradley",
            first_surname="Matthews",
            second_surname="",
            date_of_birth=dt.date(1964, 4, 9),
        ),
        rec("q2"),  # 1990-05-07, known to the day
        rec(
            "q3",
            given_names="Carmen",
            first_surname="Ibarra",
            second_surname="Soto",
            sex="F",
            date_of_birth=dt.date(1990, 5, 7),
        ),
    ]
    expected = [(exchanged, "same"), (by_month, "same"), (slipped, "possible")]
    for query, found, (person, band) in zip(
        queries, registry_match_many(queries), expected, strict=True
    ):
        stored = PersonRecord(
            ref=str(person.pk),
            given_names=person.given_names,
            first_surname=person.first_surname,
            second_surname=person.second_surname,
            date_of_birth=person.date_of_birth,
            dob_precision=person.dob_precision,
            sex=person.sex,
            nationalities=list(person.nationalities),
        )
        by_ref = {m.ref: m for m in found}
        assert by_ref[str(person.pk)] == score(query, stored)
        assert by_ref[str(person.pk)].band == band, by_ref[str(person.pk)]


def test_febrl_style_linkage_precision_and_recall() -> None:
    """Known pairs are reproduced at the measured quality (benchmarks report the full run)."""
    left, right, truth = linked_lists(random.Random(7), 2000, duplicates=0.5, mess=2)
    pairs = {(a, b) for a, b, _ in link(left, right)}
    precision, recall, f1 = precision_recall(pairs, truth)
    assert precision >= 0.97, precision
    assert recall >= 0.85, recall
    assert f1 >= 0.9
