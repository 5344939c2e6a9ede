"""Identity matching: is this manifest person someone the registry already knows?

(ISSUE 3 "identity matching"; Mandela Rule 7(a): one unique identity per person, so nobody is
held twice under two names and nobody disappears under a misspelt one.)

Names are compared after **folding** (Unicode NFKD, combining marks removed, case folded,
punctuation to spaces) and with the Spanish and Portuguese **particles** (de, del, de la, y…)
dropped, so ``José de la Cruz`` and ``JOSE CRUZ`` agree. Surnames are compared as a bag of
tokens, so two surnames in either order, or one of them missing, still match; a given name
given as an initial matches any name with that initial. Dates of birth agree when they are
equal at the precision both sides know, and partly when day and month are swapped. Disjoint
nationalities and opposite sexes count against a match.

**Blocking** keeps a registry of millions fast: each person carries four short keys (a
Spanish-phonetic form of each surname with the year of birth, of the given name with the
surname initial and year, and of the first alias's surname with the year), stored in indexed
columns of :class:`~habeas.people.models.Person` and filled by ``person_create_many``. Only
people sharing a key are scored (rapidfuzz Jaro-Winkler).

Three bands: **same** (score ≥ :data:`SAME`), **possible** (≥ :data:`POSSIBLE`), **different**.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal

from rapidfuzz.distance import JaroWinkler

Band = Literal["same", "possible", "different"]

#: Score thresholds of the bands (tuned on the generated Spanish-name set, see benchmarks).
SAME = 0.90
POSSIBLE = 0.75

PARTICLES = frozenset({"de", "del", "la", "las", "los", "y", "e", "da", "das", "do", "dos", "di"})

#: Candidate rows scored per query at most (a pathological block is cut, never a timeout).
MAX_CANDIDATES = 5000

_NON_WORD = re.compile(r"[^0-9a-z]+")


@lru_cache(maxsize=200_000)
def fold(text: str) -> str:
    """Accents and case away, punctuation to single spaces: ``"Núñez-Peña"`` → ``"nunez pena"``."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    stripped = stripped.replace("ß", "ss").replace("ø", "o").replace("æ", "ae").replace("đ", "d")
    return _NON_WORD.sub(" ", stripped.casefold()).strip()


def tokens(text: str) -> list[str]:
    """Folded words without particles (``"de la Cruz"`` → ``["cruz"]``)."""
    return [t for t in fold(text).split() if t not in PARTICLES]


_PHONETIC_RULES = [
    (re.compile(r"ch"), "x"),
    (re.compile(r"ll"), "y"),
    (re.compile(r"qu"), "k"),
    (re.compile(r"g(?=[ei])"), "j"),
    (re.compile(r"c(?=[ei])"), "s"),
    (re.compile(r"c"), "k"),
    (re.compile(r"q"), "k"),
    (re.compile(r"z"), "s"),
    (re.compile(r"v"), "b"),
    (re.compile(r"w"), "u"),
    (re.compile(r"h"), ""),
    (re.compile(r"y$"), "i"),
    (re.compile(r"(.)\1+"), r"\1"),
]


@lru_cache(maxsize=100_000)
def phonetic(token: str) -> str:
    """A Spanish-leaning phonetic key: ``Vásquez``, ``Basques`` and ``vazquez`` share one."""
    value = token
    for pattern, repl in _PHONETIC_RULES:
        value = pattern.sub(repl, value)
    value = re.sub(r"s$", "", value) if len(value) > 4 else value
    return value[:10]


@dataclass(frozen=True)
class NameVariant:
    given: tuple[str, ...]
    surnames: tuple[str, ...]


@dataclass
class PersonRecord:
    """What the matcher compares: one person of the registry, a manifest or a linked list."""

    ref: str
    given_names: str
    first_surname: str
    second_surname: str = ""
    aliases: Sequence[str] = ()
    date_of_birth: dt.date | None = None
    dob_precision: str = "day"
    sex: str = ""
    nationalities: Sequence[str] = ()
    identifiers: Sequence[str] = ()  # "AUTHORITY:value"
    _variants: list[NameVariant] | None = field(default=None, repr=False, compare=False)

    @property
    def variants(self) -> list[NameVariant]:
        if self._variants is None:
            found = [
                NameVariant(
                    tuple(tokens(self.given_names)),
                    tuple(tokens(self.first_surname) + tokens(self.second_surname)),
                )
            ]
            for alias in self.aliases:
                words = tokens(alias)
                if len(words) >= 2:
                    # An alias is a full name: the first word given, the rest surnames (the
                    # bag-of-tokens comparison forgives a wrong split).
                    found.append(NameVariant((words[0],), tuple(words[1:])))
                elif words:
                    found.append(NameVariant((), tuple(words)))
            self._variants = found
        return self._variants


def _year(record: PersonRecord) -> str:
    return str(record.date_of_birth.year) if record.date_of_birth else ""


def person_keys(
    *,
    given_names: str,
    first_surname: str,
    second_surname: str,
    aliases: Sequence[str],
    date_of_birth: dt.date | None,
) -> tuple[str, str, str, str]:
    """The four stored blocking keys of a person (``match_key_s1``, ``_s2``, ``_g``, ``_a``)."""
    year = str(date_of_birth.year) if date_of_birth else ""
    s1 = tokens(first_surname)
    s2 = tokens(second_surname)
    if not s2 and len(s1) >= 2:  # both surnames written in the first field
        s1, s2 = s1[:1], s1[1:]
    g = tokens(given_names)
    k1 = f"{phonetic(s1[0])}|{year}" if s1 else ""
    k2 = f"{phonetic(s2[0])}|{year}" if s2 else ""
    kg = f"{phonetic(g[0])}|{phonetic(s1[0])[:1]}|{year}" if g and s1 else ""
    ka = ""
    for alias in aliases:
        words = tokens(alias)
        if len(words) >= 2:
            ka = f"{phonetic(words[1])}|{year}"
            break
    return k1[:64], k2[:64], kg[:64], ka[:64]


def query_keys(record: PersonRecord) -> tuple[set[str], set[str]]:
    """Keys to look up for ``record``: surname keys (matched against the surname and alias
    columns) and given-name keys (matched against the given-name column)."""
    year = _year(record)
    surname_keys: set[str] = set()
    given_keys: set[str] = set()
    for variant in record.variants:
        for s in variant.surnames:
            surname_keys.add(f"{phonetic(s)}|{year}")
        if variant.given:
            for s in variant.surnames:
                given_keys.add(f"{phonetic(variant.given[0])}|{phonetic(s)[:1]}|{year}")
    return surname_keys, given_keys


# --- scoring ------------------------------------------------------------------------------


def _token_sim(a: str, b: str) -> float:
    if len(a) == 1 or len(b) == 1:  # an initial
        return 0.92 if a[0] == b[0] else 0.0
    if a == b:
        return 1.0
    return float(JaroWinkler.normalized_similarity(a, b))


def _bag_score(a: Sequence[str], b: Sequence[str]) -> float | None:
    """Each word of the shorter list against its best partner in the longer one: two
    surnames in either order agree, and one missing costs a little, not everything."""
    if not a or not b:
        return None
    short, long_ = (a, b) if len(a) <= len(b) else (b, a)
    total = sum(max(_token_sim(s, t) for t in long_) for s in short)
    score = total / len(short)
    if len(short) != len(long_):
        score *= 0.96
    return score


def dob_score(a: PersonRecord, b: PersonRecord) -> float | None:
    """1 for the same date at the precision both know; day/month swaps and one-digit slips
    count partly; ``None`` when either is unknown."""
    da, db = a.date_of_birth, b.date_of_birth
    if da is None or db is None:
        return None
    precision = {"day": 2, "month": 1, "year": 0}
    level = min(precision.get(a.dob_precision, 2), precision.get(b.dob_precision, 2))
    if level == 0:
        if da.year == db.year:
            return 0.9
        return 0.45 if abs(da.year - db.year) == 1 else 0.0
    if level == 1:
        if (da.year, da.month) == (db.year, db.month):
            return 0.95
        if da.year == db.year:
            return 0.55
        return 0.3 if da.month == db.month and abs(da.year - db.year) == 1 else 0.0
    if da == db:
        return 1.0
    if da.year == db.year and (da.day, da.month) == (db.month, db.day):
        return 0.88  # day and month swapped (US vs. Latin American order)
    if da.year == db.year and da.month == db.month:
        return 0.6
    if da.month == db.month and da.day == db.day and abs(da.year - db.year) == 1:
        return 0.6
    if da.year == db.year:
        return 0.35
    return 0.0


@dataclass(frozen=True)
class Match:
    ref: str
    score: float
    band: Band
    reasons: tuple[str, ...] = ()


def band_for(score: float) -> Band:
    if score >= SAME:
        return "same"
    if score >= POSSIBLE:
        return "possible"
    return "different"


def score(a: PersonRecord, b: PersonRecord) -> Match:
    """How likely ``a`` and ``b`` are one person, in [0, 1], with the reasons."""
    best_name = 0.0
    for va in a.variants:
        for vb in b.variants:
            s = _bag_score(va.surnames, vb.surnames)
            g = _bag_score(va.given, vb.given)
            if s is None:
                continue
            name = (0.55 * s + 0.45 * g) if g is not None else 0.9 * s
            best_name = max(best_name, name)
    d = dob_score(a, b)
    total = 0.68 * best_name + 0.32 * (d if d is not None else 0.55)
    reasons = [f"name {best_name:.2f}", f"date of birth {'unknown' if d is None else f'{d:.2f}'}"]
    na = {c.upper() for c in a.nationalities}
    nb = {c.upper() for c in b.nationalities}
    if na and nb:
        if na & nb:
            total += 0.02
        else:
            total -= 0.12
            reasons.append("nationalities differ")
    if a.sex in {"M", "F"} and b.sex in {"M", "F"} and a.sex != b.sex:
        total -= 0.15
        reasons.append("sex differs")
    if a.identifiers and set(a.identifiers) & set(b.identifiers):
        total += 0.2
        reasons.append("same identifier")
    total = max(0.0, min(1.0, total))
    return Match(ref=b.ref, score=round(total, 4), band=band_for(total), reasons=tuple(reasons))


# --- an in-memory index (``habeas link``, and the registry matcher's candidate scoring) -----


class Index:
    """Blocking index over a list of records."""

    def __init__(self, records: Iterable[PersonRecord]) -> None:
        self.records: dict[str, PersonRecord] = {}
        self.surname: dict[str, list[str]] = defaultdict(list)
        self.given: dict[str, list[str]] = defaultdict(list)
        for record in records:
            self.add(record)

    def add(self, record: PersonRecord) -> None:
        self.records[record.ref] = record
        k1, k2, kg, ka = person_keys(
            given_names=record.given_names,
            first_surname=record.first_surname,
            second_surname=record.second_surname,
            aliases=record.aliases,
            date_of_birth=record.date_of_birth,
        )
        for k in {k1, k2, ka} - {""}:
            self.surname[k].append(record.ref)
        if kg:
            self.given[kg].append(record.ref)

    def candidates(self, record: PersonRecord) -> list[PersonRecord]:
        skeys, gkeys = query_keys(record)
        refs: dict[str, None] = {}
        for k in skeys:
            refs.update(dict.fromkeys(self.surname.get(k, ())))
        for k in gkeys:
            refs.update(dict.fromkeys(self.given.get(k, ())))
        return [self.records[r] for r in list(refs)[:MAX_CANDIDATES]]

    def best(self, record: PersonRecord, *, exclude_self: bool = False) -> list[Match]:
        """Matches above *different*, best first."""
        found = []
        for cand in self.candidates(record):
            if exclude_self and cand.ref == record.ref:
                continue
            m = score(record, cand)
            if m.band != "different":
                found.append(m)
        found.sort(key=lambda m: (-m.score, m.ref))
        return found


def link(
    left: Sequence[PersonRecord], right: Sequence[PersonRecord], *, threshold: float = SAME
) -> list[tuple[str, str, float]]:
    """Pairs ``(left_ref, right_ref, score)`` judged the same person (``habeas link``)."""
    index = Index(right)
    pairs = []
    for record in left:
        for m in index.best(record):
            if m.score >= threshold:
                pairs.append((record.ref, m.ref, m.score))
    return pairs


# --- the registry --------------------------------------------------------------------------

_REGISTRY_FIELDS = (
    "pk",
    "given_names",
    "first_surname",
    "second_surname",
    "aliases",
    "date_of_birth",
    "dob_precision",
    "sex",
    "nationalities",
)


def _registry_record(row: tuple[Any, ...], identifiers: Sequence[str]) -> PersonRecord:
    pk, given, s1, s2, aliases, dob, precision, sex, nats = row
    return PersonRecord(
        ref=str(pk),
        given_names=given,
        first_surname=s1,
        second_surname=s2,
        aliases=list(aliases or ()),
        date_of_birth=dob,
        dob_precision=precision,
        sex=sex,
        nationalities=list(nats or ()),
        identifiers=identifiers,
    )


def _chunks(items: Sequence[str], size: int = 900) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def registry_match_many(records: Sequence[PersonRecord]) -> list[list[Match]]:
    """Match each record against the whole registry (unscoped: matching must see everyone,
    or a person could be admitted twice under two names). Candidates come from the indexed
    blocking keys in a few ``IN`` queries per 900 keys, plus exact identifier hits; each
    result lists the matches above *different*, best first (``ref`` is the person id)."""
    from habeas.people.models import Person, PersonIdentifier

    wanted_s: dict[str, list[int]] = defaultdict(list)
    wanted_g: dict[str, list[int]] = defaultdict(list)
    wanted_i: dict[str, list[int]] = defaultdict(list)
    for i, record in enumerate(records):
        skeys, gkeys = query_keys(record)
        for k in skeys:
            wanted_s[k].append(i)
        for k in gkeys:
            wanted_g[k].append(i)
        for ident in record.identifiers:
            wanted_i[ident.partition(":")[2]].append(i)

    per_record: list[set[int]] = [set() for _ in records]
    rows: dict[int, tuple[Any, ...]] = {}
    skeys_all = list(wanted_s)
    for column in ("match_key_s1", "match_key_s2", "match_key_a"):
        for chunk in _chunks(skeys_all):
            qs = Person.objects.filter(**{f"{column}__in": chunk}).values_list(
                column, *_REGISTRY_FIELDS
            )
            for key, *row in qs:
                rows[row[0]] = tuple(row)
                for i in wanted_s[key]:
                    per_record[i].add(row[0])
    for chunk in _chunks(list(wanted_g)):
        qs = Person.objects.filter(match_key_g__in=chunk).values_list(
            "match_key_g", *_REGISTRY_FIELDS
        )
        for key, *row in qs:
            rows[row[0]] = tuple(row)
            for i in wanted_g[key]:
                per_record[i].add(row[0])
    idents: dict[int, list[str]] = defaultdict(list)
    for chunk in _chunks(list(wanted_i)):
        for pid, authority, value in PersonIdentifier.objects.filter(value__in=chunk).values_list(
            "person_id", "authority", "value"
        ):
            for i in wanted_i[value]:
                if f"{authority}:{value}" in records[i].identifiers:
                    per_record[i].add(pid)
    missing = {pid for s in per_record for pid in s} - set(rows)
    for chunk in _chunks(sorted(missing)):  # type: ignore[arg-type]
        for row in Person.objects.filter(pk__in=chunk).values_list(*_REGISTRY_FIELDS):
            rows[row[0]] = tuple(row)
    candidates = {pid for s in per_record for pid in s}
    for chunk in _chunks(sorted(candidates)):  # type: ignore[arg-type]
        for pid, authority, value in PersonIdentifier.objects.filter(
            person_id__in=chunk
        ).values_list("person_id", "authority", "value"):
            idents[pid].append(f"{authority}:{value}")

    results: list[list[Match]] = []
    for record, pids in zip(records, per_record, strict=True):
        found = []
        for pid in list(pids)[:MAX_CANDIDATES]:
            m = score(record, _registry_record(rows[pid], idents.get(pid, ())))
            if m.band != "different":
                found.append(m)
        found.sort(key=lambda m: (-m.score, int(m.ref)))
        results.append(found)
    return results


def registry_match(record: PersonRecord) -> list[Match]:
    """Match one record against the registry (see :func:`registry_match_many`)."""
    return registry_match_many([record])[0]
