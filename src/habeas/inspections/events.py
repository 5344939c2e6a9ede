"""Ledger actions of inspections (OPCAT arts. 4, 14, 20; Mandela Rules 83-85).

What is personal (ARCHITECTURE.md, "Personal data and the ledger"):

* an interview's interviewee (the person's registry id, or the staff account) is committed
  under the inspection's key ``inspection:<id>``: who spoke to the inspectors is a reprisal
  risk (OPCAT art. 21(1)), and the ledger is read by auditors and copied by witnesses. The
  ledger proves that an interview happened, when and in which inspection; never with whom
  in clear, and never what was said (there is no content anywhere to record);
* a finding's or recommendation's text, its owner, the facility's response text and the
  closure note are free text written about a facility, and free text names people ("the
  officer on night duty in M2"): committed under ``facility:<code>``, as alert
  acknowledgements' notes are. The kind, deadline, citation, the response (accepted,
  partially, rejected) and the status stay in clear: oversight can prove that a
  recommendation was made and answered, and when.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from habeas.core.events import Action, Committed, Payload, State, covers, day, declare, instant

B = "inspections.InspectionBody"
M = "inspections.BodyMember"
N = "inspections.Inspection"
V = "inspections.Interview"
F = "inspections.Finding"


def _inspection_key(subject: str, p: dict[str, Any]) -> str:
    return f"inspection:{p['inspection']}"


def _facility_key(subject: str, p: dict[str, Any]) -> str:
    return f"facility:{p['facility']}"


# --- replays -------------------------------------------------------------------------------


def _body_registered(state: State, p: dict[str, Any]) -> None:
    state.setdefault(B, {})[p["id"]] = {
        "name": p["name"],
        "kind": p["kind"],
        "mandate": p["mandate"],
        "facility_codes": list(p["facility_codes"]),
        "registered_at": instant(p["registered_at"]),
    }


def _inspector_appointed(state: State, p: dict[str, Any]) -> None:
    state.setdefault(M, {})[p["id"]] = {
        "body": p["body"],
        "user": p["user"],
        "appointed_at": instant(p["appointed_at"]),
    }


def _arrived(state: State, p: dict[str, Any]) -> None:
    state.setdefault(N, {})[p["id"]] = {
        "body": p["body"],
        "facility": p["facility"],
        "announced": p["announced"],
        "arrived_at": instant(p["arrived_at"]),
        "inspectors": list(p["inspectors"]),
        "gate_status": "arrived",
        "admitted_at": None,
        "gate_reason": "",
        "gate_recorded_by": "",
        "ended_at": None,
        "report_published_at": None,
    }


def _gate(state: State, p: dict[str, Any]) -> None:
    state.setdefault(N, {}).setdefault(p["id"], {}).update(
        gate_status=p["gate_status"],
        admitted_at=instant(p["admitted_at"]),
        gate_reason=p["gate_reason"],
        gate_recorded_by=p["recorded_by"],
    )


def _ended(state: State, p: dict[str, Any]) -> None:
    state.setdefault(N, {}).setdefault(p["id"], {})["ended_at"] = instant(p["ended_at"])


def _published(state: State, p: dict[str, Any]) -> None:
    row = state.setdefault(N, {}).setdefault(p["id"], {})
    row["report_published_at"] = instant(p["published_at"])


def _interviewed(state: State, p: dict[str, Any]) -> None:
    state.setdefault(V, {})[p["id"]] = {
        "inspection": p["inspection"],
        "kind": p["kind"],
        "interviewee": p["interviewee"],
        "at": instant(p["at"]),
        "recorded_by": p["recorded_by"],
    }


def _finding_recorded(state: State, p: dict[str, Any]) -> None:
    state.setdefault(F, {})[p["id"]] = {
        "inspection": p["inspection"],
        "facility": p["facility"],
        "number": p["number"],
        "kind": p["kind"],
        "text": p["text"],
        "citation": p["citation"],
        "owner": p["owner"],
        "deadline": day(p["deadline"]),
        "status": "open",
        "response": "",
        "responded_at": None,
        "responded_by": "",
        "closed_at": None,
        "recorded_at": instant(p["recorded_at"]),
    }


def _finding_responded(state: State, p: dict[str, Any]) -> None:
    state.setdefault(F, {}).setdefault(p["id"], {}).update(
        status="responded",
        response=p["response"],
        response_text=p["response_text"],
        responded_at=instant(p["responded_at"]),
        responded_by=p["responded_by"],
    )


def _finding_closed(state: State, p: dict[str, Any]) -> None:
    state.setdefault(F, {}).setdefault(p["id"], {}).update(
        status="closed", closed_at=instant(p["closed_at"]), closure_note=p["closure_note"]
    )


# --- summaries -----------------------------------------------------------------------------


def _arrived_summary(payload: dict[str, Any], show_cells: bool) -> str:
    return _("Inspectors arrived at %(facility)s") % {"facility": payload.get("facility", "")}


# --- payload schemas -----------------------------------------------------------------------


class BodyRegisteredPayload(Payload):
    id: int
    name: str
    kind: str
    mandate: str
    facility_codes: list[str]
    registered_at: dt.datetime


class InspectorAppointedPayload(Payload):
    id: int
    body: int
    user: int
    appointed_at: dt.datetime


class ArrivedPayload(Payload):
    id: int
    body: int
    facility: str
    announced: bool
    arrived_at: dt.datetime
    inspectors: list[str]


class GatePayload(Payload):
    id: int
    facility: str
    gate_status: str
    admitted_at: dt.datetime | None
    gate_reason: str
    delay_minutes: int | None
    recorded_by: str


class EndedPayload(Payload):
    id: int
    facility: str
    ended_at: dt.datetime


class PublishedPayload(Payload):
    id: int
    facility: str
    published_at: dt.datetime


class InterviewedPayload(Payload):
    id: int
    inspection: int
    kind: str
    #: ``person:<id>`` or ``user:<id>``, committed under ``inspection:<id>``.
    interviewee: str | Committed
    at: dt.datetime
    recorded_by: str


class FindingRecordedPayload(Payload):
    id: int
    inspection: int
    facility: str
    number: int
    kind: str
    text: str | Committed
    citation: str
    owner: str | Committed
    deadline: dt.date
    recorded_at: dt.datetime


class FindingRespondedPayload(Payload):
    id: int
    facility: str
    response: str
    response_text: str | Committed
    responded_at: dt.datetime
    responded_by: str


class FindingClosedPayload(Payload):
    id: int
    facility: str
    closed_at: dt.datetime
    closure_note: str | Committed


declare(
    Action(
        "inspections.body_registered",
        schema=BodyRegisteredPayload,
        label=pgettext_lazy("ledger action", "Inspection body registered"),
        replay=_body_registered,
        housing=None,
    ),
    Action(
        "inspections.inspector_appointed",
        schema=InspectorAppointedPayload,
        label=pgettext_lazy("ledger action", "Inspector appointed"),
        replay=_inspector_appointed,
        housing=None,
    ),
    Action(
        "inspections.arrived",
        schema=ArrivedPayload,
        label=pgettext_lazy("ledger action", "Inspectors arrived"),
        replay=_arrived,
        summary=_arrived_summary,
        housing=None,
    ),
    Action(
        "inspections.gate_recorded",
        schema=GatePayload,
        label=pgettext_lazy("ledger action", "Inspectors admitted or refused"),
        replay=_gate,
        housing=None,
    ),
    Action(
        "inspections.ended",
        schema=EndedPayload,
        label=pgettext_lazy("ledger action", "Inspection ended"),
        replay=_ended,
        housing=None,
    ),
    Action(
        "inspections.report_published",
        schema=PublishedPayload,
        label=pgettext_lazy("ledger action", "Inspection report published"),
        replay=_published,
        housing=None,
    ),
    Action(
        "inspections.interview_recorded",
        schema=InterviewedPayload,
        label=pgettext_lazy("ledger action", "Private interview recorded"),
        personal=("interviewee",),
        key=_inspection_key,
        replay=_interviewed,
        housing=None,
    ),
    Action(
        "inspections.finding_recorded",
        schema=FindingRecordedPayload,
        label=pgettext_lazy("ledger action", "Finding or recommendation recorded"),
        personal=("text", "owner"),
        key=_facility_key,
        replay=_finding_recorded,
        housing=None,
    ),
    Action(
        "inspections.finding_responded",
        schema=FindingRespondedPayload,
        label=pgettext_lazy("ledger action", "Facility responded to a recommendation"),
        personal=("response_text",),
        key=_facility_key,
        replay=_finding_responded,
        housing=None,
    ),
    Action(
        "inspections.finding_closed",
        schema=FindingClosedPayload,
        label=pgettext_lazy("ledger action", "Recommendation closed"),
        personal=("closure_note",),
        key=_facility_key,
        replay=_finding_closed,
        housing=None,
    ),
)


# --- covered tables ------------------------------------------------------------------------


@covers(B)
def _bodies() -> dict[Any, dict[str, Any]]:
    from habeas.inspections.models import InspectionBody

    return {
        b["id"]: {
            "name": b["name"],
            "kind": b["kind"],
            "mandate": b["mandate"],
            "facility_codes": list(b["facility_codes"]),
            "registered_at": instant(b["registered_at"]),
        }
        for b in InspectionBody.objects.values(
            "id", "name", "kind", "mandate", "facility_codes", "registered_at"
        )
    }


@covers(M)
def _members() -> dict[Any, dict[str, Any]]:
    from habeas.inspections.models import BodyMember

    return {
        m["id"]: {
            "body": m["body_id"],
            "user": m["user_id"],
            "appointed_at": instant(m["appointed_at"]),
        }
        for m in BodyMember.objects.values("id", "body_id", "user_id", "appointed_at")
    }


@covers(N)
def _inspections() -> dict[Any, dict[str, Any]]:
    from habeas.inspections.models import Inspection

    return {
        i["id"]: {
            "body": i["body_id"],
            "facility": i["facility__code"],
            "announced": i["announced"],
            "arrived_at": instant(i["arrived_at"]),
            "inspectors": list(i["inspectors"]),
            "gate_status": i["gate_status"],
            "admitted_at": instant(i["admitted_at"]),
            "gate_reason": i["gate_reason"],
            "gate_recorded_by": i["gate_recorded_by"],
            "ended_at": instant(i["ended_at"]),
            "report_published_at": instant(i["report_published_at"]),
        }
        for i in Inspection.objects.values(
            "id", "body_id", "facility__code", "announced", "arrived_at", "inspectors",
            "gate_status", "admitted_at", "gate_reason", "gate_recorded_by", "ended_at",
            "report_published_at",
        )
    }  # fmt: skip


def interviewee(person_id: int | None, staff_id: int | None) -> str:
    """The interviewee as committed on the ledger: ``person:<id>`` or ``user:<id>``."""
    return f"person:{person_id}" if person_id is not None else f"user:{staff_id}"


@covers(
    V,
    personal=("interviewee",),
    key=lambda vid, row: f"inspection:{row['inspection']}",
)
def _interviews() -> dict[Any, dict[str, Any]]:
    from habeas.inspections.models import Interview

    return {
        v["id"]: {
            "inspection": v["inspection_id"],
            "kind": v["kind"],
            "interviewee": interviewee(v["person_id"], v["staff_id"]),
            "at": instant(v["at"]),
            "recorded_by": v["recorded_by"],
        }
        for v in Interview.objects.values(
            "id", "inspection_id", "kind", "person_id", "staff_id", "at", "recorded_by"
        )
    }


@covers(
    F,
    personal=("text", "owner", "response_text", "closure_note"),
    key=lambda fid, row: f"facility:{row['facility']}",
)
def _findings() -> dict[Any, dict[str, Any]]:
    from habeas.inspections.models import Finding

    def texts(f: Any) -> dict[str, Any]:
        # A response and a closure note are committed once written; before, the row holds
        # none (a commitment of "" would not match a replay that has not seen them yet).
        return {k: f[k] for k in ("response_text", "closure_note") if f[k] != ""}

    return {
        f["id"]: {
            **texts(f),
            "inspection": f["inspection_id"],
            "facility": f["inspection__facility__code"],
            "number": f["number"],
            "kind": f["kind"],
            "text": f["text"],
            "citation": f["citation"],
            "owner": f["owner"],
            "deadline": day(f["deadline"]),
            "status": f["status"],
            "response": f["response"],
            "responded_at": instant(f["responded_at"]),
            "responded_by": f["responded_by"],
            "closed_at": instant(f["closed_at"]),
            "recorded_at": instant(f["recorded_at"]),
        }
        for f in Finding.objects.values(
            "id", "inspection_id", "inspection__facility__code", "number", "kind", "text",
            "citation", "owner", "deadline", "status", "response", "response_text",
            "responded_at", "responded_by", "closed_at", "closure_note", "recorded_at",
        )
    }  # fmt: skip
