"""Ledger actions of the person registry (Mandela Rule 7(a): a unique identity for everyone
held; ARCHITECTURE.md, the one rule and "Personal data and the ledger").

Names, aliases, the date of birth and identifier values are personal: on the ledger they are
commitments under the person's key (``person:<id>``); the sex, nationalities, language and the
precision of the date of birth stay in clear (codes). ``people.erased`` records an erasure:
the key and the bodies are gone, the entries and every proof remain.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from habeas.core.events import (
    ERASED,
    Action,
    Committed,
    Payload,
    State,
    covers,
    day,
    declare,
    instant,
)

P = "people.Person"
PI = "people.PersonIdentifier"
FIELDS = (
    "given_names", "first_surname", "second_surname", "aliases", "date_of_birth",
    "dob_precision", "sex", "nationalities", "language", "erased_at",
)  # fmt: skip
PERSONAL = ("given_names", "first_surname", "second_surname", "aliases", "date_of_birth")


def person_key(person_id: Any) -> str:
    """The name of a person's commitment key (:class:`habeas.ledger.models.SubjectKey`)."""
    return f"person:{person_id}"


def _row(values: dict[str, Any]) -> dict[str, Any]:
    row = {k: values.get(k) for k in FIELDS}
    if not str(row["date_of_birth"] or "").startswith("hmac-sha256:"):
        row["date_of_birth"] = day(row["date_of_birth"])
    row["erased_at"] = instant(row["erased_at"])
    return row


def _identifier(state: State, person_id: Any, ident: dict[str, Any]) -> None:
    state.setdefault(PI, {})[ident["id"]] = {
        "person_id": person_id,
        "authority": ident["authority"],
        "kind": ident["kind"],
        "value": ident["value"],
    }


def _created(state: State, p: dict[str, Any]) -> None:
    person = p["person"]
    state.setdefault(P, {})[person["id"]] = _row(person)
    for ident in person["identifiers"]:
        _identifier(state, person["id"], ident)


def _identifier_added(state: State, p: dict[str, Any]) -> None:
    _identifier(state, p["person"], p["identifier"])


def _erased(state: State, p: dict[str, Any]) -> None:
    pid = p["person"]
    state.setdefault(P, {}).setdefault(pid, {})["erased_at"] = instant(p["erased_at"])
    for name in p["keys"]:
        state.setdefault(ERASED, {})[name] = {"at": p["erased_at"]}
    identifiers = state.setdefault(PI, {})
    for key in p["identifiers"]:
        identifiers.pop(key, None)


def _created_summary(payload: dict[str, Any], show_cells: bool) -> str:
    person = payload.get("person") or {}
    text = _("Registered in the person registry")
    if person.get("nationalities"):
        text += "; " + _("nationality %(codes)s") % {"codes": ", ".join(person["nationalities"])}
    authorities = sorted({i.get("authority", "") for i in person.get("identifiers") or []})
    if authorities:
        text += "; " + _("identifiers issued by %(authorities)s") % {
            "authorities": ", ".join(authorities)
        }
    return text


def _identifier_summary(payload: dict[str, Any], show_cells: bool) -> str:
    ident = payload.get("identifier") or {}
    return _("Identifier issued by %(authority)s added") % {"authority": ident.get("authority", "")}


def _erased_summary(payload: dict[str, Any], show_cells: bool) -> str:
    return _("Personal data erased after the retention period; reason: %(reason)s") % {
        "reason": payload.get("reason", "")
    }


# --- payload schemas (Action.schema) -------------------------------------------------------


class IdentifierRow(Payload):
    id: int
    authority: str
    kind: str
    value: str | Committed


class PersonRow(Payload):
    id: int
    given_names: str | Committed
    first_surname: str | Committed
    second_surname: str | Committed
    aliases: list[str] | Committed
    date_of_birth: dt.date | Committed | None
    dob_precision: str
    sex: str
    nationalities: list[str]
    language: str
    erased_at: dt.datetime | None
    identifiers: list[IdentifierRow]


class CreatedPayload(Payload):
    person: PersonRow


class IdentifierAddedPayload(Payload):
    person: int
    identifier: IdentifierRow


class ErasedPayload(Payload):
    person: int
    erased_at: dt.datetime
    reason: str
    keys: list[str]
    identifiers: list[int]


declare(
    Action(
        "people.created",
        schema=CreatedPayload,
        label=pgettext_lazy("ledger action", "Person registered"),
        personal=(*(f"person.{f}" for f in PERSONAL), "person.identifiers.*.value"),
        replay=_created,
        summary=_created_summary,
        public_history=True,
        housing=None,
    ),
    Action(
        "people.identifier_added",
        schema=IdentifierAddedPayload,
        label=pgettext_lazy("ledger action", "Identifier added"),
        personal=("identifier.value",),
        replay=_identifier_added,
        summary=_identifier_summary,
        public_history=True,
        housing=None,
    ),
    Action(
        "people.erased",
        schema=ErasedPayload,
        label=pgettext_lazy("ledger action", "Personal data erased"),
        replay=_erased,
        summary=_erased_summary,
        public_history=True,
        housing=None,  # names only: no cell, placement or legal basis changes
    ),
)


@covers(P, personal=PERSONAL, key=lambda pid, row: person_key(pid))
def _people() -> dict[Any, dict[str, Any]]:
    from habeas.people.models import Person

    return {
        p["id"]: _row(p) for p in Person.objects.values("id", *FIELDS).iterator(chunk_size=5000)
    }


@covers(PI, personal=("value",), key=lambda iid, row: person_key(row["person_id"]))
def _identifiers() -> dict[Any, dict[str, Any]]:
    from habeas.people.models import PersonIdentifier

    return {
        i["id"]: {
            "person_id": i["person_id"],
            "authority": i["authority"],
            "kind": i["kind"],
            "value": i["value"],
        }
        for i in PersonIdentifier.objects.values("id", "person_id", "authority", "kind", "value")
    }
