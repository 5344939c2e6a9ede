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

Three bands: **same** (score ≥ :data:`SAME`), **possible** (≥ :data:`POSSIBLE`), **different**.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal, NamedTuple

from rapidfuzz.distance import DamerauLevenshtein, JaroWinkler

from habeas.core.limits import MAX_ALIASES, MAX_NAME_WORDS
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
            # An alias is a full name: the first word given, the rest surnames (the
            # bag-of-tokens comparison forgives a wrong split).
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


@lru_cache(maxsize=1 << 18)
def _bag_score(a: tuple[str, ...], b: tuple[str, ...]) -> float | None:
    """Each word of the shorter list against its best partner in the longer one: two
    surnames in either order agree, and one missing costs a little, not everything.
    (Cached: names repeat, across a manifest and across the registry.)"""
    if not a or not b:
        return None
    short, long_ = (a, b) if len(a) <= len(b) else (b, a)
    total = 0.0  # the sum of each word's best similarity, added in order
    for s in short:
        best = max([_token_sim(s, t) for t in long_])
        total += best
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


def _name_score(a: PersonRecord, b: PersonRecord) -> float:
    """The best name score over both records' names (the name and each alias), and over the
    name with given names and surnames exchanged, times :data:`SWAPPED`. In [0, 1]."""
    best_name = 0.0
    for va in a.variants:
        for vb in b.variants:
            s = _bag_score(va.surnames, vb.surnames)
            if s is None:
                continue
            g = _bag_score(va.given, vb.given)
            name = (0.55 * s + 0.45 * g) if g is not None else 0.9 * s
            if name > best_name:
                best_name = name
    (ag, asur), (bg, bsur) = a.variants[0], b.variants[0]
    if ag and asur and bg and bsur and asur[0][0] == bg[0][0] and ag[0][0] == bsur[0][0]:
        best_name = max(best_name, _swapped_name(ag, asur, bg, bsur))
    return best_name


def _swapped_name(
    a_given: tuple[str, ...],
    a_surnames: tuple[str, ...],
    b_given: tuple[str, ...],
    b_surnames: tuple[str, ...],
) -> float:
    """The name score of given names and surnames written in each other's fields (both
    lists non-empty; called only when the initials agree crosswise): the straight score of
    the exchanged name times :data:`SWAPPED`."""
    s = _bag_score(a_surnames, b_given) or 0.0
    g = _bag_score(a_given, b_surnames) or 0.0
    return SWAPPED * (0.55 * s + 0.45 * g)


def _total(a: PersonRecord, b: PersonRecord) -> tuple[float, float, float | None]:
    """``(score, name score, date score)`` (the arithmetic of :func:`score`)."""
    best_name = _name_score(a, b)
    d = dob_score(a, b)
    total = 0.68 * best_name + 0.32 * (d if d is not None else 0.55)
    if a.nationalities and b.nationalities:
        na = {c.upper() for c in a.nationalities}
        if na & {c.upper() for c in b.nationalities}:
            total += 0.02
        else:
            total -= 0.12
    if a.sex in {"M", "F"} and b.sex in {"M", "F"} and a.sex != b.sex:
        total -= 0.15
    if a.identifiers and b.identifiers and set(a.identifiers) & set(b.identifiers):
        total += 0.2
    return max(0.0, min(1.0, total)), best_name, d


def score(a: PersonRecord, b: PersonRecord) -> Match:
    """How likely ``a`` and ``b`` are one person, in [0, 1], with the reasons."""
    total, best_name, d = _total(a, b)
    return _match(a, b, total, best_name, d)


def _match(
    a: PersonRecord, b: PersonRecord, total: float, best_name: float, d: float | None
) -> Match:
    reasons = [f"name {best_name:.2f}", f"date of birth {'unknown' if d is None else f'{d:.2f}'}"]
    na = {c.upper() for c in a.nationalities}
    nb = {c.upper() for c in b.nationalities}
    if na and nb and not na & nb:
        reasons.append("nationalities differ")
    if a.sex in {"M", "F"} and b.sex in {"M", "F"} and a.sex != b.sex:
        reasons.append("sex differs")
    if a.identifiers and set(a.identifiers) & set(b.identifiers):
        reasons.append("same identifier")
    return Match(ref=b.ref, score=round(total, 4), band=band_for(total), reasons=tuple(reasons))


def _scored(a: PersonRecord, b: PersonRecord) -> Match | None:
    """The match of ``b`` for ``a`` when above *different* (reasons built only then)."""
    total, best_name, d = _total(a, b)
    if total < POSSIBLE:
        return None
    return _match(a, b, total, best_name, d)


_SEXES = frozenset({"M", "F"})


@lru_cache(maxsize=1024)
def _upper_set(codes: tuple[str, ...]) -> frozenset[str]:
    return frozenset(c.upper() for c in codes)


def _adjusted(total: float, nationality: int, sex_differs: bool, same_id: bool) -> float:
    """The adjustments of :func:`_total`, in its order (``nationality``: 1 shared, -1
    disjoint, 0 unknown), clamped to [0, 1]."""
    if nationality > 0:
        total += 0.02
    elif nationality < 0:
        total -= 0.12
    if sex_differs:
        total -= 0.15
    if same_id:
        total += 0.2
    return max(0.0, min(1.0, total))


def _scored_all(a: PersonRecord, candidates: Iterable[PersonRecord]) -> list[Match]:
    """:func:`_scored` of ``a`` against each candidate, the record's side worked out once:
    the same arithmetic as :func:`_total`, in the same order (so the same scores). The date,
    nationalities, sex and identifiers come first: a candidate that stays below *possible*
    even with a perfect name (the same operations with a name score of 1, never exceeded:
    the exchanged name counts :data:`SWAPPED` < 1 of a straight score of at most 1) is
    passed over without comparing names."""
    na = {c.upper() for c in a.nationalities} if a.nationalities else None
    a_sex = a.sex if a.sex in _SEXES else None
    a_ids = set(a.identifiers) if a.identifiers else None
    out = []
    av = a.variants
    single = len(av) == 1
    a_given, a_surnames = av[0]
    # The initials _name_score checks crosswise before trying the exchanged name.
    cross = (a_surnames[0][0], a_given[0][0]) if a_given and a_surnames else None
    bag = _bag_score
    for b in candidates:
        d = dob_score(a, b)
        dated = 0.32 * (d if d is not None else 0.55)
        nationality = 0
        if na is not None and b.nationalities:
            nats = b.nationalities
            nb = _upper_set(nats) if type(nats) is tuple else {c.upper() for c in nats}
            nationality = -1 if na.isdisjoint(nb) else 1
        sex_differs = a_sex is not None and b.sex in _SEXES and a_sex != b.sex
        same_id = a_ids is not None and bool(b.identifiers) and not a_ids.isdisjoint(b.identifiers)
        if _adjusted(0.68 * 1.0 + dated, nationality, sex_differs, same_id) < POSSIBLE:
            continue
        bv = b.variants
        if single and len(bv) == 1:  # _name_score of one name against one name
            best_name = 0.0
            b_given, b_surnames = bv[0]
            sb = bag(a_surnames, b_surnames)
            if sb is not None:
                g = bag(a_given, b_given)
                name = (0.55 * sb + 0.45 * g) if g is not None else 0.9 * sb
                if name > best_name:
                    best_name = name
            if (
                cross is not None
                and b_given
                and b_surnames
                and cross[0] == b_given[0][0]
                and cross[1] == b_surnames[0][0]
            ):
                best_name = max(best_name, _swapped_name(a_given, a_surnames, b_given, b_surnames))
        else:
            best_name = _name_score(a, b)
        total = _adjusted(0.68 * best_name + dated, nationality, sex_differs, same_id)
        if total >= POSSIBLE:
            out.append(_match(a, b, total, best_name, d))
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

    def candidates(self, record: PersonRecord) -> list[PersonRecord]:
        hits: dict[str, int] = defaultdict(int)
        for column, wanted in query_keys(record).items():
            table = self.keys.get(column)
            if not table:
                continue
            for k in wanted:
                for ref in table.get(k, ()):
                    hits[ref] += 1
        return [self.records[r] for r in _ranked(hits)]

    def best(self, record: PersonRecord, *, exclude_self: bool = False) -> list[Match]:
        """Matches above *different*, best first."""
        found = []
        for cand in self.candidates(record):
            if exclude_self and cand.ref == record.ref:
                continue
            m = _scored(record, cand)
            if m is not None:
                found.append(m)
        found.sort(key=lambda m: (-m.score, m.ref))
        return found


def _ranked(hits: dict[Any, int]) -> list[Any]:
    """Candidates in first-found order; a pathological block is cut to the
    :data:`MAX_CANDIDATES` sharing most keys (never a timeout)."""
    if len(hits) <= MAX_CANDIDATES:
        return list(hits)
    return sorted(hits, key=lambda r: -hits[r])[:MAX_CANDIDATES]


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

    results: list[list[Match]] = []
    for record, pids in zip(records, chosen, strict=True):
        matches = _scored_all(record, [people[pid] for pid in pids])
        matches.sort(key=lambda m: (-m.score, int(m.ref)))
        results.append(matches)
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
