"""``/api/v1/persons/{id}/`` (the person's file) and ``/api/v1/custody-episodes/``.

Mandela Rule 9: records are need-to-know. Everything is read through the scoped selectors
(a person or episode outside the user's scope is a 404 with the same body as a missing one);
sending-state liaisons and finance officers see their own transferees' custody but not the
housing detail (the cell), and only the custody episodes under their own state's agreements.
"""

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema
from ninja.pagination import paginate

from habeas.accounts.auth import api_user
from habeas.accounts.models import User
from habeas.core import audit
from habeas.core.api import (
    DateStr,
    IdStr,
    InstantStr,
    Pagination,
    date_str,
    errors,
    instant_str,
)
from habeas.core.errors import NotFound
from habeas.custody.models import CustodyEpisode, EpisodeQuerySet, LegalBasis
from habeas.custody.selectors import (
    basis_ends_on,
    current_placement,
    episode_get_for,
    episode_list,
    person_file,
)
from habeas.people.selectors import person_get_for

router = Router(tags=["custody"])

MSG_EPISODE_NOT_FOUND = "custody episode not found"


def sees_housing(user: User) -> bool:
    """Cell-level detail is for the receiving side and oversight (``User.sees_housing``)."""
    return bool(user.sees_housing)


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


class PersonFileOut(Schema):
    """The ``show --json`` document (INTERFACES.md); ``cell`` is null for liaison and finance."""

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
        if not obj.is_open or not sees_housing(api_user(context["request"])):
            return None
        placement = current_placement(obj.person)
        return placement.cell.code if placement else None


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
    if not episode_id.isdigit() or len(episode_id) > 18:
        raise NotFound(MSG_EPISODE_NOT_FOUND)
    return episode_get_for(user=api_user(request), episode_id=int(episode_id))
