"""Names in every script (issue: non-Latin names were dropped by the folding): each person of
``tests/data/names/scripts.csv`` (206 common names in Cyrillic, Arabic, Greek, Han,
Devanagari, Vietnamese, Latin with Ł/Đ/Þ/ß/Ø and Spanish) is registered as written (and, in a
second run, in its first Latin spelling), then searched with the original and each common
Latin spelling, through the public locator and the
staff search: recall ≥ 0.95, and a search never returns another person of the corpus."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

CORPUS = Path(__file__).resolve().parents[1] / "data" / "names" / "scripts.csv"
TARGET_RECALL = 0.95
ADMITTED = dt.datetime(2025, 3, 16, 14, 5, tzinfo=dt.UTC)
BORN = dt.date(1985, 6, 1)  # one block for everybody: only the names tell people apart

SETUP = """
[[jurisdiction]]
code = "US"
name = "United States"

[[jurisdiction]]
code = "SV"
name = "El Salvador"

[[facility]]
code = "NAM"
name = "Names centre"
jurisdiction = "SV"
timezone = "UTC"
space_standard = "icrc"

[[facility.module]]
code = "M"
population = "adult_male"
regime = "civil"
cell_block = {count = 40, prefix = "M-", floor_area_m2 = 40.0, sanitary_area_m2 = 2.0, bunks = 8, max_capacity = 10, working_capacity = 10}

[[facility.module]]
code = "F"
population = "adult_female"
regime = "civil"
cell_block = {count = 20, prefix = "F-", floor_area_m2 = 40.0, sanitary_area_m2 = 2.0, bunks = 8, max_capacity = 10, working_capacity = 10}

[[agreement]]
code = "US-SV"
sending = "US"
receiving = "SV"
facilities = ["NAM"]
policy = "treaty_transfer"
starts = "2025-01-01"
currency = "USD"
fees = {per_person_day = "30.00"}
"""


@dataclass(frozen=True)
class Row:
    id: int
    script: str
    nationality: str
    sex: str
    given_names: str
    surnames: str
    original: str
    spellings: tuple[str, ...]


def corpus() -> list[Row]:
    with CORPUS.open(encoding="utf-8") as f:
        return [
            Row(
                int(r["id"]),
                r["script"],
                r["nationality"],
                r["sex"],
                r["given_names"],
                r["surnames"],
                r["original"],
                tuple(s for s in r["latin_spellings"].split(";") if s),
            )
            for r in csv.DictReader(f)
        ]


def test_corpus_is_large_and_varied() -> None:
    rows = corpus()
    assert len(rows) >= 200
    assert len({r.script for r in rows}) >= 8
    assert len({r.original for r in rows}) == len(rows)
    assert all(r.spellings for r in rows)


def _fields(r: Row, written: str) -> tuple[str, str, str]:
    """(given names, first surname, second surname) as written (``original``) or in the
    first Latin spelling (``latin``; Han and Vietnamese names are written surname first)."""
    if written == "latin":
        words = r.spellings[0].split()
        if r.script in ("han", "vietnamese"):
            return " ".join(words[1:]), words[0], ""
        n = len(r.given_names.split())
        given, surnames = " ".join(words[:n]), words[n:]
    else:
        given, surnames = r.given_names, r.surnames.split(" ")
    if r.script == "spanish" and len(surnames) > 1:
        return given, surnames[0], " ".join(surnames[1:])
    return given, " ".join(surnames), ""


@pytest.fixture(params=["original", "latin"])
def registered(request: Any, db: Any, actor: Any) -> dict[int, int]:
    """Every corpus person registered as written, or in their first Latin spelling (one
    ``person_create_many``) and admitted (one ``custody_admit_many``): corpus id → person
    id."""
    import tomllib

    from habeas.agreements.models import Agreement
    from habeas.custody.services import AdmissionSpec, LegalBasisSpec, custody_admit_many
    from habeas.facilities.models import Facility
    from habeas.facilities.setup import setup_apply
    from habeas.facilities.setup_schema import parse_setup
    from habeas.people.services import Identifier, PersonSpec, person_create_many

    setup_apply(actor=actor, document=parse_setup(tomllib.loads(SETUP), name="names.toml"))
    rows = corpus()
    specs = []
    for r in rows:
        given, first, second = _fields(r, request.param)
        specs.append(
            PersonSpec(
                given_names=given,
                first_surname=first,
                second_surname=second,
                sex=r.sex,
                nationalities=[r.nationality],
                date_of_birth=BORN,
                identifiers=[Identifier(authority="US", value=f"N{r.id:05d}")],
            )
        )
    people = person_create_many(actor=actor, specs=specs)
    facility = Facility.objects.get(code="NAM")
    agreement = Agreement.objects.get(code="US-SV")
    basis = LegalBasisSpec(kind="removal_order", ref="RO-1", authority="US", order_date=BORN)
    custody_admit_many(
        actor=actor,
        facility=facility,
        agreement=agreement,
        admissions=[
            AdmissionSpec(person=p, legal_bases=[basis], admitted_at=ADMITTED) for p in people
        ],
    )
    return {r.id: p.pk for r, p in zip(rows, people, strict=True)}


@dataclass
class Score:
    found: int = 0
    searched: int = 0
    wrong: int = 0
    misses: list[str] | None = None
    intrusions: list[str] | None = None

    @property
    def recall(self) -> float:
        return self.found / self.searched if self.searched else 0.0

    @property
    def precision_ok(self) -> bool:
        return self.wrong == 0


def measure(search: Callable[[str], set[int]], expected: dict[int, int]) -> Score:
    """Search each corpus person by the original and each Latin spelling; ``search`` returns
    the person ids found."""
    score = Score(misses=[], intrusions=[])
    assert score.misses is not None
    assert score.intrusions is not None
    corpus_people = set(expected.values())
    for r in corpus():
        for text in (r.original, *r.spellings):
            found = search(text) & corpus_people
            score.searched += 1
            if expected[r.id] in found:
                score.found += 1
            else:
                score.misses.append(f"{r.original} ← {text}")
            if found - {expected[r.id]}:
                score.wrong += 1
                score.intrusions.append(f"{r.original} ← {text}: {sorted(found)}")
    return score


def locator_search(names_to_ids: dict[str, int]) -> Callable[[str], set[int]]:
    from habeas.core.errors import ValidationFailed
    from habeas.oversight.locator import LocatorQuery, locate

    def search(text: str) -> set[int]:
        try:
            query = LocatorQuery.build(name=text, public=False)
        except ValidationFailed:
            return set()
        doc = locate(query)
        return {names_to_ids[m["name"]] for m in doc["matches"] if m["status"] != "not_found"}

    return search


@pytest.mark.django_db
def test_locator_finds_names_in_every_script(registered: dict[int, int]) -> None:
    from habeas.people.models import Person

    names_to_ids = {p.full_name: p.pk for p in Person.objects.all()}
    score = measure(locator_search(names_to_ids), registered)
    print(
        f"locator: recall {score.recall:.3f} ({score.found}/{score.searched}), wrong {score.wrong}"
    )
    print("\n".join(score.misses or []))
    assert score.recall >= TARGET_RECALL, score.misses
    assert score.precision_ok, score.intrusions


@pytest.mark.django_db
def test_staff_search_finds_names_in_every_script(
    registered: dict[int, int], users: dict[str, Any]
) -> None:
    from habeas.people.selectors import person_list

    oversight = users["oversight"]

    def search(text: str) -> set[int]:
        return set(person_list(user=oversight, query=text).values_list("pk", flat=True))

    score = measure(search, registered)
    print(f"staff: recall {score.recall:.3f} ({score.found}/{score.searched}), wrong {score.wrong}")
    print("\n".join(score.misses or []))
    assert score.recall >= TARGET_RECALL, score.misses
    assert score.precision_ok, score.intrusions


@pytest.mark.django_db
def test_a_name_typed_in_its_script_finds_the_latin_registration(actor: Any) -> None:
    """The other way round: registered in Latin letters, searched in the original script."""
    from habeas.oversight.locator import name_matches, person_tokens
    from habeas.people.names import name_keys

    for given, surname, original in [
        ("Pyotr", "Ivanov", "Пётр Иванов"),
        ("Mohamed", "Hassan", "محمد حسن"),
        ("Mahmoud", "Abbas", "محمود عباس"),
        ("Xiaoming", "Wang", "王小明"),
        ("Rahul", "Sharma", "राहुल शर्मा"),
        ("Giorgos", "Papadopoulos", "Γιώργος Παπαδόπουλος"),
    ]:
        cost = name_matches(name_keys(original, query=True), person_tokens(given, surname))
        assert cost is not None, original


@pytest.mark.parametrize(
    ("query", "cost"),
    [
        ("gabriel vilalobos", 0.0),  # one spelling of the key (doubled letters are one)
        ("gabriel villlobos", 1.0),  # a typo that doubles a letter: one typo, as typed
        ("gabriel villaloobs", 1.0),
        ("gavriel villalobos", 1.0),
        ("gavriel villlobos", None),  # two typos
    ],
)
def test_a_typo_is_measured_on_the_word_as_typed(query: str, cost: float | None) -> None:
    from habeas.oversight.locator import LocatorQuery, name_matches, person_tokens

    q = LocatorQuery.build(name=query, public=False)
    assert name_matches(q.names, person_tokens("Gabriel", "Villalobos"), q.typed) == cost
