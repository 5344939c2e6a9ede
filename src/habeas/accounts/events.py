"""Ledger actions of accounts: who may do what is custody-relevant state (a liaison raised to
facility admin, a superuser flag, a working API token inserted behind Habeas's back would each
change who can read or write the registry), so every account and token is covered.

Personal: a staff member's e-mail address, and (not personal, but secret) a token's digest,
both as commitments under the key ``user:<username>``: the ledger never holds what the API
checks a token against. Usernames stay in clear: they are every entry's ``actor`` already.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils.translation import pgettext_lazy

from habeas.core.events import Action, Committed, Payload, State, covers, declare, derived, instant

U = "accounts.User"
UP = "accounts.User.permissions"
T = "accounts.APIToken"
USER_FIELDS = (
    "username", "email", "role", "jurisdiction_code", "facility_codes", "is_staff",
    "is_superuser", "is_active",
)  # fmt: skip
TOKEN_FIELDS = ("user", "name", "prefix", "digest", "created_at", "revoked_at")


def _user(state: State, p: dict[str, Any]) -> None:
    u = p["user"]
    state.setdefault(U, {})[u["id"]] = {k: u[k] for k in USER_FIELDS}


def _deactivated(state: State, p: dict[str, Any]) -> None:
    state.setdefault(U, {}).setdefault(p["user"], {})["is_active"] = False


def _token(state: State, p: dict[str, Any]) -> None:
    t = p["token"]
    state.setdefault(T, {})[t["id"]] = {
        k: instant(t[k]) if k.endswith("_at") else t[k] for k in TOKEN_FIELDS
    }


# --- payload schemas (Action.schema) -------------------------------------------------------


class UserRow(Payload):
    id: int
    username: str
    email: str | Committed
    role: str
    facility_codes: list[str]
    jurisdiction_code: str
    is_active: bool
    is_staff: bool
    is_superuser: bool


class UserCreatedPayload(Payload):
    user: UserRow


class UserDeactivatedPayload(Payload):
    user: int
    reason: str


class TokenRow(Payload):
    id: int
    user: str
    name: str
    prefix: str
    digest: str | Committed
    created_at: dt.datetime
    revoked_at: dt.datetime | None


class TokenIssuedPayload(Payload):
    token: TokenRow


class TokenRevokedPayload(Payload):
    token: TokenRow


declare(
    Action(
        "accounts.user_created",
        schema=UserCreatedPayload,
        label=pgettext_lazy("ledger action", "Account created"),
        personal=("user.email",),
        replay=_user,
        housing=None,
    ),
    Action(
        "accounts.user_deactivated",
        schema=UserDeactivatedPayload,
        label=pgettext_lazy("ledger action", "Account closed"),
        replay=_deactivated,
        housing=None,
    ),
    Action(
        "accounts.token_issued",
        schema=TokenIssuedPayload,
        label=pgettext_lazy("ledger action", "API token issued"),
        personal=("token.digest",),
        replay=_token,
        housing=None,
    ),
    Action(
        "accounts.token_revoked",
        schema=TokenRevokedPayload,
        label=pgettext_lazy("ledger action", "API token revoked"),
        personal=("token.digest",),
        replay=_token,
        housing=None,
    ),
)


@covers(
    U, models=("accounts.User",), personal=("email",), key=lambda uid, r: f"user:{r['username']}"
)
def _users() -> dict[Any, dict[str, Any]]:
    from habeas.accounts.models import User

    return {u.pop("id"): u for u in User.objects.values("id", *USER_FIELDS)}


@covers(UP, models=("accounts.User_groups", "accounts.User_user_permissions"))
def _permissions() -> dict[Any, dict[str, Any]]:
    """Habeas grants by role and scope only: no account is ever given Django groups or
    model permissions, so any such row was added behind Habeas's back."""
    from habeas.accounts.models import User

    rows: dict[Any, dict[str, Any]] = {}
    for uid, group in User.groups.through.objects.values_list("user_id", "group_id"):
        rows[f"{uid}/group/{group}"] = {"granted": True}
    for uid, perm in User.user_permissions.through.objects.values_list("user_id", "permission_id"):
        rows[f"{uid}/permission/{perm}"] = {"granted": True}
    return rows


@covers(T, personal=("digest",), key=lambda tid, r: f"user:{r['user']}")
def _tokens() -> dict[Any, dict[str, Any]]:
    from habeas.accounts.models import APIToken

    rows: dict[Any, dict[str, Any]] = {}
    t: Any
    for t in APIToken.objects.values("id", "user__username", "name", "prefix", "digest",
                                     "created_at", "revoked_at"):  # fmt: skip
        t["user"] = t.pop("user__username")
        t["created_at"] = instant(t["created_at"])
        t["revoked_at"] = instant(t["revoked_at"])
        rows[t.pop("id")] = t
    return rows


derived(
    "auth.Group",
    "Habeas grants by role and scope; groups are never used (see accounts.User.permissions)",
)
derived("auth.Permission", "Django's catalogue of model permissions, rebuilt by migrate")
derived(
    "auth.Group_permissions",
    "permissions of groups; no account is ever in a group (accounts.User.permissions)",
)
derived(
    "axes.AccessAttempt",
    "operational: failed sign-ins counted per username and address for the lockout "
    "(django-axes); they expire after the cool-off or are cleared by `habeas unlock`",
)
derived(
    "axes.AccessAttemptExpiration",
    "operational: when each counted failed sign-in expires (django-axes)",
)
derived(
    "axes.AccessFailureLog",
    "operational: django-axes' log of failed sign-ins (kept off by AXES_ENABLE_ACCESS_FAILURE_LOG)",
)
derived("axes.AccessLog", "operational: django-axes' log of sign-ins and sign-outs")
