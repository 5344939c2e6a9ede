"""Reads of the registry, always scoped to the user (``Person.objects.visible_to``)."""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from habeas.core.errors import NotFound
from habeas.people.models import Person, PersonIdentifier, PersonQuerySet


def person_list(*, user: Any, query: str = "") -> PersonQuerySet:
    qs = Person.objects.visible_to(user)
    if query:
        words = query.split()
        for word in words:
            qs = qs.filter(
                Q(given_names__icontains=word)
                | Q(first_surname__icontains=word)
                | Q(second_surname__icontains=word)
                | Q(identifiers__value=word)
            )
        qs = qs.distinct()
    return qs.order_by("first_surname", "given_names", "pk")


def person_get_for(*, user: Any, person_id: int | str) -> Person:
    """The person if the user may see them; the same NotFound for missing and out of scope
    (Zulip ``access_stream_by_id``)."""
    try:
        pk = int(person_id)
    except (TypeError, ValueError):
        raise NotFound("person not found") from None
    person = Person.objects.visible_to(user).filter(pk=pk).first()
    if person is None:
        raise NotFound("person not found")
    return person


def person_resolve(reference: str) -> Person:
    """A registry id or a sending reference, unscoped (CLI on the server itself)."""
    ref = reference.strip()
    if ref.isdigit():
        person = Person.objects.filter(pk=int(ref)).first()
        if person is not None:
            return person
    ident = PersonIdentifier.objects.filter(value=ref).select_related("person").first()
    if ident is None:
        raise NotFound(f"no person with registry id or sending reference {ref!r}")
    return ident.person
