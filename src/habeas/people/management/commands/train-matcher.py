"""``habeas train-matcher [--sample N] [--seed S] [--out PATH]``: estimate the identity
matcher's Fellegi–Sunter weights from the registry (habeas.people.weights)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from django.core.management.base import CommandParser

from habeas.core.commands import HabeasCommand
from habeas.people import weights
from habeas.people.matching import Index, PersonRecord, comparison_vector


def registry_records(limit: int | None = None) -> list[PersonRecord]:
    """The registry's people as matcher records, in id order (read only)."""
    from habeas.people.models import Person

    rows = Person.objects.order_by("id").values_list(
        "id",
        "given_names",
        "first_surname",
        "second_surname",
        "aliases",
        "date_of_birth",
        "dob_precision",
        "sex",
        "nationalities",
    )
    if limit is not None:
        rows = rows[:limit]
    out = []
    for pid, given, s1, s2, aliases, dob, precision, sex, nats in rows.iterator(chunk_size=5000):
        if isinstance(dob, str):
            dob = dt.date.fromisoformat(dob)
        out.append(
            PersonRecord(
                ref=str(pid),
                given_names=given,
                first_surname=s1,
                second_surname=s2,
                aliases=tuple(aliases if not isinstance(aliases, str) else json.loads(aliases)),
                date_of_birth=dob,
                dob_precision=precision,
                sex=sex,
                nationalities=tuple(nats if not isinstance(nats, str) else json.loads(nats)),
            )
        )
    return out


def train_registry(
    people: list[PersonRecord], *, sample: int, seed: int, start: weights.Params
) -> weights.Params:
    """Parameters from the registry itself: term frequencies over everyone, ``u`` from
    random pairs of people, ``m`` by EM over the pairs a sample of people shares blocking
    keys with (itself left out). A registry with too few candidate pairs for the EM (fewer
    than :data:`MIN_EM_PAIRS`) keeps ``start``'s ``m``. The prior: ``start``'s share of a
    manifest already known, over the registry's size."""
    import random

    rng = random.Random(seed)
    chosen = people if len(people) <= sample else rng.sample(people, sample)
    index = Index(chosen)
    blocked = [(a, b) for a in chosen for b in index.candidates(a, wide=False) if b.ref != a.ref]
    p = weights.train(
        people,
        people,
        blocked if len(blocked) >= MIN_EM_PAIRS else [],
        lambda a, b: comparison_vector(a, b, start),
        start=start,
        seed=seed,
        trained_on=f"registry of {len(people)} people, EM over {len(blocked)} pairs",
        registry=True,
    )
    return p


#: Candidate pairs the EM needs; with fewer, ``m`` stays where it started.
MIN_EM_PAIRS = 200


class Command(HabeasCommand):
    help = "Estimate the identity matcher's weights from the registry (m by EM, u by sampling)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--sample", type=int, default=20_000)
        parser.add_argument("--seed", type=int, default=42)
        parser.add_argument("--out", default=None, help="default: HABEAS_HOME/matcher/params.json")

    def handle(self, *args: Any, **options: Any) -> None:
        people = registry_records()
        start = weights.load(weights.DEFAULT_PATH)
        params = train_registry(people, sample=options["sample"], seed=options["seed"], start=start)
        out = Path(options["out"]) if options["out"] else weights.registry_path()
        params.save(out)
        weights.reset()
        self.stdout.write(f"{params.trained_on}; prior weight {params.prior_weight:.2f}\n")
        for name in weights.FIELDS:
            levels = ", ".join(
                f"{label} {w:+.2f}"
                for label, w in zip(weights.LEVELS[name], params.weights[name], strict=True)
            )
            self.stdout.write(f"  {name}: {levels}\n")
        self.stdout.write(f"written to {out}\n")
