"""The batch scorer (habeas.people.matching_bulk.score_pairs) gives every pair the levels,
weight and score of the per-pair one (habeas.people.matching.score): on blocked and random
pairs of generated lists, with the shipped weights and with weights trained on the lists
(term frequencies), on records with aliases, initials, partial and odd dates, missing names,
sexes, nationalities and identifiers; and the registry's batch matching keeps its results."""

from __future__ import annotations

import contextlib
import datetime as dt
import random
from dataclasses import replace

import pytest

from habeas.people import matching, weights
from habeas.people.matching import Index, PersonRecord, _fields, dob_level, score
from habeas.people.matching_bulk import matches_of, score_pairs
from habeas.people.synthetic import linked_lists, messy_copy, person


def _odd(rng: random.Random, p: PersonRecord, i: int) -> PersonRecord:
    """A record with the rarer shapes the scorer must also get right."""
    kind = i % 11
    if kind == 0:
        return replace(p, sex=rng.choice(["F", "", "X"]), _variants=None)
    if kind == 1:
        return replace(p, nationalities=(), _variants=None)
    if kind == 2:
        return replace(p, given_names="", _variants=None)
    if kind == 3:
        return replace(p, first_surname="", second_surname="", _variants=None)
    if kind == 4:
        return replace(p, date_of_birth=None, _variants=None)
    if kind == 5:
        d = p.date_of_birth or dt.date(1980, 1, 1)
        return replace(p, date_of_birth=dt.date(rng.choice([9, 99, 999]), d.month, d.day))
    if kind == 6:
        return replace(p, identifiers=(f"SV:{i % 7}",), _variants=None)
    if kind == 7:
        return replace(p, aliases=[f"{p.first_surname} {p.given_names}", "Chino"], _variants=None)
    if kind == 9:  # three surname words, and one given as an initial
        return replace(
            p, first_surname=f"{p.first_surname} {p.second_surname}",
            second_surname=f"{p.first_surname[0]}.", _variants=None,
        )  # fmt: skip
    if kind == 10:
        return replace(p, second_surname=p.first_surname, _variants=None)  # the same twice
    return replace(
        p, given_names=p.first_surname, first_surname=p.given_names, _variants=None
    )  # written the other way round


def _pairs(seed: int) -> tuple[list[PersonRecord], list[PersonRecord], list[int], list[int]]:
    rng = random.Random(seed)
    left, right, _ = linked_lists(rng, 400, duplicates=0.5, mess=2)
    # more corruption, and every odd shape on both sides
    left += [messy_copy(rng, rng.choice(right), f"M{i}", mess=3) for i in range(150)]
    left += [_odd(rng, rng.choice(right), i) for i in range(150)]
    right += [_odd(rng, rng.choice(left[:400]), i) for i in range(150)]
    index = Index(right)
    position = {r.ref: k for k, r in enumerate(right)}
    ia: list[int] = []
    ib: list[int] = []
    for i, a in enumerate(left):
        for b in index.candidates(a):
            ia.append(i)
            ib.append(position[b.ref])
        for _ in range(3):  # random pairs: the levels blocking rarely yields
            ia.append(i)
            ib.append(rng.randrange(len(right)))
    return left, right, ia, ib


@pytest.mark.parametrize("trained", [False, True])
def test_batch_scores_equal_the_per_pair_scores(trained: bool) -> None:
    left, right, ia, ib = _pairs(7)
    params = weights.current()
    if trained:
        params = matching.train_on_lists(left[:400], right[:400], start=params)
        assert params.tf  # term frequencies in play
    got = score_pairs(left, right, ia, ib, params)
    assert len(got.score) == len(ia) > 2500
    matches = matches_of(right, ib, got, 0.0, params)  # floor 0: every pair
    levels = set()
    for k, (i, j) in enumerate(zip(ia, ib, strict=True)):
        a, b = left[i], right[j]
        want = score(a, b, params)
        assert matches[k] == want, (a, b)
        fields = _fields(a, b, params)
        assert got.score[k] == want.score, (a, b)
        assert round(got.total[k], 6) == want.weight, (a, b)
        assert (
            int(got.given[k]),
            int(got.surnames[k]),
            int(got.date_of_birth[k]),
            int(got.nationality[k]),
            int(got.sex[k]),
            bool(got.exchanged[k]),
            bool(got.same_id[k]),
            bool(got.far[k]),
        ) == (*fields[:6], fields[7], fields[10]), (a, b)
        levels.add(fields[:5])
    assert len(levels) > 100  # many combinations of levels were compared


def test_batch_dates_equal_the_per_pair_levels() -> None:
    rng = random.Random(3)
    base = [dt.date(1900, 1, 1) + dt.timedelta(days=rng.randrange(0, 40_000)) for _ in range(60)]
    dates = list(base)
    for d in base:  # neighbours of each: slips, swaps, next year, same month
        dates += [
            d.replace(year=d.year + 1),
            d + dt.timedelta(days=1),
            d.replace(day=min(d.day, 28), month=d.month % 12 + 1),
        ]
        if d.day <= 12:
            dates.append(dt.date(d.year, d.day, d.month))
        text = d.strftime("%Y%m%d")
        i = rng.randrange(7)
        swapped = text[:i] + text[i + 1] + text[i] + text[i + 2 :]
        with contextlib.suppress(ValueError):  # not a date
            dates.append(dt.date(int(swapped[:4]), int(swapped[4:6]), int(swapped[6:])))
    dates += [dt.date(999, 3, 4), dt.date(99, 3, 4), dt.date(1000, 3, 4)]
    records = [
        PersonRecord(ref=str(k), given_names="x", first_surname="y", date_of_birth=d,
                     dob_precision=rng.choice(["day", "day", "month", "year"]))
        for k, d in enumerate(dates)
    ]  # fmt: skip
    n = len(records)
    ia = [i for i in range(n) for _ in range(n)]
    ib = [j for _ in range(n) for j in range(n)]
    got = score_pairs(records, records, ia, ib).date_of_birth
    want = [dob_level(records[i], records[j]) for i, j in zip(ia, ib, strict=True)]
    assert got.tolist() == want
    assert set(want) >= set(range(12))  # every level of the date was compared


@pytest.mark.django_db
def test_registry_batch_matches_equal_per_pair_scoring() -> None:
    from habeas.core.actor import Actor
    from habeas.people.services import PersonSpec, person_create_many

    rng = random.Random(5)
    people = [person(rng, f"P{i}") for i in range(300)]
    person_create_many(
        actor=Actor.system("test"),
        specs=[
            PersonSpec(
                given_names=p.given_names,
                first_surname=p.first_surname,
                second_surname=p.second_surname,
                date_of_birth=p.date_of_birth,
                sex=p.sex,
                nationalities=list(p.nationalities),
            )
            for p in people
        ],
    )
    queries = [messy_copy(rng, rng.choice(people), f"Q{i}", mess=2) for i in range(120)]
    got = matching.registry_match_many(queries)
    assert sum(map(len, got)) > 60
    from habeas.people.models import Person

    registry = {
        str(p.pk): PersonRecord(
            ref=str(p.pk),
            given_names=p.given_names,
            first_surname=p.first_surname,
            second_surname=p.second_surname,
            aliases=tuple(p.aliases),
            date_of_birth=p.date_of_birth,
            dob_precision=p.dob_precision,
            sex=p.sex,
            nationalities=tuple(p.nationalities),
        )
        for p in Person.objects.all()
    }
    for q, matches in zip(queries, got, strict=True):
        # the per-pair scorer over the same blocked candidates
        want = [matching.score(q, registry[str(pid)]) for pid in _blocked(q)]
        want = [m for m in want if m.score >= matching.POSSIBLE]
        want.sort(key=lambda m: (-m.score, int(m.ref)))
        assert matches == want


def _blocked(record: PersonRecord) -> set[int]:
    from habeas.people.models import Person

    wanted = matching.query_keys(record)
    found: set[int] = set()
    for column, keys in wanted.items():
        if keys:
            found |= set(
                Person.objects.filter(**{f"{column}__in": list(keys)}).values_list("pk", flat=True)
            )
    return found
