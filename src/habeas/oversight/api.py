"""``/api/v1/locator`` and ``/api/v1/statistics`` (public, no authentication) and
``/api/v1/access-log/`` (oversight monitors and auditors).

* The locator answers the ``locate --json`` document (INTERFACES.md): never a cell, a legal
  document, another person's data, or whether a non-matching person exists; rate-limited per
  client address and per searched name (429 with the error document and ``Retry-After``).
* The statistics are the public ones (Mandela Rule 10): counts from 1 to 4 read ``"<5"``.
* The access log (Mandela Rule 9) is for oversight and auditors only: 403 for every other role.
"""

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from habeas.accounts.auth import api_user
from habeas.accounts.permissions import may_read_oversight
from habeas.core.api import ErrorOut, IdStr, InstantStr, Pagination, errors, instant_str
from habeas.core.errors import ApplicationError, Forbidden
from habeas.ledger.freshness import conditional
from habeas.oversight.locator import (
    LocatorQuery,
    Throttle,
    client_address,
    locate,
    locator_throttle,
    search_throttles,
)
from habeas.oversight.models import AccessLog
from habeas.oversight.selectors import (
    AccessLogFilter,
    access_log_list,
    public_stats_cached,
)

router = Router(tags=["oversight"])


class FacilityPublicOut(Schema):
    name: str
    address: str
    phone: str
    visiting: str


class LocateMatchOut(Schema):
    """One person the search found (or one ``not_found`` echo of the query)."""

    name: str
    year_of_birth: int | None
    status: str = Field(..., examples=["in_custody"])  # in_custody | released | not_found
    facility: FacilityPublicOut | None
    since: str | None
    released_on: str | None
    released_to: str | None = Field(
        None, description="a released person's destination country (ISO 3166-1 alpha-2)"
    )


class LocateOut(Schema):
    matches: list[LocateMatchOut]


class LocateIn(Schema):
    name: str = ""
    ref: str = ""
    dob: str = Field("", description="YYYY, YYYY-MM or YYYY-MM-DD")
    nationality: str = Field("", description="ISO 3166-1 alpha-2")


@router.get(
    "/locator",
    response={200: LocateOut, 400: ErrorOut, 429: ErrorOut},
    auth=None,
    summary="Where is this person held? (public locator)",
    operation_id="locator",
)
def locator_get(request: HttpRequest, response: HttpResponse, params: Query[LocateIn]) -> Any:
    """By ``ref`` + ``nationality``, or ``name`` + ``dob`` (year or date) + ``nationality``.
    Accent-, case- and surname-order-proof, one typo tolerated. People released in the last
    90 days are shown as released; anyone else not held answers ``not_found``."""
    client = client_address(request)
    try:
        query = LocatorQuery.build(
            name=params.name, ref=params.ref, dob=params.dob, nationality=params.nationality
        )
    except ApplicationError:
        # A search that cannot be made still counts against the address.
        throttle = locator_throttle(client)
        if not throttle.allowed:
            return _throttled(response, throttle, _("too many searches; try again in a minute"))
        raise
    by_client, by_subject = search_throttles(client, query)
    if not by_client.allowed:
        return _throttled(response, by_client, _("too many searches; try again in a minute"))
    if by_subject is not None and not by_subject.allowed:
        return _throttled(
            response, by_subject, _("too many searches for this person; try again later")
        )
    return Status(200, locate(query))


def _throttled(response: HttpResponse, throttle: Throttle, message: str) -> Any:
    response["Retry-After"] = str(throttle.retry_after)
    details: dict[str, Any] = {
        "retry_after": throttle.retry_after,
        "limit": throttle.limit,
        "window_seconds": throttle.window,
    }
    if throttle.window == 60:
        details["limit_per_minute"] = throttle.limit  # the key this answer always had
    return Status(429, {"code": "throttled", "message": message, "details": details})


@router.get(
    "/statistics",
    response={200: dict[str, Any], 304: None},
    auth=None,
    summary="Public statistics (Mandela Rule 10)",
    operation_id="statistics",
)
def statistics_get(request: HttpRequest) -> HttpResponse:
    """Population and occupancy against certified and working capacity per facility and
    module; by nationality, sex, legal basis and agreement; deaths in custody; the daily
    population series. Counts from 1 to 4 are ``"<5"``. Computed once per version of the
    registry; an unchanged registry answers 304 to ``If-None-Match``."""
    return conditional(
        request,
        "api",
        lambda version: JsonResponse(public_stats_cached(version)),
    )


class AccessLogOut(Schema):
    id: IdStr
    viewed_at: InstantStr
    username: str
    role: str
    #: Empty for a probe of the registry (``query``: a dry run or a matching call).
    person: IdStr | None
    channel: str
    query: str
    subject: str

    @staticmethod
    def resolve_id(obj: AccessLog) -> str:
        return str(obj.pk)

    @staticmethod
    def resolve_viewed_at(obj: AccessLog) -> str:
        return str(instant_str(obj.viewed_at))

    @staticmethod
    def resolve_person(obj: AccessLog) -> str | None:
        return str(obj.person_id) if obj.person_id else None


class AccessLogFilterIn(Schema):
    username: str = ""
    person: int | None = None
    channel: str = ""


@router.get(
    "/access-log/",
    response={200: list[AccessLogOut], **errors()},
    summary="Who viewed which person's file (oversight and auditors)",
    operation_id="access_log_list",
)
@paginate(Pagination)
def access_log_get(request: HttpRequest, filters: Query[AccessLogFilterIn]) -> Any:
    """Newest first. 403 for every role but oversight and auditor (Mandela Rule 9)."""
    user = api_user(request)
    if not may_read_oversight(user):
        raise Forbidden(_("only oversight and auditors may read the access log"))
    return access_log_list(
        user=user,
        filters=AccessLogFilter(
            username=filters.username.strip(), person_id=filters.person, channel=filters.channel
        ),
    )
