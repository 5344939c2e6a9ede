"""Property: whatever sequence of admissions (single and batched, chosen or automatic cells),
moves and releases is attempted, the database never shows a cell above its working capacity
(STANDARDS.md: the hard cap at allocation) nor a breach of Mandela Rule 11 — men and women,
young people and adults, civil and criminal, untried and convicted held apart — and every
open episode has exactly one open placement. Each successful service writes exactly one ledger
entry per person, a refusal none. And the housing rules are not vacuous: a refused admission
is one that an independent oracle also finds impossible.

Every Hypothesis example runs in a savepoint that is rolled back, on top of one facility and
one pool of people created per test function.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import transaction
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from habeas.core.actor import Actor
from habeas.core.errors import ApplicationError
from habeas.custody.models import CustodyEpisode
from habeas.custody.services import AdmissionSpec, LegalBasisSpec, custody_release
from habeas.facilities.models import Cell, Facility
from habeas.facilities.setup import setup_apply
from habeas.facilities.setup_schema import parse_setup
from habeas.housing.models import Placement
from habeas.housing.placements import admit_and_place, admit_and_place_many, placement_move
from habeas.ledger.services import ledger_size
from habeas.people.models import Person
from habeas.people.services import Identifier, PersonSpec, person_create_many
from tests.conftest import direct_write

T0 = dt.datetime(2025, 3, 16, 8, 0, tzinfo=dt.UTC)

SETUP = """
[[jurisdiction]]
code = "SV"
name = "El Salvador"

[[facility]]
code = "PRP"
name = "Property test centre"
jurisdiction = "SV"
timezone = "America/El_Salvador"
space_standard = "ecthr"

[[facility.module]]
code = "MC"
population = "adult_male"
regime = "criminal"
cells = [
  {code = "MC-1", floor_area_m2 = 6.0, max_capacity = 3, working_capacity = 2},
  {code = "MC-2", floor_area_m2 = 9.0, max_capacity = 2, working_capacity = 1},
  {code = "MC-3", floor_area_m2 = 9.0, max_capacity = 2, working_capacity = 2},
  {code = "MC-OFF", floor_area_m2 = 30.0, max_capacity = 9, working_capacity = 9},
]

[[facility.module]]
code = "MV"
population = "adult_male"
regime = "civil"
cells = [
  {code = "MV-1", floor_area_m2 = 6.0, max_capacity = 1, working_capacity = 1},
  {code = "MV-2", floor_area_m2 = 9.0, max_capacity = 3, working_capacity = 2},
]

[[facility.module]]
code = "FC"
population = "adult_female"
regime = "criminal"
cells = [{code = "FC-1", floor_area_m2 = 6.0, max_capacity = 1, working_capacity = 1}]

[[facility.module]]
code = "FV"
population = "adult_female"
regime = "civil"
cells = [{code = "FV-1", floor_area_m2 = 6.0, max_capacity = 2, working_capacity = 1}]

[[facility.module]]
code = "YC"
population = "youth_male"
regime = "criminal"
cells = [{code = "YC-1", floor_area_m2 = 6.0, max_capacity = 1, working_capacity = 1}]

[[facility.module]]
code = "YV"
population = "youth_male"
regime = "civil"
cells = [{code = "YV-1", floor_area_m2 = 9.0, max_capacity = 2, working_capacity = 2}]
"""

CELLS = ["MC-1", "MC-2", "MC-3", "MC-OFF", "MV-1", "MV-2", "FC-1", "FV-1", "YC-1", "YV-1"]

#: (sex, date of birth, precision) of the pool; no young women's module exists on purpose.
POOL = [
    ("M", dt.date(1990, 5, 17), "day"),
    ("M", dt.date(1991, 6, 1), "day"),
    ("M", dt.date(1988, 7, 2), "day"),
    ("M", dt.date(1975, 8, 3), "day"),
    ("M", dt.date(1985, 1, 1), "year"),
    ("M", dt.date(2007, 3, 16), "day"),  # 18 on T0's day
    ("M", None, "day"),
    ("M", dt.date(1979, 2, 1), "month"),
    ("F", dt.date(1992, 8, 2), "day"),
    ("F", dt.date(1970, 1, 1), "year"),
    ("M", dt.date(2008, 6, 1), "day"),  # 16
    ("M", dt.date(2007, 1, 1), "year"),  # born in 2007: may be 17
    ("X", dt.date(1995, 3, 3), "day"),
    ("F", dt.date(2009, 9, 9), "day"),  # a girl: no module can take her
]

_SENTENCE = LegalBasisSpec(
    kind="criminal_sentence",
    ref="CR",
    authority="US",
    offence="robbery",
    conviction_date=dt.date(2024, 1, 1),
    judgment_final=True,
    sentence="P2Y",
    sentence_start=dt.date(2024, 1, 1),
)
_UNTRIED = LegalBasisSpec(
    kind="criminal_sentence",
    ref="CR-P",
    authority="US",
    offence="robbery",
    judgment_final=False,
    sentence="P2Y",
    sentence_start=dt.date(2024, 6, 1),
)
_REMOVAL = LegalBasisSpec(
    kind="removal_order", ref="RO", authority="US", order_date=dt.date(2025, 3, 1)
)
BASES: dict[str, list[LegalBasisSpec]] = {
    "removal": [_REMOVAL],
    "sentence": [_SENTENCE],
    "untried": [_UNTRIED],
    "sentence+removal": [_SENTENCE, _REMOVAL],
    "untried+removal": [_UNTRIED, _REMOVAL],
}


# --- an oracle written independently of habeas.facilities.housing ------------------------------


def young(person: Person, on: dt.date) -> bool:
    dob = person.date_of_birth
    if dob is None:
        return False
    if person.dob_precision == "year":
        latest = dt.date(dob.year, 12, 31)
    elif person.dob_precision == "month":
        nxt = dt.date(dob.year + dob.month // 12, dob.month % 12 + 1, 1)
        latest = nxt - dt.timedelta(days=1)
    else:
        latest = dob
    eighteen = latest.year + 18
    try:
        birthday = latest.replace(year=eighteen)
    except ValueError:
        birthday = dt.date(eighteen, 3, 1)
    return on < birthday


def regime(bases: list[tuple[str, bool | None]]) -> str:
    return "criminal" if any(k == "criminal_sentence" for k, _ in bases) else "civil"


def untried(bases: list[tuple[str, bool | None]]) -> bool:
    finals = [f for k, f in bases if k == "criminal_sentence"]
    return bool(finals) and all(f is False for f in finals)


def population_ok(population: str, person: Person, on: dt.date) -> bool:
    age, _, sex = population.partition("_")
    if (age == "youth") != young(person, on):
        return False
    return not ((person.sex == "M" and sex != "male") or (person.sex == "F" and sex != "female"))


@dataclass
class Held:
    cell: Cell
    untried: bool
    regime: str


def world_now() -> tuple[dict[int, Held], dict[int, list[int]]]:
    """person id → where and how held; cell id → person ids (from open placements)."""
    rows = (
        Placement.objects.filter(ended_at__isnull=True)
        .select_related("cell__module", "episode")
        .prefetch_related("episode__legal_bases")
    )
    held: dict[int, Held] = {}
    by_cell: dict[int, list[int]] = defaultdict(list)
    for pl in rows:
        bases = [(b.kind, b.judgment_final) for b in pl.episode.legal_bases.all()]
        held[pl.episode.person_id] = Held(pl.cell, untried(bases), regime(bases))
        by_cell[pl.cell_id].append(pl.episode.person_id)
    return held, by_cell


def oracle_allows(
    cell: Cell,
    person: Person,
    kinds: list[tuple[str, bool | None]],
    on: dt.date,
    now: tuple[dict[int, Held], dict[int, list[int]]],
) -> bool:
    held, by_cell = now
    if not cell.active or len(by_cell[cell.pk]) >= cell.working_capacity:
        return False
    if not population_ok(cell.module.population, person, on):
        return False
    if cell.module.regime != regime(kinds):
        return False
    if regime(kinds) == "criminal":
        mine = untried(kinds)
        return all(held[p].untried == mine for p in by_cell[cell.pk])
    return True


def check_invariants(people: dict[int, Person]) -> None:
    held, by_cell = world_now()
    cells = {c.pk: c for c in Cell.objects.select_related("module").filter(facility__code="PRP")}
    for cell_id, persons in by_cell.items():
        cell = cells[cell_id]
        assert len(persons) <= cell.working_capacity, f"{cell.code} above working capacity"
        assert cell.active or not persons, f"{cell.code} is out of use but holds people"
        kinds = {held[p].untried for p in persons if held[p].regime == "criminal"}
        assert len(kinds) <= 1, f"{cell.code} mixes untried and convicted people"
    placements = {
        pl.episode.person_id: pl
        for pl in Placement.objects.filter(ended_at__isnull=True).select_related("episode")
    }
    for pid, h in held.items():
        person = people[pid]
        module = h.cell.module
        on = placements[pid].started_at.date()
        assert population_ok(module.population, person, on), f"{person.sex} {pid} in {module.code}"
        assert module.regime == h.regime, f"{h.regime} person {pid} in {module.code}"
    open_episodes = list(CustodyEpisode.objects.open().values_list("person_id", flat=True))
    assert sorted(open_episodes) == sorted(held), "open episodes and open placements disagree"
    assert (
        Placement.objects.filter(ended_at__isnull=True, episode__released_at__isnull=False).count()
        == 0
    )


# --- fixtures and strategies ----------------------------------------------------------------------


class _Rollback(Exception):
    pass


@contextmanager
def rolled_back() -> Iterator[None]:
    try:
        with transaction.atomic():
            yield
            raise _Rollback
    except _Rollback:
        pass


@pytest.fixture
def prp(db: Any, actor: Actor) -> dict[str, Any]:
    setup_apply(actor=actor, document=parse_setup(tomllib.loads(SETUP), name="prp.toml"))
    direct_write(  # test set-up written directly, on purpose
        lambda: Cell.objects.filter(code="MC-OFF").update(
            active=False, deactivation_reason="maintenance"
        )
    )
    people = person_create_many(
        actor=actor,
        specs=[
            PersonSpec(
                given_names=f"Persona {i}",
                first_surname="Prueba",
                sex=sex,
                nationalities=["VE"],
                date_of_birth=dob,
                dob_precision=precision,
                identifiers=[Identifier(authority="US", value=f"PRP{i:03d}")],
            )
            for i, (sex, dob, precision) in enumerate(POOL)
        ],
    )
    return {"facility": Facility.objects.get(code="PRP"), "people": people}


# Most people are adult men and most cells criminal men's cells, so that cells fill up and
# untried and convicted people compete for them; the rest probe the other rules.
persons = st.integers(0, len(POOL) - 1)
bases = st.sampled_from(
    ["sentence", "untried", "sentence", "untried", "removal", "sentence+removal", "untried+removal"]
)
cells = st.sampled_from(["MC-1", "MC-2", "MC-3"] * 3 + CELLS)
admit_to_cell = st.tuples(st.just("admit"), persons, bases, cells)
admit_anywhere = st.tuples(st.just("admit"), persons, bases, st.none())
batch = st.tuples(st.just("batch"), persons, bases, persons, bases)
move = st.tuples(st.just("move"), persons, cells)
release = st.tuples(st.just("release"), persons)
# Chosen cells and moves are listed twice: they are where a rule can be broken.
steps = st.lists(
    st.one_of(admit_to_cell, admit_to_cell, admit_anywhere, batch, move, move, release),
    min_size=2,
    max_size=12,
)


@pytest.mark.django_db
@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# Each rule's direct attack, always run before the random sequences (pool indices: 0-3 adult
# men, 8 a woman, 11 a man born in 2007 who may be 17).
@example(steps=[("admit", 0, "sentence", "MC-2"), ("admit", 1, "sentence", "MC-2")])
@example(
    steps=[("admit", 0, "sentence", "MC-2"), ("admit", 1, "sentence", "MC-1"), ("move", 1, "MC-2")]
)
@example(
    steps=[
        ("admit", 0, "sentence", "MC-1"),
        ("admit", 1, "untried", "MC-1"),
        ("admit", 2, "untried", None),
        ("move", 2, "MC-1"),
    ]
)
@example(
    steps=[
        ("admit", 0, "removal", "MC-1"),
        ("admit", 1, "sentence", "MV-1"),
        ("admit", 2, "removal", "MV-2"),
        ("move", 2, "MC-3"),
    ]
)
@example(
    steps=[
        ("admit", 11, "sentence", "MC-1"),
        ("admit", 8, "removal", "MV-1"),
        ("admit", 0, "removal", "FV-1"),
        ("admit", 3, "removal", None),
        ("move", 3, "FV-1"),
        ("release", 3),
        ("admit", 3, "sentence", "MC-OFF"),
    ]
)
@given(steps=steps)
def test_no_sequence_breaks_working_capacity_or_separation(
    prp: dict[str, Any], actor: Actor, steps: list[tuple[Any, ...]]
) -> None:
    facility: Facility = prp["facility"]
    pool: list[Person] = prp["people"]
    people = {p.pk: p for p in pool}
    by_code = {c.code: c for c in Cell.objects.select_related("module").filter(facility=facility)}
    with rolled_back():
        for n, step in enumerate(steps):
            at = T0 + dt.timedelta(hours=n)
            size = ledger_size()
            kind = step[0]
            expected_entries = 1
            try:
                if kind == "admit":
                    _, who, basis, code = step
                    person = pool[who]
                    kinds = [(b.kind, b.judgment_final) for b in BASES[basis]]
                    was_held = CustodyEpisode.objects.open().filter(person=person).exists()
                    now = world_now()
                    possible = [
                        c
                        for c in by_code.values()
                        if oracle_allows(c, person, kinds, at.date(), now)
                    ]
                    try:
                        admit_and_place(
                            actor=actor,
                            person=person,
                            facility=facility,
                            agreement=None,
                            legal_bases=BASES[basis],
                            admitted_at=at,
                            cell_code=code,
                        )
                    except ApplicationError:
                        # Refused only when no rule-abiding placement existed.
                        assert was_held or (
                            not possible if code is None else by_code[code] not in possible
                        ), f"admission of {who} ({basis}) to {code or 'any cell'} wrongly refused"
                        raise
                    assert not was_held
                elif kind == "batch":
                    _, a, basis_a, b, basis_b = step
                    expected_entries = 1 if a == b else 2
                    admit_and_place_many(
                        actor=actor,
                        facility=facility,
                        agreement=None,
                        admissions=[
                            AdmissionSpec(
                                person=pool[a], legal_bases=BASES[basis_a], admitted_at=at
                            ),
                            AdmissionSpec(
                                person=pool[b], legal_bases=BASES[basis_b], admitted_at=at
                            ),
                        ],
                    )
                    assert a != b
                elif kind == "move":
                    _, who, code = step
                    placement_move(
                        actor=actor, person=pool[who], cell=by_code[code], at=at, reason="property"
                    )
                else:
                    _, who = step
                    custody_release(actor=actor, person=pool[who], reason="other", at=at)
            except ApplicationError:
                assert ledger_size() == size, f"refused {kind} wrote to the ledger"
            else:
                assert ledger_size() == size + expected_entries
            check_invariants(people)
