"""Replay of custody events for table-vs-ledger verification (habeas.ledger.replay)."""

from __future__ import annotations

from typing import Any

from habeas.ledger.replay import State, day, handles, instant, snapshot

E = "custody.CustodyEpisode"
EB = "custody.CustodyEpisode.legal_bases"
B = "custody.LegalBasis"
TA = "custody.TemporaryAbsence"
BASIS_FIELDS = (
    "kind", "ref", "authority", "status_in_sending_state", "order_date", "removal_protection",
    "offence", "conviction_date", "judgment_final", "sentence", "sentence_start",
    "custody_credit_days", "consent",
)  # fmt: skip
BASIS_DATES = ("order_date", "conviction_date", "sentence_start")
ABSENCE_TEXT = (
    "kind", "kind_other", "destination", "authority", "reason", "escort", "ended_how",
    "recorded_by", "ended_by",
)  # fmt: skip


def _basis(values: dict[str, Any], person: Any) -> dict[str, Any]:
    row = {k: values.get(k) for k in BASIS_FIELDS}
    for k in BASIS_DATES:
        row[k] = day(row[k])
    row["person_id"] = person
    return row


@handles("custody.admitted")
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
        "release_note": "",
    }
    state.setdefault(EB, {})[ep["id"]] = {"legal_bases": sorted(ep["legal_bases"])}
    for b in p["legal_bases"]:
        state.setdefault(B, {})[b["id"]] = _basis(b, b["person"])


@handles("custody.released")
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


@handles("custody.absence_started")
def _absence_started(state: State, p: dict[str, Any]) -> None:
    a = p["absence"]
    state.setdefault(TA, {})[a["id"]] = {
        "episode_id": a["episode"],
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


def _absence_closed(state: State, ended: dict[str, Any]) -> None:
    state.setdefault(TA, {}).setdefault(ended["id"], {}).update(
        ended_at=instant(ended["ended_at"]), ended_how=ended["how"], ended_by=ended["ended_by"]
    )


@handles("custody.absence_ended")
def _absence_ended(state: State, p: dict[str, Any]) -> None:
    _absence_closed(state, p["absence"])


@snapshot
def _tables() -> State:
    from habeas.custody.models import CustodyEpisode, LegalBasis, TemporaryAbsence

    episodes = {
        e["id"]: {
            "person_id": e["person_id"],
            "facility": e["facility__code"],
            "agreement": e["agreement__code"],
            "admitted_at": instant(e["admitted_at"]),
            "released_at": instant(e["released_at"]),
            "release_reason": e["release_reason"],
            "release_destination": e["release_destination"],
            "release_note": e["release_note"],
        }
        for e in CustodyEpisode.objects.values(
            "id", "person_id", "facility__code", "agreement__code", "admitted_at", "released_at",
            "release_reason", "release_destination", "release_note",
        ).iterator(chunk_size=5000)
    }  # fmt: skip
    links: dict[int, list[int]] = {}
    through = CustodyEpisode.legal_bases.through
    for episode_id, basis_id in through.objects.values_list("custodyepisode_id", "legalbasis_id"):
        links.setdefault(episode_id, []).append(basis_id)
    bases = {
        b["id"]: _basis(b, b["person_id"])
        for b in LegalBasis.objects.values("id", "person_id", *BASIS_FIELDS).iterator(
            chunk_size=5000
        )
    }
    absences = {
        a["id"]: {
            **{k: a[k] for k in ABSENCE_TEXT},
            "episode_id": a["episode_id"],
            "started_at": instant(a["started_at"]),
            "expected_return_at": instant(a["expected_return_at"]),
            "ended_at": instant(a["ended_at"]),
        }
        for a in TemporaryAbsence.objects.values(
            "id", "episode_id", "started_at", "expected_return_at", "ended_at", *ABSENCE_TEXT
        ).iterator(chunk_size=5000)
    }
    return {
        TA: absences,
        E: episodes,
        EB: {e: {"legal_bases": sorted(ids)} for e, ids in links.items()},
        B: bases,
    }
