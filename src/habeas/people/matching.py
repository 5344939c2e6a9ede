"""Identity matching: is this manifest person someone the registry already knows?

(ISSUE 3 "identity matching"; Mandela Rule 7(a): one unique identity per person, so nobody is
held twice under two names and nobody disappears under a misspelt one.)

Names are compared after **folding** (Unicode NFKD, combining marks removed, case folded,
punctuation to spaces) and with the Spanish and Portuguese **particles** (de, del, de la, y…)
dropped, so ``José de la Cruz`` and ``JOSE CRUZ`` agree. Surnames are compared as a bag of
tokens, so two surnames in either order, or one of them missing, still match; a given name
given as an initial matches any name with that initial; given names and surnames written in
each other's fields count a little less than in their own (:data:`SWAPPED`). Dates of birth
agree when they are equal at the precision both sides know, and partly when day and month
are swapped (also when the swapped date was then kept to the month) or one keystroke apart
(:data:`ONE_EDIT`). Disjoint nationalities and opposite sexes count against a match.

**Blocking** keeps a registry of millions fast: each person carries four short keys (a
Spanish-phonetic form of each surname with the year of birth, of the given name with the
surname initial and year, and of the first alias's surname with the year), stored in indexed
columns of :class:`~habeas.people.models.Person` and filled by ``person_create_many``. Only
people sharing a key are scored (rapidfuzz Jaro-Winkler).

**Scoring** is Fellegi–Sunter (:mod:`habeas.people.weights`): each field — given names,
surnames, date of birth, nationality, sex, a shared identity document — is put at a discrete
level of agreement (the comparisons above), each level weighs ``log2(m / u)`` as estimated
from the registry (``habeas train-matcher``; shipped defaults until then), exact names with
their own frequency; the score is the probability ``2^W / (1 + 2^W)`` of the summed weight
with the prior, and :attr:`Match.contributions` lists every field's weight. A full date of
birth that disagrees, opposite sexes, or surnames with nothing in common beside a date that
agrees only partly keep a pair below *same*: a person looks at it. Surnames are paired one to
one (``Rivera Rivera`` is not ``Rodríguez Rivera``).

Three bands: **same** (score ≥ :data:`SAME`), **possible** (≥ :data:`POSSIBLE`), **different**.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import permutations
from typing import Any, Literal, NamedTuple

from rapidfuzz.distance import DamerauLevenshtein, JaroWinkler

from habeas.core.limits import MAX_ALIASES, MAX_NAME_WORDS
from habeas.people import weights
from habeas.people.names import romanize

Band = Literal["same", "possible", "different"]

#: Score thresholds of the bands (tuned on the generated Spanish-name set, see benchmarks).
SAME = 0.90
POSSIBLE = 0.75

PARTICLES = frozenset({"de", "del", "la", "las", "los", "y", "e", "da", "das", "do", "dos", "di"})

#: The name score of given names and surnames written in each other's fields
#: (``"Bradley" "Matthews"`` / ``"Matthews" "Bradley"``) is this share of the straight one
#: (below 1, so a name score never exceeds 1: :func:`_scored_all` relies on it).
SWAPPED = 0.96

#: The date-of-birth score of two full dates one keystroke apart (``1964-04-09`` /
#: ``1946-04-09``), as much as the same year and month: low enough that an exact name with
#: it is only *possible* (even with the nationality bonus), so a person looks at it — two
#: people of one name born days apart exist in a registry of millions.
ONE_EDIT = 0.6

#: Candidate rows scored per query at most (a pathological block is cut, never a timeout).
MAX_CANDIDATES = 5000

_NON_WORD = re.compile(r"[^0-9a-z]+")


@lru_cache(maxsize=200_000)
def fold(text: str) -> str:
    """Accents and case away, punctuation to single spaces: ``"Núñez-Peña"`` → ``"nunez pena"``;
    other scripts transliterated first (``habeas.people.names.romanize``: ``"Пётр"`` →
    ``"petr"``, ``"Łukasz"`` → ``"lukasz"``)."""
    if text.isascii():  # nothing to decompose or transliterate
        return _NON_WORD.sub(" ", text.lower()).strip()
    text = romanize(text)
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    stripped = stripped.replace("ß", "ss").replace("ø", "o").replace("æ", "ae").replace("đ", "d")
    return _NON_WORD.sub(" ", stripped.casefold()).strip()


def tokens(text: str) -> list[str]:
    """Folded words without particles (``"de la Cruz"`` → ``["cruz"]``)."""
    return list(_tokens(text))


@lru_cache(maxsize=200_000)
def _tokens(text: str) -> tuple[str, ...]:
    """At most :data:`~habeas.core.limits.MAX_NAME_WORDS` words: the comparisons below pair
    words, so an unbounded name would cost the square of its length (a 10,000-word name ran
    past the worker's timeout); with the cap, matching is linear in the text's length."""
    words = fold(text).split()
    return tuple(t for t in words if t not in PARTICLES)[:MAX_NAME_WORDS]


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


class NameVariant(NamedTuple):
    """One name of a person (the name, or an alias): given-name and surname tokens."""

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
        """The person's names as token bags: the name, then each alias (read only: records
        with the same names share one list)."""
        if self._variants is None:
            aliases = self.aliases
            if type(aliases) is not tuple:
                aliases = tuple(aliases)
            if len(aliases) > MAX_ALIASES:
                aliases = aliases[:MAX_ALIASES]
            self._variants = _variants_of(
                self.given_names, self.first_surname, self.second_surname, aliases
            )
        return self._variants

    @property
    def swapped(self) -> NameVariant | None:
        """The written name with given names and surnames exchanged (a list that puts the
        surname first), or ``None`` when either is missing."""
        main = self.variants[0]
        if not main.given or not main.surnames:
            return None
        return NameVariant(main.surnames, main.given)


@lru_cache(maxsize=1 << 17)
def _variants_of(
    given_names: str, first_surname: str, second_surname: str, aliases: tuple[str, ...]
) -> list[NameVariant]:
    found = [NameVariant(_tokens(given_names), _tokens(first_surname) + _tokens(second_surname))]
    for alias in aliases:
        words = _tokens(alias)
        if len(words) >= 2:
            # An alias is a full name: the first word given, the rest surnames (scoring also
            # reads it with two given words: :func:`_readings`).
            found.append(NameVariant((words[0],), words[1:]))
        elif words:
            found.append(NameVariant((), words))
    return found


def _year(record: PersonRecord) -> str:
    return str(record.date_of_birth.year) if record.date_of_birth else ""


def _surname_pair(first_surname: str, second_surname: str) -> tuple[list[str], list[str]]:
    s1 = tokens(first_surname)
    s2 = tokens(second_surname)
    if not s2 and len(s1) >= 2:  # both surnames written in the first field
        s1, s2 = s1[:1], s1[1:]
    return s1, s2


_INITIAL = {"v": "b", "z": "s", "w": "u", "q": "k", "c": "k", "y": "i"}
#: The given-name initial of a key when no given name is known; a record without a given
#: name looks up every initial.
NO_GIVEN = "-"
_ANY_GIVEN = frozenset(
    {NO_GIVEN} | {_INITIAL.get(c, c) for c in "abcdefghijklmnopqrstuvwxyz0123456789"}
)


def initial(token: str) -> str:
    """A word's first letter, Spanish-phonetic (``V``/``B``, ``Z``/``S``, ``C``/``K``...).
    The raw letter, not :func:`phonetic`'s, so a typo in the second letter (``Hrnández``)
    keeps it."""
    return _INITIAL.get(token[0], token[0]) if token else ""


def date_key(value: dt.date | None, precision: str) -> str:
    """A date of birth at the precision it is known: ``19900507``, ``199005`` or ``1990``."""
    if value is None:
        return ""
    if precision == "year":
        return f"{value.year:04d}"
    if precision == "month":
        return f"{value.year:04d}{value.month:02d}"
    return f"{value.year:04d}{value.month:02d}{value.day:02d}"


#: The narrow blocking columns of :class:`~habeas.people.models.Person` (:func:`search_keys`).
SEARCH_COLUMNS = (
    "match_key_gd",
    "match_key_d1",
    "match_key_d2",
    "match_key_p",
    "match_key_y1",
    "match_key_y2",
    "match_key_a",
)


def search_keys(
    *,
    given_names: str,
    first_surname: str,
    second_surname: str,
    aliases: Sequence[str],
    date_of_birth: dt.date | None,
    dob_precision: str,
) -> dict[str, str]:
    """The narrow blocking keys of a registry person (columns :data:`SEARCH_COLUMNS`):

    * ``match_key_d1`` / ``_d2``: given-name initial, first / second surname initial and the
      date of birth at the precision it is known (``j|h|19900507``): a few people per key
      even in a registry of millions, and tolerant of any change to the names but their
      first letters;
    * ``match_key_p``: given-name initial, both surnames (phonetic, in either order) and the
      year (``j|ernandes|ramires|1990``): the same person with a partial or wrong date;
    * ``match_key_y1`` / ``_y2``: first given name and one surname (phonetic) with the year,
      for a record with one surname or a partial date of birth.
    """
    year = str(date_of_birth.year) if date_of_birth else ""
    when = date_key(date_of_birth, dob_precision)
    s1, s2 = _surname_pair(first_surname, second_surname)
    g = first_word(given_names)
    gi = initial(g[0]) if g else NO_GIVEN
    big_g = phonetic(g[0]) if g else ""
    p1 = phonetic(s1[0]) if s1 else ""
    p2 = phonetic(s2[0]) if s2 else ""
    keys = {
        "match_key_gd": f"{big_g}|{when}" if g else "",
        "match_key_d1": f"{gi}|{initial(s1[0])}|{when}" if s1 else "",
        "match_key_d2": f"{gi}|{initial(s2[0])}|{when}" if s2 else "",
        "match_key_p": "",
        "match_key_y1": f"{big_g}|{p1}|{year}" if g and s1 else "",
        "match_key_y2": f"{big_g}|{p2}|{year}" if g and s2 else "",
    }
    if s1:
        names = "|".join(sorted((p1, p2))) if s2 else p1
        keys["match_key_p"] = f"{gi}|{names}|{year}"
    keys["match_key_a"] = ""
    for alias in aliases:
        words = fold(alias).split()
        surnames = [w for w in words[1:] if w not in PARTICLES]
        if surnames:
            keys["match_key_a"] = f"{initial(words[0])}|{initial(surnames[-1])}|{when}"
            break
    return {k: v[:64] for k, v in keys.items()}


def first_word(text: str) -> list[str]:
    """The first written word of a name, folded (``["y"]`` for ``"Y."``: an initial is not
    the particle *y*), or nothing."""
    words = fold(text).split(maxsplit=1)
    return words[:1]


def all_keys(
    *,
    given_names: str,
    first_surname: str,
    second_surname: str,
    aliases: Sequence[str],
    date_of_birth: dt.date | None,
    dob_precision: str,
) -> dict[str, str]:
    """Every stored key column of a person (what ``person_create_many`` fills)."""
    return search_keys(
        given_names=given_names,
        first_surname=first_surname,
        second_surname=second_surname,
        aliases=aliases,
        date_of_birth=date_of_birth,
        dob_precision=dob_precision,
    )


def _swapped(value: dt.date) -> dt.date | None:
    if value.day > 12 or value.day == value.month:
        return None
    try:
        return dt.date(value.year, value.day, value.month)
    except ValueError:
        return None


def query_keys(record: PersonRecord) -> dict[str, set[str]]:
    """What to look up for ``record``, by column: the keys a registry person who may be the
    same would have stored (:func:`search_keys`, and ``match_key_a`` for aliases), for every
    name of the record (aliases too), both surname orders, the day/month swap of the date,
    and the coarser precisions a registry person's date may be known at."""
    gkeys, dkeys, pkeys, ykeys = _key_sets(record)
    return {
        "match_key_gd": gkeys,
        "match_key_d1": dkeys,
        "match_key_d2": dkeys,
        "match_key_a": dkeys,
        "match_key_p": pkeys,
        "match_key_y1": ykeys,
        "match_key_y2": ykeys,
    }


def _cut(keys: set[str]) -> set[str]:
    """Keys as stored (64 characters at most)."""
    if keys and max(map(len, keys)) > 64:
        return {k[:64] for k in keys}
    return keys


def _key_sets(record: PersonRecord) -> tuple[set[str], set[str], set[str], set[str]]:
    """The keys of :func:`query_keys` as four sets: given name and date (``match_key_gd``),
    initials and date (``_d1``, ``_d2`` and ``_a`` alike), initial and surnames with the year
    (``_p``), given name and one surname with the year (``_y1``, ``_y2`` alike)."""
    d = record.date_of_birth
    year = _year(record)
    if d is None:
        whens = [""]
    elif record.dob_precision == "year":
        whens = [year]
    elif record.dob_precision == "month":
        whens = [date_key(d, "month"), year]
    else:
        iso = d.isoformat()  # date_key(d, "day") and (d, "month"), without formatting twice
        month = iso[:4] + iso[5:7]
        whens = [month + iso[8:], month, year]
        other = _swapped(d)
        if other is not None:
            iso = other.isoformat()
            month = iso[:4] + iso[5:7]
            whens += [month + iso[8:], month]
    coarse = d is None or record.dob_precision != "day"
    gkeys: set[str] = set()
    dkeys: set[str] = set()
    pkeys: set[str] = set()
    ykeys: set[str] = set()
    tail = f"|{year}"
    for variant, given in zip(record.variants, _given_words(record), strict=True):
        phon = [phonetic(s) for s in variant.surnames]
        big_g = ""
        gis: Iterable[str]
        if given:
            gis = (initial(given), NO_GIVEN)
            big_g = phonetic(given)
            gkeys.update([f"{big_g}|{when}" for when in whens])
        else:
            gis = _ANY_GIVEN
        if not phon:
            continue
        sis = {initial(s) for s in variant.surnames}
        parts = []
        for i, a in enumerate(phon):
            parts.append(a)
            # "|".join(sorted((a, b))): the pair in either order gives one key
            parts += [f"{a}|{b}" if a <= b else f"{b}|{a}" for b in phon[i + 1 :]]
        for gi in gis:
            for si in sis:
                head = f"{gi}|{si}|"
                dkeys.update([head + when for when in whens])
            pkeys.update([f"{gi}|{part}{tail}" for part in parts])
        if given and (coarse or len(phon) < 2):
            ykeys.update([f"{big_g}|{p}{tail}" for p in phon])
    swapped = record.swapped
    if swapped is not None and d is not None:
        # Given names and surnames exchanged: initials and the date as written only.
        dkeys.add(f"{initial(swapped.given[0])}|{initial(swapped.surnames[0])}|{whens[0]}")
    return _cut(gkeys), _cut(dkeys), _cut(pkeys), _cut(ykeys)


def _given_words(record: PersonRecord) -> list[str]:
    """The first written given word of each of ``record.variants`` ("" when none)."""
    out = [(first_word(record.given_names) or [""])[0]]
    for alias in record.aliases[:MAX_ALIASES]:
        words = tokens(alias)
        if words:
            out.append(fold(alias).split()[0] if len(words) >= 2 else "")
    return out


# --- scoring ------------------------------------------------------------------------------


@lru_cache(maxsize=1 << 18)
def _token_sim(a: str, b: str) -> float:
    """Two words' similarity (cached: a manifest and a registry share a small vocabulary)."""
    if len(a) == 1 or len(b) == 1:  # an initial
        return 0.92 if a[0] == b[0] else 0.0
    if a == b:
        return 1.0
    return float(JaroWinkler.normalized_similarity(a, b))


#: Lists of at most this many words pair each word with a distinct partner (:func:`_bag_score`);
#: longer ones (rare: four surnames or more) with its best partner, in linear time.
_ASSIGN_WORDS = 4


@lru_cache(maxsize=1 << 18)
def _bag_score(a: tuple[str, ...], b: tuple[str, ...]) -> float | None:
    """Each word of the shorter list against its best partner in the longer one: two
    surnames in either order agree, and one missing costs a little, not everything.
    (Cached: names repeat, across a manifest and across the registry.)"""
    if not a or not b:
        return None
    short, long_ = (a, b) if len(a) <= len(b) else (b, a)
    if len(short) == 1:
        total = max([_token_sim(short[0], t) for t in long_])
    elif len(long_) <= _ASSIGN_WORDS:
        # One partner each (``Rivera Rivera`` is not ``Rodríguez Rivera``): the best
        # assignment of the short list's words to distinct words of the long one.
        total = max(
            math.fsum(_token_sim(s, t) for s, t in zip(short, chosen, strict=False))
            for chosen in permutations(long_, len(short))
        )
    else:
        total = 0.0  # the sum of each word's best similarity, added in order
        for s in short:
            total += max([_token_sim(s, t) for t in long_])
    score = total / len(short)
    if len(short) != len(long_):
        score *= 0.96
    return score


_PRECISION = {"day": 2, "month": 1, "year": 0}


def _one_edit(da: dt.date, db: dt.date) -> bool:
    """``YYYYMMDD`` of the two dates one keystroke apart (a digit changed, or two
    neighbouring digits exchanged)."""
    a = str(da.year * 10000 + da.month * 100 + da.day)
    b = str(db.year * 10000 + db.month * 100 + db.day)
    return DamerauLevenshtein.distance(a, b, score_cutoff=1) <= 1


def _month_swapped(da: dt.date, pa: int, db: dt.date, pb: int) -> bool:
    """One date known to the day, the other to the month (``pa``/``pb``: levels of
    ``_PRECISION``), and that month is the day of the first (``1984-03-07`` written
    ``07/03/1984`` and kept as ``1984-07``)."""
    if pa == 2 and pb == 1:
        return da.day == db.month
    if pa == 1 and pb == 2:
        return db.day == da.month
    return False


def dob_score(a: PersonRecord, b: PersonRecord) -> float | None:
    """1 for the same date at the precision both know; day/month swaps (also when the
    swapped date was then kept to the month) and one-keystroke slips count partly; ``None``
    when either is unknown."""
    da, db = a.date_of_birth, b.date_of_birth
    if da is None or db is None:
        return None
    precision = _PRECISION
    pa = precision.get(a.dob_precision, 2)
    pb = precision.get(b.dob_precision, 2)
    level = min(pa, pb)
    if level == 0:
        if da.year == db.year:
            return 0.9
        return 0.45 if abs(da.year - db.year) == 1 else 0.0
    if level == 1:
        if (da.year, da.month) == (db.year, db.month):
            return 0.95
        if da.year == db.year:
            if _month_swapped(da, pa, db, pb):
                return 0.84  # the month known to one is the day of the other's full date
            return 0.55
        return 0.3 if da.month == db.month and abs(da.year - db.year) == 1 else 0.0
    if da == db:
        return 1.0
    if da.year == db.year and (da.day, da.month) == (db.month, db.day):
        return 0.88  # day and month swapped (US vs. Latin American order)
    # A one-keystroke slip scores ONE_EDIT, which is what the next two cases score anyway
    # (0.6, one edit or not): they come first, so only the other dates pay for the edit
    # distance. Raise ONE_EDIT above 0.6 and the slip must be tested before them.
    if da.year == db.year and da.month == db.month:
        return 0.6
    if da.month == db.month and da.day == db.day:
        if abs(da.year - db.year) == 1:
            return 0.6
        if _one_edit(da, db):
            return ONE_EDIT  # a year digit mistyped or two exchanged (1964 / 1946)
        return 0.0
    if da.year == db.year:
        return ONE_EDIT if _one_edit(da, db) else 0.35  # 1990-05-07 / 1990-08-07
    return 0.0


@dataclass(frozen=True)
class Match:
    """One candidate judged: ``score`` is the probability that the two records are one
    person (Fellegi–Sunter, :mod:`habeas.people.weights`); ``weight`` its log2-odds, the sum
    of ``contributions``: ``(field, level, weight)`` for the prior and each compared field,
    what staff read to see why."""

    ref: str
    score: float
    band: Band
    reasons: tuple[str, ...] = ()
    weight: float = 0.0
    contributions: tuple[tuple[str, str, float], ...] = ()


def band_for(score: float) -> Band:
    if score >= SAME:
        return "same"
    if score >= POSSIBLE:
        return "possible"
    return "different"


def _is_initials(words: tuple[str, ...]) -> bool:
    return all(len(w) == 1 for w in words)


def given_level(a: tuple[str, ...], b: tuple[str, ...]) -> tuple[int, tuple[str, ...]]:
    """The given-name level (:data:`habeas.people.weights.LEVELS`) and the words a
    term-frequency adjustment counts."""
    if not a or not b:
        return -1, ()
    if a == b:
        return (0, a) if not _is_initials(a) else (4, ())
    if a[0] == b[0] and len(a[0]) > 1:
        return 1, a[:1]
    if _is_initials(a) or _is_initials(b):
        return (4 if a[0][0] == b[0][0] else 5), ()
    s = _bag_score(a, b) or 0.0
    if s >= 0.92:
        return 2, ()
    if s >= 0.88:
        return 3, ()
    return 5, ()


def surname_level(a: tuple[str, ...], b: tuple[str, ...]) -> tuple[int, tuple[str, ...]]:
    """The surnames level and the words a term-frequency adjustment counts."""
    if not a or not b:
        return -1, ()
    if a == b:
        return 0, a
    if len(a) == len(b) and sorted(a) == sorted(b):
        return 1, a  # the frequency of the name as ``a`` writes it
    short, long_ = (a, b) if len(a) <= len(b) else (b, a)
    if len(short) < len(long_) and set(short) <= set(long_) and len(set(short)) == len(short):
        return 2, short
    s = _bag_score(a, b) or 0.0
    if s >= 0.92:
        return 3, ()
    if s >= 0.88:
        return 4, ()
    if not set(a).isdisjoint(b):
        return 5, ()
    return 6, ()


def dob_level(a: PersonRecord, b: PersonRecord) -> int:
    """The date-of-birth level (-1 when either is unknown): agreement at the precision both
    know, day/month swaps (also kept to the month), one-keystroke slips, partial agreement."""
    da, db = a.date_of_birth, b.date_of_birth
    if da is None or db is None:
        return -1
    pa = _PRECISION.get(a.dob_precision, 2)
    pb = _PRECISION.get(b.dob_precision, 2)
    level = min(pa, pb)
    if level == 0:
        if da.year == db.year:
            return 8
        return 9 if abs(da.year - db.year) == 1 else 11
    if level == 1:
        if (da.year, da.month) == (db.year, db.month):
            return 6
        if da.year == db.year:
            if _month_swapped(da, pa, db, pb):
                return 7
            # Both know the month and it differs: they disagree at the precision both know.
            return 11
        return 9 if da.month == db.month and abs(da.year - db.year) == 1 else 11
    if da == db:
        return 0
    if da.year == db.year and (da.day, da.month) == (db.month, db.day):
        return 1
    if _one_edit(da, db):
        return 2
    if da.year == db.year and da.month == db.month:
        return 3
    if da.month == db.month and da.day == db.day and abs(da.year - db.year) == 1:
        return 4
    if da.year == db.year:
        return 5
    return 10


_SEXES = frozenset({"M", "F"})
#: Full dates of birth that disagree (one keystroke apart, same month, next year, same
#: year, or different altogether): the pair is at most *possible*, whatever the names — two
#: people of one name born days apart exist in a registry of millions, so a person looks at
#: it. Opposite sexes cap the pair the same way, and so do surnames with nothing in common
#: (every pairing of the records' names, aliases included, has surnames *different* and
#: less alike than :data:`SURNAMES_FAR`) beside a date that is not the same full date (known
#: only to the month or year, or day and month swapped): a given name and a date that agrees
#: only partly do not make one person. (With the same full date they may: a surname changed
#: by marriage, FEBRL's replaced surnames.)
_DISAGREEING_DATES = frozenset({2, 3, 4, 5, 10})
_SURNAMES_DIFFERENT = 6
SURNAMES_FAR = 0.8
CAP_DISAGREEING_DATES = True
_BELOW_SAME = 0.8999


@lru_cache(maxsize=1024)
def _upper_set(codes: tuple[str, ...]) -> frozenset[str]:
    return frozenset(c.upper() for c in codes)


def _nat_set(codes: Sequence[str]) -> frozenset[str]:
    return _upper_set(codes if type(codes) is tuple else tuple(codes))


def _name_pairs(
    a: PersonRecord, b: PersonRecord
) -> Iterable[tuple[NameVariant, NameVariant, bool]]:
    """Every pairing of the two records' names (the name and aliases), and the written name
    with given names and surnames exchanged (``True``)."""
    for va in _readings(a):
        for vb in _readings(b):
            yield va, vb, False
    sa = a.swapped
    if sa is not None and b.variants[0].given and b.variants[0].surnames:
        vb = b.variants[0]
        if sa.given[0][0] == vb.given[0][0] and sa.surnames[0][0] == vb.surnames[0][0]:
            yield sa, vb, True


def _readings(record: PersonRecord) -> list[NameVariant]:
    """The record's names to compare: its variants, and each alias of three words or more
    read also with two given names (``Juan Carlos Vásquez``)."""
    variants = record.variants
    if len(variants) == 1:
        return variants
    out = list(variants)
    for v in variants[1:]:
        if len(v.given) == 1 and len(v.surnames) >= 2:
            out.append(NameVariant(v.given + v.surnames[:1], v.surnames[1:]))
    return out


_Fields = tuple[int, int, int, int, int, bool, bool, bool, tuple[str, ...], tuple[str, ...], bool]


def _fields(a: PersonRecord, b: PersonRecord, params: weights.Params) -> _Fields:
    """``(given, surnames, dob, nationality, sex, exchanged, alias, same identifier, given
    tf words, surname tf words)`` of the pair: the name levels of the pairing of names with
    the highest weight."""
    w = params.weights
    best = None
    near = 0.0  # the surnames' best similarity over the pairings (when all are *different*)
    for va, vb, exchanged in _name_pairs(a, b):
        gl, gw = given_level(va.given, vb.given)
        sl, sw = surname_level(va.surnames, vb.surnames)
        if sl < 0:
            continue
        if sl == _SURNAMES_DIFFERENT and near < SURNAMES_FAR:
            near = max(near, _bag_score(va.surnames, vb.surnames) or 0.0)
        total = (
            (params.tf_weight("given", gl, gw) if gw else (w["given"][gl] if gl >= 0 else 0.0))
            + (params.tf_weight("surnames", sl, sw) if sw else w["surnames"][sl])
            + (weights.EXCHANGED_WEIGHT if exchanged else 0.0)
        )
        alias = not exchanged and (va != a.variants[0] or vb != b.variants[0])
        if best is None or total > best[0]:
            best = (total, gl, sl, exchanged, alias, gw, sw)
    if best is None:
        gl, gw = given_level(a.variants[0].given, b.variants[0].given)
        best = (0.0, gl, -1, False, False, gw, ())
    _, gl, sl, exchanged, alias, gw, sw = best
    far = sl == _SURNAMES_DIFFERENT and near < SURNAMES_FAR
    nat = -1
    if a.nationalities and b.nationalities:
        nat = 1 if _nat_set(a.nationalities).isdisjoint(_nat_set(b.nationalities)) else 0
    sex = -1
    if a.sex in _SEXES and b.sex in _SEXES:
        sex = 0 if a.sex == b.sex else 1
    same_id = (
        bool(a.identifiers)
        and bool(b.identifiers)
        and not set(a.identifiers).isdisjoint(b.identifiers)
    )
    return gl, sl, dob_level(a, b), nat, sex, exchanged, alias, same_id, gw, sw, far


def comparison_vector(
    a: PersonRecord, b: PersonRecord, params: weights.Params | None = None
) -> tuple[int, ...]:
    """The levels of the pair, one per field of :data:`habeas.people.weights.FIELDS` (what
    training counts)."""
    f = _fields(a, b, params or weights.current())
    return f[:5]


def _values(
    fields: _Fields, params: weights.Params
) -> list[tuple[str, int, tuple[str, ...] | None, float]]:
    """``(field, level, tf words or None, weight)`` of each compared field of a pair, in the
    order :attr:`Match.contributions` lists them (after the prior)."""
    gl, sl, dl, nat, sex, exchanged, _alias, same_id, gw, sw, _far = fields
    w = params.weights
    values: list[tuple[str, int, tuple[str, ...] | None, float]] = []
    for name, lv, words in (("given", gl, gw), ("surnames", sl, sw)):
        if lv >= 0:
            value = params.tf_weight(name, lv, words) if words else w[name][lv]
            values.append((name, lv, words, value))
    if exchanged:
        values.append(("name order", -1, None, weights.EXCHANGED_WEIGHT))
    for name, lv in (("date_of_birth", dl), ("nationality", nat), ("sex", sex)):
        if lv >= 0:
            values.append((name, lv, None, w[name][lv]))
    if same_id:
        values.append(("identifier", -1, None, weights.IDENTIFIER_WEIGHT))
    return values


def _probability(fields: _Fields, total: float) -> float:
    """The pair's score before rounding: the probability of ``total``, capped below *same*
    for a disagreeing date, opposite sexes or far surnames (:data:`_DISAGREEING_DATES`)."""
    _gl, _sl, dl, _nat, sex, _exchanged, _alias, same_id, _gw, _sw, far = fields
    probability = 1.0 / (1.0 + 2.0 ** (-total)) if total > -1000 else 0.0
    if (
        CAP_DISAGREEING_DATES
        and (dl in _DISAGREEING_DATES or sex == 1 or (far and dl != 0))
        and not same_id
    ):
        probability = min(probability, _BELOW_SAME)
    return probability


def _judged(
    a: PersonRecord, b: PersonRecord, params: weights.Params, floor: float | None = None
) -> Match | None:
    """The match of ``b`` for ``a``; with ``floor``, ``None`` when its score is below it
    (known before the contributions' labels and reasons are written: most candidates)."""
    fields = _fields(a, b, params)
    values = _values(fields, params)
    total = math.fsum([params.prior_weight, *(v[3] for v in values)])
    rounded = round(_probability(fields, total), 4)
    if floor is not None and rounded < floor:
        return None
    nat, sex, alias, same_id = fields[3], fields[4], fields[6], fields[7]
    reasons, contributions = _explained(nat, sex, alias, same_id, values, params)
    return Match(
        ref=b.ref,
        score=rounded,
        band=band_for(rounded),
        reasons=reasons,
        weight=round(total, 6),
        contributions=contributions,
    )


_Explained = tuple[tuple[str, ...], tuple[tuple[str, str, float], ...]]


def _explained(
    nat: int,
    sex: int,
    alias: bool,
    same_id: bool,
    values: Sequence[tuple[str, int, tuple[str, ...] | None, float]],
    params: weights.Params,
) -> _Explained:
    """The reasons and the contributions (prior first) of a match whose fields weigh
    ``values`` (:func:`_values`)."""
    labels = weights.LEVELS
    suffix = " (an alias)" if alias else ""
    contributions: list[tuple[str, str, float]] = [
        (
            "prior",
            f"1 in {max(params.size, 1) / max(params.match_share, 1e-12):,.0f}",
            params.prior_weight,
        )
    ]
    for name, lv, words, value in values:
        if name == "name order":
            label = "given names and surnames exchanged"
        elif name == "identifier":
            label = "same document"
        elif words is not None:
            label = labels[name][lv] + suffix
        else:
            label = labels[name][lv]
        contributions.append((name, label, value))
    reasons = [f"{field} {label} {value:+.1f}" for field, label, value in contributions[1:]]
    if nat == 1:
        reasons.append("nationalities differ")
    if sex == 1:
        reasons.append("sex differs")
    if same_id:
        reasons.append("same identifier")
    return tuple(reasons), tuple((f, label, round(v, 6)) for f, label, v in contributions)


def score(a: PersonRecord, b: PersonRecord, params: weights.Params | None = None) -> Match:
    """How likely ``a`` and ``b`` are one person, in [0, 1], with each field's weight."""
    m = _judged(a, b, params or weights.current())
    assert m is not None  # no floor: always a match
    return m


def _scored(a: PersonRecord, b: PersonRecord, params: weights.Params | None = None) -> Match | None:
    """The match of ``b`` for ``a`` when above *different*."""
    return _judged(a, b, params or weights.current(), POSSIBLE)


def _scored_all(
    a: PersonRecord, candidates: Iterable[PersonRecord], params: weights.Params | None = None
) -> list[Match]:
    """:func:`_scored` of ``a`` against each candidate."""
    p = params or weights.current()
    out = []
    for b in candidates:
        m = _judged(a, b, p, POSSIBLE)
        if m is not None:
            out.append(m)
    return out


# --- an in-memory index (``habeas link``): the same keys as the registry ---------------


class Index:
    """Blocking index over a list of records, on the keys the registry stores."""

    def __init__(self, records: Iterable[PersonRecord]) -> None:
        self.records: dict[str, PersonRecord] = {}
        self.keys: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
        for record in records:
            self.add(record)

    def add(self, record: PersonRecord) -> None:
        self.records[record.ref] = record
        stored = all_keys(
            given_names=record.given_names,
            first_surname=record.first_surname,
            second_surname=record.second_surname,
            aliases=record.aliases,
            date_of_birth=record.date_of_birth,
            dob_precision=record.dob_precision,
        )
        for column in SEARCH_COLUMNS:
            if stored[column]:
                self.keys[column][stored[column]].append(record.ref)
        for column, keys in _list_keys(record).items():
            for k in keys:
                self.keys[column][k].append(record.ref)

    def candidates(
        self, record: PersonRecord, *, wide: bool = True, columns: frozenset[str] | None = None
    ) -> list[PersonRecord]:
        """The records sharing a key with ``record``: the registry's keys, and with ``wide``
        the two lists' wider ones (:func:`_list_keys`); only ``columns`` when given."""
        hits: dict[str, int] = defaultdict(int)
        wanted_by = query_keys(record)
        if wide:
            wanted_by.update(_list_keys(record))
        for column, wanted in wanted_by.items():
            if columns is not None and column not in columns:
                continue
            table = self.keys.get(column)
            if not table:
                continue
            for k in wanted:
                for ref in table.get(k, ()):
                    hits[ref] += 1
        return [self.records[r] for r in _ranked(hits)]

    def best(
        self,
        record: PersonRecord,
        *,
        exclude_self: bool = False,
        params: weights.Params | None = None,
    ) -> list[Match]:
        """Matches above *different*, best first."""
        found = []
        p = params or weights.current()
        for cand in self.candidates(record):
            if exclude_self and cand.ref == record.ref:
                continue
            m = _scored(record, cand, p)
            if m is not None:
                found.append(m)
        found.sort(key=lambda m: (-m.score, m.ref))
        return found


def _list_keys(record: PersonRecord) -> dict[str, set[str]]:
    """Two wider keys of two lists linked in memory (``habeas link``), beside the registry's:
    the given name and a surname without the year (a date mistyped beyond a keystroke), and
    the full date alone (both names misspelt). Too wide for a registry of millions, where a
    common name shares them with thousands; cheap between two lists."""
    main = record.variants[0]
    names: set[str] = set()
    if main.given:
        g = phonetic(main.given[0])
        names = {f"{g}|{phonetic(s)}" for s in main.surnames}
        if main.surnames:  # written in each other's fields
            names.add(f"{phonetic(main.surnames[0])}|{g}")
    when = (
        {record.date_of_birth.isoformat()}
        if record.date_of_birth is not None and record.dob_precision == "day"
        else set()
    )
    return {"list_names": names, "list_date": when}


def _ranked(hits: dict[Any, int]) -> list[Any]:
    """Candidates in first-found order; a pathological block is cut to the
    :data:`MAX_CANDIDATES` sharing most keys (never a timeout)."""
    if len(hits) <= MAX_CANDIDATES:
        return list(hits)
    return sorted(hits, key=lambda r: -hits[r])[:MAX_CANDIDATES]


def train_on_lists(
    left: Sequence[PersonRecord],
    right: Sequence[PersonRecord],
    *,
    index: Index | None = None,
    start: weights.Params | None = None,
    seed: int = 42,
    sessions: bool = True,
) -> weights.Params:
    """Fellegi–Sunter parameters estimated from two lists (``habeas link``): ``u`` from random
    pairs, ``m`` by EM over the blocked pairs, term frequencies of the right-hand list, the
    prior from the EM's expected number of matches (:func:`habeas.people.weights.train`).
    ``sessions``: the EM in two sessions (:func:`em_sessions`); otherwise one, over the pairs
    the registry's keys block (what the shipped defaults use: it keeps a full date that
    differs strongly against a match, where the generated lists leave the sessions'
    estimate of it weak)."""
    p = start or weights.current()
    index = index or Index(right)
    return weights.train(
        left,
        right,
        em_sessions(left, index)
        if sessions
        else [(a, b) for a in left for b in index.candidates(a, wide=False)],
        lambda a, b: comparison_vector(a, b, p),
        start=p,
        seed=seed,
        u_pairs=U_PAIRS,
        trained_on=f"two lists, {len(left)} x {len(right)}",
        share_pairs=[(a, b) for a in left for b in index.candidates(a, wide=False)],
    )


#: The key columns that hold the date of birth, and those that hold the names with the year
#: at most: the two EM sessions' blocking (:func:`em_sessions`).
DATE_KEYS = frozenset({"match_key_gd", "match_key_d1", "match_key_d2", "match_key_a"})
NAME_KEYS = frozenset({"match_key_p", "match_key_y1", "match_key_y2", "list_names"})


def em_sessions(
    left: Sequence[PersonRecord], index: Index, *, exclude_self: bool = False
) -> tuple[tuple[list[tuple[PersonRecord, PersonRecord]], frozenset[str], frozenset[str]], ...]:
    """Two EM sessions, as Splink trains: pairs sharing a date key estimate the names' ``m``
    (the date left out: it agrees by construction), pairs sharing a name key the date's,
    the nationality's and the sex's (the names left out)."""
    out = []
    none: frozenset[str] = frozenset()
    for columns, skip, freeze in (
        (DATE_KEYS, frozenset({"date_of_birth"}), none),
        (NAME_KEYS, frozenset({"given", "surnames"}), none),
    ):
        pairs = [
            (a, b)
            for a in left
            for b in index.candidates(a, columns=columns)
            if not (exclude_self and a.ref == b.ref)
        ]
        out.append((pairs, skip, freeze))
    return tuple(out)


#: Records each list needs for :func:`link` to estimate weights from them (fewer: the
#: registry's weights, since a handful of pairs estimates nothing).
MIN_TRAIN_RECORDS = 100
#: Random pairs sampled for ``u`` when training.
U_PAIRS = 100_000


def link(
    left: Sequence[PersonRecord],
    right: Sequence[PersonRecord],
    *,
    threshold: float = SAME,
    train: bool = True,
    params: weights.Params | None = None,
) -> list[tuple[str, str, float]]:
    """Pairs ``(left_ref, right_ref, score)`` judged the same person (``habeas link``). With
    ``train`` and lists of :data:`MIN_TRAIN_RECORDS` records or more, the weights are first
    estimated from the two lists (:func:`train_on_lists`), as the registry's are from the
    registry."""
    index = Index(right)
    p = params or weights.current()
    if train and min(len(left), len(right)) >= MIN_TRAIN_RECORDS:
        p = train_on_lists(left, right, index=index, start=p)
    pairs = []
    for record in left:
        for m in index.best(record, params=p):
            if m.score >= threshold:
                pairs.append((record.ref, m.ref, m.score))
    return pairs


# --- the registry --------------------------------------------------------------------------

_REGISTRY_FIELDS = (
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


def _json_seq(value: Any) -> Sequence[str]:
    """A stored JSON list (aliases, nationalities) as a tuple, shared between the records
    that store the same text (they are read only)."""
    if isinstance(value, str):
        return _json_text(value)
    return tuple(value) if value is not None else ()


@lru_cache(maxsize=4096)
def _json_text(value: str) -> tuple[str, ...]:
    """A stored JSON list (aliases, nationalities) decoded once per distinct text: most
    rows say ``[]`` or one of a few nationalities."""
    return tuple(json.loads(value))


def _in_list(connection: Any, values: Sequence[Any]) -> tuple[str, list[Any]]:
    """``(sql, params)`` of an ``IN`` right-hand side holding any number of values in one
    parameter: SQLite's ``json_each`` of a JSON array, PostgreSQL's ``ANY`` of an array."""
    if connection.vendor == "postgresql":
        return "= ANY(%s)", [list(values)]
    return "IN (SELECT value FROM json_each(%s))", [json.dumps(list(values))]


#: Columns searched for each of :func:`_key_sets`' four sets.
_SET_COLUMNS = (
    ("match_key_gd", 0),
    ("match_key_d1", 1),
    ("match_key_d2", 1),
    ("match_key_a", 1),
    ("match_key_p", 2),
    ("match_key_y1", 3),
    ("match_key_y2", 3),
)


def registry_match_many(records: Sequence[PersonRecord]) -> list[list[Match]]:
    """Match each record against the whole registry (unscoped: matching must see everyone,
    or a person could be admitted twice under two names). All the records' blocking keys
    (:func:`query_keys`) are looked up together, one query per key column holding every
    key (sorted, so the index is walked in order), plus exact identifier hits; the
    candidates' rows are read once and scored in memory. Each result lists the matches above
    *different*, best first (``ref`` is the person id). A record sharing keys with more than
    :data:`MAX_CANDIDATES` people keeps those sharing most, the lower id first among equals."""
    from django.db import connection

    from habeas.people.models import Person, PersonIdentifier

    quote = connection.ops.quote_name
    person_table = quote(Person._meta.db_table)
    ident_table = quote(PersonIdentifier._meta.db_table)
    key_sets = [_key_sets(record) for record in records]
    union: tuple[set[str], ...] = (set(), set(), set(), set())
    for g, d, p, y in key_sets:
        union[0].update(g)
        union[1].update(d)
        union[2].update(p)
        union[3].update(y)
    wanted_i: dict[str, list[int]] = {}
    for i, record in enumerate(records):
        for ident in record.identifiers:
            wanted_i.setdefault(ident.partition(":")[2], []).append(i)

    hits: list[dict[int, int]] = [{} for _ in records]
    idents: dict[int, list[str]] = defaultdict(list)
    with connection.cursor() as cursor:
        # Every key of the batch, one query per column; then each record's keys that were
        # found (a set intersection) give its candidates and how many keys each shares.
        found_by: list[tuple[int, dict[str, list[int]]]] = []
        lists: dict[int, tuple[str, list[Any]]] = {}
        for column, which in _SET_COLUMNS:
            if not union[which]:
                continue
            col = quote(column)
            if which not in lists:
                lists[which] = _in_list(connection, sorted(union[which]))
            rhs, params = lists[which]
            cursor.execute(
                f"SELECT {col}, id FROM {person_table} WHERE {col} {rhs}",  # noqa: S608
                params,
            )
            found: dict[str, list[int]] = {}
            for key, pid in cursor.fetchall():
                found.setdefault(key, []).append(pid)
            if found:
                found_by.append((which, found))
        for sets, h in zip(key_sets, hits, strict=True):
            for which, found in found_by:
                for key in found.keys() & sets[which]:
                    for pid in found[key]:
                        h[pid] = h.get(pid, 0) + 1
        if wanted_i:
            rhs, params = _in_list(connection, sorted(wanted_i))
            cursor.execute(
                f"SELECT person_id, authority, value FROM {ident_table} "  # noqa: S608
                f"WHERE value {rhs}",
                params,
            )
            for pid, authority, value in cursor.fetchall():
                ident = f"{authority}:{value}"
                # A candidate's identifiers count only where a record has the same one, and
                # every such identifier is among these rows: no need to read the others.
                idents[pid].append(ident)
                for i in wanted_i[value]:
                    if ident in records[i].identifiers:
                        h = hits[i]
                        h[pid] = h.get(pid, 0) + 2
        chosen = [_registry_ranked(h) for h in hits]
        candidates = sorted({pid for c in chosen for pid in c})
        people: dict[int, PersonRecord] = {}
        if candidates:
            fields = ", ".join(quote(f) for f in _REGISTRY_FIELDS)
            rhs, params = _in_list(connection, candidates)
            cursor.execute(
                f"SELECT {fields} FROM {person_table} WHERE id {rhs}",  # noqa: S608
                params,
            )
            for pid, given, s1, s2, aliases, dob, precision, sex, nats in cursor.fetchall():
                if isinstance(dob, str):
                    dob = dt.date.fromisoformat(dob)
                people[pid] = PersonRecord(
                    ref=str(pid),
                    given_names=given,
                    first_surname=s1,
                    second_surname=s2,
                    aliases=_json_seq(aliases),
                    date_of_birth=dob,
                    dob_precision=precision,
                    sex=sex,
                    nationalities=_json_seq(nats),
                )
    for pid, found_idents in idents.items():
        if pid in people:
            people[pid].identifiers = found_idents

    return _scored_batch(records, chosen, people)


#: Fewer candidate pairs than this are scored pair by pair (the same scores): building the
#: arrays has a fixed cost that one record's few candidates do not repay.
BATCH_PAIRS = 200


def _scored_batch(
    records: Sequence[PersonRecord], chosen: list[list[int]], people: dict[int, PersonRecord]
) -> list[list[Match]]:
    """Each record's candidates scored, all pairs of the batch at once
    (:func:`habeas.people.matching_bulk.score_pairs`: the same matches as :func:`_scored`
    gives pair by pair; pair by pair below :data:`BATCH_PAIRS`), best first."""
    from habeas.people.matching_bulk import matches_of, score_pairs

    model = weights.current()
    results: list[list[Match]]
    if sum(map(len, chosen)) < BATCH_PAIRS:  # one record's match: arrays cost more than pairs
        results = [
            _scored_all(r, [people[pid] for pid in pids], model)
            for r, pids in zip(records, chosen, strict=True)
        ]
        for matches in results:
            matches.sort(key=lambda m: (-m.score, int(m.ref)))
        return results
    order = sorted({pid for pids in chosen for pid in pids})
    position = {pid: k for k, pid in enumerate(order)}
    right = [people[pid] for pid in order]
    ia = [i for i, pids in enumerate(chosen) for _ in pids]
    ib = [position[pid] for pids in chosen for pid in pids]
    scores = score_pairs(records, right, ia, ib, model)
    results = [[] for _ in records]
    for k, found in matches_of(right, ib, scores, POSSIBLE, model).items():
        results[ia[k]].append(found)
    for matches in results:
        matches.sort(key=lambda m: (-m.score, int(m.ref)))
    return results


def _registry_ranked(hits: dict[int, int]) -> list[int]:
    """A registry record's candidates; a pathological block is cut to the
    :data:`MAX_CANDIDATES` people sharing most keys, the lower id first among equals (so the
    cut never depends on which other records were matched in the same batch)."""
    if len(hits) <= MAX_CANDIDATES:
        return list(hits)
    return sorted(hits, key=lambda pid: (-hits[pid], pid))[:MAX_CANDIDATES]


def registry_match(record: PersonRecord) -> list[Match]:
    """Match one record against the registry (see :func:`registry_match_many`)."""
    return registry_match_many([record])[0]


def clear_caches() -> None:
    """Forget the memoised folds, tokens, names and similarities: a benchmark measures a cold
    process with it (a long-running server keeps them warm)."""
    for cached in (
        fold,
        _tokens,
        phonetic,
        _variants_of,
        _token_sim,
        _bag_score,
        _upper_set,
        _json_text,
    ):
        cached.cache_clear()


def initial_params() -> weights.Params:
    """Where estimation starts: ``m`` falling and ``u`` rising with each level (no data)."""
    m: dict[str, list[float]] = {}
    u: dict[str, list[float]] = {}
    for name, levels in weights.LEVELS.items():
        n = len(levels)
        m[name] = [2.0 ** -(i + 1) for i in range(n)]
        u[name] = [2.0 ** -(n - i) for i in range(n)]
        m[name] = [x / sum(m[name]) for x in m[name]]
        u[name] = [x / sum(u[name]) for x in u[name]]
    m["date_of_birth"] = weights._normalise({"date_of_birth": m["date_of_birth"]}, 0)[
        "date_of_birth"
    ]
    u["date_of_birth"] = weights._normalise({"date_of_birth": u["date_of_birth"]}, 0)[
        "date_of_birth"
    ]
    m["sex"], u["sex"] = [0.98, 0.02], [0.5, 0.5]
    m["nationality"], u["nationality"] = [0.95, 0.05], [0.3, 0.7]
    return weights.Params(m=m, u=u, trained_on="initial")


#: The registry size the shipped prior assumes (until ``habeas train-matcher`` counts it).
SHIPPED_SIZE = 5_000


def shipped_params(seed: int = 2026, n: int = 5000) -> weights.Params:
    """The shipped defaults (``weights_default.json``): trained on generated Spanish-name
    lists (``habeas.people.synthetic``, ``seed``; not the benchmark's seed), then given the
    prior of a registry of :data:`SHIPPED_SIZE` people of whom a manifest brings back half,
    and no term frequencies (a registry's own come with ``habeas train-matcher``)."""
    import random

    from habeas.people.synthetic import linked_lists

    left, right, _ = linked_lists(random.Random(seed), n, duplicates=0.5, mess=2)
    p = initial_params()
    for _ in range(2):  # the second pass picks names' pairings with the first's weights
        p = train_on_lists(left, right, start=p, sessions=False)
    p.tf, p.tf_total = {}, {}
    p.match_share, p.size = 0.5, SHIPPED_SIZE
    p.trained_on = f"habeas.people.synthetic.linked_lists(seed={seed}, n={n})"
    return p
