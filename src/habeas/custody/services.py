"""Custody writes: admission and release (Mandela Rule 7; ARCHITECTURE.md).

Each service runs in one transaction and appends one ledger entry per domain event whose
payload is the full state it created or changed, so ``verify-ledger`` can replay it.

Cells are housing's (``habeas.housing``, above custody): an admission's first placement is
opened by the placer its caller hands in (:data:`Placer`), and a release's open placement is
closed by housing's listener on ``custody.released``, in the same transaction. Custody never
imports housing (ARCHITECTURE.md, Layout).
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import pycountry

from habeas.agreements.models import Agreement
from habeas.core.actor import Actor
from habeas.core.clock import now
from habeas.core.errors import Conflict, ValidationFailed
from habeas.core.rows import Rows
from habeas.core.services import service
from habeas.custody.absences import absence_close_on_release
from habeas.custody.calculations import calculation_snapshot, release_calculate_admitted
from habeas.custody.choices import BasisStatus, Consent, LegalBasisKind, ReleaseReason
from habeas.custody.models import CustodyEpisode, LegalBasis
from habeas.custody.release import full_term_less_credit
from habeas.custody.sentences import parse_sentence
from habeas.facilities.models import Facility
from habeas.ledger.services import Event, ledger_append_many
from habeas.people.choices import DatePrecision
from habeas.people.models import Person

MSG_NO_BASIS = "Mandela Rule 7(1): nobody is received without a valid commitment order"
MSG_ALREADY_HELD = "person {person} is already in custody (episode {episode})"
MSG_NOT_HELD = "person {person} is not in custody"
MSG_FACILITY_NOT_IN_AGREEMENT = "facility {facility} is not covered by agreement {agreement}"
MSG_FUTURE = "{what} is in the future ({at})"
MSG_BEFORE = "{what} ({at}) is before {other} ({other_at})"
MSG_REPEATED = "person {person} appears twice in one admission batch"
MSG_RELEASE_REASON = "unknown release reason {reason!r}"
MSG_DESTINATION = "{destination!r} is not an ISO 3166-1 alpha-2 country code"

#: Grace for clock skew between the recording device and the server.
FUTURE_TOLERANCE = dt.timedelta(minutes=5)


@dataclass(frozen=True)
class LegalBasisSpec:
    """A commitment order as given in a manifest (MANIFEST.md columns)."""

    kind: str
    ref: str = ""
    authority: str = ""
    status_in_sending_state: str = ""
    order_date: dt.date | None = None
    removal_protection: bool = False
    offence: str = ""
    conviction_date: dt.date | None = None
    judgment_final: bool | None = None
    sentence: str = ""
    sentence_start: dt.date | None = None
    custody_credit_days: int = 0
    consent: str = Consent.UNKNOWN


Regime = Literal["criminal", "civil"]


@dataclass(frozen=True)
class AdmissionSpec:
    """One person to admit. ``cell_code``: the cell asked for, handed to the placer."""

    person: Person
    legal_bases: Sequence[LegalBasisSpec]
    admitted_at: dt.datetime
    cell_code: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


#: Opens the first placement of each new episode (``habeas.housing.placements``), after the
#: admission checks and in the admission's transaction; returns, per admission, the placement
#: the ``custody.admitted`` entry records (``{"id", "cell", "started_at", "reason"}``). It may
#: refuse (``Conflict``): then nobody of the batch is admitted.
Placer = Callable[
    [Facility, Sequence[AdmissionSpec], Sequence[CustodyEpisode]], Sequence[dict[str, Any]]
]


def _not_future(at: dt.datetime, what: str) -> None:
    if at > now() + FUTURE_TOLERANCE:
        raise ValidationFailed(MSG_FUTURE.format(what=what, at=at.isoformat()))


_KINDS = frozenset(LegalBasisKind.values)
_CONSENTS = frozenset(Consent.values)


def _check_basis(spec: LegalBasisSpec) -> None:
    if spec.kind not in _KINDS:
        raise ValidationFailed(f"unknown legal basis {spec.kind!r}")
    if spec.kind == LegalBasisKind.CRIMINAL_SENTENCE:
        if not spec.sentence or spec.sentence_start is None:
            raise ValidationFailed("a criminal sentence needs its length and start date")
        try:
            parse_sentence(spec.sentence)
        except ValueError as exc:
            raise ValidationFailed(str(exc)) from None
    if spec.custody_credit_days < 0:
        raise ValidationFailed("custody credit cannot be negative")
    if spec.consent not in _CONSENTS:
        raise ValidationFailed(f"unknown consent value {spec.consent!r}")


def regime_for(kinds: Sequence[str]) -> Regime:
    """Mandela Rule 11(c): held only on removal orders → civil; any sentence → criminal."""
    return "criminal" if LegalBasisKind.CRIMINAL_SENTENCE in kinds else "civil"


def is_youth(person: Person, on: dt.date) -> bool:
    """Under 18 on ``on``. With a partial date of birth the *latest* possible birthday is
    used, so someone who may be a child is treated as one (CRC art. 1; Mandela Rule 11(d))."""
    dob = person.date_of_birth
    if dob is None:
        return False
    if person.dob_precision == DatePrecision.YEAR:
        dob = dt.date(dob.year, 12, 31)
    elif person.dob_precision == DatePrecision.MONTH:
        dob = dt.date(dob.year, dob.month, calendar.monthrange(dob.year, dob.month)[1])
    try:
        adult_on = dob.replace(year=dob.year + 18)
    except ValueError:  # 29 February
        adult_on = dt.date(dob.year + 18, 3, 1)
    return on < adult_on


def basis_snapshot(basis: LegalBasis) -> dict[str, Any]:
    return {
        "id": basis.pk,
        "person": basis.person_id,
        "kind": basis.kind,
        "ref": basis.ref,
        "authority": basis.authority,
        "status_in_sending_state": basis.status_in_sending_state,
        "order_date": basis.order_date,
        "removal_protection": basis.removal_protection,
        "offence": basis.offence,
        "conviction_date": basis.conviction_date,
        "judgment_final": basis.judgment_final,
        "sentence": basis.sentence,
        "sentence_start": basis.sentence_start,
        "custody_credit_days": basis.custody_credit_days,
        "consent": basis.consent,
        "ends_on": basis.ends_on,
        "status": basis.status,
        "ended_on": basis.ended_on,
        "supersedes": basis.supersedes_id,
        "credit_forfeited_days": basis.credit_forfeited_days,
        "protection_on": basis.protection_on,
    }


_BASIS_ACTIVE = str(BasisStatus.ACTIVE)
#: The stored columns of :class:`LegalBasis`, in the order ``custody_admit_many`` writes them.
_BASIS_COLUMNS = (
    "id", "person_id", "kind", "authority", "ref", "status_in_sending_state", "order_date",
    "removal_protection", "offence", "conviction_date", "judgment_final", "sentence",
    "sentence_start", "custody_credit_days", "consent", "recorded_at", "ends_on", "status",
    "ended_on", "supersedes_id", "credit_forfeited_days", "protection_on",
)  # fmt: skip
_EPISODE_COLUMNS = (
    "id", "person_id", "facility_id", "agreement_id", "admitted_at", "released_at",
    "release_reason", "release_destination", "release_note",
)  # fmt: skip


def _episodes(
    admissions: Sequence[AdmissionSpec],
    episode_ids: Sequence[int],
    facility: Facility,
    agreement: Agreement | None,
) -> list[CustodyEpisode]:
    """The new episodes as model instances (as ``bulk_create`` returned them: saved, the
    person, facility and agreement given already attached), built from their stored values
    without Django's per-field keyword handling."""
    if [f.attname for f in CustodyEpisode._meta.concrete_fields] != list(_EPISODE_COLUMNS):
        raise RuntimeError("CustodyEpisode's fields changed: update _EPISODE_COLUMNS")
    agreement_id = agreement.pk if agreement is not None else None
    from_db = CustodyEpisode.from_db
    cache_person = CustodyEpisode.person.field.set_cached_value
    cache_facility = CustodyEpisode.facility.field.set_cached_value
    cache_agreement = CustodyEpisode.agreement.field.set_cached_value
    out = []
    for adm, ep_id in zip(admissions, episode_ids, strict=True):
        ep = from_db(
            "default",
            _EPISODE_COLUMNS,
            (ep_id, adm.person.pk, facility.pk, agreement_id, adm.admitted_at, None, "", "", ""),
        )
        cache_person(ep, adm.person)
        cache_facility(ep, facility)
        cache_agreement(ep, agreement)
        out.append(ep)
    return out


def _lock_people(ids: list[int]) -> tuple[int, int] | None:
    """Lock these people's rows (PostgreSQL: ``FOR UPDATE``, in id order; SQLite's
    transaction holds the database's write lock already) and return (person, episode) of
    one who is in custody, if any. Plain reads of 900 ids each (a batch has thousands)."""
    from django.db import connection

    q = connection.ops.quote_name
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    people, episodes = q(Person._meta.db_table), q(CustodyEpisode._meta.db_table)
    with connection.cursor() as cursor:
        for start in range(0, len(ids), 900):
            chunk = ids[start : start + 900]
            marks = ", ".join(["%s"] * len(chunk))
            cursor.execute(
                f"SELECT id FROM {people} WHERE id IN ({marks}) ORDER BY id{lock}",  # noqa: S608 - the models' tables
                chunk,
            )
            cursor.fetchall()
        for start in range(0, len(ids), 900):
            chunk = ids[start : start + 900]
            marks = ", ".join(["%s"] * len(chunk))
            cursor.execute(
                f"SELECT person_id, id FROM {episodes} "  # noqa: S608
                f"WHERE released_at IS NULL AND person_id IN ({marks}) LIMIT 1",
                chunk,
            )
            row = cursor.fetchone()
            if row is not None:
                return int(row[0]), int(row[1])
    return None


@service
def custody_admit_many(
    *,
    actor: Actor,
    facility: Facility,
    agreement: Agreement | None,
    admissions: Sequence[AdmissionSpec],
    place: Placer | None = None,
) -> list[CustodyEpisode]:
    """Admit people into a facility: legal bases, custody episode, the first placement
    ``place`` opens (Rule 11 is housing's), and one ``custody.admitted`` ledger entry each
    (Mandela Rule 7(b), (c)). All or nothing: one refusal and nobody of the batch is
    admitted. Without ``place`` nobody is placed in a cell (callers above housing use
    ``habeas.housing.placements.admit_and_place_many``)."""
    if agreement is not None and not agreement.facilities.filter(pk=facility.pk).exists():
        raise ValidationFailed(
            MSG_FACILITY_NOT_IN_AGREEMENT.format(facility=facility.code, agreement=agreement.code)
        )
    seen: set[int] = set()
    for adm in admissions:
        if not adm.legal_bases:
            raise ValidationFailed(MSG_NO_BASIS, details={"person": str(adm.person.pk)})
        for spec in adm.legal_bases:
            _check_basis(spec)
        _not_future(adm.admitted_at, "the admission time")
        if adm.person.pk in seen:
            raise ValidationFailed(MSG_REPEATED.format(person=adm.person.pk))
        seen.add(adm.person.pk)
    # Lock the people (in id order, so concurrent batches cannot deadlock): two requests
    # admitting the same person queue here, and the second sees the first's open episode
    # and gets a clear 409 instead of hitting the one-open-episode constraint.
    open_episodes = _lock_people(sorted(seen))
    if open_episodes:
        person, episode = open_episodes
        raise Conflict(MSG_ALREADY_HELD.format(person=person, episode=episode))

    recorded = now()
    rows = Rows()
    through = CustodyEpisode.legal_bases.through
    count = sum(len(adm.legal_bases) for adm in admissions)
    basis_ids = iter(rows.ids(LegalBasis, count))
    link_ids = iter(rows.ids(through, count))
    episode_ids = rows.ids(CustodyEpisode, len(admissions))
    recorded_db = rows.instant(recorded)
    date = rows.date
    basis_rows: list[tuple[Any, ...]] = []
    link_rows: list[tuple[int, int, int]] = []
    snapshots_per: list[list[dict[str, Any]]] = []
    sentenced: list[tuple[int, list[tuple[int, str, dt.date, int]]]] = []
    person_ids = [adm.person.pk for adm in admissions]
    for adm, ep_id, person_id in zip(admissions, episode_ids, person_ids, strict=True):
        group: list[dict[str, Any]] = []
        for s in adm.legal_bases:
            pk = next(basis_ids)
            ends_on = (
                full_term_less_credit(s.sentence, s.sentence_start, s.custody_credit_days)
                if s.kind == LegalBasisKind.CRIMINAL_SENTENCE and s.sentence_start
                else None
            )
            basis_rows.append(
                (
                    pk, person_id, s.kind, s.authority, s.ref, s.status_in_sending_state,
                    date(s.order_date), s.removal_protection, s.offence,
                    date(s.conviction_date), s.judgment_final, s.sentence,
                    date(s.sentence_start), s.custody_credit_days, s.consent, recorded_db,
                    date(ends_on), _BASIS_ACTIVE, None, None, 0, None,
                )
            )  # fmt: skip
            link_rows.append((next(link_ids), ep_id, pk))
            group.append(
                {
                    "id": pk,
                    "person": person_id,
                    "kind": s.kind,
                    "ref": s.ref,
                    "authority": s.authority,
                    "status_in_sending_state": s.status_in_sending_state,
                    "order_date": s.order_date,
                    "removal_protection": s.removal_protection,
                    "offence": s.offence,
                    "conviction_date": s.conviction_date,
                    "judgment_final": s.judgment_final,
                    "sentence": s.sentence,
                    "sentence_start": s.sentence_start,
                    "custody_credit_days": s.custody_credit_days,
                    "consent": s.consent,
                    "ends_on": ends_on,
                    "status": _BASIS_ACTIVE,
                    "ended_on": None,
                    "supersedes": None,
                    "credit_forfeited_days": 0,
                    "protection_on": None,
                }
            )
        snapshots_per.append(group)
        sentences = [
            (b["id"], s.sentence, s.sentence_start, s.custody_credit_days)
            for b, s in zip(group, adm.legal_bases, strict=True)
            if s.kind == LegalBasisKind.CRIMINAL_SENTENCE and s.sentence and s.sentence_start
        ]
        if sentences:
            sentenced.append((ep_id, sentences))
    rows.insert(LegalBasis, _BASIS_COLUMNS, basis_rows)
    agreement_id = agreement.pk if agreement is not None else None
    instant = rows.instant
    rows.insert(
        CustodyEpisode,
        _EPISODE_COLUMNS,
        [
            (
                ep,
                person,
                facility.pk,
                agreement_id,
                instant(adm.admitted_at),
                None,
                "",
                "",
                "",
            )
            for adm, ep, person in zip(admissions, episode_ids, person_ids, strict=True)
        ],
    )
    rows.insert(through, ("id", "custodyepisode_id", "legalbasis_id"), link_rows)
    episodes = _episodes(admissions, episode_ids, facility, agreement)
    placements: list[dict[str, Any] | None] = [None] * len(episodes)
    if place is not None:
        placements = list(place(facility, admissions, episodes))
    person_of = dict(zip(episode_ids, person_ids, strict=True))
    calculations = {
        c.episode_id: calculation_snapshot(c, person_of[c.episode_id])
        for c in release_calculate_admitted(
            episodes=sentenced,
            rule_set=str(agreement.sentence_rules) if agreement is not None else None,
            country=facility.jurisdiction.code if facility.jurisdiction_id is not None else "",
            at=recorded,
        )
    }
    facility_code = facility.code
    agreement_code = agreement.code if agreement else None
    events = [
        Event(
            action="custody.admitted",
            subject=f"person:{person}",
            occurred_at=adm.admitted_at,
            payload={
                "episode": {
                    "id": ep_id,
                    "person": person,
                    "facility": facility_code,
                    "agreement": agreement_code,
                    "admitted_at": adm.admitted_at,
                    "legal_bases": [b["id"] for b in group],
                },
                "legal_bases": group,
                **({"placement": pl} if pl is not None else {}),
                **({"record": adm.extra} if adm.extra else {}),
                **({"calculation": calculations[ep_id]} if ep_id in calculations else {}),
            },
        )
        for adm, ep_id, person, group, pl in zip(
            admissions, episode_ids, person_ids, snapshots_per, placements, strict=True
        )
    ]
    ledger_append_many(actor=actor, events=events)
    return episodes


def custody_admit(
    *,
    actor: Actor,
    person: Person,
    facility: Facility,
    agreement: Agreement | None,
    legal_bases: Sequence[LegalBasisSpec],
    admitted_at: dt.datetime,
    cell_code: str | None = None,
) -> CustodyEpisode:
    """Admit one person (minimal admission; the full Rule 7 record comes with intake)."""
    return custody_admit_many(
        actor=actor,
        facility=facility,
        agreement=agreement,
        admissions=[
            AdmissionSpec(
                person=person,
                legal_bases=legal_bases,
                admitted_at=admitted_at,
                cell_code=cell_code,
            )
        ],
    )[0]


def episode_open_locked(person: Person) -> CustodyEpisode:
    """The person's open episode, locked for the calling service; 409 when not held."""
    episode = CustodyEpisode.objects.locked_open_for(person)
    if episode is None:
        raise Conflict(MSG_NOT_HELD.format(person=person.pk))
    return episode


@service
def custody_release(
    *,
    actor: Actor,
    person: Person,
    reason: str,
    at: dt.datetime,
    destination: str = "",
    note: str = "",
) -> CustodyEpisode:
    """Close the open custody episode (Mandela Rule 7(c): day and hour of release); housing
    closes the open placement at the release time, listening to ``custody.released`` in this
    transaction. ``destination`` is the ISO country the person leaves for, where known.

    Someone out of the facility (a temporary absence: court, hospital...) can be released
    only for a reason that may end custody where they are (a court order, a death, a
    sentence served, a transfer: ``custody.absences.RELEASE_WHILE_OUT``); the absence is then
    closed at the release time in this transaction, and the ``custody.released`` payload says
    so (``absence_ended``). Other reasons are refused until the return is recorded."""
    if reason not in ReleaseReason.values:
        raise ValidationFailed(MSG_RELEASE_REASON.format(reason=reason))
    destination = destination.strip().upper()
    if destination and (
        len(destination) != 2 or pycountry.countries.get(alpha_2=destination) is None
    ):
        raise ValidationFailed(MSG_DESTINATION.format(destination=destination))
    _not_future(at, "the release time")
    episode = episode_open_locked(person)
    if at <= episode.admitted_at:
        raise ValidationFailed(
            MSG_BEFORE.format(
                what="the release",
                at=at.isoformat(),
                other="the admission",
                other_at=episode.admitted_at.isoformat(),
            )
        )
    absence_ended = absence_close_on_release(actor=actor, episode=episode, reason=reason, at=at)
    episode.released_at = at
    episode.release_reason = reason
    episode.release_destination = destination
    episode.release_note = note
    episode.save(
        update_fields=["released_at", "release_reason", "release_destination", "release_note"]
    )
    ledger_append_many(
        actor=actor,
        events=[
            Event(
                action="custody.released",
                subject=f"person:{person.pk}",
                occurred_at=at,
                payload={
                    "episode": {
                        "id": episode.pk,
                        "released_at": at,
                        "reason": reason,
                        "destination": episode.release_destination,
                        "note": note,
                    },
                    **({"absence_ended": absence_ended} if absence_ended else {}),
                },
            )
        ],
    )
    return episode
