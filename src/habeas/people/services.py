"""Writes to the person registry (Mandela Rule 7(a): a unique identity for everyone held)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from habeas.core.actor import Actor
from habeas.core.clock import now
from habeas.core.errors import Conflict, ValidationFailed
from habeas.core.services import service
from habeas.ledger.services import Event, ledger_append_many
from habeas.people.choices import DatePrecision, Sex
from habeas.people.matching import all_keys
from habeas.people.models import Person, PersonIdentifier
from habeas.people.names import search_text

MSG_DUPLICATE_IDENTIFIER = "identifier already belongs to another person"
MSG_NO_NAME = "given names and first surname are required"


@dataclass(frozen=True)
class Identifier:
    authority: str
    value: str
    kind: str = "sending_ref"


@dataclass(frozen=True)
class PersonSpec:
    """What is known of a person, as written by the sending state."""

    given_names: str
    first_surname: str
    sex: str
    nationalities: Sequence[str]
    second_surname: str = ""
    aliases: Sequence[str] = ()
    date_of_birth: dt.date | None = None
    dob_precision: str = DatePrecision.DAY
    language: str = ""
    identifiers: Sequence[Identifier] = field(default_factory=tuple)


def person_snapshot(
    person: Person, identifiers: Sequence[Identifier | PersonIdentifier]
) -> dict[str, Any]:
    """The ledger payload of a person: every stored field (replayed by verify-ledger)."""
    return {
        "id": person.pk,
        "given_names": person.given_names,
        "first_surname": person.first_surname,
        "second_surname": person.second_surname,
        "aliases": list(person.aliases),
        "date_of_birth": person.date_of_birth,
        "dob_precision": person.dob_precision,
        "sex": person.sex,
        "nationalities": list(person.nationalities),
        "language": person.language,
        "identifiers": [
            {"authority": i.authority, "kind": i.kind, "value": i.value} for i in identifiers
        ],
    }


def _check(spec: PersonSpec) -> None:
    if not spec.given_names.strip() or not spec.first_surname.strip():
        raise ValidationFailed(MSG_NO_NAME)
    if spec.sex not in Sex.values:
        raise ValidationFailed(f"sex must be one of {', '.join(Sex.values)}")
    if spec.dob_precision not in DatePrecision.values:
        raise ValidationFailed("unknown date-of-birth precision")


@service
def person_create_many(
    *, actor: Actor, specs: Sequence[PersonSpec], occurred_at: dt.datetime | None = None
) -> list[Person]:
    """Register people with their identifiers; one ``people.created`` entry each."""
    for spec in specs:
        _check(spec)
    wanted = {(i.authority, i.kind, i.value) for s in specs for i in s.identifiers}
    if len(wanted) != sum(len(s.identifiers) for s in specs):
        raise Conflict(MSG_DUPLICATE_IDENTIFIER, details={"reason": "repeated in the request"})
    if wanted:
        values = [v for _, _, v in wanted]
        taken = {(a, k, v) for a, k, v in _chunked_identifier_lookup(values) if (a, k, v) in wanted}
        if taken:
            a, k, v = sorted(taken)[0]
            raise Conflict(MSG_DUPLICATE_IDENTIFIER, details={"identifier": f"{a}:{k}:{v}"})
    created_at = now()
    people = Person.objects.bulk_create(
        [
            Person(
                given_names=s.given_names,
                first_surname=s.first_surname,
                second_surname=s.second_surname,
                aliases=list(s.aliases),
                date_of_birth=s.date_of_birth,
                dob_precision=s.dob_precision,
                sex=s.sex,
                nationalities=[c.upper() for c in s.nationalities],
                language=s.language,
                created_at=created_at,
                name_keys=search_text(s.given_names, s.first_surname, s.second_surname, s.aliases),
                **_match_keys(s),
            )
            for s in specs
        ],
        batch_size=500,
    )
    PersonIdentifier.objects.bulk_create(
        [
            PersonIdentifier(person=p, authority=i.authority, kind=i.kind, value=i.value)
            for p, s in zip(people, specs, strict=True)
            for i in s.identifiers
        ],
        batch_size=500,
    )
    ledger_append_many(
        actor=actor,
        events=[
            Event(
                action="people.created",
                subject=f"person:{p.pk}",
                payload={"person": person_snapshot(p, s.identifiers)},
                occurred_at=occurred_at,
            )
            for p, s in zip(people, specs, strict=True)
        ],
    )
    return people


def _match_keys(spec: PersonSpec) -> dict[str, str]:
    """The blocking keys of identity matching (``habeas.people.matching.all_keys``)."""
    return all_keys(
        given_names=spec.given_names,
        first_surname=spec.first_surname,
        second_surname=spec.second_surname,
        aliases=spec.aliases,
        date_of_birth=spec.date_of_birth,
        dob_precision=spec.dob_precision,
    )


def _chunked_identifier_lookup(values: list[str]) -> list[tuple[str, str, str]]:
    found: list[tuple[str, str, str]] = []
    for start in range(0, len(values), 900):
        found += list(
            PersonIdentifier.objects.filter(value__in=values[start : start + 900]).values_list(
                "authority", "kind", "value"
            )
        )
    return found


def person_create(
    *, actor: Actor, spec: PersonSpec, occurred_at: dt.datetime | None = None
) -> Person:
    """Register one person (see :func:`person_create_many`)."""
    return person_create_many(actor=actor, specs=[spec], occurred_at=occurred_at)[0]
