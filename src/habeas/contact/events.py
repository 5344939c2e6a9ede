"""Ledger actions of outside contact (Mandela Rules 43(3), 58-62; VCCR art. 36(1)(c); the one
rule).

An entry holds the facts in clear (who was visited, by which kind of visitor, when, whether
the visit took place or why it was refused) and every personal field (the visitor's name,
relation and identity document, a call's counterpart, a note) only as a commitment under the
visited person's key. A lawyer's visit carries no note at all: its content is never recorded,
only that it happened (Rule 61(1)). No entry holds what was said or written.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from habeas.core.events import (
    Action,
    AppendedEvent,
    Committed,
    Payload,
    State,
    covers,
    declare,
    derived,
    instant,
    on_appended,
)

VR = "contact.Visitor"
V = "contact.Visit"
C = "contact.Contact"
R = "contact.ContactRestriction"

VISITOR_PERSONAL = ("name", "relation", "id_document")
VISITOR_FIELDS = ("person_id", "kind", "country", *VISITOR_PERSONAL)
VISIT_FIELDS = (
    "facility_id", "person_id", "visitor_id", "kind", "status", "source", "reason", "note",
    "recorded_by",
)  # fmt: skip
VISIT_TIMES = ("starts_at", "requested_at", "decided_at", "took_place_at")
CONTACT_FIELDS = (
    "facility_id", "person_id", "kind", "counterpart_kind", "counterpart", "recorded_by",
)  # fmt: skip
RESTRICTION_FIELDS = ("person_id", "means", "reason", "note", "decided_by")
RESTRICTION_TIMES = ("starts_at", "ends_at", "lifted_at")


def _person_key(row_id: Any, row: dict[str, Any]) -> str:
    return f"person:{row['person_id']}"


def _times(values: dict[str, Any], names: Sequence[str]) -> dict[str, Any]:
    return {k: instant(values.get(k)) for k in names}


# --- payloads --------------------------------------------------------------------------------


class VisitorRow(Payload):
    id: int
    person_id: int
    kind: str
    country: str
    name: str | Committed
    relation: str | Committed
    id_document: str | Committed
    registered_at: dt.datetime


class VisitorRegisteredPayload(Payload):
    visitor: VisitorRow


class VisitRow(Payload):
    id: int
    facility_id: int
    person_id: int
    visitor_id: int
    kind: str
    status: str
    source: str
    reason: str
    note: str | Committed
    recorded_by: str
    starts_at: dt.datetime
    requested_at: dt.datetime
    decided_at: dt.datetime | None
    took_place_at: dt.datetime | None


class VisitPayload(Payload):
    visit: VisitRow


class VisitChangedPayload(Payload):
    id: int
    person_id: int
    kind: str
    status: str
    at: dt.datetime
    reason: str = ""
    note: str | Committed = ""


class ContactRow(Payload):
    id: int
    facility_id: int
    person_id: int
    kind: str
    counterpart_kind: str
    counterpart: str | Committed
    occurred_at: dt.datetime
    recorded_by: str


class ContactLoggedPayload(Payload):
    contact: ContactRow


class RestrictionRow(Payload):
    id: int
    person_id: int
    means: str
    reason: str
    note: str | Committed
    decided_by: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    lifted_at: dt.datetime | None


class RestrictedPayload(Payload):
    restriction: RestrictionRow


class RestrictionLiftedPayload(Payload):
    id: int
    person_id: int
    lifted_at: dt.datetime


# --- replays ---------------------------------------------------------------------------------


def _visitor(state: State, p: dict[str, Any]) -> None:
    row = p["visitor"]
    state.setdefault(VR, {})[row["id"]] = {
        **{k: row[k] for k in VISITOR_FIELDS},
        "registered_at": instant(row["registered_at"]),
    }


def _visit(state: State, p: dict[str, Any]) -> None:
    row = p["visit"]
    state.setdefault(V, {})[row["id"]] = {
        **{k: row[k] for k in VISIT_FIELDS},
        **_times(row, VISIT_TIMES),
    }


def _visit_changed(state: State, p: dict[str, Any]) -> None:
    row = state.setdefault(V, {}).setdefault(p["id"], {})
    row["status"] = p["status"]
    if p["status"] == "took_place":
        row["took_place_at"] = instant(p["at"])
        row["note"] = p.get("note", "")
    else:
        row["decided_at"] = instant(p["at"])
    if p.get("reason"):
        row["reason"] = p["reason"]


def _contact(state: State, p: dict[str, Any]) -> None:
    row = p["contact"]
    state.setdefault(C, {})[row["id"]] = {
        **{k: row[k] for k in CONTACT_FIELDS},
        "occurred_at": instant(row["occurred_at"]),
    }


def _restricted(state: State, p: dict[str, Any]) -> None:
    row = p["restriction"]
    state.setdefault(R, {})[row["id"]] = {
        **{k: row[k] for k in RESTRICTION_FIELDS},
        **_times(row, RESTRICTION_TIMES),
    }


def _lifted(state: State, p: dict[str, Any]) -> None:
    state.setdefault(R, {}).setdefault(p["id"], {})["lifted_at"] = instant(p["lifted_at"])


# --- history lines (never a personal field) ---------------------------------------------------


def _kind_label(kind: str) -> str:
    from habeas.contact.choices import VisitKind

    try:
        return str(VisitKind(kind).label)
    except ValueError:
        return kind


def _visit_summary(p: dict[str, Any], cells: bool) -> str:
    v = p["visit"]
    return _("Visit %(status)s: %(kind)s, %(at)s") % {
        "status": v["status"],
        "kind": _kind_label(v["kind"]),
        "at": str(v["starts_at"])[:16],
    }


def _changed_summary(p: dict[str, Any], cells: bool) -> str:
    from habeas.contact.choices import VisitEndReason, VisitStatus

    status = str(VisitStatus(p["status"]).label)
    text = _("%(kind)s: %(status)s") % {"kind": _kind_label(p["kind"]), "status": status}
    if p.get("reason"):
        text += " — " + str(VisitEndReason(p["reason"]).label)
    return text


def _contact_summary(p: dict[str, Any], cells: bool) -> str:
    from habeas.contact.choices import ContactKind, Counterpart

    c = p["contact"]
    return _("%(kind)s (%(counterpart)s)") % {
        "kind": ContactKind(c["kind"]).label,
        "counterpart": Counterpart(c["counterpart_kind"]).label,
    }


def _restricted_summary(p: dict[str, Any], cells: bool) -> str:
    from habeas.contact.choices import RestrictionMeans

    r = p["restriction"]
    return _("%(means)s restricted until %(until)s") % {
        "means": RestrictionMeans(r["means"]).label,
        "until": str(r["ends_at"])[:10],
    }


def _person(subject: str, p: dict[str, Any]) -> str:
    return f"person:{p['person_id']}"


declare(
    Action(
        "contact.visitor_registered",
        schema=VisitorRegisteredPayload,
        label=pgettext_lazy("ledger action", "Visitor registered"),
        personal=tuple(f"visitor.{f}" for f in VISITOR_PERSONAL),
        replay=_visitor,
        housing=None,
    ),
    Action(
        "contact.visit_requested",
        schema=VisitPayload,
        label=pgettext_lazy("ledger action", "Visit requested"),
        personal=("visit.note",),
        replay=_visit,
        summary=_visit_summary,
        housing=None,
    ),
    Action(
        "contact.visit_booked",
        schema=VisitPayload,
        label=pgettext_lazy("ledger action", "Visit booked"),
        personal=("visit.note",),
        replay=_visit,
        summary=_visit_summary,
        housing=None,
    ),
    *(
        Action(
            f"contact.visit_{verb}",
            schema=VisitChangedPayload,
            label=label,
            personal=("note",) if verb == "held" else (),
            key=_person,
            replay=_visit_changed,
            summary=_changed_summary,
            housing=None,
        )
        for verb, label in (
            ("confirmed", pgettext_lazy("ledger action", "Visit confirmed")),
            ("held", pgettext_lazy("ledger action", "Visit took place")),
            ("refused", pgettext_lazy("ledger action", "Visit refused")),
            ("cancelled", pgettext_lazy("ledger action", "Visit cancelled")),
        )
    ),
    Action(
        "contact.logged",
        schema=ContactLoggedPayload,
        label=pgettext_lazy("ledger action", "Call or letter logged"),
        personal=("contact.counterpart",),
        replay=_contact,
        summary=_contact_summary,
        housing=None,
    ),
    Action(
        "contact.restricted",
        schema=RestrictedPayload,
        label=pgettext_lazy("ledger action", "Family contact restricted"),
        personal=("restriction.note",),
        replay=_restricted,
        summary=_restricted_summary,
        housing=None,
    ),
    Action(
        "contact.restriction_lifted",
        schema=RestrictionLiftedPayload,
        label=pgettext_lazy("ledger action", "Contact restriction lifted"),
        key=_person,
        replay=_lifted,
        housing=None,
    ),
)

derived(
    "contact.LastContact",
    "the latest visit that took place, call or letter per person: rebuilt from contact.Visit "
    "and contact.Contact (habeas.contact.services.last_contact_rebuild)",
)


# --- snapshots -------------------------------------------------------------------------------


@covers(VR, personal=VISITOR_PERSONAL, key=_person_key)
def _visitors() -> dict[Any, dict[str, Any]]:
    from habeas.contact.models import Visitor

    return {
        v["id"]: {
            **{k: v[k] for k in VISITOR_FIELDS},
            "registered_at": instant(v["registered_at"]),
        }
        for v in Visitor.objects.values("id", *VISITOR_FIELDS, "registered_at")
    }


@covers(V, personal=("note",), key=_person_key)
def _visits() -> dict[Any, dict[str, Any]]:
    from habeas.contact.models import Visit

    return {
        v["id"]: {**{k: v[k] for k in VISIT_FIELDS}, **_times(v, VISIT_TIMES)}
        for v in Visit.objects.values("id", *VISIT_FIELDS, *VISIT_TIMES).iterator(chunk_size=5000)
    }


@covers(C, personal=("counterpart",), key=_person_key)
def _contacts() -> dict[Any, dict[str, Any]]:
    from habeas.contact.models import Contact

    return {
        c["id"]: {**{k: c[k] for k in CONTACT_FIELDS}, "occurred_at": instant(c["occurred_at"])}
        for c in Contact.objects.values("id", *CONTACT_FIELDS, "occurred_at").iterator(
            chunk_size=5000
        )
    }


@covers(R, personal=("note",), key=_person_key)
def _restrictions() -> dict[Any, dict[str, Any]]:
    from habeas.contact.models import ContactRestriction

    return {
        r["id"]: {**{k: r[k] for k in RESTRICTION_FIELDS}, **_times(r, RESTRICTION_TIMES)}
        for r in ContactRestriction.objects.values("id", *RESTRICTION_FIELDS, *RESTRICTION_TIMES)
    }


@on_appended("people.erased")
def _erase_bodies(events: Sequence[AppendedEvent]) -> None:
    """The visitor register, notes and counterparts lose their personal fields with the
    person's erasure; the facts (a visit of which kind, when, refused why) stay."""
    from habeas.contact.models import Contact, ContactRestriction, Visit, Visitor
    from habeas.core.events import blank_values

    for event in events:
        pid = event.payload["person"]
        Visitor.objects.filter(person_id=pid).update(**blank_values(Visitor, VISITOR_PERSONAL))
        Visit.objects.filter(person_id=pid).update(note="")
        Contact.objects.filter(person_id=pid).update(counterpart="")
        ContactRestriction.objects.filter(person_id=pid).update(note="")
