"""API authentication (django-ninja auth callables): a bearer token or the web session.

* :class:`TokenAuth` reads ``Authorization: Bearer hb_…``, looks the token up by its SHA-256
  digest (only the digest is stored), refuses revoked tokens and inactive users with 401 and
  records ``last_used_at`` through :func:`habeas.accounts.services.token_touch` (bookkeeping,
  not a ledger event; see there).
* :class:`SessionAuth` reuses the Django session of the web UI. As ninja's ``SessionAuth`` it
  enforces CSRF on unsafe methods, so a page on another origin cannot ride the session.

Both refuse an authenticated user who holds no role with 403 (``role_required=True``, the
default): an account without a role has no scope, so there is nothing it may read (Mandela
Rule 9, need-to-know). ``API_AUTH`` is the list the API uses: token first, then session.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja.errors import AuthenticationError
from ninja.security import HttpBearer
from ninja.security import SessionAuth as NinjaSessionAuth

from habeas.accounts.models import User
from habeas.accounts.permissions import has_role, may_manage_housing, may_view_cells
from habeas.accounts.selectors import token_authenticate
from habeas.accounts.services import token_touch
from habeas.core.errors import Forbidden


def _authorise(user: Any, *, role_required: bool) -> User | None:
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    if role_required and not has_role(user):
        raise PermissionDenied(_(MSG_NO_ROLE))
    assert isinstance(user, User)
    return user


class TokenAuth(HttpBearer):
    """``Authorization: Bearer hb_…``. A presented token that is unknown or revoked is a 401,
    never a silent fall-back to the session (an explicit credential that fails must fail)."""

    openapi_description = "An API token issued with `habeas token create USERNAME --name NAME`."

    def __init__(self, *, role_required: bool = True) -> None:
        self.role_required = role_required
        super().__init__()

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        found = token_authenticate(token)
        if found is None:
            raise AuthenticationError(message=_("invalid or revoked API token"))
        user = _authorise(found.user, role_required=self.role_required)
        if user is None:
            raise AuthenticationError(message=_("invalid or revoked API token"))
        token_touch(token=found)
        request.user = user
        return user


class SessionAuth(NinjaSessionAuth):
    """The web UI's session cookie (CSRF enforced on unsafe methods)."""

    def __init__(self, *, role_required: bool = True, csrf: bool = True) -> None:
        self.role_required = role_required
        super().__init__(csrf=csrf)

    def authenticate(self, request: HttpRequest, key: str | None) -> User | None:
        return _authorise(getattr(request, "user", None), role_required=self.role_required)


#: The API's default authentication: a bearer token, else the web session.
API_AUTH = [TokenAuth(), SessionAuth()]


def api_user(request: HttpRequest) -> User:
    """The user the request was authenticated as (set by :data:`API_AUTH`)."""
    user = getattr(request, "auth", None)
    if not isinstance(user, User):
        raise PermissionDenied(_("authentication required"))
    return user


def housing_user(request: HttpRequest, *, refused: str, read_only: str | None = None) -> User:
    """The API user if they may read housing — facility roles, oversight and auditors, never a
    sending state's liaison or finance officer (Mandela Rule 9) — else 403 with ``refused``.
    With ``read_only``, only the facility roles, who may change it (oversight reads only)."""
    user = api_user(request)
    if not may_view_cells(user):
        raise Forbidden(refused)
    if read_only is not None and not may_manage_housing(user):
        raise Forbidden(read_only)
    return user


MSG_NO_ROLE = "your account has no role; ask an administrator for one"


def role_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A page for signed-in users with a role (``login_required`` first): an account without
    a role has no scope, so it gets 403 with the reason, never an empty page (Mandela Rule 9,
    need to know; the API answers it 403 the same way)."""

    @wraps(view)
    def checked(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not has_role(request.user):
            raise PermissionDenied(_(MSG_NO_ROLE))
        return view(request, *args, **kwargs)

    return login_required(checked)
