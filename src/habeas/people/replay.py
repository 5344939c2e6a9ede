"""Replay of registry events for table-vs-ledger verification (habeas.ledger.replay)."""

from __future__ import annotations

from typing import Any

from habeas.ledger.replay import State, day, handles, snapshot

P = "people.Person"
PI = "people.Person.identifiers"
FIELDS = (
    "given_names", "first_surname", "second_surname", "aliases", "date_of_birth",
    "dob_precision", "sex", "nationalities", "language",
)  # fmt: skip


def _row(values: dict[str, Any]) -> dict[str, Any]:
    row = {k: values.get(k) for k in FIELDS}
    row["date_of_birth"] = day(row["date_of_birth"])
    return row


@handles("people.created")
def _created(state: State, p: dict[str, Any]) -> None:
    person = p["person"]
    state.setdefault(P, {})[person["id"]] = _row(person)
    if person["identifiers"]:
        state.setdefault(PI, {})[person["id"]] = {
            "identifiers": sorted(
                [i["authority"], i["kind"], i["value"]] for i in person["identifiers"]
            )
        }


@snapshot
def _tables() -> State:
    from habeas.people.models import Person, PersonIdentifier

    identifiers: dict[int, list[list[str]]] = {}
    for pid, a, k, v in PersonIdentifier.objects.values_list(
        "person_id", "authority", "kind", "value"
    ):
        identifiers.setdefault(pid, []).append([a, k, v])
    return {
        P: {
            p["id"]: _row(p) for p in Person.objects.values("id", *FIELDS).iterator(chunk_size=5000)
        },
        PI: {pid: {"identifiers": sorted(ids)} for pid, ids in identifiers.items()},
    }
