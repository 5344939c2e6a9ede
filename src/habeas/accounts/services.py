"""Writes to accounts: users, their role and scope, API tokens (Mandela Rules 6 and 9: every
modification is on the audit trail, and access to records is need-to-know).

Every change here is a ledger event (``accounts.user_created``, ``accounts.token_issued``,
``accounts.token_revoked``, subject ``user:<username>``). A payload never holds a password,
a password hash, a raw token or a token digest: the ledger is shown to oversight bodies.

``User`` is not a ``ServiceModel`` (Django's login writes ``last_login`` outside any service),
and ``APIToken.last_used_at`` is bookkeeping: see :func:`token_touch`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import pycountry
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError

from habeas.accounts.choices import Role
from habeas.accounts.models import APIToken, User, hash_token
from habeas.accounts.permissions import role_scoped_to_facilities, role_scoped_to_state
from habeas.core.actor import Actor
from habeas.core.clock import now
from habeas.core.errors import Conflict, ValidationFailed
from habeas.core.services import service
from habeas.ledger.services import ledger_append

MSG_USERNAME_REQUIRED = "a username is required"
MSG_USERNAME_INVALID = "the username is not valid"
MSG_USERNAME_TAKEN = "a user with that username already exists"
MSG_ACCOUNT_INVALID = "the account fields are not valid"
MSG_UNKNOWN_ROLE = "unknown role"
MSG_WEAK_PASSWORD = "the password is too weak"  # noqa: S105 (a message)
MSG_LIAISON_NEEDS_JURISDICTION = "a liaison or finance user needs a jurisdiction (sending state)"
MSG_UNKNOWN_JURISDICTION = "the jurisdiction is not an ISO 3166-1 alpha-2 country code"
MSG_FACILITY_ROLE_NEEDS_FACILITIES = "facility staff and admins need at least one facility"
MSG_NO_JURISDICTION_FOR_ROLE = "this role is not scoped to a jurisdiction"
MSG_NO_FACILITIES_FOR_ROLE = "this role is not scoped to facilities"
MSG_FACILITY_CODE_INVALID = "facility codes must be non-empty codes of at most 32 characters"
MSG_TOKEN_NAME_REQUIRED = "a token needs a name (what or who uses it)"  # noqa: S105 (a message)
MSG_TOKEN_NAME_TOO_LONG = "the token name is longer than 100 characters"  # noqa: S105 (a message)
MSG_USER_INACTIVE = "the user is inactive"
MSG_DEACTIVATION_REASON = "closing an account needs a reason"
MSG_TOKEN_ALREADY_REVOKED = "the token is already revoked"  # noqa: S105 (a message)

#: How stale ``last_used_at`` may get before a request writes it again (one write per token
#: per interval rather than one per request; SQLite serialises writers).
TOKEN_TOUCH_INTERVAL = dt.timedelta(minutes=5)


def user_snapshot(user: User) -> dict[str, Any]:
    """The ledger payload of an account: role and scope, never credentials."""
    return {
        "id": user.pk,
        "username": user.username,
        "email": user.email,
        "role": user.role,
        "jurisdiction_code": user.jurisdiction_code,
        "facility_codes": list(user.facility_codes),
        "is_staff": user.is_staff,
        "is_superuser": user.is_superuser,
        "is_active": user.is_active,
    }


def token_snapshot(token: APIToken) -> dict[str, Any]:
    """The ledger payload of a token: its public prefix, never the token; the digest only as
    a commitment (``habeas.accounts.events``), so that a token inserted behind Habeas's back is
    found by ``verify-ledger`` while the ledger holds nothing the API checks against."""
    return {
        "id": token.pk,
        "user": token.user.username,
        "name": token.name,
        "prefix": token.prefix,
        "digest": token.digest,
        "created_at": token.created_at,
        "revoked_at": token.revoked_at,
    }


def _clean_scope(
    role: str, jurisdiction_code: str, facility_codes: Iterable[str]
) -> tuple[str, list[str]]:
    """A role's scope (ARCHITECTURE.md, users): facility roles by facility codes, liaison and
    finance by one state, oversight and auditors by neither."""
    if role not in Role.values and role != "":
        raise ValidationFailed(MSG_UNKNOWN_ROLE, details={"role": role})
    jurisdiction = jurisdiction_code.strip().upper()
    facilities: list[str] = []
    for raw in facility_codes:
        code = str(raw).strip()
        if not code or len(code) > 32:
            raise ValidationFailed(MSG_FACILITY_CODE_INVALID, details={"facility_code": raw})
        if code not in facilities:
            facilities.append(code)
    if role_scoped_to_state(role):
        if not jurisdiction:
            raise ValidationFailed(MSG_LIAISON_NEEDS_JURISDICTION, details={"role": role})
        if len(jurisdiction) != 2 or pycountry.countries.get(alpha_2=jurisdiction) is None:
            raise ValidationFailed(
                MSG_UNKNOWN_JURISDICTION, details={"jurisdiction_code": jurisdiction}
            )
    elif jurisdiction:
        raise ValidationFailed(MSG_NO_JURISDICTION_FOR_ROLE, details={"role": role})
    if role_scoped_to_facilities(role):
        if not facilities:
            raise ValidationFailed(MSG_FACILITY_ROLE_NEEDS_FACILITIES, details={"role": role})
    elif facilities:
        raise ValidationFailed(MSG_NO_FACILITIES_FOR_ROLE, details={"role": role})
    return jurisdiction, facilities


@service
def user_create(
    *,
    actor: Actor,
    username: str,
    password: str,
    role: str,
    jurisdiction_code: str = "",
    facility_codes: Iterable[str] = (),
    is_staff: bool = False,
    is_superuser: bool = False,
    email: str = "",
) -> User:
    """Create an account with one role and its scope (Mandela Rule 9: need-to-know access;
    Rule 6: the creation is on the audit trail). The password is checked against
    ``AUTH_PASSWORD_VALIDATORS`` and stored hashed; the ledger never sees it."""
    username = username.strip()
    if not username:
        raise ValidationFailed(MSG_USERNAME_REQUIRED)
    jurisdiction, facilities = _clean_scope(role, jurisdiction_code, facility_codes)
    if User.objects.filter(username=username).exists():
        raise Conflict(MSG_USERNAME_TAKEN, details={"username": username})
    user = User(
        username=username,
        email=email.strip(),
        role=role,
        jurisdiction_code=jurisdiction,
        facility_codes=facilities,
        is_staff=is_staff,
        is_superuser=is_superuser,
    )
    try:
        validate_password(password, user=user)
    except DjangoValidationError as exc:
        raise ValidationFailed(MSG_WEAK_PASSWORD, details={"password": exc.messages}) from None
    user.set_password(password)
    try:
        user.full_clean(exclude=["password"])
    except DjangoValidationError as exc:
        fields = exc.message_dict
        message = MSG_USERNAME_INVALID if "username" in fields else MSG_ACCOUNT_INVALID
        raise ValidationFailed(message, details=fields) from None
    user.save()
    ledger_append(
        actor=actor,
        action="accounts.user_created",
        subject=f"user:{user.username}",
        payload={"user": user_snapshot(user)},
    )
    return user


@service
def user_deactivate(*, actor: Actor, user: User, reason: str) -> User:
    """Close an account (a staff member leaves, a liaison is replaced): it can no longer log
    in nor use its API tokens. The row stays, for the audit trail (Mandela Rule 6); the
    change is on the ledger, since who may read the registry is part of what it answers for."""
    if not reason.strip():
        raise ValidationFailed(MSG_DEACTIVATION_REASON)
    if not user.is_active:
        raise Conflict(MSG_USER_INACTIVE, details={"user": user.username})
    user.is_active = False
    user.save(update_fields=["is_active"])
    ledger_append(
        actor=actor,
        action="accounts.user_deactivated",
        subject=f"user:{user.username}",
        payload={"user": user.pk, "reason": reason.strip()},
    )
    return user


@service
def token_create(*, actor: Actor, user: User, name: str) -> tuple[APIToken, str]:
    """Issue an API token for ``user``. Returns the token row and the raw token, which is
    shown once and never stored: only its SHA-256 digest is kept (so a copy of the database
    cannot be replayed against the API), plus an 8-character prefix to name it by."""
    name = name.strip()
    if not name:
        raise ValidationFailed(MSG_TOKEN_NAME_REQUIRED)
    if len(name) > 100:
        raise ValidationFailed(MSG_TOKEN_NAME_TOO_LONG)
    if not user.is_active:
        raise Conflict(MSG_USER_INACTIVE, details={"user": user.username})
    raw = APIToken.generate()
    token = APIToken(user=user, name=name, prefix=raw[:8], digest=hash_token(raw))
    token.save()
    ledger_append(
        actor=actor,
        action="accounts.token_issued",
        subject=f"user:{user.username}",
        payload={"token": token_snapshot(token)},
    )
    return token, raw


@service
def token_revoke(*, actor: Actor, token: APIToken, at: dt.datetime | None = None) -> APIToken:
    """Revoke a token: refused at once by the API (the row stays, for the audit trail)."""
    if token.revoked_at is not None:
        raise Conflict(MSG_TOKEN_ALREADY_REVOKED, details={"prefix": token.prefix})
    token.revoked_at = at or now()
    token.save(update_fields=["revoked_at"])
    ledger_append(
        actor=actor,
        action="accounts.token_revoked",
        subject=f"user:{token.user.username}",
        payload={"token": token_snapshot(token)},
        occurred_at=token.revoked_at,
    )
    return token


def token_touch(*, token: APIToken, at: dt.datetime | None = None) -> None:
    """Record that a token was used, at most once per :data:`TOKEN_TOUCH_INTERVAL`.

    Deliberately *not* a ledger event: ``last_used_at`` is bookkeeping about a credential, not
    a change to anything Habeas answers for (who is held, where, why); one ledger entry per
    API request would bury the events that matter. It is a single conditional
    ``UPDATE`` on ``APIToken`` (not a ``ServiceModel``), so it needs no service transaction.
    """
    at = at or now()
    if token.last_used_at is not None and at - token.last_used_at < TOKEN_TOUCH_INTERVAL:
        return
    APIToken.objects.filter(pk=token.pk).update(last_used_at=at)
    token.last_used_at = at
