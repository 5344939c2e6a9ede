"""Synthetic Spanish-name person lists with known truth, FEBRL-style: originals and
duplicates corrupted the way real records are (accents dropped, surnames swapped or one
missing, initials, typos, day/month swapped, partial dates). Used by the demo, the matching
tests and the benchmarks; never real people."""

from __future__ import annotations

import datetime as dt
import random
import unicodedata
from dataclasses import replace

from habeas.people.matching import PersonRecord

GIVEN = [
    "José",
    "Juan Carlos",
    "Luis",
    "Carlos",
    "Jorge",
    "Miguel Ángel",
    "José Luis",
    "Francisco",
    "Antonio",
    "Jesús",
    "Manuel",
    "Pedro",
    "Andrés",
    "Óscar",
    "Rafael",
    "Héctor",
    "Julio César",
    "Wilmer",
    "Yohandry",
    "Néstor",
    "Ramón",
    "Edwin",
    "Kevin",
    "Brayan",
    "Jefferson",
    "Ángel",
    "Darwin",
    "Eduardo",
    "Ricardo",
    "Mauricio",
    "Douglas",
    "Roberto",
    "Santiago",
    "Efraín",
    "Franklin",
    "Yeferson",
    "Daniel",
    "Edgar",
    "Gustavo",
    "Alexis",
    "Anderson",
    "Wuilmer",
    "Jhonny",
    "Deivis",
    "Yorman",
    "Henry",
    "Richard",
    "Frank",
    "Elvis",
    "Leonardo",
]
SURNAMES = [
    "Hernández",
    "García",
    "Martínez",
    "López",
    "Rodríguez",
    "González",
    "Pérez",
    "Sánchez",
    "Ramírez",
    "Flores",
    "Rivera",
    "Torres",
    "Díaz",
    "Cruz",
    "Morales",
    "Reyes",
    "Ortiz",
    "Gutiérrez",
    "Chávez",
    "Romero",
    "Mendoza",
    "Vásquez",
    "Castillo",
    "Aguilar",
    "Mejía",
    "Guzmán",
    "Peña",
    "Núñez",
    "de la Cruz",
    "del Valle",
    "Zambrano",
    "Colmenares",
    "Quintero",
    "Bermúdez",
    "Urdaneta",
    "Villalobos",
    "Briceño",
    "Salazar",
    "Carrasquel",
    "Montilla",
    "Pacheco",
    "Linares",
    "Escalona",
    "Rondón",
    "Marcano",
    "Figueroa",
    "Arráiz",
    "Betancourt",
    "Camacaro",
    "Duarte",
    "Echeverría",
    "Fuenmayor",
    "Gil",
    "Hurtado",
    "Istúriz",
    "Jaimes",
    "Lugo",
    "Maldonado",
    "Noguera",
    "Ochoa",
    "Parra",
    "Quiroz",
    "Rangel",
    "Sequera",
    "Tovar",
    "Useche",
    "Valera",
    "Yépez",
    "Zerpa",
    "Alvarado",
    "Blanco",
    "Contreras",
    "Delgado",
]
NATIONALITIES = ["VE", "SV", "GT", "HN", "MX", "CO", "NI", "EC"]


def strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def person(rng: random.Random, ref: str, *, nationalities: list[str] | None = None) -> PersonRecord:
    return PersonRecord(
        ref=ref,
        given_names=rng.choice(GIVEN),
        first_surname=rng.choice(SURNAMES),
        second_surname=rng.choice(SURNAMES),
        date_of_birth=dt.date(1960, 1, 1) + dt.timedelta(days=rng.randrange(0, 40 * 365)),
        sex="M",
        nationalities=nationalities or [rng.choice(NATIONALITIES)],
    )


def _typo(rng: random.Random, word: str) -> str:
    if len(word) < 4:
        return word
    i = rng.randrange(1, len(word) - 1)
    kind = rng.choice(["swap", "drop", "double", "replace"])
    if kind == "swap":
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if kind == "drop":
        return word[:i] + word[i + 1 :]
    if kind == "double":
        return word[:i] + word[i] + word[i:]
    return word[:i] + rng.choice("aeiounrslt") + word[i + 1 :]


def messy_copy(rng: random.Random, p: PersonRecord, ref: str, *, mess: int = 2) -> PersonRecord:
    """A duplicate of ``p`` as another agency might have written it: ``mess`` corruptions."""
    q = replace(p, ref=ref, _variants=None)
    ops = rng.sample(
        [
            "accents",
            "upper",
            "swap",
            "drop2",
            "initial",
            "typo",
            "dm_swap",
            "year_only",
            "month_only",
            "alias",
        ],
        k=mess,
    )
    for op in ops:
        if op == "accents":
            q = replace(
                q,
                given_names=strip_accents(q.given_names),
                first_surname=strip_accents(q.first_surname),
                second_surname=strip_accents(q.second_surname),
            )
        elif op == "upper":
            q = replace(
                q,
                given_names=q.given_names.upper(),
                first_surname=q.first_surname.upper(),
                second_surname=q.second_surname.upper(),
            )
        elif op == "swap" and q.second_surname:
            q = replace(q, first_surname=q.second_surname, second_surname=q.first_surname)
        elif op == "drop2":
            q = replace(q, second_surname="")
        elif op == "initial":
            words = q.given_names.split()
            q = replace(
                q,
                given_names=" ".join([words[0]] + [w[0] for w in words[1:]])
                if len(words) > 1
                else words[0][0],
            )
        elif op == "typo":
            q = replace(q, first_surname=_typo(rng, q.first_surname))
        elif op == "dm_swap" and q.date_of_birth and q.date_of_birth.day <= 12:
            d = q.date_of_birth
            q = replace(q, date_of_birth=dt.date(d.year, d.day, d.month))
        elif op == "year_only":
            q = replace(q, dob_precision="year")
        elif op == "month_only":
            q = replace(q, dob_precision="month")
        elif op == "alias":
            q = replace(
                q,
                aliases=[f"{q.given_names} {q.first_surname}"],
                first_surname=rng.choice(SURNAMES),
                second_surname="",
            )
    return replace(q, _variants=None)


def linked_lists(
    rng: random.Random, n: int, *, duplicates: float = 0.5, mess: int = 2
) -> tuple[list[PersonRecord], list[PersonRecord], set[tuple[str, str]]]:
    """Two lists, the second holding corrupted copies of a share of the first plus others;
    returns ``(left, right, true pairs)``."""
    left = [person(rng, f"L{i}") for i in range(n)]
    right: list[PersonRecord] = []
    truth: set[tuple[str, str]] = set()
    for i, p in enumerate(left):
        if rng.random() < duplicates:
            ref = f"R{i}"
            right.append(messy_copy(rng, p, ref, mess=mess))
            truth.add((p.ref, ref))
    right += [person(rng, f"X{i}") for i in range(n - len(right))]
    rng.shuffle(right)
    return left, right, truth


def precision_recall(
    found: set[tuple[str, str]], truth: set[tuple[str, str]]
) -> tuple[float, float, float]:
    tp = len(found & truth)
    precision = tp / len(found) if found else 1.0
    recall = tp / len(truth) if truth else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1
