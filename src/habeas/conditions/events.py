"""Ledger actions of conditions of detention: an officer acknowledges an open alert and says
what is being done (INTERFACES.md, alert status ``acknowledged``).

The acknowledgement's ``note`` is personal, although it is written by staff about a
facility's conditions: it is free text (ARCHITECTURE.md, "Personal data and the ledger"), and
free text about a crowded cell or a missing legal basis names the people concerned ("moved
X to M2", "court order for X requested"); a ``legal_basis`` alert is about one person
outright. It is committed under the key of the alert's subject: ``person:<id>`` for an alert
about a person, so the note goes with that person's erasure; ``facility:<code>`` otherwise.
The alert, its occurrence, the facility, the officer and the time stay in clear: oversight
can prove that an alert was seen and when, and reads the note from the table by role.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from habeas.core.events import Action, Committed, Payload, State, covers, declare, instant

A = "conditions.AlertAcknowledgement"


def note_key(alert: str, facility: str) -> str:
    """The key of an acknowledgement's note: the person an alert is about, else its facility
    (alert ids are ``<kind>:<subject>``, e.g. ``legal_basis:person:12``)."""
    subject = alert.partition(":")[2].partition("#")[0]
    if subject.startswith("person:"):
        return subject
    return f"facility:{facility}"


def _acknowledged(state: State, p: dict[str, Any]) -> None:
    state.setdefault(A, {})[p["id"]] = {
        "alert": p["alert"],
        "since": p["since"],
        "facility": p["facility"],
        "note": p["note"],
        "acknowledged_by": p["acknowledged_by"],
        "acknowledged_at": instant(p["acknowledged_at"]),
    }


def _acknowledged_summary(payload: dict[str, Any], show_cells: bool) -> str:
    return _("Alert %(kind)s acknowledged at %(facility)s") % {
        "kind": str(payload.get("alert", "")).partition(":")[0],
        "facility": payload.get("facility", ""),
    }


# --- payload schema (Action.schema) --------------------------------------------------------


class AlertAcknowledgedPayload(Payload):
    id: int
    alert: str
    since: str
    facility: str
    kind: str
    value: str
    note: str | Committed
    acknowledged_by: str
    acknowledged_at: dt.datetime


declare(
    Action(
        "conditions.alert_acknowledged",
        schema=AlertAcknowledgedPayload,
        label=pgettext_lazy("ledger action", "Alert acknowledged"),
        personal=("note",),
        key=lambda subject, p: note_key(p["alert"], p["facility"]),
        replay=_acknowledged,
        summary=_acknowledged_summary,
        housing=None,
    ),
)


@covers(A, personal=("note",), key=lambda aid, row: note_key(row["alert"], row["facility"]))
def _acknowledgements() -> dict[Any, dict[str, Any]]:
    from habeas.conditions.models import AlertAcknowledgement

    return {
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
    }  # fmt: skip


from habeas.conditions import cases_events, readings_events  # noqa: E402, F401
