"""Template context: ``may``, the signed-in user's answers from :mod:`habeas.accounts.permissions`
that the navigation needs, so templates never compare a role themselves."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from habeas.accounts import permissions


class Navigation:
    """Read lazily: a page that shows no navigation never loads the user."""

    def __init__(self, request: HttpRequest) -> None:
        self._request = request

    @property
    def _user(self) -> Any:
        return getattr(self._request, "user", None)

    @property
    def view_transfers(self) -> bool:
        return permissions.may_view_transfers(self._user)

    @property
    def view_housing(self) -> bool:
        return permissions.may_view_housing(self._user)

    @property
    def view_alerts(self) -> bool:
        return permissions.has_role(self._user)

    @property
    def view_billing(self) -> bool:
        return permissions.has_role(self._user)

    @property
    def view_inspections(self) -> bool:
        return permissions.may_view_inspections(self._user)

    @property
    def view_cases(self) -> bool:
        return permissions.may_view_incidents(self._user)

    @property
    def own_home(self) -> bool:
        """``/`` is a role's own home, not the facility dashboard (then linked beside it)."""
        return permissions.home_of(self._user) != permissions.HOME_DASHBOARD

    @property
    def verify_ledger(self) -> bool:
        return permissions.may_verify_ledger(self._user)

    @property
    def read_oversight(self) -> bool:
        return permissions.may_read_oversight(self._user)


def navigation(request: HttpRequest) -> dict[str, Any]:
    return {"may": Navigation(request)}
