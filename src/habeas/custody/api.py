"""``/api/v1/persons/{id}/`` (the person's file), ``/api/v1/custody-episodes/`` and a person's
temporary absences (``/api/v1/persons/{id}/absences/``: court, hospital...).

Mandela Rule 9: records are need-to-know. Everything is read through the scoped selectors
(a person or episode outside the user's scope is a 404 with the same body as a missing one);
sending-state liaisons and finance officers see their own transferees' custody but not the
housing detail (the cell), and only the custody episodes under their own state's agreements.
Absences are housing detail too (movements, hospital visits): facility staff and admins read
and record them for their facilities, oversight and auditors read them all, a sending state's
liaison or finance officer gets 403.
"""

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext_lazy
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from habeas.accounts.auth import api_user, housing_user
from habeas.accounts.models import User
from habeas.accounts.permissions import may_view_cells
from habeas.core import audit
from habeas.core.actor import Actor
from habeas.core.api import (
    DateStr,
    IdStr,
    InstantStr,
    Pagination,
    PlausibleInstant,
    date_str,
    errors,
    instant_str,
)
from habeas.core.clock import now
from habeas.core.errors import NotFound
from habeas.core.limits import ascii_id
from habeas.custody.absences import (
    absence_end,
    absence_get_for,
    absence_list_for,
    absence_start,
)
from habeas.custody.cells import current_cell
from habeas.custody.choices import AbsenceKind
from habeas.custody.models import CustodyEpisode, EpisodeQuerySet, LegalBasis, TemporaryAbsence
from habeas.custody.selectors import (
    basis_ends_on,
    episode_get_for,
    episode_list,
    person_file,
)
from habeas.people.selectors import person_get_for

router = Router(tags=["custody"])

MSG_EPISODE_NOT_FOUND = "custody episode not found"
MSG_NO_ABSENCES = gettext_lazy(
    "absences are for the receiving facility's staff and oversight, not the sending state"
)
MSG_ABSENCES_READ_ONLY = gettext_lazy("your role may read absences but not record them")
MSG_HELD_ELSEWHERE = "person not held in a facility in your scope"
WRITE_ERRORS = (400, 401, 403, 404, 409)


# --- the person's file -------------------------------------------------------------------


class NamesOut(Schema):
    given_names: str
    first_surname: str
    second_surname: str
    aliases: list[str]


class LegalBasisOut(Schema):
    """A commitment order (Mandela Rule 7(b)); ``ends_on`` is the computed sentence end."""

    kind: str
    ref: str
    authority: str
    offence: str | None
    sentence: str | None
    sentence_start: DateStr | None
    custody_credit_days: int
    ends_on: DateStr | None
    id: str | None = None
    #: ``active``, ``superseded`` (by a court's new sentence or a conversion) or ``vacated``.
    status: str = "active"
    ended_on: DateStr | None = None
    supersedes: str | None = None
    good_conduct_forfeited_days: int = 0
    removal_protection: bool = False


class CustodyOut(Schema):
    facility: str
    agreement: str | None
    admitted_at: InstantStr
    released_at: InstantStr | None
    release_reason: str | None
    release_destination: str | None


class AlarmOut(Schema):
    kind: str
    message: str
    since: InstantStr
    rule: str | None = None
    citation: str | None = None


class CurrentAbsenceOut(Schema):
    """Where the person is while out of the facility (a temporary absence), since when."""

    kind: str
    destination: str
    since: InstantStr
    expected_return_at: InstantStr | None


class PersonFileOut(Schema):
    """The ``show --json`` document (INTERFACES.md); ``cell`` is null for liaison and finance,
    and so is ``absence`` (null too while the person is in the facility)."""

    id: IdStr
    sending_refs: list[str]
    names: NamesOut
    date_of_birth: str | None
    sex: str
    nationalities: list[str]
    legal_bases: list[LegalBasisOut]
    custody: list[CustodyOut]
    cell: str | None
    release_date: DateStr | None
    alarms: list[AlarmOut]
    absence: CurrentAbsenceOut | None = None


def person_file_for(user: User, person_id: str) -> dict[str, Any]:
    """The person's file as ``user`` may see it (scoped in ``custody.selectors.person_file``)."""
    return person_file(person_get_for(user=user, person_id=person_id), user=user)


@router.get(
    "/persons/{person_id}/",
    response={200: PersonFileOut, **errors()},
    summary="A person's file",
    operation_id="persons_get",
    tags=["persons"],
)
def persons_get(request: HttpRequest, person_id: str) -> dict[str, Any]:
    """Identity, identifiers, legal bases, custody episodes, current cell, computed release
    date and open alarms; 404 when missing or outside the user's scope."""
    user = api_user(request)
    person = person_get_for(user=user, person_id=person_id)
    audit.file_viewed(user=user, person=person, channel="api")
    return person_file(person, user=user)


# --- custody episodes ----------------------------------------------------------------------


class EpisodeOut(Schema):
    """One continuous period in a facility's custody (Mandela Rule 7(c))."""

    id: IdStr
    person: IdStr
    person_name: str
    facility: str
    agreement: str | None
    admitted_at: InstantStr
    released_at: InstantStr | None
    release_reason: str | None
    release_destination: str | None

    @staticmethod
    def resolve_id(obj: CustodyEpisode) -> str:
        return str(obj.pk)

    @staticmethod
    def resolve_person(obj: CustodyEpisode) -> str:
        return str(obj.person_id)

    @staticmethod
    def resolve_person_name(obj: CustodyEpisode) -> str:
        return obj.person.full_name

    @staticmethod
    def resolve_facility(obj: CustodyEpisode) -> str:
        return obj.facility.code

    @staticmethod
    def resolve_agreement(obj: CustodyEpisode) -> str | None:
        return obj.agreement.code if obj.agreement else None

    @staticmethod
    def resolve_admitted_at(obj: CustodyEpisode) -> str | None:
        return instant_str(obj.admitted_at)

    @staticmethod
    def resolve_released_at(obj: CustodyEpisode) -> str | None:
        return instant_str(obj.released_at)

    @staticmethod
    def resolve_release_reason(obj: CustodyEpisode) -> str | None:
        return obj.release_reason or None

    @staticmethod
    def resolve_release_destination(obj: CustodyEpisode) -> str | None:
        return obj.release_destination or None


class EpisodeDetailOut(EpisodeOut):
    """An episode with its legal bases and, for those who may see housing, the current cell."""

    legal_bases: list[LegalBasisOut]
    cell: str | None

    @staticmethod
    def resolve_legal_bases(obj: CustodyEpisode) -> list[dict[str, Any]]:
        return [basis_document(b) for b in obj.legal_bases.order_by("pk")]

    @staticmethod
    def resolve_cell(obj: CustodyEpisode, context: dict[str, Any]) -> str | None:
        if not obj.is_open or not may_view_cells(api_user(context["request"])):
            return None
        cell = current_cell(obj.person)
        return cell.code if cell else None


class EpisodeFilter(Schema):
    open: bool | None = None


def basis_document(basis: LegalBasis) -> dict[str, Any]:
    return {
        "kind": basis.kind,
        "ref": basis.ref,
        "authority": basis.authority,
        "offence": basis.offence or None,
        "sentence": basis.sentence or None,
        "sentence_start": date_str(basis.sentence_start),
        "custody_credit_days": basis.custody_credit_days,
        "ends_on": date_str(basis_ends_on(basis)),
        "id": str(basis.pk),
        "status": basis.status,
        "ended_on": date_str(basis.ended_on),
        "supersedes": str(basis.supersedes_id) if basis.supersedes_id else None,
        "good_conduct_forfeited_days": basis.credit_forfeited_days,
        "removal_protection": basis.removal_protection,
    }


@router.get(
    "/custody-episodes/",
    response={200: list[EpisodeOut], **errors()},
    summary="List custody episodes",
    operation_id="custody_episodes_list",
)
@paginate(Pagination)
def custody_episodes_list(request: HttpRequest, filters: Query[EpisodeFilter]) -> EpisodeQuerySet:
    """Episodes the user may see, newest admission first; ``open=true`` only those still
    open, ``open=false`` only released ones."""
    qs = episode_list(user=api_user(request), open_only=bool(filters.open))
    if filters.open is False:
        qs = qs.filter(released_at__isnull=False)
    return qs


@router.get(
    "/custody-episodes/{episode_id}/",
    response={200: EpisodeDetailOut, **errors()},
    summary="A custody episode",
    operation_id="custody_episodes_get",
)
def custody_episodes_get(request: HttpRequest, episode_id: str) -> CustodyEpisode:
    """404 when the episode is missing or outside the user's scope."""
    pk = ascii_id(episode_id)
    if pk is None:
        raise NotFound(MSG_EPISODE_NOT_FOUND)
    return episode_get_for(user=api_user(request), episode_id=pk)


# --- temporary absences --------------------------------------------------------------------


class AbsenceOut(Schema):
    """A temporary absence (Mandela Rules 7(c), 8(a); Rule 70 for a funeral or a relative's
    bedside): where to, on whose authority, with which escort (empty: unescorted), when out
    and back. ``ended_how``: ``returned``, or ``released`` when custody ended while out."""

    id: IdStr
    person: IdStr
    facility: str
    kind: str
    kind_other: str
    destination: str
    authority: str
    reason: str
    escort: str
    started_at: InstantStr
    expected_return_at: InstantStr | None
    ended_at: InstantStr | None
    ended_how: str | None
    recorded_by: str
    ended_by: str
    open: bool


def absence_document(a: TemporaryAbsence) -> dict[str, Any]:
    return {
        "id": str(a.pk),
        "person": str(a.episode.person_id),
        "facility": a.episode.facility.code,
        "kind": a.kind,
        "kind_other": a.kind_other,
        "destination": a.destination,
        "authority": a.authority,
        "reason": a.reason,
        "escort": a.escort,
        "started_at": instant_str(a.started_at),
        "expected_return_at": instant_str(a.expected_return_at),
        "ended_at": instant_str(a.ended_at),
        "ended_how": a.ended_how or None,
        "recorded_by": a.recorded_by,
        "ended_by": a.ended_by,
        "open": a.is_open,
    }


class AbsenceIn(Schema):
    kind: str = Field(..., examples=["court"], description=" | ".join(AbsenceKind.values))
    kind_other: str = Field("", description="what the absence is, for kind 'other'")
    destination: str = Field(..., examples=["Juzgado Primero de Instrucción, San Salvador"])
    authority: str = Field(
        ..., description="who ordered or authorised it", examples=["court order 123/2025"]
    )
    reason: str = ""
    escort: str = Field("", description="empty: not escorted (Mandela Rule 70 allows it)")
    started_at: PlausibleInstant | None = Field(None, description="default: now")
    expected_return_at: PlausibleInstant | None = None


class AbsenceReturnIn(Schema):
    returned_at: PlausibleInstant | None = Field(None, description="default: now")


def absence_reader(request: HttpRequest) -> User:
    return housing_user(request, refused=str(MSG_NO_ABSENCES))


def absence_writer(request: HttpRequest) -> User:
    return housing_user(
        request, refused=str(MSG_NO_ABSENCES), read_only=str(MSG_ABSENCES_READ_ONLY)
    )


@router.get(
    "/persons/{person_id}/absences/",
    response={200: list[AbsenceOut], **errors()},
    summary="A person's temporary absences",
    operation_id="person_absences_list",
    tags=["persons"],
)
def person_absences_list(request: HttpRequest, person_id: str) -> list[dict[str, Any]]:
    """Every absence (court, hospital...) of the person in the user's facilities (all of
    them for oversight), newest first; the open one, if any, has ``open: true``."""
    user = absence_reader(request)
    person = person_get_for(user=user, person_id=person_id)
    return [absence_document(a) for a in absence_list_for(user=user, person=person)]


@router.post(
    "/persons/{person_id}/absences/",
    response={201: AbsenceOut, **errors(*WRITE_ERRORS)},
    summary="Record that a person leaves the facility for a while",
    operation_id="person_absences_create",
    tags=["persons"],
)
def person_absences_create(request: HttpRequest, person_id: str, body: AbsenceIn) -> Status[Any]:
    """Facility staff record a departure (``custody.absence_started``); the person keeps their
    cell. 409 when the person is not in custody or is already out."""
    user = absence_writer(request)
    person = person_get_for(user=user, person_id=person_id)
    if (
        CustodyEpisode.objects.open()
        .filter(person=person)
        .exclude(pk__in=CustodyEpisode.objects.visible_to(user))
        .exists()
    ):
        raise NotFound(MSG_HELD_ELSEWHERE)
    absence = absence_start(
        actor=Actor.from_user(user),
        person=person,
        kind=body.kind,
        kind_other=body.kind_other,
        destination=body.destination,
        authority=body.authority,
        reason=body.reason,
        escort=body.escort,
        started_at=body.started_at or now(),
        expected_return_at=body.expected_return_at,
    )
    return Status(
        201, absence_document(absence_get_for(user=user, person=person, absence_id=absence.pk))
    )


@router.post(
    "/persons/{person_id}/absences/{absence_id}/return",
    response={200: AbsenceOut, **errors(*WRITE_ERRORS)},
    summary="Record a person's return from an absence",
    operation_id="person_absences_return",
    tags=["persons"],
)
def person_absences_return(
    request: HttpRequest, person_id: str, absence_id: str, body: AbsenceReturnIn
) -> dict[str, Any]:
    """Facility staff record the return (``custody.absence_ended``); 409 if already ended."""
    user = absence_writer(request)
    person = person_get_for(user=user, person_id=person_id)
    absence = absence_get_for(user=user, person=person, absence_id=absence_id)
    absence_end(actor=Actor.from_user(user), absence=absence, returned_at=body.returned_at or now())
    return absence_document(absence_get_for(user=user, person=person, absence_id=absence.pk))


# --- the lifecycle: releases due, the custody check --------------------------------------

MSG_CHECK_ROLE = gettext_lazy("only a facility director runs the custody check")


class ReleaseDueOut(Schema):
    release_date: DateStr
    person: IdStr
    name: str
    facility: str
    agreement: str
    sending_state: str


@router.get(
    "/releases-due",
    response={200: list[ReleaseDueOut], **errors()},
    summary="Releases due in the coming days",
    operation_id="releases_due_list",
)
def releases_due_list(request: HttpRequest, days: int = 30) -> list[dict[str, Any]]:
    """Open episodes whose projected release date is in the next ``days`` days (1-366), as
    the user may see them: a liaison their own state's transferees (VINE advance notice)."""
    from habeas.custody.selectors import releases_due

    user = api_user(request)
    rows = releases_due(user=user, days=min(max(days, 1), 366))
    return [
        {
            "release_date": date_str(r["release_date"]),
            "person": str(r["person_id"]),
            "name": r["name"],
            "facility": r["facility"],
            "agreement": r["agreement"],
            "sending_state": r["sending_state"],
        }
        for r in rows
    ]


class CheckOut(Schema):
    episodes: int
    recalculated: int
    opened: list[dict[str, Any]]
    closed: list[dict[str, Any]]


@router.post(
    "/custody-checks",
    response={200: CheckOut, **errors(*WRITE_ERRORS)},
    summary="Run the custody check now",
    operation_id="custody_checks_create",
)
def custody_checks_create(request: HttpRequest) -> dict[str, Any]:
    """``habeas check-custody`` (idempotent): release dates recalculated, alarms opened and
    closed on the ledger; the answer lists only the episodes the director may see. A facility
    director only (403 otherwise)."""
    from habeas.accounts.permissions import may_override_keep_apart
    from habeas.core.errors import Forbidden
    from habeas.custody.check import custody_check

    user = api_user(request)
    if not may_override_keep_apart(user):  # the facility director's role
        raise Forbidden(str(MSG_CHECK_ROLE))
    doc = custody_check(actor=Actor.from_user(user)).document()
    visible = set(CustodyEpisode.objects.visible_to(user).values_list("pk", flat=True))
    return {
        "episodes": CustodyEpisode.objects.visible_to(user).open().count(),
        "recalculated": doc["recalculated"],
        "opened": [
            {"episode": str(o["episode"]), "person": str(o["person"]), "rule": o["rule"]}
            for o in doc["opened"]
            if o["episode"] in visible
        ],
        "closed": [
            {"episode": str(o["episode"]), "person": str(o["person"]), "rule": o["rule"]}
            for o in doc["closed"]
            if o["episode"] in visible
        ],
    }


# --- release (Mandela Rule 7(c)) ---------------------------------------------------------

MSG_NO_RELEASE = gettext_lazy(
    "releases are recorded by the receiving facility's staff, not the sending state"
)
MSG_RELEASE_READ_ONLY = gettext_lazy("your role may read custody but not record a release")
MSG_CONFIRM = "this release needs confirmation (send confirm: true): {warnings}"


class ReleaseIn(Schema):
    reason: str = Field(..., examples=["sentence_served"])
    at: PlausibleInstant = Field(..., description="ISO 8601 with offset")
    destination: str = Field("", description="ISO 3166-1 alpha-2 country the person leaves for")
    note: str = ""
    confirm: bool = Field(False, description="record it despite the warnings")


class ReleaseOut(Schema):
    episode: IdStr
    person: IdStr
    released_at: InstantStr
    reason: str
    destination: str
    warnings: list[str]


def staff_scope_check(user: User, person: Any) -> None:
    """404 when the person is held in a facility outside the user's scope (Mandela Rule 9)."""
    if (
        CustodyEpisode.objects.open()
        .filter(person=person)
        .exclude(pk__in=CustodyEpisode.objects.visible_to(user))
        .exists()
    ):
        raise NotFound(MSG_HELD_ELSEWHERE)


@router.post(
    "/persons/{person_id}/release",
    response={200: ReleaseOut, **errors(*WRITE_ERRORS)},
    summary="Release a person from custody",
    operation_id="person_release",
    tags=["persons"],
)
def person_release(request: HttpRequest, person_id: str, body: ReleaseIn) -> dict[str, Any]:
    """``habeas release`` (``custody.released``): the open episode ends; the family, the
    consulate and the sending state are notified through the outbox. A release with warnings
    (e.g. ``sentence_served`` before the projected date) is refused with 409 and the warnings
    until it is sent again with ``confirm: true``. Facility staff only."""
    from habeas.core.errors import Conflict
    from habeas.custody.selectors import release_warnings
    from habeas.custody.services import custody_release

    user = housing_user(request, refused=str(MSG_NO_RELEASE), read_only=str(MSG_RELEASE_READ_ONLY))
    person = person_get_for(user=user, person_id=person_id)
    staff_scope_check(user, person)
    warnings = release_warnings(
        person, reason=body.reason, at=body.at, destination=body.destination
    )
    if warnings and not body.confirm:
        raise Conflict(MSG_CONFIRM.format(warnings=" ".join(warnings)))
    episode = custody_release(
        actor=Actor.from_user(user),
        person=person,
        reason=body.reason,
        at=body.at,
        destination=body.destination,
        note=body.note,
    )
    return {
        "episode": str(episode.pk),
        "person": str(person.pk),
        "released_at": instant_str(episode.released_at),
        "reason": episode.release_reason,
        "destination": episode.release_destination,
        "warnings": warnings,
    }
