"""The public locator: where is this person held? (INTERFACES.md ``locate``; STANDARDS.md,
"Locators": the ICE Online Detainee Locator asks for an A-number + country, or names +
country, matches exactly and is criticised for answering "no results" for people who are in
custody.)

Habeas searches by sending reference + nationality, or by names + date or year of birth +
nationality, and is forgiving where ICE is not:

* accents, case and punctuation do not matter and the particles *de, del, de la, y…* are
  ignored: the identity matcher's normalisation (``habeas.people.matching.tokens``: NFKD,
  combining marks dropped, casefolded), so the locator and the matcher agree on names;
* surname order is free (tokens are a bag);
* one typo (one insertion, deletion, substitution or transposition of adjacent letters, in a
  token of 4 letters or more) is tolerated;
* every searched token must be in the person's name, at least one given name and one surname.

What it returns is the ``locate --json`` document: name, year of birth, status, the
facility's name, address, phone and visiting information, since when and the release date —
**never** a cell, a legal document, anything of another person, or whether a person who does
not match exists (a person who was never held, or was released more than
:data:`RELEASED_SHOWN_DAYS` days ago, answers exactly like nobody at all).

Scale: the search reads one block of the derived index ``LocatorToken`` — (nationality, year
of birth, token) — so its cost depends on how common the searched names are in that block, not
on the size of the registry (``benchmarks/bench_locator.py``). The matcher's own blocking keys
(``Person.match_key_*``: phonetic first surname / first given name + year) are not used for
the locator: they carry no nationality, and they miss a search by a second given name or
with a typo in a surname's first letter, which the locator must tolerate.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count
from rapidfuzz.distance import OSA

from habeas.core.clock import now
from habeas.core.errors import ValidationFailed
from habeas.people.choices import DatePrecision
from habeas.people.matching import tokens

#: People released within this many days are shown as released; earlier ones as not found.
RELEASED_SHOWN_DAYS = 90

#: A typo is tolerated only in tokens at least this long ("ana" ≠ "ina").
TYPO_MIN_LENGTH = 4

#: Candidates read from one block at most (a pathological query cannot read a whole block).
MAX_CANDIDATES = 5000

#: At most this many people are shown for one search.
MAX_MATCHES = 5

MSG_NEED_NATIONALITY = "the nationality is required"
MSG_BAD_NATIONALITY = "the nationality must be a two-letter country code"
MSG_NEED_QUERY = "give either a reference, or names and a date or year of birth"
MSG_NEED_TWO_NAMES = "give at least one given name and one surname"
MSG_NEED_DOB = "the date or year of birth is required with names"
MSG_BAD_DOB = "the date of birth must be YYYY, YYYY-MM or YYYY-MM-DD"


# --- normalisation -------------------------------------------------------------------------


@dataclass(frozen=True)
class PersonTokens:
    given: tuple[str, ...]
    surnames: tuple[str, ...]

    @property
    def all(self) -> tuple[str, ...]:
        return self.given + self.surnames


def person_tokens(given_names: str, first_surname: str, second_surname: str = "") -> PersonTokens:
    return PersonTokens(
        given=tuple(tokens(given_names)),
        surnames=tuple(tokens(first_surname) + tokens(second_surname)),
    )


def _close(a: str, b: str) -> int | None:
    """0 if equal, 1 if one edit apart (both long enough), else None."""
    if a == b:
        return 0
    if min(len(a), len(b)) < TYPO_MIN_LENGTH or abs(len(a) - len(b)) > 1:
        return None
    return 1 if OSA.distance(a, b, score_cutoff=1) <= 1 else None


def name_matches(query: Sequence[str], person: PersonTokens) -> int | None:
    """Typos used (0 or 1) if every query token is a distinct token of the person's name with
    at most one typo in all, covering at least one given name and one surname; else None."""
    candidates = [(t, "g") for t in person.given] + [(t, "s") for t in person.surnames]
    best: int | None = None

    def walk(i: int, used: frozenset[int], typos: int, kinds: frozenset[str]) -> None:
        nonlocal best
        if best == 0:
            return
        if i == len(query):
            if kinds == {"g", "s"} and (best is None or typos < best):
                best = typos
            return
        for j, (token, kind) in enumerate(candidates):
            if j in used:
                continue
            d = _close(query[i], token)
            if d is not None and typos + d <= 1:
                walk(i + 1, used | {j}, typos + d, kinds | {kind})

    walk(0, frozenset(), 0, frozenset())
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
        """Compare only what both sides know."""
        if value is None or value.year != self.year:
            return False
        if self.month is not None and precision in {DatePrecision.MONTH, DatePrecision.DAY}:
            if value.month != self.month:
                return False
            if self.day is not None and precision == DatePrecision.DAY and value.day != self.day:
                return False
        return True


@dataclass(frozen=True)
class LocatorQuery:
    """A validated search. ``public`` searches need a nationality, and names need a date or
    year of birth (INTERFACES.md; the CLI on the server may omit them)."""

    names: tuple[str, ...] = ()
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
        if nationality and not re.fullmatch(r"[A-Z]{2}", nationality):
            raise ValidationFailed(MSG_BAD_NATIONALITY, details={"nationality": nationality})
        if public and not nationality:
            raise ValidationFailed(MSG_NEED_NATIONALITY, details={"nationality": "required"})
        birth = BirthDate.parse(dob) if dob else None
        if ref:
            return cls(ref=ref[:64], nationality=nationality or None, dob=birth)
        if not name:
            raise ValidationFailed(MSG_NEED_QUERY)
        names = tuple(dict.fromkeys(tokens(name)))[:8]
        if len(names) < 2:
            raise ValidationFailed(MSG_NEED_TWO_NAMES, details={"name": name})
        if public and birth is None:
            raise ValidationFailed(MSG_NEED_DOB, details={"dob": "required"})
        return cls(names=names, raw_names=name[:200], nationality=nationality or None, dob=birth)


# --- the search ----------------------------------------------------------------------------


def _ref_variants(ref: str) -> list[str]:
    compact = re.sub(r"[\s\-./]", "", ref)
    return list(dict.fromkeys([ref, ref.upper(), compact, compact.upper()]))


def _candidates_by_ref(q: LocatorQuery) -> list[Any]:
    from habeas.people.models import Person, PersonIdentifier

    people = list(
        Person.objects.filter(
            pk__in=PersonIdentifier.objects.filter(value__in=_ref_variants(q.ref)).values(
                "person_id"
            )
        )
    )
    return [
        p
        for p in people
        if (q.nationality is None or q.nationality in {str(c).upper() for c in p.nationalities})
        and (q.dob is None or q.dob.agrees_with(p.date_of_birth, p.dob_precision))
    ]


def _candidates_by_name(q: LocatorQuery) -> list[Any]:
    from habeas.oversight.models import LocatorToken
    from habeas.people.models import Person

    rows = LocatorToken.objects.filter(token__in=q.names)
    if q.nationality is not None:
        rows = rows.filter(nationality=q.nationality)
    if q.dob is not None:
        rows = rows.filter(birth_year=q.dob.year)
    needed = max(1, len(q.names) - 1)  # one typo can spoil one token, never two
    block = (
        rows.values("person_id")
        .annotate(n=Count("token", distinct=True))
        .filter(n__gte=needed)
        .values("person_id")[:MAX_CANDIDATES]
    )
    found: list[tuple[int, Any]] = []
    for p in Person.objects.filter(pk__in=block).only(
        "pk",
        "given_names",
        "first_surname",
        "second_surname",
        "date_of_birth",
        "dob_precision",
        "nationalities",
    ):
        if q.nationality is not None and q.nationality not in {
            str(c).upper() for c in p.nationalities
        }:
            continue
        if q.dob is not None and not q.dob.agrees_with(p.date_of_birth, p.dob_precision):
            continue
        typos = name_matches(
            q.names, person_tokens(p.given_names, p.first_surname, p.second_surname)
        )
        if typos is not None:
            found.append((typos, p))
    if not found:
        return []
    fewest = min(t for t, _p in found)  # exact matches hide one-typo neighbours
    return [p for t, p in sorted(found, key=lambda tp: tp[1].pk) if t == fewest]


@dataclass
class Match:
    name: str
    year_of_birth: int | None
    status: str
    facility: dict[str, str] | None = None
    since: dt.date | None = None
    released_on: dt.date | None = None

    def document(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "year_of_birth": self.year_of_birth,
            "status": self.status,
            "facility": self.facility,
            "since": self.since.isoformat() if self.since else None,
            "released_on": self.released_on.isoformat() if self.released_on else None,
        }


def _local_date(instant: dt.datetime, tz: str) -> dt.date:
    try:
        return instant.astimezone(ZoneInfo(tz)).date()
    except (ValueError, KeyError):
        return instant.astimezone(dt.UTC).date()


def _facility_public(facility: Any) -> dict[str, str]:
    """What the locator may say about a facility: never a module or a cell."""
    return {
        "name": facility.name,
        "address": facility.address,
        "phone": facility.phone,
        "visiting": facility.visiting,
    }


def _statuses(people: Iterable[Any], at: dt.datetime) -> list[Match]:
    from habeas.custody.models import CustodyEpisode

    people = list(people)
    latest: dict[int, Any] = {}
    for episode in (
        CustodyEpisode.objects.filter(person__in=[p.pk for p in people])
        .select_related("facility")
        .order_by("person_id", "-admitted_at", "-pk")
    ):
        latest.setdefault(episode.person_id, episode)
    cutoff = at - dt.timedelta(days=RELEASED_SHOWN_DAYS)
    matches: list[Match] = []
    for p in people:
        e = latest.get(p.pk)
        if e is None or (e.released_at is not None and e.released_at < cutoff):
            continue  # never held, or long gone: exactly like nobody at all
        tz = e.facility.timezone
        matches.append(
            Match(
                name=p.full_name,
                year_of_birth=p.date_of_birth.year if p.date_of_birth else None,
                status="in_custody" if e.released_at is None else "released",
                facility=_facility_public(e.facility),
                since=_local_date(e.admitted_at, tz),
                released_on=_local_date(e.released_at, tz) if e.released_at else None,
            )
        )
    return matches[:MAX_MATCHES]


def locate(q: LocatorQuery, *, at: dt.datetime | None = None, sync: bool = True) -> dict[str, Any]:
    """The ``locate --json`` document for ``q``. When nobody is shown, one ``not_found``
    entry echoes the query (so "no such person" and "not held" read the same)."""
    if sync:
        from habeas.oversight.services import locator_index_sync

        locator_index_sync()
    people = _candidates_by_ref(q) if q.ref else _candidates_by_name(q)
    matches = _statuses(people, at or now())
    if not matches:
        matches = [
            Match(
                name=q.raw_names or q.ref,
                year_of_birth=q.dob.year if q.dob else None,
                status="not_found",
            )
        ]
    return {"matches": [m.document() for m in matches]}


# --- rate limit ----------------------------------------------------------------------------


@dataclass
class Throttle:
    """Fixed one-minute windows per client in the Django cache (``LOCATOR_RATE_PER_MINUTE``,
    default 30). With several app servers the cache must be shared (e.g. database cache)."""

    allowed: bool
    limit: int
    retry_after: int = field(default=0)


def locator_throttle(client: str, *, at: dt.datetime | None = None) -> Throttle:
    limit = int(getattr(settings, "LOCATOR_RATE_PER_MINUTE", 30))
    instant = at or now()
    window = int(instant.timestamp()) // 60
    key = f"habeas:locator:{client}:{window}"
    cache.add(key, 0, timeout=120)
    try:
        count = cache.incr(key)
    except ValueError:  # evicted between add and incr
        cache.set(key, 1, timeout=120)
        count = 1
    if count > limit:
        return Throttle(False, limit, retry_after=60 - int(instant.timestamp()) % 60)
    return Throttle(True, limit)


def client_address(request: Any) -> str:
    """The client's address for rate limiting: ``REMOTE_ADDR`` (behind a reverse proxy,
    configure it to set ``REMOTE_ADDR``; a client-supplied ``X-Forwarded-For`` is not trusted)."""
    return str(request.META.get("REMOTE_ADDR", "") or "unknown")
