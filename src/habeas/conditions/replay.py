"""Replay of conditions events for table-vs-ledger verification (habeas.ledger.replay)."""

from __future__ import annotations

from typing import Any

from habeas.ledger.replay import State, handles, instant, snapshot

A = "conditions.AlertAcknowledgement"


@handles("conditions.alert_acknowledged")
def _acknowledged(state: State, p: dict[str, Any]) -> None:
    state.setdefault(A, {})[p["id"]] = {
        "alert": p["alert"],
        "since": p["since"],
        "facility": p["facility"],
        "note": p["note"],
        "acknowledged_by": p["acknowledged_by"],
        "acknowledged_at": instant(p["acknowledged_at"]),
    }


@snapshot
def _tables() -> State:
    from habeas.conditions.models import AlertAcknowledgement

    return {
        A: {
            a["id"]: {
                "alert": a["alert"],
                "since": a["since"],
                "facility": a["facility__code"],
                "note": a["note"],
                "acknowledged_by": a["acknowledged_by"],
                "acknowledged_at": instant(a["acknowledged_at"]),
            }
            for a in AlertAcknowledgement.objects.values(
                "id", "alert", "since", "facility__code", "note", "acknowledged_by",
                "acknowledged_at",
            )
        }
    }  # fmt: skip
