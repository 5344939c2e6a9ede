"""Erasure (ARCHITECTURE.md, "Personal data and the ledger"): refused while a person is held
or before the agreement's retention period; afterwards the personal rows are gone, the ledger
still verifies, the custody facts stay provable by inclusion proof, and a body put back
behind Habeas's back is found."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.db import connection

from habeas.core.errors import Conflict
from habeas.custody.erasure import person_erase
from habeas.custody.models import CustodyEpisode
from habeas.custody.services import custody_release
from habeas.ledger import merkle
from habeas.ledger.models import LedgerEntry, SubjectKey
from habeas.ledger.replay import compare
from habeas.ledger.services import ledger_size
from habeas.oversight.locator import LocatorQuery, locate
from habeas.people.models import Person, PersonIdentifier
from habeas.transfers.models import AdmissionRecord, ManifestEntry, Notification, RuleOutcome
from habeas.transfers.services import manifest_accept, manifest_admit
from tests.conftest import run_cli
from tests.transfers.helpers import row, to_csv

ARRIVED = dt.datetime(2025, 3, 21, 14, 5, tzinfo=dt.UTC)
RELEASED = dt.datetime(2025, 6, 2, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def held(importer: Any, actor: Any) -> Person:
    rows = [
        row(
            sending_ref="E1",
            given_names="Wilmer José",
            first_surname="Quintanilla",
            contact_name="María Quintanilla",
            contact_phone="+58 412 555 0101",
            contact_email="maria@example.org",
            language="es",
        )
    ]
    manifest = importer(to_csv(rows), ref="ERASE-1").manifest
    manifest_accept(actor=actor, manifest=manifest, all_eligible=True)
    (episode,) = manifest_admit(actor=actor, manifest=manifest, arrived_at=ARRIVED)
    assert AdmissionRecord.objects.filter(episode=episode).exists()  # the Rule 7 record
    return episode.person


def test_erasure_is_refused_while_the_person_is_held(held: Person, actor: Any) -> None:
    size = ledger_size()
    with pytest.raises(Conflict, match="in custody"):
        person_erase(actor=actor, person=held, reason="request")
    assert ledger_size() == size
    assert Person.objects.get(pk=held.pk).given_names == "Wilmer José"


def test_erasure_is_refused_before_the_retention_period(
    held: Person, actor: Any, world: dict[str, Any]
) -> None:
    custody_release(actor=actor, person=held, reason="repatriated", at=RELEASED)
    days = world["us"].retention_days
    last_day = RELEASED + dt.timedelta(days=days - 1)
    size = ledger_size()
    with pytest.raises(Conflict) as caught:
        person_erase(actor=actor, person=held, reason="request", at=last_day)
    erasable = (RELEASED.date() + dt.timedelta(days=days)).isoformat()
    assert caught.value.details["erasable_from"] == erasable
    assert ledger_size() == size
    # the first day it may be erased, it is
    person_erase(actor=actor, person=held, reason="request", at=last_day + dt.timedelta(days=1))


def test_erase_removes_the_personal_rows_keeps_custody_provable_and_the_ledger_verifies(
    held: Person, actor: Any, world: dict[str, Any]
) -> None:
    found = locate(LocatorQuery.build(name="Wilmer Quintanilla", public=False))["matches"]
    assert found[0]["status"] == "in_custody"
    custody_release(actor=actor, person=held, reason="repatriated", at=RELEASED)
    admitted = LedgerEntry.objects.get(action="custody.admitted", subject=f"person:{held.pk}")
    after = RELEASED + dt.timedelta(days=world["us"].retention_days + 1)

    code, out, err = run_cli(
        "erase", str(held.pk), "--reason", "retention period over", "--at", after.isoformat()
    )
    assert code == 0, err
    person = Person.objects.get(pk=held.pk)
    assert (person.given_names, person.first_surname, person.date_of_birth) == ("", "", None)
    assert person.erased_at == after
    assert not PersonIdentifier.objects.filter(person=person).exists()
    record = AdmissionRecord.objects.get(episode__person=person)
    assert (record.contact_name, record.contact_phone, record.contact_email) == ("", "", "")
    assert record.commitment_reason == ""
    assert not Notification.objects.filter(episode__person=person).exclude(recipient="").exists()
    entry = ManifestEntry.objects.get(person=person)
    assert (entry.given_names, entry.data) == ("", {})
    assert not RuleOutcome.objects.filter(entry=entry).exclude(message="").exists()
    assert not SubjectKey.objects.filter(name__in=[f"person:{held.pk}", f"entry:{entry.pk}"])
    # The custody facts stay.
    episode = CustodyEpisode.objects.get(person=person)
    assert (episode.admitted_at, episode.released_at) == (ARRIVED, RELEASED)
    # Nobody finds the erased name any more.
    assert (
        locate(LocatorQuery.build(name="Wilmer Quintanilla", public=False))["matches"][0]["status"]
        == "not_found"
    )

    # The ledger still verifies, and the admission is provable by inclusion proof.
    code, out, _ = run_cli("verify-ledger", "--json")
    assert code == 0, out
    assert json.loads(out)["ok"] is True
    code, out, _ = run_cli("ledger", "proof", "--inclusion", str(admitted.index), "--json")
    assert code == 0
    proof = json.loads(out)
    assert proof["leaf_hash"] == admitted.leaf_hash
    merkle.verify_inclusion(
        proof["index"],
        proof["size"],
        bytes.fromhex(admitted.leaf_hash),
        [bytes.fromhex(h) for h in proof["proof"]],
        bytes.fromhex(proof["root"]),
    )
    assert "Wilmer" not in "".join(LedgerEntry.objects.values_list("canonical", flat=True))

    # Erasing twice is refused; a name put back behind Habeas's back is found.
    with pytest.raises(Conflict):
        person_erase(actor=actor, person=person, reason="again", at=after)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE people_person SET given_names = %s WHERE id = %s", ["Wilmer", person.pk]
        )
    assert [d.where for d in compare().differences] == [f"people.Person.{person.pk}.given_names"]
    with connection.cursor() as cursor:
        cursor.execute("UPDATE people_person SET given_names = '' WHERE id = %s", [person.pk])


def test_custody_under_no_agreement_is_kept_for_the_default_period(
    actor: Any, world: dict[str, Any]
) -> None:
    from habeas.agreements.models import DEFAULT_RETENTION_DAYS
    from tests.conftest import admit, make_person

    person = make_person(actor)
    admit(actor, person, world["tec"], None, at=ARRIVED, cell="M1-01")
    custody_release(actor=actor, person=person, reason="court_order", at=RELEASED)
    erasable = RELEASED + dt.timedelta(days=DEFAULT_RETENTION_DAYS)
    with pytest.raises(Conflict, match=r"\(none: held under no agreement\)"):
        person_erase(actor=actor, person=person, reason="r", at=erasable - dt.timedelta(days=1))
    person_erase(actor=actor, person=person, reason="r", at=erasable)
    assert Person.objects.get(pk=person.pk).erased_at == erasable
