"""Reads of the registry, always scoped to the user (``Person.objects.visible_to``)."""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from habeas.core.errors import NotFound
from habeas.core.limits import MAX_TEXT_CHARS, ascii_id, unsafe_text
from habeas.people.models import Person, PersonIdentifier, PersonQuerySet
from habeas.people.names import CONSONANTAL, SKELETON, cross_cost, name_keys, skeleton

#: Candidates of one staff search ranked in memory at most (the best of them are listed).
MAX_RANKED = 5000

#: The cost of two Latin words sharing only their consonants (above a transliteration's).
LATIN_SKELETON = 3.0


def person_list(*, user: Any, query: str = "") -> PersonQuerySet:
    """The people the user may see whose names hold every searched word (in any script:
    ``Пётр``, ``Pyotr`` and ``Petr`` are one word, ``محمد`` and ``Mohamed`` too; see
    ``habeas.people.names``), as a word, a word's beginning or a piece of the name as
    written, or who hold a searched identifier. Those matching every word as a whole word
    hide those matching only by a piece (the locator's rule: exact hides near)."""
    qs = Person.objects.visible_to(user)
    if query:
        qs = _searched(qs, query)
    return qs.order_by("first_surname", "given_names", "pk")


def person_search(people: PersonQuerySet, query: str) -> PersonQuerySet:
    """:func:`person_list`'s name search over ``people``, a set the caller has already
    narrowed to what the user may see (a higher app's cheaper form of the same scope)."""
    return _searched(people, query) if query else people


def _terms(query: str) -> list[tuple[str, str]]:
    """``(word as written, its key)`` per searched word; a Han name typed in one word is two
    terms, its surname and given name (no piece of it is searched as written)."""
    terms: list[tuple[str, str]] = []
    for word in query.split()[:8]:
        keys = name_keys(word, query=True)
        if len(keys) == 1:
            terms.append((word, keys[0]))
        elif not keys:
            terms.append((word, ""))
        else:
            terms += [("", key) for key in keys]
    return terms


def _term_filter(raw: str, key: str) -> Q:
    q = Q(pk__in=[])
    if raw:
        q |= (
            Q(given_names__icontains=raw)
            | Q(first_surname__icontains=raw)
            | Q(second_surname__icontains=raw)
            | Q(identifiers__value=raw)
        )
    if key:
        q |= Q(name_keys__contains=f" {key}")
        bone = skeleton(key)
        if bone:
            q |= Q(name_keys__contains=f" {bone} ")
    return q


def _term_cost(raw: str, key: str, names: str, keys: list[str], ident: bool) -> float | None:
    """0 for a whole word (or a close transliteration, or an identifier), 1 for a word's
    beginning or a piece of the name as written, more for consonants alone (two Latin
    spellings of one Arabic name most); None if the term is not in this person's name."""
    best: float | None = 0.0 if ident else None
    for k in keys:
        if not key:
            break
        if k == key:
            return 0.0
        if key.startswith(CONSONANTAL) or k.startswith(CONSONANTAL):
            cost = cross_cost(key, k)
        elif k.startswith(key):
            cost = 1.0
        elif skeleton(k) == skeleton(key):
            cost = LATIN_SKELETON  # Qasim / Kassem, Verma / Varma: the consonants alone
        else:
            cost = None
        if cost is not None and (best is None or cost < best):
            best = cost
    if raw and raw.casefold() in names and (best is None or best > 1):
        best = 1.0
    return best


def _searched(qs: PersonQuerySet, query: str) -> PersonQuerySet:
    terms = _terms(query)
    for raw, key in terms:
        qs = qs.filter(_term_filter(raw, key))
    rows = list(
        qs.distinct()
        .order_by("pk")
        .values_list("pk", "given_names", "first_surname", "second_surname", "name_keys")[
            :MAX_RANKED
        ]
    )
    raws = [raw for raw, _key in terms if raw]
    with_ident = (
        set(
            PersonIdentifier.objects.filter(value__in=raws, person_id__in=[r[0] for r in rows])
            .values_list("person_id", flat=True)
            .distinct()
        )
        if raws
        else set()
    )
    ranked: dict[int, float] = {}
    for pk, given, s1, s2, stored in rows:
        names = f"{given} {s1} {s2}".casefold()
        keys = [k for k in stored.split() if not k.startswith(SKELETON)]
        total = 0.0
        for raw, key in terms:
            cost = _term_cost(raw, key, names, keys, pk in with_ident)
            if cost is None:
                break
            total += cost
        else:
            ranked[pk] = total
    if not ranked:
        return qs.none()
    fewest = min(ranked.values())
    return Person.objects.filter(pk__in=[pk for pk, c in ranked.items() if c == fewest])


def person_get_for(*, user: Any, person_id: int | str) -> Person:
    """The person if the user may see them; the same NotFound for missing and out of scope
    (Zulip ``access_stream_by_id``)."""
    pk = ascii_id(str(person_id))
    if pk is None:
        raise NotFound("person not found")
    person = Person.objects.visible_to(user).filter(pk=pk).first()
    if person is None:
        raise NotFound("person not found")
    return person


def person_resolve(reference: str) -> Person:
    """A registry id or a sending reference, unscoped (CLI on the server itself)."""
    ref = reference.strip()
    if unsafe_text(ref) or len(ref) > MAX_TEXT_CHARS:
        raise NotFound("no person with this registry id or sending reference")
    pk = ascii_id(ref)
    if pk is not None:
        person = Person.objects.filter(pk=pk).first()
        if person is not None:
            return person
    ident = PersonIdentifier.objects.filter(value=ref).select_related("person").first()
    if ident is None:
        raise NotFound(f"no person with registry id or sending reference {ref!r}")
    return ident.person
