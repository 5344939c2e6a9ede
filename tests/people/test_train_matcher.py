"""``habeas train-matcher``: the matcher's weights estimated from the registry itself
(ISSUE 15 item 2: "m/u probabilities estimated from the registry itself (EM)")."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from habeas.people import weights
from habeas.people.services import PersonSpec, person_create_many
from habeas.people.synthetic import person
from tests.conftest import run_cli


@pytest.mark.django_db
def test_train_matcher_is_reproducible_and_counts_the_registrys_names(
    actor: Any, tmp_path: Path
) -> None:
    rng = random.Random(5)
    people = [person(rng, f"P{i}") for i in range(300)]
    person_create_many(
        actor=actor,
        specs=[
            PersonSpec(
                given_names=p.given_names,
                first_surname=p.first_surname,
                second_surname=p.second_surname,
                sex=p.sex or "M",
                nationalities=list(p.nationalities) or ["VE"],
                date_of_birth=p.date_of_birth,
                dob_precision=p.dob_precision,
            )
            for p in people
        ],
    )
    outs = [tmp_path / "one.json", tmp_path / "two.json"]
    for out in outs:
        code, stdout, err = run_cli("train-matcher", "--out", str(out), "--seed", "7")
        assert code == 0, err
        assert "registry of 300 people" in stdout
    assert outs[0].read_bytes() == outs[1].read_bytes()
    params = weights.load(outs[0])
    assert params.size == 1000  # at least the floor of the prior's registry size
    assert params.tf_total["surnames"] == 300
    surname = people[0].variants[0].surnames[0]
    assert params.tf["surnames"][surname] == sum(surname in p.variants[0].surnames for p in people)
    shipped = json.loads(weights.DEFAULT_PATH.read_text("utf-8"))
    assert params.u != shipped["u"]  # estimated from this registry's random pairs
    for field in ("given", "surnames", "date_of_birth"):
        assert params.weights[field][0] > 0 > params.weights[field][-1]
