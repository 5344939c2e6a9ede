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
FC = "agreements.FeeChange"


def _sentence_rules(value: Any) -> str:
    """Agreements declared before rule sets existed compute release dates by the plain rules."""
    return str(value or "plain")


NORM = {
    "starts": day,
    "ends": day,
    "per_person_day": dec,
    "monthly_fee": dec,
    "sentence_rules": _sentence_rules,
}
AGREEMENT_FIELDS = (
    "code", "sending_id", "receiving_id", "policy", "policy_options", "max_persons", "starts",
    "ends", "currency", "per_person_day", "day_count", "retention_days", "monthly_fee", "tiers",
    "sentence_rules",
)  # fmt: skip
FEE_CHANGE_FIELDS = ("agreement_id", "effective_from", "per_person_day", "monthly_fee", "tiers")
FEE_NORM = {"effective_from": day, "per_person_day": dec, "monthly_fee": dec}


def _fee_change_row(values: dict[str, Any]) -> dict[str, Any]:
    return {k: FEE_NORM.get(k, lambda v: v)(values.get(k)) for k in FEE_CHANGE_FIELDS}


def _agreement_row(values: dict[str, Any]) -> dict[str, Any]:
    row = {k: NORM.get(k, lambda v: v)(values.get(k)) for k in AGREEMENT_FIELDS}
    # Entries written before the fixed fee and tiers existed: the schedule had neither.
    row["monthly_fee"] = row["monthly_fee"] or dec(0)
    row["tiers"] = row["tiers"] or []
    return row


def _fee_change(state: State, p: dict[str, Any]) -> None:
    c = p["fee_change"]
    state.setdefault(FC, {})[c["id"]] = _fee_change_row(c)


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
    monthly_fee: Decimal | None = None
    tiers: list[dict[str, Any]] | None = None


class FeeChangeRow(Payload):
    id: int
    agreement_id: int
    effective_from: dt.date
    per_person_day: Decimal | None
    monthly_fee: Decimal | None
    tiers: list[dict[str, Any]] | None


class FeeChangeRecordedPayload(Payload):
    fee_change: FeeChangeRow


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
    Action(
        "agreements.fee_change_recorded",
        schema=FeeChangeRecordedPayload,
        label=pgettext_lazy("ledger action", "Fee change recorded"),
        replay=_fee_change,
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


@covers(FC)
def _fee_changes() -> dict[Any, dict[str, Any]]:
    from habeas.agreements.models import FeeChange

    return {c["id"]: _fee_change_row(c) for c in FeeChange.objects.values("id", *FEE_CHANGE_FIELDS)}
