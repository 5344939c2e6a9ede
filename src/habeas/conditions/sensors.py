"""Sensor tokens (issue 14, item 1): a bearer token per sensor or gateway, scoped to one
facility, that may only send that facility's readings (``POST /api/v1/readings``). Mandela
Rule 9 (need to know): a sensor reads nothing, so any other endpoint answers it 403.

- Issued by the facility's administrator (or the server's operator, on the command line:
  ``habeas sensor-token create FACILITY --name NAME``); the token is printed once and only
  its SHA-256 is kept, like an account's API token.
- Issue and revocation are ledger entries (``conditions.sensor_token_issued`` /
  ``conditions.sensor_token_revoked``, Mandela Rule 6); ``last_used_at`` is bookkeeping, as
  for API tokens.
- :class:`SensorTokenMiddleware` refuses a sensor token on every path but the readings
  endpoint, before any view runs, whatever that view's authentication.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from ninja.errors import AuthenticationError
from ninja.security import HttpBearer

from habeas.accounts.permissions import may_administer_facility
from habeas.conditions.readings_models import SensorToken
from habeas.core.actor import Actor
from habeas.core.clock import now
from habeas.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from habeas.core.services import service
from habeas.facilities.models import Facility
from habeas.ledger.services import ledger_append

#: Sensor tokens look like ``hs_<43 url-safe characters>``; account tokens begin ``hb_``.
SENSOR_TOKEN_PREFIX = "hs_"  # noqa: S105 (a prefix, not a secret)
#: The one path a sensor token may use, and its method.
READINGS_PATH = "/api/v1/readings"
TOUCH_INTERVAL = dt.timedelta(minutes=5)

MSG_NOT_ADMIN = "only the facility's administrator issues or revokes sensor tokens"
MSG_NAME = "give the sensor token a name (what sensor or gateway uses it), at most 100 characters"
MSG_REVOKED = "the sensor token {prefix} is already revoked"
MSG_NOT_FOUND = "no active sensor token with the prefix {prefix}"
MSG_SENSOR_ONLY = "a sensor token may only send readings (POST /api/v1/readings)"
MSG_INVALID = "invalid or revoked sensor token"


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def sensor_token_snapshot(token: SensorToken) -> dict[str, Any]:
    """The ledger payload of a sensor token: its prefix, never the token; the digest only as
    a personal-data commitment (as ``accounts.services.token_snapshot``)."""
    return {
        "id": token.pk,
        "facility": token.facility.code,
        "facility_id": token.facility_id,
        "name": token.name,
        "prefix": token.prefix,
        "digest": token.digest,
        "created_at": token.created_at,
        "created_by": token.created_by,
        "revoked_at": token.revoked_at,
    }


@service
def sensor_token_create(*, actor: Actor, facility: Facility, name: str) -> tuple[SensorToken, str]:
    """Issue a token for the facility's sensors; returns the row and the raw token (shown
    once, never stored)."""
    if not may_administer_facility(actor):
        raise Forbidden(MSG_NOT_ADMIN)
    name = name.strip()
    if not name or len(name) > 100:
        raise ValidationFailed(MSG_NAME)
    raw = SENSOR_TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = SensorToken(
        facility=facility,
        name=name,
        prefix=raw[:11],
        digest=hash_token(raw),
        created_at=now(),
        created_by=actor.ledger_name[:150],
    )
    token.save()
    ledger_append(
        actor=actor,
        action="conditions.sensor_token_issued",
        subject=f"facility:{facility.code}",
        payload={"token": sensor_token_snapshot(token)},
        occurred_at=token.created_at,
    )
    return token, raw


@service
def sensor_token_revoke(*, actor: Actor, token: SensorToken) -> SensorToken:
    """Revoke a sensor token: refused at once (the row stays, for the audit trail)."""
    if not may_administer_facility(actor):
        raise Forbidden(MSG_NOT_ADMIN)
    if token.revoked_at is not None:
        raise Conflict(MSG_REVOKED.format(prefix=token.prefix))
    token.revoked_at = now()
    token.save(update_fields=["revoked_at"])
    ledger_append(
        actor=actor,
        action="conditions.sensor_token_revoked",
        subject=f"facility:{token.facility.code}",
        payload={"token": sensor_token_snapshot(token)},
        occurred_at=token.revoked_at,
    )
    return token


def sensor_token_get(*, prefix: str) -> SensorToken:
    found = list(
        SensorToken.objects.filter(
            prefix__startswith=prefix[:11], revoked_at__isnull=True
        ).select_related("facility")[:2]
    )
    if len(found) != 1 or not prefix.startswith(SENSOR_TOKEN_PREFIX):
        raise NotFound(MSG_NOT_FOUND.format(prefix=prefix))
    return found[0]


def sensor_token_authenticate(raw: str) -> SensorToken | None:
    """The live sensor token matching ``raw`` (looked up by its SHA-256), with its facility."""
    if not raw.startswith(SENSOR_TOKEN_PREFIX):
        return None
    token = (
        SensorToken.objects.filter(digest=hash_token(raw), revoked_at__isnull=True)
        .select_related("facility")
        .first()
    )
    if token is not None:
        sensor_token_touch(token=token)
    return token


@service
def sensor_token_touch(*, token: SensorToken) -> None:
    """Record when a sensor token was last used, at most once per :data:`TOUCH_INTERVAL`.
    Bookkeeping about a credential, deliberately not a ledger event (as
    ``accounts.services.token_touch``): one entry per request would bury those that matter;
    ``last_used_at`` is outside what verify-ledger compares."""
    at = now()
    if token.last_used_at is None or at - token.last_used_at >= TOUCH_INTERVAL:
        SensorToken.objects.filter(pk=token.pk).update(last_used_at=at)
        token.last_used_at = at


class SensorTokenAuth(HttpBearer):
    """``Authorization: Bearer hs_…`` on the readings endpoint; any other bearer token is
    left to the next authentication (accounts' tokens, then the session)."""

    openapi_description = "A sensor token issued with `habeas sensor-token create FACILITY`."

    def authenticate(self, request: HttpRequest, token: str) -> SensorToken | None:
        if not token.startswith(SENSOR_TOKEN_PREFIX):
            return None
        found = sensor_token_authenticate(token)
        if found is None:
            raise AuthenticationError(message=_(MSG_INVALID))
        return found


def sensor_actor(token: SensorToken) -> Actor:
    return Actor(name=f"sensor:{token.facility.code}:{token.prefix}", role="sensor")


def _bearer(request: HttpRequest) -> str:
    header = request.headers.get("Authorization", "")
    scheme, _sep, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


class SensorTokenMiddleware:
    """Every request bearing a sensor token, except ``POST /api/v1/readings``, is refused with
    403 and the API's error document, before any view (or its own authentication) runs."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if _bearer(request).startswith(SENSOR_TOKEN_PREFIX) and not (
            request.method == "POST" and request.path.rstrip("/") == READINGS_PATH
        ):
            return JsonResponse(
                {"code": "forbidden", "message": _(MSG_SENSOR_ONLY), "details": {}}, status=403
            )
        return self.get_response(request)
