"""Ledger actions of transfers: manifests, their entries and rule outcomes, admission records
(Mandela Rule 7) and notifications (VCCR art. 36(1)(b); Mandela Rule 68).

Personal on the ledger, as commitments: a manifest row's data and names and the rule messages
that quote them (under the row's key ``entry:<id>``, since its person may never be known); the
Rule 7 record's injuries, complaints, property, family and contact (Mandela Rules 7(d), 8,
9); a notification's recipient and its payload (relatives' contacts). Decisions, rule codes
and outcomes, counts, times and ids stay in clear.
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
    day,
    declare,
    instant,
    on_appended,
    subject_keys,
)

M = "transfers.Manifest"
ME = "transfers.ManifestEntry"
RO = "transfers.RuleOutcome"
AR = "transfers.AdmissionRecord"
N = "transfers.Notification"
ID = "transfers.IdentityDecision"

ENTRY_PERSONAL = ("data", "given_names", "first_surname", "second_surname")
RULE_PERSONAL = ("message", "message_es")
RECORD_PERSONAL = (
    "gender_identity", "commitment_reason", "arrest_place", "visible_injuries",
    "ill_treatment_complaint", "property_items", "family", "contact_name", "contact_relation",
    "contact_phone", "contact_email",
)  # fmt: skip
RECORD_TIMES = ("arrest_at", "rights_informed_at", "completed_at", "updated_at")
NOTIFICATION_PERSONAL = ("recipient", "payload")
IDENTITY_PERSONAL = ("reason",)


def entry_key(entry_id: Any) -> str:
    return f"entry:{entry_id}"


def _imported(state: State, p: dict[str, Any]) -> None:
    m = p["manifest"]
    state.setdefault(M, {})[m["id"]] = {
        "ref": m["ref"],
        "agreement": m["agreement"],
        "content_sha256": m["sha256"],
        "filename": m["filename"],
        "file_format": m["format"],
        "rows": m["rows"],
        "decided_on": day(m["decided_on"]),
        "imported_at": instant(m["imported_at"]),
        "imported_by": m["imported_by"],
        "eligible": m["counts"]["eligible"],
        "needs_review": m["counts"]["needs_review"],
        "ineligible": m["counts"]["ineligible"],
    }


def _decided(state: State, p: dict[str, Any]) -> None:
    e = p["entry"]
    state.setdefault(ME, {})[e["id"]] = {
        "manifest": e["manifest"],
        "row": e["row"],
        "sending_ref": e["sending_ref"],
        **{k: e[k] for k in ENTRY_PERSONAL},
        "decision": e["decision"],
        "decided_on": day(e["decided_on"]),
        "status": "decided",
        "person_id": e["person"],
        "matched_existing": e["matched_existing"],
        "match_score": e["match_score"],
        "candidates": e["candidates"],
        "accepted_at": None,
        "accepted_by": "",
        "reviewed": False,
        "episode_id": None,
    }
    outcomes = state.setdefault(RO, {})
    for position, r in enumerate(e["rules"]):
        outcomes[f"{e['id']}/{position}"] = {"entry_id": e["id"], **r}


def _accepted(state: State, p: dict[str, Any]) -> None:
    entries = state.setdefault(ME, {})
    for a in p["accepted"]:
        entries.setdefault(a["id"], {}).update(
            status="accepted",
            accepted_at=instant(p["at"]),
            accepted_by=p["by"],
            reviewed=a["reviewed"],
        )


def _withdrawn(state: State, p: dict[str, Any]) -> None:
    """An acceptance withdrawn: the entry is decided again, its place given back."""
    entries = state.setdefault(ME, {})
    for w in p["withdrawn"]:
        entries.setdefault(w["id"], {}).update(
            status="decided", accepted_at=None, accepted_by="", reviewed=False
        )


def _withdrawn_summary(payload: dict[str, Any], show_cells: bool) -> str:
    return _("Acceptance of %(refs)s withdrawn from manifest %(manifest)s; reason: %(reason)s") % {
        "refs": ", ".join(w["sending_ref"] for w in payload.get("withdrawn") or []),
        "manifest": payload.get("manifest", ""),
        "reason": payload.get("reason", ""),
    }


def _identity(state: State, p: dict[str, Any]) -> None:
    """A possible match judged: the judgement per entry and person, and the entry's link
    to a registry person as it stands after it."""
    state.setdefault(ID, {})[p["id"]] = {
        "entry_id": p["entry"],
        "person_id": p["person"],
        "verdict": p["verdict"],
        "reason": p["reason"],
        "decided_at": instant(p["at"]),
        "decided_by": p["by"],
    }
    state.setdefault(ME, {}).setdefault(p["entry"], {}).update(
        person_id=p["linked"], matched_existing=p["matched_existing"]
    )


def _identity_summary(payload: dict[str, Any], show_cells: bool) -> str:
    words = {
        "ref": payload.get("sending_ref", ""),
        "manifest": payload.get("manifest", ""),
        "person": payload.get("person", ""),
    }
    if payload.get("verdict") == "same":
        return (
            _(
                "Entry %(ref)s of manifest %(manifest)s judged the same person as registry "
                "person %(person)s"
            )
            % words
        )
    return (
        _(
            "Entry %(ref)s of manifest %(manifest)s judged a different person from registry "
            "person %(person)s"
        )
        % words
    )


def _record(state: State, p: dict[str, Any]) -> None:
    r = dict(p["record"])
    contact = r.pop("contact")
    row = {k: v for k, v in r.items() if k not in ("id", "episode", "person")}
    row.update({f"contact_{k}": v for k, v in contact.items()})
    for k in RECORD_TIMES:
        row[k] = instant(row[k])
    row["episode_id"] = r["episode"]
    row["person_id"] = r["person"]
    state.setdefault(AR, {})[r["id"]] = row
    if p.get("entry") is not None:
        state.setdefault(ME, {}).setdefault(p["entry"], {}).update(
            status="admitted", episode_id=r["episode"], person_id=r["person"]
        )


def _notification(state: State, p: dict[str, Any]) -> None:
    n = p["notification"]
    state.setdefault(N, {})[n["id"]] = {
        "episode_id": n["episode"],
        "person_id": n["person"],
        "kind": n["kind"],
        "country": n["country"],
        "recipient": n["recipient"],
        "language": n["language"],
        "queued_at": instant(n["queued_at"]),
        "payload": n["payload"],
    }  # an old entry's "status" (always "queued" or "no_recipient") is not state: see the row


def _notification_summary(payload: dict[str, Any], show_cells: bool) -> str:
    """What was due at admission; the delivery's own status is on the person page, never a
    "queued" written once and left."""
    n = payload.get("notification") or {}
    if n.get("kind") == "consular":
        return _("Admission notice due to the consulate of %(country)s (VCCR art. 36)") % {
            "country": n.get("country", "")
        }
    return _("Admission notice due to the family (Mandela Rule 68)")


def _record_key(subject: str, payload: dict[str, Any]) -> str:
    return f"person:{payload['record']['person']}"


# --- payload schemas (Action.schema) -------------------------------------------------------


class ManifestRow(Payload):
    id: int
    ref: str
    agreement: str
    sha256: str
    filename: str
    format: str
    imported_at: dt.datetime
    imported_by: str
    rows: int
    decided_on: dt.date
    counts: dict[str, int]


class ManifestImportedPayload(Payload):
    manifest: ManifestRow


class RuleResult(Payload):
    rule: str
    outcome: str
    message: str | Committed
    message_es: str | Committed
    source: str


class DecidedEntry(Payload):
    id: int
    manifest: str
    row: int
    sending_ref: str
    data: dict[str, Any] | Committed
    given_names: str | Committed
    first_surname: str | Committed
    second_surname: str | Committed
    decision: str
    decided_on: dt.date
    person: int | None
    matched_existing: bool
    match_score: float | None
    candidates: list[Any]
    rules: list[RuleResult]


class EntryDecidedPayload(Payload):
    entry: DecidedEntry


class AcceptedEntry(Payload):
    id: int
    sending_ref: str
    reviewed: bool


class ManifestAcceptedPayload(Payload):
    manifest: str
    agreement: str
    at: dt.datetime
    by: str
    accepted: list[AcceptedEntry]


class WithdrawnEntry(Payload):
    id: int
    sending_ref: str


class AcceptanceWithdrawnPayload(Payload):
    manifest: str
    agreement: str
    at: dt.datetime
    by: str
    reason: str
    withdrawn: list[WithdrawnEntry]


class IdentityDecidedPayload(Payload):
    """A possible match judged by a person (``verdict`` ``same`` or ``different``);
    ``linked`` and ``matched_existing``: the entry's registry person after the judgement."""

    id: int
    manifest: str
    entry: int
    sending_ref: str
    person: int
    verdict: str
    reason: str | Committed
    at: dt.datetime
    by: str
    linked: int | None
    matched_existing: bool


class RecordContact(Payload):
    name: str | Committed
    relation: str | Committed
    phone: str | Committed
    email: str | Committed


class RecordRow(Payload):
    id: int
    episode: int
    person: int
    version: int
    updated_at: dt.datetime
    gender_identity: str | Committed
    commitment_reason: str | Committed
    commitment_authority: str
    arrest_at: dt.datetime | None
    arrest_place: str | Committed
    visible_injuries: str | Committed
    ill_treatment_complaint: str | Committed
    property_items: list[Any] | Committed
    family: list[Any] | Committed
    contact: RecordContact
    rights_language: str
    rights_informed_at: dt.datetime | None
    completed_at: dt.datetime | None


class AdmissionRecordedPayload(Payload):
    """On admission from a manifest, with its ``manifest`` and ``entry``; on a later update of
    the record, the record alone."""

    manifest: str | None = None
    entry: int | None = None
    record: RecordRow


class NotificationRow(Payload):
    id: int
    episode: int
    person: int
    kind: str
    country: str
    recipient: str | Committed
    language: str
    #: Written by entries made before the status was left to the delivery (notifications).
    status: str | None = None
    queued_at: dt.datetime
    payload: dict[str, Any] | Committed


class NotificationQueuedPayload(Payload):
    notification: NotificationRow


declare(
    Action(
        "transfers.manifest_imported",
        schema=ManifestImportedPayload,
        label=pgettext_lazy("ledger action", "Manifest imported"),
        replay=_imported,
        housing=None,
    ),
    Action(
        "transfers.entry_decided",
        schema=EntryDecidedPayload,
        label=pgettext_lazy("ledger action", "Manifest entry decided"),
        personal=tuple(f"entry.{f}" for f in ENTRY_PERSONAL)
        + tuple(f"entry.rules.*.{f}" for f in RULE_PERSONAL),
        key=lambda subject, p: entry_key(p["entry"]["id"]),
        replay=_decided,
        housing=None,
    ),
    Action(
        "transfers.manifest_accepted",
        schema=ManifestAcceptedPayload,
        label=pgettext_lazy("ledger action", "Manifest accepted"),
        replay=_accepted,
        housing=None,
    ),
    Action(
        "transfers.acceptance_withdrawn",
        schema=AcceptanceWithdrawnPayload,
        label=pgettext_lazy("ledger action", "Acceptance withdrawn"),
        replay=_withdrawn,
        summary=_withdrawn_summary,
        housing=None,
    ),
    Action(
        "transfers.identity_decided",
        schema=IdentityDecidedPayload,
        label=pgettext_lazy("ledger action", "Possible match judged"),
        personal=tuple(IDENTITY_PERSONAL),
        key=lambda subject, p: entry_key(p["entry"]),
        replay=_identity,
        summary=_identity_summary,
        housing=None,
    ),
    Action(
        "transfers.admission_recorded",
        schema=AdmissionRecordedPayload,
        label=pgettext_lazy("ledger action", "Admission record"),
        personal=tuple(
            f"record.{f}" if not f.startswith("contact_") else f"record.contact.{f[8:]}"
            for f in RECORD_PERSONAL
        ),
        key=_record_key,
        replay=_record,
        housing=None,
    ),
    Action(
        "transfers.notification_queued",
        schema=NotificationQueuedPayload,
        label=pgettext_lazy("ledger action", "Admission notice due"),
        personal=tuple(f"notification.{f}" for f in NOTIFICATION_PERSONAL),
        key=lambda subject, p: f"person:{p['notification']['person']}",
        replay=_notification,
        summary=_notification_summary,
        housing=None,
    ),
)


@covers(M)
def _manifests() -> dict[Any, dict[str, Any]]:
    from habeas.transfers.models import Manifest

    rows: dict[Any, dict[str, Any]] = {}
    m: Any
    for m in Manifest.objects.values(
            "id", "ref", "agreement__code", "content_sha256", "filename", "file_format", "rows",
            "decided_on", "imported_at", "imported_by", "eligible", "needs_review", "ineligible",
    ):  # fmt: skip
        m["agreement"] = m.pop("agreement__code")
        m["decided_on"] = day(m["decided_on"])
        m["imported_at"] = instant(m["imported_at"])
        rows[m.pop("id")] = m
    return rows


@covers(ME, personal=ENTRY_PERSONAL, key=lambda eid, row: entry_key(eid))
def _entries() -> dict[Any, dict[str, Any]]:
    from habeas.transfers.models import ManifestEntry

    rows: dict[Any, dict[str, Any]] = {}
    e: Any
    for e in ManifestEntry.objects.values(
            "id", "manifest__ref", "row", "sending_ref", *ENTRY_PERSONAL, "decision",
            "decided_on", "status", "person_id", "matched_existing", "match_score", "candidates",
            "accepted_at", "accepted_by", "reviewed", "episode_id",
    ).iterator(chunk_size=5000):  # fmt: skip
        e["manifest"] = e.pop("manifest__ref")
        e["decided_on"] = day(e["decided_on"])
        e["accepted_at"] = instant(e["accepted_at"])
        rows[e.pop("id")] = e
    return rows


@covers(RO, personal=RULE_PERSONAL, key=lambda rid, row: entry_key(row["entry_id"]))
def _outcomes() -> dict[Any, dict[str, Any]]:
    from habeas.transfers.models import RuleOutcome

    return {
        f"{o['entry_id']}/{o['position']}": {
            "entry_id": o["entry_id"],
            "rule": o["rule"],
            "outcome": o["outcome"],
            "message": o["message"],
            "message_es": o["message_es"],
            "source": o["source"],
        }
        for o in RuleOutcome.objects.values(
            "entry_id", "position", "rule", "outcome", "message", "message_es", "source"
        ).iterator(chunk_size=10000)
    }


@covers(ID, personal=IDENTITY_PERSONAL, key=lambda did, row: entry_key(row["entry_id"]))
def _identity_decisions() -> dict[Any, dict[str, Any]]:
    from habeas.transfers.models import IdentityDecision

    rows: dict[Any, dict[str, Any]] = {}
    d: Any
    for d in IdentityDecision.objects.values(
        "id", "entry_id", "person_id", "verdict", "reason", "decided_at", "decided_by"
    ):
        d["decided_at"] = instant(d["decided_at"])
        rows[d.pop("id")] = d
    return rows


@covers(AR, personal=RECORD_PERSONAL, key=lambda rid, row: f"person:{row['person_id']}")
def _records() -> dict[Any, dict[str, Any]]:
    from habeas.transfers.models import AdmissionRecord

    rows: dict[Any, dict[str, Any]] = {}
    r: Any
    for r in AdmissionRecord.objects.values(
        "id", "episode_id", "episode__person_id", "commitment_authority", "rights_language",
        "version", *RECORD_PERSONAL, *RECORD_TIMES,
    ).iterator(chunk_size=5000):  # fmt: skip
        rid = r.pop("id")
        r["person_id"] = r.pop("episode__person_id")
        for k in RECORD_TIMES:
            r[k] = instant(r[k])
        rows[rid] = r
    return rows


@covers(N, personal=NOTIFICATION_PERSONAL, key=lambda nid, row: f"person:{row['person_id']}")
def _notifications() -> dict[Any, dict[str, Any]]:
    from habeas.transfers.models import Notification

    rows: dict[Any, dict[str, Any]] = {}
    n: Any
    for n in Notification.objects.values(
        "id", "episode_id", "episode__person_id", "kind", "country", "recipient", "language",
        "queued_at", "payload",
    ).iterator(chunk_size=5000):  # fmt: skip
        nid = n.pop("id")
        n["person_id"] = n.pop("episode__person_id")
        n["queued_at"] = instant(n["queued_at"])
        rows[nid] = n
    return rows


@subject_keys
def _entry_keys(person_id: int) -> list[str]:
    """A manifest row matched to a person is committed under its own key (``entry:<id>``):
    erasing the person destroys those keys too."""
    from habeas.transfers.models import ManifestEntry

    return [
        entry_key(pk)
        for pk in ManifestEntry.objects.filter(person_id=person_id).values_list("pk", flat=True)
    ]


@on_appended("people.erased")
def _erase_bodies(events: Sequence[AppendedEvent]) -> None:
    """The person's manifest rows, rule messages, Rule 7 record and notifications lose their
    personal fields with the erasure (their keys are destroyed in the same transaction)."""
    from habeas.core.events import blank_values
    from habeas.transfers.models import (
        AdmissionRecord,
        IdentityDecision,
        ManifestEntry,
        Notification,
        RuleOutcome,
    )

    for event in events:
        pid = event.payload["person"]
        ManifestEntry.objects.filter(person_id=pid).update(
            **blank_values(ManifestEntry, ENTRY_PERSONAL)
        )
        RuleOutcome.objects.filter(entry__person_id=pid).update(
            **blank_values(RuleOutcome, RULE_PERSONAL)
        )
        IdentityDecision.objects.filter(entry__person_id=pid).update(
            **blank_values(IdentityDecision, IDENTITY_PERSONAL)
        )
        AdmissionRecord.objects.filter(episode__person_id=pid).update(
            **blank_values(AdmissionRecord, RECORD_PERSONAL)
        )
        Notification.objects.filter(episode__person_id=pid).update(
            **blank_values(Notification, NOTIFICATION_PERSONAL)
        )
