"""Replay of agreement events for table-vs-ledger verification (habeas.ledger.replay)."""

from __future__ import annotations

from typing import Any

from habeas.ledger.replay import State, amend, day, dec, handles, snapshot

J = "agreements.Jurisdiction"
A = "agreements.Agreement"
AF = "agreements.Agreement.facilities"
NORM = {"starts": day, "ends": day, "per_person_day": dec}
AGREEMENT_FIELDS = (
    "code", "sending_id", "receiving_id", "policy", "policy_options", "max_persons", "starts",
    "ends", "currency", "per_person_day", "day_count", "retention_days",
)  # fmt: skip


def _agreement_row(values: dict[str, Any]) -> dict[str, Any]:
    return {k: NORM.get(k, lambda v: v)(values.get(k)) for k in AGREEMENT_FIELDS}


@handles("agreements.jurisdiction_declared")
def _jurisdiction(state: State, p: dict[str, Any]) -> None:
    j = p["jurisdiction"]
    state.setdefault(J, {})[j["id"]] = {"code": j["code"], "name": j["name"]}


@handles("agreements.jurisdiction_amended")
def _jurisdiction_amended(state: State, p: dict[str, Any]) -> None:
    amend(state.setdefault(J, {}), p["id"], p["changes"])


@handles("agreements.agreement_declared")
def _agreement(state: State, p: dict[str, Any]) -> None:
    a = p["agreement"]
    state.setdefault(A, {})[a["id"]] = _agreement_row(a)


@handles("agreements.agreement_amended")
def _agreement_amended(state: State, p: dict[str, Any]) -> None:
    amend(state.setdefault(A, {}), p["id"], p["changes"], NORM)


@handles("agreements.agreement_facilities_set")
def _facilities(state: State, p: dict[str, Any]) -> None:
    state.setdefault(AF, {})[p["id"]] = {"facilities": sorted(p["facilities"][1])}


@snapshot
def _tables() -> State:
    from habeas.agreements.models import Agreement, Jurisdiction

    agreements = list(Agreement.objects.prefetch_related("facilities"))
    return {
        J: {j.pk: {"code": j.code, "name": j.name} for j in Jurisdiction.objects.all()},
        A: {a.pk: _agreement_row({k: getattr(a, k) for k in AGREEMENT_FIELDS}) for a in agreements},
        AF: {
            a.pk: {"facilities": sorted(f.code for f in a.facilities.all())}
            for a in agreements
            if a.facilities.all()
        },
    }
