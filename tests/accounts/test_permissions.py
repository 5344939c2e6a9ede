"""``habeas.accounts.permissions``: each role's answers, in one table (ARCHITECTURE.md, users)."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser

from habeas.accounts import permissions as p
from habeas.accounts.models import User
from habeas.core.actor import Actor


def user(role: str = "", *, superuser: bool = False) -> User:
    return User(
        username=role or "nobody",
        role=role,
        is_superuser=superuser,
        jurisdiction_code="US" if role in {"liaison", "finance"} else "",
        facility_codes=["TEC"] if role.startswith("facility_") else [],
    )


WHO: dict[str, Any] = {
    "anonymous": AnonymousUser(),
    "no role": user(),
    "staff": user("facility_staff"),
    "admin": user("facility_admin"),
    "liaison": user("liaison"),
    "finance": user("finance"),
    "oversight": user("oversight"),
    "auditor": user("auditor"),
    "superuser": user(superuser=True),
}

#: predicate → the users it answers yes for.
TABLE: dict[str, set[str]] = {
    "has_role": set(WHO) - {"anonymous", "no role"},
    "sees_everything": {"oversight", "auditor", "superuser"},
    "may_view_cells": {"no role", "staff", "admin", "oversight", "auditor", "superuser"},
    "may_view_housing": {"staff", "admin", "oversight", "auditor", "superuser"},
    "may_manage_housing": {"staff", "admin"},
    "may_override_keep_apart": {"admin"},
    "may_record_absence": {"staff", "admin"},
    "may_acknowledge_alerts": {"staff", "admin"},
    "may_view_transfers": {"staff", "admin", "liaison", "oversight", "auditor", "superuser"},
    "may_import_manifests": {"staff", "admin", "liaison", "superuser"},
    "may_accept_manifests": {"staff", "admin", "superuser"},
    "may_read_admission_record": set(WHO) - {"finance"},
    "may_edit_admission_record": {"staff", "admin", "superuser"},
    "may_read_oversight": {"oversight", "auditor", "superuser"},
}


@pytest.mark.parametrize("predicate", sorted(TABLE))
def test_predicate_answers_yes_for_exactly_these_users(predicate: str) -> None:
    check = getattr(p, predicate)
    assert {who for who, u in WHO.items() if check(u)} == TABLE[predicate]


def test_scope_of_each_role() -> None:
    assert p.scope_of(WHO["anonymous"]) == p.Scope()
    assert p.scope_of(WHO["no role"]) == p.Scope()
    assert p.scope_of(WHO["staff"]) == p.Scope(facility_codes=["TEC"])
    assert p.scope_of(WHO["liaison"]) == p.Scope(state="US", people_sent_only=True)
    assert p.scope_of(WHO["finance"]) == p.Scope(state="US")
    for who in ("oversight", "auditor", "superuser"):
        assert p.scope_of(WHO[who]) == p.Scope(everything=True)


def test_facility_checks_are_scoped_to_the_users_facilities() -> None:
    staff = WHO["staff"]
    assert p.may_acknowledge_alert(staff, "TEC")
    assert not p.may_acknowledge_alert(staff, "OTH")
    assert not p.may_acknowledge_alert(WHO["oversight"], "TEC")
    assert p.is_receiving_staff(staff, ["OTH", "TEC"])
    assert not p.is_receiving_staff(staff, ["OTH"])
    assert p.is_receiving_staff(WHO["superuser"], [])


def test_a_liaison_imports_only_for_their_own_state() -> None:
    liaison = WHO["liaison"]
    assert p.may_import_manifest(liaison, sending_state="US", facility_codes=["TEC"])
    assert not p.may_import_manifest(liaison, sending_state="GT", facility_codes=["TEC"])
    assert p.may_import_manifest(WHO["staff"], sending_state="GT", facility_codes=["TEC"])
    assert not p.may_import_manifest(WHO["finance"], sending_state="US", facility_codes=["TEC"])


def test_only_facility_admins_and_the_server_administer_facilities() -> None:
    assert p.may_administer_facility(Actor(name="a", role="facility_admin"))
    assert p.may_administer_facility(Actor.cli())
    assert not p.may_administer_facility(Actor(name="s", role="facility_staff"))
    assert not p.may_administer_facility(Actor(name="o", role="oversight"))


def test_access_log_role_and_role_label() -> None:
    assert p.access_log_role(WHO["superuser"]) == "superuser"
    assert p.access_log_role(WHO["liaison"]) == "liaison"
    assert p.role_label(WHO["superuser"]) == "Administrator"
    assert p.role_label(WHO["no role"]) == "No role"
    assert p.role_label(WHO["auditor"]) == "Auditor"
