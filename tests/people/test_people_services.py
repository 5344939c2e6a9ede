"""Person registry writes (Mandela Rule 7(a): a unique identity for everyone held): one
``people.created`` ledger entry per person, in the same transaction; refusals write nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from habeas.core.actor import Actor
from habeas.core.errors import Conflict, ValidationFailed
from habeas.ledger.models import LedgerEntry
from habeas.ledger.privacy import commitment, keys_for
from habeas.ledger.services import ledger_size
from habeas.people.models import Person, PersonIdentifier
from habeas.people.services import (
    MSG_DUPLICATE_IDENTIFIER,
    MSG_NO_NAME,
    Identifier,
    PersonSpec,
    person_create,
    person_create_many,
)


def spec(ref: str = "A1", **overrides: Any) -> PersonSpec:
    fields: dict[str, Any] = {
        "given_names": "Wilmer José",
        "first_surname": "Núñez",
        "second_surname": "del Valle",
        "sex": "M",
        "nationalities": ["ve", "co"],
        "date_of_birth": dt.date(1990, 5, 17),
        "aliases": ["El Flaco"],
        "identifiers": [Identifier(authority="US", value=ref)],
    }
    fields.update(overrides)
    return PersonSpec(**fields)


def nothing_written() -> bool:
    return (
        ledger_size() == 0 and not Person.objects.exists() and not PersonIdentifier.objects.exists()
    )


@pytest.mark.django_db
def test_person_create_writes_the_person_and_one_ledger_entry(actor: Actor) -> None:
    at = dt.datetime(2025, 3, 16, 14, 5, tzinfo=dt.UTC)
    person = person_create(actor=actor, spec=spec(), occurred_at=at)
    assert person.pk is not None
    assert person.nationalities == ["VE", "CO"]
    (entry,) = LedgerEntry.objects.all()
    assert entry.index == 0
    assert entry.action == "people.created"
    assert entry.subject == f"person:{person.pk}"
    assert entry.occurred_at == at
    assert entry.document["actor"] == actor.name
    snap = entry.payload["person"]
    ident = person.identifiers.get()
    # Public facts in clear; names, aliases, the date of birth and identifier values only as
    # commitments under the person's key (ARCHITECTURE.md, "Personal data and the ledger").
    key = keys_for([f"person:{person.pk}"], create=False)[f"person:{person.pk}"]
    assert snap == {
        "id": person.pk,
        "given_names": commitment(key, "Wilmer José"),
        "first_surname": commitment(key, "Núñez"),
        "second_surname": commitment(key, "del Valle"),
        "aliases": commitment(key, ["El Flaco"]),
        "date_of_birth": commitment(key, "1990-05-17"),
        "dob_precision": "day",
        "sex": "M",
        "nationalities": ["VE", "CO"],
        "language": "",
        "erased_at": None,
        "identifiers": [
            {
                "id": ident.pk,
                "authority": "US",
                "kind": "sending_ref",
                "value": commitment(key, "A1"),
            }
        ],
    }
    assert "Wilmer" not in entry.canonical
    assert "1990" not in entry.canonical
    ident = person.identifiers.get()
    assert (ident.authority, ident.kind, ident.value) == ("US", "sending_ref", "A1")


@pytest.mark.django_db
def test_batch_gives_one_entry_each_with_consecutive_indices(actor: Actor) -> None:
    people = person_create_many(actor=actor, specs=[spec(f"A{i}") for i in range(5)])
    entries = list(LedgerEntry.objects.order_by("index"))
    assert [e.index for e in entries] == [0, 1, 2, 3, 4]
    assert [e.subject for e in entries] == [f"person:{p.pk}" for p in people]
    assert all(e.action == "people.created" for e in entries)
    assert person_create_many(actor=actor, specs=[]) == []
    assert ledger_size() == 5


@pytest.mark.django_db
def test_identifier_already_taken_is_refused_and_the_batch_writes_nothing(actor: Actor) -> None:
    person_create(actor=actor, spec=spec("A1"))
    size = ledger_size()
    with pytest.raises(Conflict) as info:
        person_create_many(actor=actor, specs=[spec("B1"), spec("A1")])
    assert info.value.message == MSG_DUPLICATE_IDENTIFIER
    assert info.value.status == 409
    assert info.value.details == {"identifier": "US:sending_ref:A1"}
    assert ledger_size() == size
    assert Person.objects.count() == 1
    assert not PersonIdentifier.objects.filter(value="B1").exists()
    # The same value issued by another authority is someone else's identifier.
    person_create(actor=actor, spec=spec(identifiers=[Identifier(authority="GT", value="A1")]))


@pytest.mark.django_db
def test_identifier_repeated_within_the_request_is_refused(actor: Actor) -> None:
    with pytest.raises(Conflict, match=MSG_DUPLICATE_IDENTIFIER):
        person_create_many(actor=actor, specs=[spec("A1"), spec("A1")])
    assert nothing_written()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"given_names": "  "}, MSG_NO_NAME),
        ({"first_surname": ""}, MSG_NO_NAME),
        ({"sex": "Q"}, "sex must be one of"),
        ({"dob_precision": "century"}, "precision"),
    ],
)
def test_invalid_person_is_refused(actor: Actor, overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationFailed, match=message):
        person_create_many(actor=actor, specs=[spec("OK1"), spec("A1", **overrides)])
    assert nothing_written()


@pytest.mark.django_db
def test_partial_date_of_birth_keeps_its_precision(actor: Actor) -> None:
    person = person_create(
        actor=actor, spec=spec(date_of_birth=dt.date(2007, 1, 1), dob_precision="year")
    )
    person.refresh_from_db()
    assert person.date_of_birth_display == "2007"
    entry = LedgerEntry.objects.get(subject=f"person:{person.pk}")
    assert entry.payload["person"]["dob_precision"] == "year"


@pytest.mark.django_db
def test_failure_after_the_ledger_append_rolls_back_person_and_entry(
    actor: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    import habeas.people.services as people_services
    from habeas.ledger.services import ledger_append_many as real

    def append_then_fail(**kwargs: Any) -> Any:
        entries = real(**kwargs)
        assert LedgerEntry.objects.count() == len(entries) == 2
        raise RuntimeError("lost the connection")

    monkeypatch.setattr(people_services, "ledger_append_many", append_then_fail)
    with pytest.raises(RuntimeError, match="lost the connection"):
        person_create_many(actor=actor, specs=[spec("A1"), spec("A2")])
    assert nothing_written()
    assert not LedgerEntry.objects.exists()
