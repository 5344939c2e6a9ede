"""Ledger actions of custody: admission, release and temporary absences (Mandela Rules 7(b)
and 7(c): the legal basis, the day and hour of admission, release and every movement; the one
rule, item 6).

Personal on the ledger, as commitments under the person's key (``person:<id>``): the free text
written about the person — a legal basis's ``offence``, the commitment reason an intake adds
to the admission, a release ``note``, and an absence's ``destination`` (a hospital, a
relative's address), ``reason``, ``escort`` and ``kind_other`` (what the absence is, for
"other"). Kinds, codes, references, times, ids, facilities, cells, sentence lengths, the
release destination (a country code), authorities' names and decisions stay in clear: they
are the custody facts oversight must be able to prove after an erasure.

A summary never quotes a personal field: the person page shows those from the tables, scoped
by role.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from habeas.core.events import (
    Action,
    Committed,
    Payload,
    State,
    covers,
    day,
    declare,
    derived,
    instant,
)
from habeas.custody.choices import AbsenceKind, LegalBasisKind, ReleaseReason

E = "custody.CustodyEpisode"
EB = "custody.CustodyEpisode.legal_bases"
B = "custody.LegalBasis"
TA = "custody.TemporaryAbsence"
BASIS_FIELDS = (
    "kind", "ref", "authority", "status_in_sending_state", "order_date", "removal_protection",
    "offence", "conviction_date", "judgment_final", "sentence", "sentence_start",
    "custody_credit_days", "consent", "ends_on", "status", "ended_on", "supersedes_id",
    "credit_forfeited_days", "protection_on",
)  # fmt: skip
BASIS_DATES = ("order_date", "conviction_date", "sentence_start", "ends_on", "ended_on",
               "protection_on")  # fmt: skip
#: What a basis recorded before amendments existed holds in the columns they added.
BASIS_DEFAULTS = {"status": "active", "credit_forfeited_days": 0}
CA = "custody.CreditAdjustment"
RC = "custody.ReleaseCalculation"
AL = "custody.CustodyAlarm"
BASIS_PERSONAL = ("offence",)
EPISODE_PERSONAL = ("release_note",)
ABSENCE_TEXT = (
    "kind", "kind_other", "destination", "authority", "reason", "escort", "ended_how",
    "recorded_by", "ended_by",
)  # fmt: skip
ABSENCE_PERSONAL = ("kind_other", "destination", "reason", "escort")


def _person_key(row_id: Any, row: dict[str, Any]) -> str:
    return f"person:{row['person_id']}"


def _label(choices: Any, value: Any) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return str(value)


# --- replays ------------------------------------------------------------------------------


def _basis(values: dict[str, Any], person: Any) -> dict[str, Any]:
    row = {k: values.get(k, BASIS_DEFAULTS.get(k)) for k in BASIS_FIELDS}
    if "supersedes" in values:
        row["supersedes_id"] = values["supersedes"]
    if "ends_on" not in values and values.get("sentence") and values.get("sentence_start"):
        from habeas.custody.release import full_term_less_credit

        try:
            row["ends_on"] = full_term_less_credit(
                values["sentence"],
                dt.date.fromisoformat(str(values["sentence_start"])[:10]),
                int(values.get("custody_credit_days") or 0),
            )
        except ValueError:
            row["ends_on"] = None
    for k in BASIS_DATES:
        row[k] = day(row[k])
    row["person_id"] = person
    return row


def _admitted(state: State, p: dict[str, Any]) -> None:
    ep = p["episode"]
    state.setdefault(E, {})[ep["id"]] = {
        "person_id": ep["person"],
        "facility": ep["facility"],
        "agreement": ep["agreement"],
        "admitted_at": instant(ep["admitted_at"]),
        "released_at": None,
        "release_reason": "",
        "release_destination": "",
    }
    state.setdefault(EB, {})[ep["id"]] = {"legal_bases": sorted(ep["legal_bases"])}
    for b in p["legal_bases"]:
        state.setdefault(B, {})[b["id"]] = _basis(b, b["person"])
    if p.get("calculation"):
        _calculated(state, {"calculation": p["calculation"]})


def _absence_closed(state: State, ended: dict[str, Any]) -> None:
    state.setdefault(TA, {}).setdefault(ended["id"], {}).update(
        ended_at=instant(ended["ended_at"]), ended_how=ended["how"], ended_by=ended["ended_by"]
    )


def _released(state: State, p: dict[str, Any]) -> None:
    ep = p["episode"]
    row = state.setdefault(E, {}).setdefault(ep["id"], {})
    row.update(
        released_at=instant(ep["released_at"]),
        release_reason=ep["reason"],
        release_destination=ep["destination"],
        release_note=ep.get("note", ""),
    )
    if p.get("absence_ended"):
        _absence_closed(state, p["absence_ended"])


def _absence_started(state: State, p: dict[str, Any]) -> None:
    a = p["absence"]
    state.setdefault(TA, {})[a["id"]] = {
        "episode_id": a["episode"],
        "person_id": p["person"],
        "kind": a["kind"],
        "kind_other": a["kind_other"],
        "destination": a["destination"],
        "authority": a["authority"],
        "reason": a["reason"],
        "escort": a["escort"],
        "started_at": instant(a["started_at"]),
        "expected_return_at": instant(a["expected_return_at"]),
        "ended_at": None,
        "ended_how": "",
        "recorded_by": a["recorded_by"],
        "ended_by": "",
    }


def _absence_ended(state: State, p: dict[str, Any]) -> None:
    _absence_closed(state, p["absence"])


# --- summaries (the person's history) -------------------------------------------------------


def _admitted_summary(payload: dict[str, Any], show_cells: bool) -> str:
    episode = payload.get("episode") or {}
    kinds = ", ".join(
        _label(LegalBasisKind, b.get("kind")) for b in payload.get("legal_bases") or []
    )
    if episode.get("agreement"):
        text = _("Admitted to %(facility)s under agreement %(agreement)s") % {
            "facility": episode.get("facility", ""),
            "agreement": episode["agreement"],
        }
    else:
        text = _("Admitted to %(facility)s") % {"facility": episode.get("facility", "")}
    if kinds:
        text += "; " + _("legal basis: %(kinds)s") % {"kinds": kinds}
    placement = payload.get("placement") or {}
    if show_cells and placement.get("cell"):
        text += "; " + _("placed in cell %(cell)s") % {"cell": placement["cell"]}
    return text


def _released_summary(payload: dict[str, Any], show_cells: bool) -> str:
    """The reason and the country; the release note is personal (the person page shows it)."""
    episode = payload.get("episode") or {}
    text = _("Released: %(reason)s") % {"reason": _label(ReleaseReason, episode.get("reason"))}
    if episode.get("destination"):
        text += "; " + _("destination %(country)s") % {"country": episode["destination"]}
    if payload.get("absence_ended"):
        text += "; " + _("while out of the facility: the absence ends with the release")
    return text


def _absence_started_summary(payload: dict[str, Any], show_cells: bool) -> str:
    """Mandela Rule 7(c): what kind of absence, on whose authority, escorted or not. Where to,
    why and with whom are personal: the person page shows them from the table."""
    absence = payload.get("absence") or {}
    text = _("Left the facility: %(kind)s") % {"kind": _label(AbsenceKind, absence.get("kind"))}
    if absence.get("authority"):
        text += "; " + _("authority: %(authority)s") % {"authority": absence["authority"]}
    return text


def _absence_ended_summary(payload: dict[str, Any], show_cells: bool) -> str:
    return _("Returned to the facility")


# --- payload schemas (Action.schema) -------------------------------------------------------


class AdmittedEpisode(Payload):
    id: int
    person: int
    facility: str
    agreement: str | None
    admitted_at: dt.datetime
    legal_bases: list[int]


class LegalBasisRow(Payload):
    id: int
    person: int
    kind: str
    ref: str
    authority: str
    status_in_sending_state: str
    order_date: dt.date | None
    removal_protection: bool
    offence: str | Committed
    conviction_date: dt.date | None
    judgment_final: bool | None
    sentence: str
    sentence_start: dt.date | None
    custody_credit_days: int
    consent: str
    ends_on: dt.date | None = None
    status: str = "active"
    ended_on: dt.date | None = None
    supersedes: int | None = None
    credit_forfeited_days: int = 0
    protection_on: dt.date | None = None


class FirstPlacement(Payload):
    id: int
    cell: str
    started_at: dt.datetime
    reason: str


class AdmittedRecord(Payload):
    """What an admission from a manifest adds (``AdmissionSpec.extra``)."""

    manifest: str
    sending_ref: str
    commitment_reason: str | Committed
    commitment_authority: str
    rights_language: str


class CalculationRow(Payload):
    id: int
    episode: int
    person: int
    rule_set: str
    version: str
    inputs: dict[str, Any]
    inputs_sha: str
    release_date: dt.date | None
    full_term: dt.date | None
    working: list[Any]
    calculated_at: dt.datetime


class AdmittedPayload(Payload):
    episode: AdmittedEpisode
    legal_bases: list[LegalBasisRow]
    placement: FirstPlacement | None = None
    record: AdmittedRecord | None = None
    #: The release date calculated from the sentences admitted (habeas.custody.calculations).
    calculation: CalculationRow | None = None


class ReleasedEpisode(Payload):
    id: int
    released_at: dt.datetime
    reason: str
    destination: str
    note: str | Committed


class EndedAbsence(Payload):
    id: int
    episode: int
    ended_at: dt.datetime
    how: str
    ended_by: str


class ReleasedPayload(Payload):
    episode: ReleasedEpisode
    absence_ended: EndedAbsence | None = None
    #: Releases recorded before housing listened to them name the placement they closed.
    placement_ended: dict[str, Any] | None = None


class StartedAbsence(Payload):
    id: int
    episode: int
    kind: str
    kind_other: str | Committed
    destination: str | Committed
    authority: str
    reason: str | Committed
    escort: str | Committed
    started_at: dt.datetime
    expected_return_at: dt.datetime | None
    recorded_by: str


class AbsenceStartedPayload(Payload):
    person: int
    facility: str
    absence: StartedAbsence


class AbsenceEndedPayload(Payload):
    person: int
    absence: EndedAbsence


declare(
    Action(
        "custody.admitted",
        schema=AdmittedPayload,
        label=pgettext_lazy("ledger action", "Admitted"),
        personal=("legal_bases.*.offence", "record.commitment_reason"),
        replay=_admitted,
        summary=_admitted_summary,
        housing="placements",
        public_history=True,
    ),
    Action(
        "custody.released",
        schema=ReleasedPayload,
        label=pgettext_lazy("ledger action", "Released"),
        personal=("episode.note",),
        replay=_released,
        summary=_released_summary,
        housing="placements",
        public_history=True,
    ),
    Action(
        "custody.absence_started",
        schema=AbsenceStartedPayload,
        label=pgettext_lazy("ledger action", "Left the facility"),
        personal=tuple(f"absence.{f}" for f in ABSENCE_PERSONAL),
        key=lambda subject, p: f"person:{p['person']}",
        replay=_absence_started,
        summary=_absence_started_summary,
        housing=None,  # out at court, in hospital...: the bed is kept
    ),
    Action(
        "custody.absence_ended",
        schema=AbsenceEndedPayload,
        label=pgettext_lazy("ledger action", "Returned to the facility"),
        replay=_absence_ended,
        summary=_absence_ended_summary,
        housing=None,
    ),
)


# --- the custody lifecycle: amendments, credit, release dates, alarms -----------------------


def _replaced(state: State, p: dict[str, Any]) -> None:
    old = state.setdefault(B, {}).setdefault(p["basis"], {})
    old.update(status="superseded", ended_on=day(p["on"]))
    new = p["new"]
    state[B][new["id"]] = _basis(new, new["person"])
    for ep in p["episodes"]:
        links = state.setdefault(EB, {}).setdefault(ep, {"legal_bases": []})
        links["legal_bases"] = sorted({*links["legal_bases"], new["id"]})


def _vacated(state: State, p: dict[str, Any]) -> None:
    state.setdefault(B, {}).setdefault(p["basis"], {}).update(
        status="vacated", ended_on=day(p["on"])
    )


def _protected(state: State, p: dict[str, Any]) -> None:
    state.setdefault(B, {}).setdefault(p["basis"], {}).update(
        removal_protection=True, protection_on=day(p["on"])
    )


def _credit(state: State, p: dict[str, Any]) -> None:
    a = p["adjustment"]
    state.setdefault(CA, {})[a["id"]] = {
        "basis_id": a["basis"],
        "person_id": p["person"],
        "change": a["change"],
        "days": a["days"],
        "on": day(a["on"]),
        "reason": a["reason"],
        "recorded_by": a["recorded_by"],
    }
    state.setdefault(B, {}).setdefault(a["basis"], {})["credit_forfeited_days"] = p[
        "forfeited_days"
    ]


def _calculation_row(c: dict[str, Any]) -> dict[str, Any]:
    return {
        "episode_id": c["episode"],
        "rule_set": c["rule_set"],
        "version": c["version"],
        "inputs": c["inputs"],
        "inputs_sha": c["inputs_sha"],
        "release_date": day(c["release_date"]),
        "full_term": day(c["full_term"]),
        "working": c["working"],
        "calculated_at": instant(c["calculated_at"]),
    }


def _calculated(state: State, p: dict[str, Any]) -> None:
    c = p["calculation"]
    state.setdefault(RC, {})[c["id"]] = _calculation_row(c)


def _alarm_opened(state: State, p: dict[str, Any]) -> None:
    a = p["alarm"]
    state.setdefault(AL, {})[a["id"]] = {
        "episode_id": a["episode"],
        "rule": a["rule"],
        "citation": a["citation"],
        "value": a["value"],
        "since": day(a["since"]),
        "status": "open",
        "opened_at": instant(a["opened_at"]),
        "closed_at": None,
    }


def _alarm_closed(state: State, p: dict[str, Any]) -> None:
    state.setdefault(AL, {}).setdefault(p["alarm"], {}).update(
        status="closed", closed_at=instant(p["closed_at"])
    )


def _replaced_summary(payload: dict[str, Any], show_cells: bool) -> str:
    new = payload.get("new") or {}
    if "original_full_term" in payload:
        return _("Sentence converted from %(on)s: %(sentence)s (ETS 112 arts. 9-11)") % {
            "on": payload.get("on", ""),
            "sentence": new.get("sentence", ""),
        }
    return _("Sentence changed by a court from %(on)s: %(sentence)s") % {
        "on": payload.get("on", ""),
        "sentence": new.get("sentence", ""),
    }


def _vacated_summary(payload: dict[str, Any], show_cells: bool) -> str:
    return _("Legal basis vacated from %(on)s by %(authority)s") % {
        "on": payload.get("on", ""),
        "authority": payload.get("authority", ""),
    }


def _protected_summary(payload: dict[str, Any], show_cells: bool) -> str:
    return _("Protection order against removal recorded (%(authority)s)") % {
        "authority": payload.get("authority", "")
    }


def _credit_summary(payload: dict[str, Any], show_cells: bool) -> str:
    a = payload.get("adjustment") or {}
    if a.get("change") == "restored":
        return _("%(days)s days of good conduct time restored") % {"days": a.get("days")}
    return _("%(days)s days of good conduct time forfeited") % {"days": a.get("days")}


def _calculated_summary(payload: dict[str, Any], show_cells: bool) -> str:
    c = payload.get("calculation") or {}
    date = c.get("release_date") or _("none")
    return _("Release date calculated (%(rules)s): %(date)s") % {
        "rules": c.get("version", ""),
        "date": date,
    }


def _alarm_opened_summary(payload: dict[str, Any], show_cells: bool) -> str:
    a = payload.get("alarm") or {}
    return _("Alarm %(rule)s opened (%(citation)s)") % {
        "rule": a.get("rule", ""),
        "citation": a.get("citation", ""),
    }


def _alarm_closed_summary(payload: dict[str, Any], show_cells: bool) -> str:
    return _("Alarm %(rule)s closed") % {"rule": payload.get("rule", "")}


class BasisReplacedPayload(Payload):
    person: int
    basis: int
    on: dt.date
    episodes: list[int]
    new: LegalBasisRow
    original_full_term: dt.date | None = None
    converted_full_term: dt.date | None = None


class BasisDecisionPayload(Payload):
    person: int
    basis: int
    on: dt.date
    authority: str
    ref: str


class CreditAdjustmentRow(Payload):
    id: int
    basis: int
    change: str
    days: int
    on: dt.date
    reason: str | Committed
    recorded_by: str


class CreditChangedPayload(Payload):
    person: int
    adjustment: CreditAdjustmentRow
    forfeited_days: int


class ReleaseCalculatedPayload(Payload):
    calculation: CalculationRow
    previous_release_date: dt.date | None
    recalculated: bool


class AlarmRow(Payload):
    id: int
    episode: int
    person: int
    rule: str
    citation: str
    value: str
    since: dt.date
    opened_at: dt.datetime


class AlarmOpenedPayload(Payload):
    alarm: AlarmRow


class AlarmClosedPayload(Payload):
    alarm: int
    person: int
    rule: str
    closed_at: dt.datetime


declare(
    Action(
        "custody.sentence_changed",
        schema=BasisReplacedPayload,
        label=pgettext_lazy("ledger action", "Sentence changed"),
        personal=("new.offence",),
        key=lambda subject, p: f"person:{p['person']}",
        replay=_replaced,
        summary=_replaced_summary,
        housing=None,
        public_history=True,
    ),
    Action(
        "custody.sentence_converted",
        schema=BasisReplacedPayload,
        label=pgettext_lazy("ledger action", "Sentence converted"),
        personal=("new.offence",),
        key=lambda subject, p: f"person:{p['person']}",
        replay=_replaced,
        summary=_replaced_summary,
        housing=None,
        public_history=True,
    ),
    Action(
        "custody.basis_vacated",
        schema=BasisDecisionPayload,
        label=pgettext_lazy("ledger action", "Legal basis vacated"),
        replay=_vacated,
        summary=_vacated_summary,
        housing=None,
        public_history=True,
    ),
    Action(
        "custody.protection_recorded",
        schema=BasisDecisionPayload,
        label=pgettext_lazy("ledger action", "Protection order recorded"),
        replay=_protected,
        summary=_protected_summary,
        housing=None,
        public_history=True,
    ),
    Action(
        "custody.credit_changed",
        schema=CreditChangedPayload,
        label=pgettext_lazy("ledger action", "Good conduct time changed"),
        personal=("adjustment.reason",),
        key=lambda subject, p: f"person:{p['person']}",
        replay=_credit,
        summary=_credit_summary,
        housing=None,
        public_history=True,
    ),
    Action(
        "custody.release_calculated",
        schema=ReleaseCalculatedPayload,
        label=pgettext_lazy("ledger action", "Release date calculated"),
        replay=_calculated,
        summary=_calculated_summary,
        housing=None,
        public_history=True,
    ),
    Action(
        "custody.alarm_opened",
        schema=AlarmOpenedPayload,
        label=pgettext_lazy("ledger action", "Alarm opened"),
        replay=_alarm_opened,
        summary=_alarm_opened_summary,
        housing=None,
        public_history=True,
    ),
    Action(
        "custody.alarm_closed",
        schema=AlarmClosedPayload,
        label=pgettext_lazy("ledger action", "Alarm closed"),
        replay=_alarm_closed,
        summary=_alarm_closed_summary,
        housing=None,
        public_history=True,
    ),
)


# --- snapshots ----------------------------------------------------------------------------


def _episode_row(e: Mapping[str, Any]) -> dict[str, Any]:
    """The release note is on the ledger from the release on (as a commitment): an open
    episode's row has none, unless one was written behind Habeas's back."""
    row = {
        "person_id": e["person_id"],
        "facility": e["facility__code"],
        "agreement": e["agreement__code"],
        "admitted_at": instant(e["admitted_at"]),
        "released_at": instant(e["released_at"]),
        "release_reason": e["release_reason"],
        "release_destination": e["release_destination"],
    }
    if e["released_at"] is not None or e["release_note"]:
        row["release_note"] = e["release_note"]
    return row


@covers(E, personal=EPISODE_PERSONAL, key=_person_key)
def _episodes() -> dict[Any, dict[str, Any]]:
    from habeas.custody.models import CustodyEpisode

    return {
        e["id"]: _episode_row(e)
        for e in CustodyEpisode.objects.values(
            "id", "person_id", "facility__code", "agreement__code", "admitted_at", "released_at",
            "release_reason", "release_destination", "release_note",
        ).iterator(chunk_size=5000)
    }  # fmt: skip


@covers(EB, models=("custody.CustodyEpisode_legal_bases",))
def _episode_bases() -> dict[Any, dict[str, Any]]:
    from habeas.custody.models import CustodyEpisode

    links: dict[int, list[int]] = {}
    through = CustodyEpisode.legal_bases.through
    for episode_id, basis_id in through.objects.values_list("custodyepisode_id", "legalbasis_id"):
        links.setdefault(episode_id, []).append(basis_id)
    return {e: {"legal_bases": sorted(ids)} for e, ids in links.items()}


@covers(B, personal=BASIS_PERSONAL, key=_person_key)
def _bases() -> dict[Any, dict[str, Any]]:
    from habeas.custody.models import LegalBasis

    return {
        b["id"]: _basis(b, b["person_id"])
        for b in LegalBasis.objects.values("id", "person_id", *BASIS_FIELDS).iterator(
            chunk_size=5000
        )
    }


@covers(TA, personal=ABSENCE_PERSONAL, key=_person_key)
def _absences() -> dict[Any, dict[str, Any]]:
    from habeas.custody.models import TemporaryAbsence

    return {
        a["id"]: {
            **{k: a[k] for k in ABSENCE_TEXT},
            "episode_id": a["episode_id"],
            "person_id": a["episode__person_id"],
            "started_at": instant(a["started_at"]),
            "expected_return_at": instant(a["expected_return_at"]),
            "ended_at": instant(a["ended_at"]),
        }
        for a in TemporaryAbsence.objects.values(
            "id", "episode_id", "episode__person_id", "started_at", "expected_return_at",
            "ended_at", *ABSENCE_TEXT,
        ).iterator(chunk_size=5000)
    }  # fmt: skip


@covers(CA, personal=("reason",), key=_person_key)
def _credit_changes() -> dict[Any, dict[str, Any]]:
    from habeas.custody.models import CreditAdjustment

    return {
        a["id"]: {
            "basis_id": a["basis_id"],
            "person_id": a["basis__person_id"],
            "change": a["change"],
            "days": a["days"],
            "on": day(a["on"]),
            "reason": a["reason"],
            "recorded_by": a["recorded_by"],
        }
        for a in CreditAdjustment.objects.values(
            "id", "basis_id", "basis__person_id", "change", "days", "on", "reason", "recorded_by"
        )
    }


@covers(RC)
def _calculations() -> dict[Any, dict[str, Any]]:
    from habeas.custody.models import ReleaseCalculation

    return {
        c["id"]: {
            "episode_id": c["episode_id"],
            "rule_set": c["rule_set"],
            "version": c["version"],
            "inputs": c["inputs"],
            "inputs_sha": c["inputs_sha"],
            "release_date": day(c["release_date"]),
            "full_term": day(c["full_term"]),
            "working": c["working"],
            "calculated_at": instant(c["calculated_at"]),
        }
        for c in ReleaseCalculation.objects.values(
            "id", "episode_id", "rule_set", "version", "inputs", "inputs_sha", "release_date",
            "full_term", "working", "calculated_at",
        ).iterator(chunk_size=5000)
    }  # fmt: skip


@covers(AL)
def _alarms() -> dict[Any, dict[str, Any]]:
    from habeas.custody.models import CustodyAlarm

    return {
        a["id"]: {
            "episode_id": a["episode_id"],
            "rule": a["rule"],
            "citation": a["citation"],
            "value": a["value"],
            "since": day(a["since"]),
            "status": a["status"],
            "opened_at": instant(a["opened_at"]),
            "closed_at": instant(a["closed_at"]),
        }
        for a in CustodyAlarm.objects.values(
            "id", "episode_id", "rule", "citation", "value", "since", "status", "opened_at",
            "closed_at",
        ).iterator(chunk_size=5000)
    }  # fmt: skip


derived(
    "custody.StandingCondition",
    "the alarm conditions holding today, evaluated from the custody tables "
    "(habeas.custody.standing): re-evaluated by each custody event and by check-custody",
)
derived(
    "custody.StandingDay",
    "which day the standing conditions were evaluated for: rewritten by check-custody",
)
