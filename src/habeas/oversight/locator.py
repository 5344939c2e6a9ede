"""The public locator: where is this person held? (INTERFACES.md ``locate``; STANDARDS.md,
"Locators": the ICE Online Detainee Locator asks for an A-number + country, or names +
country, matches exactly and is criticised for answering "no results" for people who are in
custody.)

Habeas searches by sending reference + nationality, or by names + date or year of birth +
nationality, and is forgiving where ICE is not:

* accents, case, punctuation and script do not matter and the particles *de, del, de la,
  y…* are ignored: the identity matcher's normalisation (``habeas.people.matching.fold``:
  transliterated, NFKD, combining marks dropped, casefolded), with the common spellings of a
  transliteration brought together (``habeas.people.names``: *Pyotr* / *Petr* / *Пётр*,
  *Mohamed* / *Muhammad* / *محمد*);
* surname order is free (tokens are a bag);
* one typo (one insertion, deletion, substitution or transposition of adjacent letters, in a
  token of 4 letters or more) is tolerated;
* every searched token must be in the person's name, at least one given name and one surname.

What it returns is the ``locate --json`` document: name, year of birth, status, the
facility's name, address, phone and visiting information, since when and the release date —
**never** a cell, a legal document, anything of another person, or whether a person who does
not match exists (a person who was never held, or was released more than
:data:`RELEASED_SHOWN_DAYS` days ago, answers exactly like nobody at all).

Scale (issue 5: p95 ≤ 20 ms at 1,000,000 people; ``benchmarks/bench_locator.py``): a name
search is three short indexed queries whatever the size of the registry —

1. the typo key ``LocatorVariant``: the indexed words that share a *deletion variant* with a
   searched word (symmetric deletion: two words one typo apart always do), kept if within one
   typo (a handful of probes, not hundreds of guessed spellings);
2. the block ``LocatorToken`` — (token, nationality, year of birth) — for the searched words
   and those neighbours, grouped by person: only people holding as many of these words as
   were searched are candidates, and the same query returns their custody episodes with the
   facility's public data (only people held now or released lately can be shown);
3. the people rows of those few, checked word by word (:func:`name_matches`).

Its cost depends on how common the searched names are in one block, not on the size of the
registry. The matcher's own blocking keys (``Person.match_key_*``) are not used: they carry
no nationality, and they miss a search by a second given name or with a typo in a surname's
first letter, which the locator must tolerate. The index is a derived cache kept in step with
the ``people.*`` ledger events by a listener run in their own transaction
(``habeas.oversight.events``): a search never writes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from django.utils.translation import get_language
from rapidfuzz.distance import OSA

from habeas.core import net
from habeas.core.clock import now
from habeas.core.errors import ValidationFailed
from habeas.core.limits import MAX_NAME_CHARS, MAX_NAME_WORDS, unsafe_text
from habeas.people.names import (
    CONSONANTAL,
    SKELETON,
    cross_cost,
    name_spellings,
    skeleton,
)

#: People released within this many days are shown as released; earlier ones as not found.
RELEASED_SHOWN_DAYS = 90

#: A typo is tolerated only in tokens at least this long ("ana" ≠ "ina").
TYPO_MIN_LENGTH = 4

#: Candidates read from one block at most (a pathological query cannot read a whole block).
MAX_CANDIDATES = 5000

#: At most this many people are shown for one search.
MAX_MATCHES = 5

#: The derived index tables (``models.LocatorToken``, ``models.LocatorVariant``) and the
#: length of a stored token.
INDEX_TABLE = "oversight_locatortoken"
VARIANT_TABLE = "oversight_locatorvariant"
TOKEN_MAX_LENGTH = 64

MSG_NEED_NATIONALITY = "the nationality is required"
MSG_BAD_NATIONALITY = "the nationality must be a two-letter country code"
MSG_BAD_TEXT = "too long, or holds a NUL, a control character or a lone surrogate"
MSG_NEED_QUERY = "give either a reference, or names and a date or year of birth"
MSG_NEED_TWO_NAMES = "give at least one given name and one surname"
MSG_NEED_DOB = "the date or year of birth is required with names"
MSG_BAD_DOB = "the date of birth must be YYYY, YYYY-MM or YYYY-MM-DD"


# --- normalisation -------------------------------------------------------------------------


@dataclass(frozen=True)
class PersonTokens:
    """The keys of a person's given names and surnames, and the same words folded only
    (``typed``: where a typo is measured too), position by position."""

    given: tuple[str, ...]
    surnames: tuple[str, ...]
    given_typed: tuple[str, ...] = ()
    surnames_typed: tuple[str, ...] = ()

    @property
    def all(self) -> tuple[str, ...]:
        return self.given + self.surnames

    @property
    def all_typed(self) -> tuple[str, ...]:
        return self.given_typed + self.surnames_typed


def person_tokens(given_names: str, first_surname: str, second_surname: str = "") -> PersonTokens:
    """The search keys of a person's names (``habeas.people.names.name_keys``: folded,
    transliterated, spelling variants brought together), with the folded words."""
    given = name_spellings(given_names)
    surnames = name_spellings(first_surname) + name_spellings(second_surname)
    return PersonTokens(
        given=tuple(k for k, _t in given),
        surnames=tuple(k for k, _t in surnames),
        given_typed=tuple(t for _k, t in given),
        surnames_typed=tuple(t for _k, t in surnames),
    )


@lru_cache(maxsize=100_000)
def person_tokens_cached(
    given_names: str, first_surname: str, second_surname: str = ""
) -> PersonTokens:
    """:func:`person_tokens`, remembered: names repeat a great deal in a registry."""
    return person_tokens(given_names, first_surname, second_surname)


def _close(a: str, b: str) -> int | None:
    """0 if equal, 1 if one edit apart (both long enough, neither a consonantal-script word:
    those are compared by :func:`habeas.people.names.cross_cost`), else None."""
    if a == b:
        return 0
    if a.startswith(CONSONANTAL) or b.startswith(CONSONANTAL):
        return None
    if min(len(a), len(b)) < TYPO_MIN_LENGTH or abs(len(a) - len(b)) > 1:
        return None
    return 1 if OSA.distance(a, b, score_cutoff=1) <= 1 else None


def _pair_cost(q: str, t: str) -> tuple[int, float] | None:
    """``(typos, cost)`` of a searched word against a word of the name, or None."""
    if q == t:
        return 0, 0.0
    if q.startswith(CONSONANTAL) or t.startswith(CONSONANTAL):
        cost = cross_cost(q, t)
        return None if cost is None else (0, cost)
    d = _close(q, t)
    return None if d is None else (d, float(d))


def name_matches(
    query: Sequence[str], person: PersonTokens, typed: Sequence[str] = ()
) -> float | None:
    """The cost of the best reading of the query as the person's name, or None: every query
    token a distinct token of the name, covering at least one given name and one surname,
    with at most one typo in all. A typo costs 1; a word in Arabic (or Hebrew) script
    against a Latin one costs what :func:`habeas.people.names.cross_cost` says (0 for a
    close reading, more for a match on the consonants only). ``typed``: the query words as
    typed (folded), one per key: a typo is also measured on them."""
    candidates = [(t, "g") for t in person.given] + [(t, "s") for t in person.surnames]
    spelled = person.all_typed if len(person.all_typed) == len(candidates) else ()
    best: float | None = None

    def walk(i: int, used: frozenset[int], typos: int, cost: float, kinds: frozenset[str]) -> None:
        nonlocal best
        if best == 0 or (best is not None and cost >= best):
            return
        if i == len(query):
            if kinds == {"g", "s"}:
                best = cost
            return
        for j, (token, kind) in enumerate(candidates):
            if j in used:
                continue
            pair = _pair_cost(query[i], token)
            if pair is None and typed and spelled and _close(typed[i], spelled[j]) == 1:
                pair = (1, 1.0)  # one typo in the words as folded (before the variant rules)
            if pair is not None and typos + pair[0] <= 1:
                walk(i + 1, used | {j}, typos + pair[0], cost + pair[1], kinds | {kind})

    walk(0, frozenset(), 0, 0.0, frozenset())
    return best


# --- the query -----------------------------------------------------------------------------


@dataclass(frozen=True)
class BirthDate:
    """A searched date of birth with its precision (MANIFEST.md: YYYY, YYYY-MM or YYYY-MM-DD)."""

    year: int
    month: int | None = None
    day: int | None = None

    @classmethod
    def parse(cls, text: str) -> BirthDate:
        text = text.strip()
        m = re.fullmatch(r"(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?", text)
        if not m:
            raise ValidationFailed(MSG_BAD_DOB, details={"dob": text})
        year, month, day = (int(g) if g else None for g in m.groups())
        assert year is not None
        try:
            dt.date(year, month or 1, day or 1)
        except ValueError:
            raise ValidationFailed(MSG_BAD_DOB, details={"dob": text}) from None
        if not 1900 <= year <= now().year:
            raise ValidationFailed(MSG_BAD_DOB, details={"dob": text})
        return cls(year, month, day)

    def agrees_with(self, value: dt.date | None, precision: str) -> bool:
        """Only the year is compared, whatever the precision of either side: the answer
        shows the year of birth and nothing finer, so it must not depend on the month or
        day searched either (else 12 + 31 searches would tell the exact date)."""
        return value is not None and value.year == self.year


@dataclass(frozen=True)
class LocatorQuery:
    """A validated search. ``public`` searches need a nationality, and names need a date or
    year of birth (INTERFACES.md; the CLI on the server may omit them)."""

    names: tuple[str, ...] = ()
    typed: tuple[str, ...] = ()
    raw_names: str = ""
    ref: str = ""
    nationality: str | None = None
    dob: BirthDate | None = None

    @classmethod
    def build(
        cls,
        *,
        name: str = "",
        ref: str = "",
        dob: str = "",
        nationality: str = "",
        public: bool = True,
    ) -> LocatorQuery:
        name, ref, dob, nationality = (
            (name or "").strip(),
            (ref or "").strip(),
            (dob or "").strip(),
            (nationality or "").strip().upper(),
        )
        for field_name, value in (("name", name), ("ref", ref), ("dob", dob)):
            # bounded work, storable text (docs/interfaces.md, "Limits")
            if unsafe_text(value) or len(value) > 3 * MAX_NAME_CHARS:
                raise ValidationFailed(MSG_BAD_TEXT, details={field_name: MSG_BAD_TEXT})
        if len(name.split()) > 3 * MAX_NAME_WORDS:
            raise ValidationFailed(MSG_BAD_TEXT, details={"name": MSG_BAD_TEXT})
        if nationality and not re.fullmatch(r"[A-Z]{2}", nationality):
            raise ValidationFailed(MSG_BAD_NATIONALITY, details={"nationality": nationality})
        if public and not nationality:
            raise ValidationFailed(MSG_NEED_NATIONALITY, details={"nationality": "required"})
        birth = BirthDate.parse(dob) if dob else None
        if ref:
            return cls(ref=ref[:64], nationality=nationality or None, dob=birth)
        if not name:
            raise ValidationFailed(MSG_NEED_QUERY)
        first_spelling: dict[str, str] = {}
        for key, spelled in name_spellings(name, query=True):
            first_spelling.setdefault(key, spelled)
        pairs = list(first_spelling.items())[:8]
        names = tuple(key for key, _typed in pairs)
        if len(names) < 2:
            raise ValidationFailed(MSG_NEED_TWO_NAMES, details={"name": name})
        if public and birth is None:
            raise ValidationFailed(MSG_NEED_DOB, details={"dob": "required"})
        return cls(
            names=names,
            typed=tuple(t for _key, t in pairs),
            raw_names=name[:200],
            nationality=nationality or None,
            dob=birth,
        )


# --- the search ----------------------------------------------------------------------------


def _ref_variants(ref: str) -> list[str]:
    compact = re.sub(r"[\s\-./]", "", ref)
    return list(dict.fromkeys([ref, ref.upper(), compact, compact.upper()]))


@dataclass(frozen=True)
class Candidate:
    """The fields of a person the search compares (never shown as such)."""

    pk: int
    given_names: str
    first_surname: str
    second_surname: str
    date_of_birth: dt.date | None
    dob_precision: str
    nationalities: frozenset[str]

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.given_names, self.first_surname, self.second_surname) if p)


# Raw SQL from here on: a search is three short queries whose cost must not be the ORM's
# (compiling a queryset costs more than running these on an index).

_PERSON_COLUMNS = (
    "id, given_names, first_surname, second_surname, date_of_birth, dob_precision, nationalities"
)


def _in(column: str, values: Sequence[Any]) -> tuple[str, list[Any]]:
    """``column IN (…)`` for any number of values: one array parameter on PostgreSQL."""
    from django.db import connection

    if connection.vendor == "postgresql":
        return f"{column} = ANY(%s)", [list(values)]
    return f"{column} IN ({', '.join(['%s'] * len(values))})", list(values)


def _date(value: Any) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def _instant(value: Any) -> dt.datetime | None:
    if value is None:
        return None
    if not isinstance(value, dt.datetime):
        value = dt.datetime.fromisoformat(str(value))
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


@lru_cache(maxsize=4096)
def _nationality_set(value: str) -> frozenset[str]:
    return frozenset(str(c).upper() for c in json.loads(value) or [])


def _people(where: str, params: list[Any]) -> list[Candidate]:
    """The people rows selected by ``where``, in one query (the index only says where to
    look; what is compared and shown comes from the people table itself)."""
    from django.db import connection

    sql = f"SELECT {_PERSON_COLUMNS} FROM people_person WHERE {where}"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return [
        Candidate(
            int(pk),
            g,
            s1,
            s2 or "",
            _date(dob),
            precision,
            _nationality_set(nats if isinstance(nats, str) else json.dumps(nats)),
        )
        for pk, g, s1, s2, dob, precision, nats in rows
    ]


def _agrees(q: LocatorQuery, c: Candidate) -> bool:
    return (q.nationality is None or q.nationality in c.nationalities) and (
        q.dob is None or q.dob.agrees_with(c.date_of_birth, c.dob_precision)
    )


def _candidates_by_ref(q: LocatorQuery) -> list[Candidate]:
    refs, params = _in("value", _ref_variants(q.ref))
    where = f"id IN (SELECT person_id FROM people_personidentifier WHERE {refs})"  # noqa: S608
    return sorted((c for c in _people(where, params) if _agrees(q, c)), key=lambda c: c.pk)


def deletion_variants(token: str) -> frozenset[str]:
    """The token and the token less any one letter, for tokens long enough for a typo
    (``LocatorVariant``): two such words are at most one insertion, deletion, substitution or
    adjacent transposition apart only if their variants meet."""
    if len(token) < TYPO_MIN_LENGTH or token.startswith(CONSONANTAL):
        return frozenset()
    return frozenset([token, *(token[:i] + token[i + 1 :] for i in range(len(token)))])


def _typo_neighbours(names: Sequence[str], typed: Sequence[str] = ()) -> set[str]:
    """The indexed words one typo away from a searched name, and those that may be its
    transliteration from or to a consonantal script (same consonant skeleton, checked by
    :func:`habeas.people.names.cross_cost`): one query on the variants."""
    from django.db import connection

    long_names = [n for n in dict.fromkeys([*names, *typed]) if len(n) >= TYPO_MIN_LENGTH]
    variants: set[str] = set()
    for name in long_names:
        variants |= deletion_variants(name[:TOKEN_MAX_LENGTH])
    skeletons = {key: name for name in names if (key := skeleton(name))}
    variants |= set(skeletons)
    if not variants:
        return set()
    where, params = _in("variant", sorted(variants))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT variant, token FROM {VARIANT_TABLE} WHERE {where}", params)  # noqa: S608
        rows = [(str(v), str(t)) for v, t in cursor.fetchall()]
    found: set[str] = set()
    compared: set[str] = set()  # a word shares several variants with a searched one
    for variant, word in rows:
        if variant.startswith(SKELETON):
            searched = skeletons.get(variant)
            if searched is None or searched == word:
                continue
            if _pair_cost(searched, word) is not None:
                found.add(word)
        elif word not in compared:
            compared.add(word)
            if any(_close(n, word) == 1 for n in long_names):
                found.add(word)
    return found


def _by_name(q: LocatorQuery, at: dt.datetime) -> tuple[list[Candidate], dict[int, Episode]]:
    """The shown people matching a name search, with their episodes, in two indexed queries
    after the typo key (:func:`_typo_neighbours`):

    * the custody episodes, with the facility's public data, of the candidates: the people of
      the (nationality, year of birth) block with at least as many index rows among the
      searched words and their neighbours as words were searched (a true match has one per
      searched word, so none is missed). Only the people this leaves — held now or released
      within :data:`RELEASED_SHOWN_DAYS` days — can be shown, so only their rows are read:
    * the people rows of those, each checked by :func:`name_matches` and the date of birth.

    Among the people who match, those with no typo hide those with one."""
    keys = {n[:TOKEN_MAX_LENGTH] for n in q.names} | _typo_neighbours(q.names, q.typed)
    block, params = _in("token", sorted(keys))
    if q.nationality is not None:
        block += " AND nationality = %s"
        params.append(q.nationality)
    if q.dob is not None:
        block += " AND birth_year = %s"
        params.append(q.dob.year)
    # One row per word of the name (and nationality): a true match hits one row per searched
    # word, even when the name repeats a word and a typo makes two searched words hit it.
    # Without a nationality the rows of several nationalities add up: more candidates, none
    # missed.
    params += [len(q.names), MAX_CANDIDATES]
    who = (
        f"e.person_id IN (SELECT person_id FROM {INDEX_TABLE} WHERE {block} "  # noqa: S608
        "GROUP BY person_id HAVING COUNT(*) >= %s LIMIT %s)"
    )
    episodes = _shown_episodes(who, params, at)
    if not episodes:
        return [], {}
    found: list[tuple[float, Candidate]] = []
    for c in _people(*_in("id", sorted(episodes))):
        if not _agrees(q, c):
            continue
        typos = name_matches(
            q.names,
            person_tokens_cached(c.given_names, c.first_surname, c.second_surname),
            q.typed,
        )
        if typos is not None:
            found.append((typos, c))
    if not found:
        return [], {}
    fewest = min(t for t, _c in found)  # exact matches hide one-typo (and looser) neighbours
    return [c for t, c in sorted(found, key=lambda tc: tc[1].pk) if t == fewest], episodes


@dataclass(frozen=True)
class Episode:
    """A person's latest custody episode as the locator may show it: dates and the
    facility's public data, never a module or a cell."""

    admitted_at: dt.datetime
    released_at: dt.datetime | None
    facility: dict[str, str]
    timezone: str
    released_to: str = ""


def _shown_episodes(who: str, params: list[Any], at: dt.datetime) -> dict[int, Episode]:
    """The latest custody episode of each person selected by ``who`` (a condition on
    ``e.person_id``), if it is shown: open, or closed within :data:`RELEASED_SHOWN_DAYS` days.
    A person never held or long released is absent, exactly like nobody at all. One query."""
    from django.db import connection

    sql = (
        "SELECT e.person_id, e.admitted_at, e.released_at, f.name, f.address, f.phone, "  # noqa: S608
        "f.visiting, f.timezone, f.visiting_translations, e.release_destination "
        "FROM custody_custodyepisode e "
        f"JOIN facilities_facility f ON f.id = e.facility_id WHERE {who} "
        "ORDER BY e.person_id, e.admitted_at DESC, e.id DESC"
    )
    latest: dict[int, tuple[Any, ...]] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for row in cursor.fetchall():
            latest.setdefault(int(row[0]), row)
    cutoff = at - dt.timedelta(days=RELEASED_SHOWN_DAYS)
    shown: dict[int, Episode] = {}
    language = (get_language() or settings.LANGUAGE_CODE).split("-")[0]
    for row in latest.values():
        person_id, admitted, released, name, address, phone, visiting, tz, texts, to = row
        admitted_at, released_at = _instant(admitted), _instant(released)
        assert admitted_at is not None
        if released_at is not None and released_at < cutoff:
            continue
        # the prison's visiting rules no longer concern a released person's family (Mandela
        # Rule 58): the result says when, and to which country, instead
        visiting = "" if released_at is not None else _visiting_in(language, visiting, texts)
        shown[person_id] = Episode(
            admitted_at,
            released_at,
            {"name": name, "address": address, "phone": phone, "visiting": visiting},
            tz,
            released_to=to or "",
        )
    return shown


def _visiting_in(language: str, default: str, texts: Any) -> str:
    """The facility's visiting text in ``language`` when the setup file gives one per
    language (a JSON column: text on SQLite, already decoded on PostgreSQL), else the
    default text."""
    if isinstance(texts, str):
        texts = json.loads(texts or "{}")
    return str((texts or {}).get(language) or default)


@dataclass
class Match:
    name: str
    year_of_birth: int | None
    status: str
    facility: dict[str, str] | None = None
    since: dt.date | None = None
    released_on: dt.date | None = None
    released_to: str = ""

    def document(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "year_of_birth": self.year_of_birth,
            "status": self.status,
            "facility": self.facility,
            "since": self.since.isoformat() if self.since else None,
            "released_on": self.released_on.isoformat() if self.released_on else None,
            "released_to": self.released_to or None,
        }


def _local_date(instant: dt.datetime, tz: str) -> dt.date:
    try:
        return instant.astimezone(ZoneInfo(tz)).date()
    except (ValueError, KeyError):
        return instant.astimezone(dt.UTC).date()


def _matches(people: Sequence[Candidate], episodes: dict[int, Episode]) -> list[Match]:
    matches: list[Match] = []
    for p in people:
        e = episodes.get(p.pk)
        if e is None:
            continue  # never held, or long gone: exactly like nobody at all
        matches.append(
            Match(
                name=p.full_name,
                year_of_birth=p.date_of_birth.year if p.date_of_birth else None,
                status="in_custody" if e.released_at is None else "released",
                facility=e.facility,
                since=_local_date(e.admitted_at, e.timezone),
                released_on=_local_date(e.released_at, e.timezone) if e.released_at else None,
                released_to=e.released_to if e.released_at else "",
            )
        )
        if len(matches) == MAX_MATCHES:
            break
    return matches


def locate(q: LocatorQuery, *, at: dt.datetime | None = None) -> dict[str, Any]:
    """The ``locate --json`` document for ``q``. When nobody is shown, one ``not_found``
    entry echoes the query (so "no such person" and "not held" read the same).

    Reads only (it may run on a read replica): the index is kept by the ``people.*`` event
    listener in ``habeas.oversight.events``, in the transaction of each change."""
    at = at or now()
    if q.ref:
        people = _candidates_by_ref(q)
        episodes = (
            _shown_episodes(*_in("e.person_id", [p.pk for p in people]), at) if people else {}
        )
    else:
        people, episodes = _by_name(q, at)
    matches = _matches(people, episodes)
    if not matches:
        matches = [
            Match(
                # the names searched for; a reference is not a name (a search by reference
                # echoes no name)
                name=q.raw_names,
                year_of_birth=q.dob.year if q.dob else None,
                status="not_found",
            )
        ]
    return {"matches": [m.document() for m in matches]}


# --- rate limit ----------------------------------------------------------------------------


@dataclass
class Throttle:
    """The outcome of a rate-limit check: ``limit`` searches per window of ``window``
    seconds; when refused, ``retry_after`` seconds until the window ends."""

    allowed: bool
    limit: int
    window: int = 60
    retry_after: int = field(default=0)


#: One atomic step in Redis: count a search in its window, the key expiring after it.
_COUNT_SCRIPT = """
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return n
"""

#: Both limits of one search in one round trip: the address is counted; the person searched
#: for is counted only when the address is within its limit (as two separate steps did).
#: Returns {address count, person count or 0}.
_COUNT_BOTH_SCRIPT = """
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
if n > tonumber(ARGV[3]) then return {n, 0} end
local m = redis.call('INCR', KEYS[2])
if m == 1 then redis.call('EXPIRE', KEYS[2], ARGV[2]) end
return {n, m}
"""

#: The scripts bound to each cache object's Redis client, by script text.
_redis_scripts: weakref.WeakKeyDictionary[Any, dict[str, Any]] = weakref.WeakKeyDictionary()


def _redis_script(backend: Any, script: str) -> Any:
    """``script`` bound to the Redis client of ``backend`` when the shared cache is Redis,
    else None. Kept per cache object (one per thread): Django's Redis cache builds a new
    client, with its table of reply handlers, for every call, which cost more than the
    search itself under load (``benchmarks/load_locator.py``)."""
    if not isinstance(backend, RedisCache):
        return None
    bound = _redis_scripts.setdefault(backend, {})
    counter = bound.get(script)
    if counter is None:
        client = backend._cache.get_client(write=True)  # type: ignore[attr-defined]
        counter = bound[script] = client.register_script(script)
    return counter


def _window(instant: dt.datetime, window: int) -> tuple[int, int]:
    """(the fixed window's start, seconds until it ends) for ``instant``."""
    stamp = int(instant.timestamp())
    start = stamp - stamp % window
    return start, max(start + window - stamp, 1)


def _take_slot(key: str, limit: int, window: int, instant: dt.datetime) -> Throttle:
    """Count one search against ``key`` in the current fixed window, in the shared cache
    (``settings.CACHES``: the database by default, Redis with ``HABEAS_CACHE_URL``), so every
    worker and server counts together.

    In Redis, one atomic script increments the window's counter (``INCR``, with the expiry
    set by the first search of the window): the first ``limit`` searches of a window are
    allowed however many run at once, in one round trip. In the database cache each search
    claims one numbered slot with ``cache.add``, which is atomic there (an INSERT on a
    primary key): at most ``limit`` searches can claim a slot in one window however many run
    at once. A hint of the next free slot keeps the number of cache calls small."""
    start, retry_after = _window(instant, window)
    base = f"habeas:throttle:{key}:{start}"
    backend = caches["default"]
    counter = _redis_script(backend, _COUNT_SCRIPT)
    if counter is not None:
        count = int(counter(keys=[backend.make_and_validate_key(base)], args=[window + 5]))
        if count <= limit:
            return Throttle(True, limit, window)
        return Throttle(False, limit, window, retry_after=retry_after)
    slot = int(cache.get(f"{base}:next", 0) or 0)
    while slot < limit:
        if cache.add(f"{base}:{slot}", 1, timeout=window + 5):
            cache.set(f"{base}:next", slot + 1, timeout=window + 5)
            return Throttle(True, limit, window)
        slot += 1
    return Throttle(False, limit, window, retry_after=retry_after)


def _client_limit(client: str) -> tuple[str, int]:
    limit = int(getattr(settings, "LOCATOR_RATE_PER_MINUTE", 30))
    return f"client:{hashlib.sha256(client.encode()).hexdigest()[:32]}", limit


def _subject_limit(q: LocatorQuery) -> tuple[str, int]:
    limit = int(getattr(settings, "LOCATOR_RATE_PER_NAME_PER_HOUR", 20))
    return f"subject:{searched_key(q)}", limit


def locator_throttle(client: str, *, at: dt.datetime | None = None) -> Throttle:
    """Searches per client address and minute (``LOCATOR_RATE_PER_MINUTE``, default 30).
    The address is :func:`habeas.core.net.client_address` (trusted proxies only)."""
    key, limit = _client_limit(client)
    return _take_slot(key, limit, 60, at or now())


def searched_key(q: LocatorQuery) -> str:
    """What identifies the person a search is after, whoever asks: the searched name's keys
    (order-free) or the reference, and the nationality. Hashed: no name is kept in the cache."""
    if q.ref:
        subject = "ref:" + "".join(_ref_variants(q.ref)[-1:])
    else:
        subject = "name:" + " ".join(sorted(q.names))
    text = f"{subject}|{q.nationality or ''}"
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def subject_throttle(q: LocatorQuery, *, at: dt.datetime | None = None) -> Throttle:
    """Searches for one name (or reference) and nationality per hour, from all addresses
    together (``LOCATOR_RATE_PER_NAME_PER_HOUR``, default 20): probing the year of birth of
    one person by trying year after year is slow from any number of addresses."""
    key, limit = _subject_limit(q)
    return _take_slot(key, limit, 3600, at or now())


def search_throttles(
    client: str, q: LocatorQuery, *, at: dt.datetime | None = None
) -> tuple[Throttle, Throttle | None]:
    """Both limits of one search, the address's first (:func:`locator_throttle`, then
    :func:`subject_throttle`, counted only when the address is within its limit): the
    address's outcome, and the person's (``None`` when the address was refused). With Redis
    as the shared cache the two counts are one script, one round trip
    (``benchmarks/load_locator.py``: the rate limits were a third of a search's CPU)."""
    instant = at or now()
    backend = caches["default"]
    counter = _redis_script(backend, _COUNT_BOTH_SCRIPT)
    if counter is None:
        by_client = locator_throttle(client, at=instant)
        return by_client, (subject_throttle(q, at=instant) if by_client.allowed else None)
    client_key, client_limit = _client_limit(client)
    subject_key, subject_limit = _subject_limit(q)
    client_start, client_retry = _window(instant, 60)
    subject_start, subject_retry = _window(instant, 3600)
    keys = [
        backend.make_and_validate_key(f"habeas:throttle:{client_key}:{client_start}"),
        backend.make_and_validate_key(f"habeas:throttle:{subject_key}:{subject_start}"),
    ]
    n, m = (int(v) for v in counter(keys=keys, args=[60 + 5, 3600 + 5, client_limit]))
    if n > client_limit:
        return Throttle(False, client_limit, 60, retry_after=client_retry), None
    by_client = Throttle(True, client_limit, 60)
    if m <= subject_limit:
        return by_client, Throttle(True, subject_limit, 3600)
    return by_client, Throttle(False, subject_limit, 3600, retry_after=subject_retry)


def client_address(request: Any) -> str:
    """The client's address for rate limiting (:func:`habeas.core.net.client_address`:
    ``REMOTE_ADDR``, or ``X-Forwarded-For`` read from a trusted proxy only)."""
    return net.client_address(request)
