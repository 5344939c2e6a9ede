"""Writes to the person registry (Mandela Rule 7(a): a unique identity for everyone held)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from habeas.core.actor import Actor
from habeas.core.clock import now
from habeas.core.errors import Conflict, ValidationFailed
from habeas.core.events import blank_values
from habeas.core.rows import Rows
from habeas.core.services import service
from habeas.ledger.services import Event, ledger_append_many
from habeas.people.choices import DatePrecision, Sex
from habeas.people.events import PERSONAL, person_key
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


def identifier_snapshot(identifier: PersonIdentifier) -> dict[str, Any]:
    return {
        "id": identifier.pk,
        "authority": identifier.authority,
        "kind": identifier.kind,
        "value": identifier.value,
    }


def person_snapshot(person: Person, identifiers: Sequence[PersonIdentifier]) -> dict[str, Any]:
    """The ledger payload of a person: every stored field (replayed by verify-ledger; the
    personal ones become commitments, ``habeas.people.events``)."""
    return _snapshot(person, [identifier_snapshot(i) for i in identifiers])


_SEXES = frozenset(Sex.values)
_PRECISIONS = frozenset(DatePrecision.values)


def _check(spec: PersonSpec) -> None:
    if not spec.given_names.strip() or not spec.first_surname.strip():
        raise ValidationFailed(MSG_NO_NAME)
    if spec.sex not in _SEXES:
        raise ValidationFailed(f"sex must be one of {', '.join(Sex.values)}")
    if spec.dob_precision not in _PRECISIONS:
        raise ValidationFailed("unknown date-of-birth precision")


#: The key columns of identity matching, in the order of :class:`Person`'s fields.
_MATCH_KEYS = (
    "match_key_a", "match_key_gd", "match_key_d1", "match_key_d2", "match_key_p",
    "match_key_y1", "match_key_y2",
)  # fmt: skip
#: The stored columns of :class:`Person`, in field order (``person_create_many`` writes them
#: as plain rows and builds the instances from the same values).
_PERSON_COLUMNS = (
    "id", "given_names", "first_surname", "second_surname", "aliases", "date_of_birth",
    "dob_precision", "sex", "nationalities", "language", "created_at", "erased_at",
    *_MATCH_KEYS, "name_keys",
)  # fmt: skip


def _snapshot(person: Person, identifiers: list[dict[str, Any]]) -> dict[str, Any]:
    """:func:`person_snapshot` with the identifiers given as their snapshots (a person just
    created by ``person_create_many`` has no identifier rows read back)."""
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
        "erased_at": None,
        "identifiers": identifiers,
    }


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
        taken = {
            (a, k, v)
            for a, k, v in ((a, k, v) for a, k, v, _ in _identifier_rows(values))
            if (a, k, v) in wanted
        }
        if taken:
            a, k, v = sorted(taken)[0]
            raise Conflict(MSG_DUPLICATE_IDENTIFIER, details={"identifier": f"{a}:{k}:{v}"})
    created_at = now()
    rows = Rows()
    ids = rows.ids(Person, len(specs))
    created_db = rows.instant(created_at)
    json, date = rows.json, rows.date
    fields: list[tuple[Any, ...]] = []
    person_rows: list[tuple[Any, ...]] = []
    for pk, s in zip(ids, specs, strict=True):
        aliases = list(s.aliases)
        nationalities = [c.upper() for c in s.nationalities]
        keys = _match_keys(s)
        name_keys = search_text(s.given_names, s.first_surname, s.second_surname, s.aliases)
        matching = tuple(keys.get(k, "") for k in _MATCH_KEYS)
        fields.append(
            (
                pk, s.given_names, s.first_surname, s.second_surname, aliases, s.date_of_birth,
                s.dob_precision, s.sex, nationalities, s.language, created_at, None,
                *matching, name_keys,
            )
        )  # fmt: skip
        person_rows.append(
            (
                pk, s.given_names, s.first_surname, s.second_surname, json(aliases),
                date(s.date_of_birth), s.dob_precision, s.sex, json(nationalities), s.language,
                created_db, None, *matching, name_keys,
            )
        )  # fmt: skip
    rows.insert(Person, _PERSON_COLUMNS, person_rows)
    from_db = Person.from_db
    people = [from_db("default", _PERSON_COLUMNS, v) for v in fields]
    identifier_rows = [
        (p.pk, i.authority, i.kind, i.value) for p, s in zip(people, specs, strict=True)
        for i in s.identifiers
    ]  # fmt: skip
    identifier_ids = rows.ids(PersonIdentifier, len(identifier_rows))
    rows.insert(
        PersonIdentifier,
        ("id", "person_id", "authority", "kind", "value"),
        [(pk, *row) for pk, row in zip(identifier_ids, identifier_rows, strict=True)],
    )
    by_person: dict[int, list[dict[str, Any]]] = {}
    for pk, (person_id, authority, kind, value) in zip(
        identifier_ids, identifier_rows, strict=True
    ):
        by_person.setdefault(person_id, []).append(
            {"id": pk, "authority": authority, "kind": kind, "value": value}
        )
    ledger_append_many(
        actor=actor,
        events=[
            Event(
                action="people.created",
                subject=person_key(p.pk),
                payload={"person": _snapshot(p, by_person.get(p.pk, []))},
                occurred_at=occurred_at,
            )
            for p in people
        ],
    )
    return people


@service
def person_identifiers_add(
    *,
    actor: Actor,
    identifiers: Sequence[tuple[int, Identifier]],
    occurred_at: dt.datetime | None = None,
) -> list[PersonIdentifier]:
    """Give registered people further identifiers (a sending state's new reference for
    someone already in the registry: one identity, every reference; Mandela Rule 7(a)). One
    ``people.identifier_added`` entry each; an identifier that another person holds is
    refused, one the same person already holds is skipped (a retried import)."""
    wanted = {(i.authority, i.kind, i.value): pid for pid, i in identifiers}
    held = {
        (a, k, v): pid
        for a, k, v, pid in _identifier_rows([v for _, _, v in wanted])
        if (a, k, v) in wanted
    }
    clash = sorted(t for t, pid in held.items() if wanted[t] != pid)
    if clash:
        a, k, v = clash[0]
        raise Conflict(MSG_DUPLICATE_IDENTIFIER, details={"identifier": f"{a}:{k}:{v}"})
    rows = PersonIdentifier.objects.bulk_create(
        [
            PersonIdentifier(person_id=pid, authority=a, kind=k, value=v)
            for (a, k, v), pid in wanted.items()
            if (a, k, v) not in held
        ],
        batch_size=500,
    )
    ledger_append_many(
        actor=actor,
        events=[
            Event(
                action="people.identifier_added",
                subject=person_key(r.person_id),
                occurred_at=occurred_at,
                payload={"person": r.person_id, "identifier": identifier_snapshot(r)},
            )
            for r in rows
        ],
    )
    return rows


MSG_ALREADY_ERASED = "the personal data of person {person} was erased already"


@service
def person_personal_data_erase(
    *, actor: Actor, person: Person, reason: str, keys: Sequence[str], at: dt.datetime
) -> Person:
    """The registry's part of an erasure (ARCHITECTURE.md, "Personal data and the ledger"):
    the names, aliases, date of birth, their search keys and the identifiers are removed, the
    data subject's commitment keys destroyed, and ``people.erased`` recorded. Apps above
    remove their own bodies in the same transaction (``on_appended("people.erased")``). The
    preconditions (nobody in custody, retention passed) are the caller's:
    ``habeas.custody.erasure.person_erase``."""
    from habeas.ledger.privacy import destroy_keys

    locked = Person.objects.select_for_update().get(pk=person.pk)
    if locked.erased_at is not None:
        raise Conflict(MSG_ALREADY_ERASED.format(person=person.pk))
    identifiers = list(locked.identifiers.values_list("pk", flat=True))
    PersonIdentifier.objects.filter(pk__in=identifiers).delete()
    for name, value in blank_values(Person, PERSONAL).items():
        setattr(locked, name, value)
    for name in [f.name for f in Person._meta.concrete_fields if f.name.startswith("match_key_")]:
        setattr(locked, name, "")
    locked.name_keys = ""
    locked.erased_at = at
    locked.save()
    destroy_keys(keys)
    ledger_append_many(
        actor=actor,
        events=[
            Event(
                action="people.erased",
                subject=person_key(locked.pk),
                occurred_at=at,
                payload={
                    "person": locked.pk,
                    "erased_at": at,
                    "reason": reason,
                    "keys": list(keys),
                    "identifiers": identifiers,
                },
            )
        ],
    )
    return locked


def _identifier_rows(values: list[str]) -> list[tuple[str, str, str, int]]:
    """(authority, kind, value, person) of the stored identifiers with these values: plain
    reads of 900 values each (a bulk import asks for thousands)."""
    from django.db import connection

    table = connection.ops.quote_name(PersonIdentifier._meta.db_table)
    found: list[tuple[str, str, str, int]] = []
    with connection.cursor() as cursor:
        for start in range(0, len(values), 900):
            chunk = values[start : start + 900]
            cursor.execute(
                f"SELECT authority, kind, value, person_id FROM {table} "  # noqa: S608 - the model's table
                f"WHERE value IN ({', '.join(['%s'] * len(chunk))})",
                chunk,
            )
            found += cursor.fetchall()
    return found


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


def person_create(
    *, actor: Actor, spec: PersonSpec, occurred_at: dt.datetime | None = None
) -> Person:
    """Register one person (see :func:`person_create_many`)."""
    return person_create_many(actor=actor, specs=[spec], occurred_at=occurred_at)[0]
