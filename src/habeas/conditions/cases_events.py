"""Ledger actions of incidents, sanctions and complaints (imported by
:mod:`habeas.conditions.events`, so the registry's autodiscovery declares them).

Personal data (ARCHITECTURE.md, "Personal data and the ledger"): an incident's description,
who among the next of kin was told and the closing note are committed under the incident's
own key (``incident:<id>``: the description may name several people; erasing any of them
destroys it, :func:`_incident_keys`); a sanction's reason and a complaint's text and answer
under the person's key. Kinds, times, codes, roles, the authority and its reference stay in
clear.

Complaints are entered under the subject ``complaint:<id>``, never ``person:<id>``: a
person's history (the page, the PDF) is read by subject, and a confidential complaint must
not show there to the facility's staff, not even as a neutral line (Mandela Rule 56(3)).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from habeas.core.events import (
    Action,
    Committed,
    Payload,
    State,
    covers,
    declare,
    instant,
    subject_keys,
)

INC = "conditions.Incident"
INP = "conditions.IncidentPerson"
SAN = "conditions.Sanction"
COM = "conditions.Complaint"


def incident_key(incident_id: int) -> str:
    return f"incident:{incident_id}"


def _incident_key(subject: str, p: dict[str, Any]) -> str:
    return incident_key(p["id"])


def _person_key(subject: str, p: dict[str, Any]) -> str:
    return f"person:{p['person_id']}"


# --- incidents -------------------------------------------------------------------------------


class IncidentPersonPayload(Payload):
    id: int
    person_id: int
    role: str
    admission_record: int | None


class IncidentRecordedPayload(Payload):
    id: int
    facility: str
    kind: str
    occurred_at: dt.datetime
    place: str
    description: str | Committed
    recorded_by: str
    recorded_at: dt.datetime
    people: list[IncidentPersonPayload]


class IncidentReportedPayload(Payload):
    id: int
    authority: str
    reported_at: dt.datetime
    reference: str


class IncidentKinNotifiedPayload(Payload):
    id: int
    notified: str | Committed
    how: str
    at: dt.datetime


class IncidentClosedPayload(Payload):
    id: int
    closed_at: dt.datetime
    closed_by: str
    #: absent when the incident was closed without a note (an empty body is not committed)
    note: str | Committed | None = None


def _recorded(state: State, p: dict[str, Any]) -> None:
    state.setdefault(INC, {})[p["id"]] = {
        "facility": p["facility"],
        "kind": p["kind"],
        "occurred_at": instant(p["occurred_at"]),
        "place": p["place"],
        "description": p["description"],
        "status": "open",
        "recorded_by": p["recorded_by"],
        "recorded_at": instant(p["recorded_at"]),
        "authority": "",
        "authority_reported_at": None,
        "authority_reference": "",
        "kin_notified_how": "",
        "kin_notified_at": None,
        "closed_at": None,
        "closed_by": "",
    }
    people = state.setdefault(INP, {})
    for row in p["people"]:
        people[row["id"]] = {
            "incident_id": p["id"],
            "person_id": row["person_id"],
            "role": row["role"],
            "admission_record_id": row["admission_record"],
        }


def _reported(state: State, p: dict[str, Any]) -> None:
    row = state.setdefault(INC, {}).setdefault(p["id"], {})
    row["authority"] = p["authority"]
    row["authority_reported_at"] = instant(p["reported_at"])
    row["authority_reference"] = p["reference"]


def _kin_notified(state: State, p: dict[str, Any]) -> None:
    row = state.setdefault(INC, {}).setdefault(p["id"], {})
    row["kin_notified"] = p["notified"]
    row["kin_notified_how"] = p["how"]
    row["kin_notified_at"] = instant(p["at"])


def _closed(state: State, p: dict[str, Any]) -> None:
    row = state.setdefault(INC, {}).setdefault(p["id"], {})
    row["status"] = "closed"
    row["closed_at"] = instant(p["closed_at"])
    row["closed_by"] = p["closed_by"]
    if p.get("note"):
        row["closing_note"] = p["note"]


def _kind_label(kind: str) -> str:
    from habeas.conditions.cases_models import IncidentKind

    try:
        return str(IncidentKind(kind).label)
    except ValueError:
        return kind


def _recorded_summary(p: dict[str, Any], show_cells: bool) -> str:
    return _("Incident recorded: %(kind)s at %(facility)s") % {
        "kind": _kind_label(p.get("kind", "")),
        "facility": p.get("facility", ""),
    }


def _reported_summary(p: dict[str, Any], show_cells: bool) -> str:
    return _("Incident reported to %(authority)s (reference %(reference)s)") % {
        "authority": p.get("authority", ""),
        "reference": p.get("reference", ""),
    }


def _kin_summary(p: dict[str, Any], show_cells: bool) -> str:
    return _("Next of kin notified (%(how)s)") % {"how": p.get("how", "")}


def _closed_summary(p: dict[str, Any], show_cells: bool) -> str:
    return _("Incident closed")


# --- sanctions -------------------------------------------------------------------------------


class SanctionImposedPayload(Payload):
    id: int
    person_id: int
    facility: str
    measure: str
    reason: str | Committed
    starts_at: dt.datetime
    ends_at: dt.datetime | None
    imposed_by: str


def _imposed(state: State, p: dict[str, Any]) -> None:
    state.setdefault(SAN, {})[p["id"]] = {
        "person_id": p["person_id"],
        "facility": p["facility"],
        "measure": p["measure"],
        "reason": p["reason"],
        "starts_at": instant(p["starts_at"]),
        "ends_at": instant(p["ends_at"]),
        "imposed_by": p["imposed_by"],
    }


def _imposed_summary(p: dict[str, Any], show_cells: bool) -> str:
    from habeas.conditions.cases_models import SanctionMeasure

    measure = p.get("measure", "")
    label = SanctionMeasure(measure).label if measure in SanctionMeasure.values else measure
    return _("Disciplinary sanction: %(measure)s") % {"measure": label}


# --- complaints ------------------------------------------------------------------------------


class ComplaintFiledPayload(Payload):
    id: int
    person_id: int
    facility: str
    kind: str
    category: str
    filer: str
    confidential: bool
    text: str | Committed
    received_at: dt.datetime
    recorded_by: str
    acknowledge_by: dt.datetime
    answer_by: dt.datetime


class ComplaintStatusPayload(Payload):
    id: int
    person_id: int
    status: str
    at: dt.datetime
    answer: str | Committed | None = None


def _filed(state: State, p: dict[str, Any]) -> None:
    state.setdefault(COM, {})[p["id"]] = {
        "person_id": p["person_id"],
        "facility": p["facility"],
        "kind": p["kind"],
        "category": p["category"],
        "filer": p["filer"],
        "confidential": p["confidential"],
        "text": p["text"],
        "status": "received",
        "received_at": instant(p["received_at"]),
        "recorded_by": p["recorded_by"],
        "acknowledge_by": instant(p["acknowledge_by"]),
        "answer_by": instant(p["answer_by"]),
        "acknowledged_at": None,
        "answered_at": None,
        "closed_at": None,
    }


def _status_changed(state: State, p: dict[str, Any]) -> None:
    row = state.setdefault(COM, {}).setdefault(p["id"], {})
    row["status"] = p["status"]
    at = instant(p["at"])
    if p["status"] == "under_review":
        row["acknowledged_at"] = at
    elif p["status"] == "answered":
        row["answered_at"] = at
        if row.get("acknowledged_at") is None:
            row["acknowledged_at"] = at
        row["answer"] = p["answer"]
    elif p["status"] == "closed":
        row["closed_at"] = at


def _neutral(p: dict[str, Any], show_cells: bool) -> str:
    # Neutral: neither the category nor whether it is confidential.
    return _("Complaint or request %(id)s recorded") % {"id": p.get("id", "")}


def _status_summary(p: dict[str, Any], show_cells: bool) -> str:
    return _("Complaint or request %(id)s: status changed") % {"id": p.get("id", "")}


declare(
    Action(
        "conditions.incident_recorded",
        schema=IncidentRecordedPayload,
        label=pgettext_lazy("ledger action", "Incident recorded"),
        personal=("description",),
        key=_incident_key,
        replay=_recorded,
        summary=_recorded_summary,
        housing=None,
    ),
    Action(
        "conditions.incident_reported",
        schema=IncidentReportedPayload,
        label=pgettext_lazy("ledger action", "Incident reported to the authority"),
        key=_incident_key,
        replay=_reported,
        summary=_reported_summary,
        housing=None,
    ),
    Action(
        "conditions.incident_kin_notified",
        schema=IncidentKinNotifiedPayload,
        label=pgettext_lazy("ledger action", "Next of kin notified"),
        personal=("notified",),
        key=_incident_key,
        replay=_kin_notified,
        summary=_kin_summary,
        housing=None,
    ),
    Action(
        "conditions.incident_closed",
        schema=IncidentClosedPayload,
        label=pgettext_lazy("ledger action", "Incident closed"),
        personal=("note",),
        key=_incident_key,
        replay=_closed,
        summary=_closed_summary,
        housing=None,
    ),
    Action(
        "conditions.sanction_imposed",
        schema=SanctionImposedPayload,
        label=pgettext_lazy("ledger action", "Disciplinary sanction imposed"),
        personal=("reason",),
        key=_person_key,
        replay=_imposed,
        summary=_imposed_summary,
        housing=None,
    ),
    Action(
        "conditions.complaint_filed",
        schema=ComplaintFiledPayload,
        label=pgettext_lazy("ledger action", "Complaint or request recorded"),
        personal=("text",),
        key=_person_key,
        replay=_filed,
        summary=_neutral,
        housing=None,
    ),
    Action(
        "conditions.complaint_status_changed",
        schema=ComplaintStatusPayload,
        label=pgettext_lazy("ledger action", "Complaint or request status changed"),
        personal=("answer",),
        key=_person_key,
        replay=_status_changed,
        summary=_status_summary,
        housing=None,
    ),
)


def _optional(row: Any, *fields: str) -> dict[str, Any]:
    """Personal fields that are still empty are left out of the snapshot (a replay sets them
    only when their event happened; an empty body has no commitment on the ledger)."""
    return {f: row[f] for f in fields if row[f]}


@covers(
    INC,
    personal=("description", "kin_notified", "closing_note"),
    key=lambda iid, row: incident_key(iid),
)
def _incidents() -> dict[Any, dict[str, Any]]:
    from habeas.conditions.cases_models import Incident

    return {
        i["id"]: {
            "facility": i["facility__code"],
            "kind": i["kind"],
            "occurred_at": instant(i["occurred_at"]),
            "place": i["place"],
            "description": i["description"],
            "status": i["status"],
            "recorded_by": i["recorded_by"],
            "recorded_at": instant(i["recorded_at"]),
            "authority": i["authority"],
            "authority_reported_at": instant(i["authority_reported_at"]),
            "authority_reference": i["authority_reference"],
            "kin_notified_how": i["kin_notified_how"],
            "kin_notified_at": instant(i["kin_notified_at"]),
            "closed_at": instant(i["closed_at"]),
            "closed_by": i["closed_by"],
            **_optional(i, "kin_notified", "closing_note"),
        }
        for i in Incident.objects.values(
            "id", "facility__code", "kind", "occurred_at", "place", "description", "status",
            "recorded_by", "recorded_at", "authority", "authority_reported_at",
            "authority_reference", "kin_notified", "kin_notified_how", "kin_notified_at",
            "closed_at", "closed_by", "closing_note",
        )
    }  # fmt: skip


@covers(INP)
def _incident_people() -> dict[Any, dict[str, Any]]:
    from habeas.conditions.cases_models import IncidentPerson

    return {
        r["id"]: {
            "incident_id": r["incident_id"],
            "person_id": r["person_id"],
            "role": r["role"],
            "admission_record_id": r["admission_record_id"],
        }
        for r in IncidentPerson.objects.values(
            "id", "incident_id", "person_id", "role", "admission_record_id"
        )
    }


@covers(SAN, personal=("reason",), key=lambda sid, row: f"person:{row['person_id']}")
def _sanctions() -> dict[Any, dict[str, Any]]:
    from habeas.conditions.cases_models import Sanction

    return {
        s["id"]: {
            "person_id": s["person_id"],
            "facility": s["facility__code"],
            "measure": s["measure"],
            "reason": s["reason"],
            "starts_at": instant(s["starts_at"]),
            "ends_at": instant(s["ends_at"]),
            "imposed_by": s["imposed_by"],
        }
        for s in Sanction.objects.values(
            "id", "person_id", "facility__code", "measure", "reason", "starts_at", "ends_at",
            "imposed_by",
        )
    }  # fmt: skip


@covers(COM, personal=("text", "answer"), key=lambda cid, row: f"person:{row['person_id']}")
def _complaints() -> dict[Any, dict[str, Any]]:
    from habeas.conditions.cases_models import Complaint

    return {
        c["id"]: {
            "person_id": c["person_id"],
            "facility": c["facility__code"],
            "kind": c["kind"],
            "category": c["category"],
            "filer": c["filer"],
            "confidential": c["confidential"],
            "text": c["text"],
            "status": c["status"],
            "received_at": instant(c["received_at"]),
            "recorded_by": c["recorded_by"],
            "acknowledge_by": instant(c["acknowledge_by"]),
            "answer_by": instant(c["answer_by"]),
            "acknowledged_at": instant(c["acknowledged_at"]),
            "answered_at": instant(c["answered_at"]),
            "closed_at": instant(c["closed_at"]),
            **_optional(c, "answer"),
        }
        for c in Complaint.objects.values(
            "id", "person_id", "facility__code", "kind", "category", "filer", "confidential",
            "text", "status", "received_at", "recorded_by", "acknowledge_by", "answer_by",
            "acknowledged_at", "answered_at", "closed_at", "answer",
        )
    }  # fmt: skip


@subject_keys
def _incident_keys(person_id: int) -> list[str]:
    """An incident's description may name everyone involved: erasing any of them destroys
    the incident's key (and its bodies go with the erasure)."""
    from habeas.conditions.cases_models import IncidentPerson

    return [
        incident_key(pk)
        for pk in IncidentPerson.objects.filter(person_id=person_id).values_list(
            "incident_id", flat=True
        )
    ]
