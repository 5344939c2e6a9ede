"""Reads of accounts: users by name, tokens by prefix (CLI) and by digest (API auth)."""

from __future__ import annotations

from habeas.accounts.models import APIToken, User, hash_token
from habeas.core.errors import Conflict, NotFound

MSG_USER_NOT_FOUND = "no user with that username"
MSG_TOKEN_NOT_FOUND = "no active token with that prefix"  # noqa: S105 (a message)
MSG_TOKEN_PREFIX_AMBIGUOUS = "more than one active token has that prefix; revoke by a longer one"  # noqa: S105 (a message)

#: Issued tokens look like ``hb_<43 url-safe characters>`` (``APIToken.generate``).
TOKEN_SCHEME = "hb_"  # noqa: S105 (a prefix, not a secret)


def user_get_by_username(*, username: str) -> User:
    user = User.objects.filter(username=username.strip()).first()
    if user is None:
        raise NotFound(MSG_USER_NOT_FOUND, details={"username": username})
    return user


def token_list(*, user: User) -> list[APIToken]:
    return list(APIToken.objects.filter(user=user).order_by("created_at", "pk"))


def token_get_by_prefix(*, prefix: str) -> APIToken:
    """The one active token whose prefix is ``prefix`` (the 8 characters shown at issue)."""
    prefix = prefix.strip()
    tokens = list(
        APIToken.objects.filter(prefix=prefix[:8], revoked_at__isnull=True)
        .select_related("user")
        .order_by("pk")[:2]
    )
    if not tokens:
        raise NotFound(MSG_TOKEN_NOT_FOUND, details={"prefix": prefix})
    if len(tokens) > 1:
        raise Conflict(MSG_TOKEN_PREFIX_AMBIGUOUS, details={"prefix": prefix})
    return tokens[0]


def token_authenticate(raw: str) -> APIToken | None:
    """The live token matching ``raw``, looked up by its SHA-256 digest (the raw token is
    never stored); ``None`` for an unknown or revoked token or an inactive user."""
    raw = raw.strip()
    if not raw.startswith(TOKEN_SCHEME) or len(raw) > 200:
        return None
    return (
        APIToken.objects.select_related("user")
        .filter(digest=hash_token(raw), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
