"""Identity matching (habeas.people.matching): folding, particles, surname order, initials,
aliases, dates, nationality; blocking against the registry; FEBRL-style linkage."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import pytest

from habeas.people.matching import (
    PersonRecord,
    fold,
    link,
    registry_match,
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
    assert score(rec(), rec("b", nationalities=["SV"])).score < score(rec(), rec("b")).score
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


def test_febrl_style_linkage_precision_and_recall() -> None:
    """Known pairs are reproduced at the measured quality (benchmarks report the full run)."""
    left, right, truth = linked_lists(random.Random(7), 2000, duplicates=0.5, mess=2)
    pairs = {(a, b) for a, b, _ in link(left, right)}
    precision, recall, f1 = precision_recall(pairs, truth)
    assert precision >= 0.97, precision
    assert recall >= 0.85, recall
    assert f1 >= 0.9
