"""Ledger actions of agreements: the jurisdictions and the agreements between them (the
sending and receiving states, the eligibility policy, capacity, dates, fees, retention).

Nothing here is personal: states, codes, policies, amounts and dates are public facts. The
facilities an agreement covers are facilities' table (``Facility.agreements``): the action
that sets them and its table are declared in ``habeas.facilities.events``.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.utils.translation import pgettext_lazy

from habeas.core.events import Action, Payload, State, amend, covers, day, dec, declare

J = "agreements.Jurisdiction"
A = "agreements.Agreement"


def _sentence_rules(value: Any) -> str:
    """Agreements declared before rule sets existed compute release dates by the plain rules."""
    return str(value or "plain")


NORM = {
    "starts": day,
    "ends": day,
    "per_person_day": dec,
    "sentence_rules": _sentence_rules,
}
AGREEMENT_FIELDS = (
    "code", "sending_id", "receiving_id", "policy", "policy_options", "max_persons", "starts",
    "ends", "currency", "per_person_day", "day_count", "retention_days", "sentence_rules",
)  # fmt: skip


def _agreement_row(values: dict[str, Any]) -> dict[str, Any]:
    return {k: NORM.get(k, lambda v: v)(values.get(k)) for k in AGREEMENT_FIELDS}


def _jurisdiction(state: State, p: dict[str, Any]) -> None:
    j = p["jurisdiction"]
    state.setdefault(J, {})[j["id"]] = {"code": j["code"], "name": j["name"]}


def _jurisdiction_amended(state: State, p: dict[str, Any]) -> None:
    amend(state.setdefault(J, {}), p["id"], p["changes"])


def _agreement(state: State, p: dict[str, Any]) -> None:
    a = p["agreement"]
    state.setdefault(A, {})[a["id"]] = _agreement_row(a)


def _agreement_amended(state: State, p: dict[str, Any]) -> None:
    amend(state.setdefault(A, {}), p["id"], p["changes"], NORM)


# --- payload schemas (Action.schema) -------------------------------------------------------


class Changes(Payload):
    """An ``…_amended`` payload: the row and its ``{"field": [old, new]}`` changes."""

    id: int
    changes: dict[str, list[Any]]


class JurisdictionRow(Payload):
    id: int
    code: str
    name: str


class JurisdictionDeclaredPayload(Payload):
    jurisdiction: JurisdictionRow


class JurisdictionAmendedPayload(Changes):
    pass


class AgreementRow(Payload):
    id: int
    code: str
    sending_id: int
    receiving_id: int
    policy: str
    policy_options: dict[str, Any]
    max_persons: int | None
    starts: dt.date
    ends: dt.date | None
    currency: str
    per_person_day: Decimal | None
    day_count: str
    retention_days: int
    sentence_rules: str = "plain"


class AgreementDeclaredPayload(Payload):
    agreement: AgreementRow


class AgreementAmendedPayload(Changes):
    pass


declare(
    Action(
        "agreements.jurisdiction_declared",
        schema=JurisdictionDeclaredPayload,
        label=pgettext_lazy("ledger action", "Jurisdiction declared"),
        replay=_jurisdiction,
        housing=None,
    ),
    Action(
        "agreements.jurisdiction_amended",
        schema=JurisdictionAmendedPayload,
        label=pgettext_lazy("ledger action", "Jurisdiction amended"),
        replay=_jurisdiction_amended,
        housing=None,
    ),
    Action(
        "agreements.agreement_declared",
        schema=AgreementDeclaredPayload,
        label=pgettext_lazy("ledger action", "Agreement declared"),
        replay=_agreement,
        housing=None,
    ),
    Action(
        "agreements.agreement_amended",
        schema=AgreementAmendedPayload,
        label=pgettext_lazy("ledger action", "Agreement amended"),
        replay=_agreement_amended,
        housing=None,
    ),
)


@covers(J)
def _jurisdictions() -> dict[Any, dict[str, Any]]:
    from habeas.agreements.models import Jurisdiction

    return {
        j["id"]: {"code": j["code"], "name": j["name"]}
        for j in Jurisdiction.objects.values("id", "code", "name")
    }


@covers(A)
def _agreements() -> dict[Any, dict[str, Any]]:
    from habeas.agreements.models import Agreement

    return {a["id"]: _agreement_row(a) for a in Agreement.objects.values("id", *AGREEMENT_FIELDS)}
