"""accounts.services: users with a role and scope, API tokens; every change on the ledger,
never a credential in it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from habeas.accounts import services
from habeas.accounts.services import token_create, token_revoke, user_create, user_deactivate
from habeas.core.actor import Actor
from habeas.core.errors import ApplicationError, Conflict, ValidationFailed
from habeas.ledger.privacy import commitment, keys_for

ADMIN = Actor(name="test:admin", role="system")
PASSWORD = "correct horse battery staple"


def entries(action: str) -> list[Any]:
    from habeas.ledger.models import LedgerEntry

    return list(LedgerEntry.objects.filter(action=action).order_by("index"))


@pytest.mark.django_db
def test_user_create_records_role_and_scope_but_no_password() -> None:
    user = user_create(
        actor=ADMIN,
        username="ana",
        password=PASSWORD,
        role="facility_staff",
        facility_codes=["TEC", "TEC", " OTH "],
        email="ana@example.org",
    )
    assert user.check_password(PASSWORD)
    assert user.facility_codes == ["TEC", "OTH"]
    (entry,) = entries("accounts.user_created")
    assert entry.subject == "user:ana"
    assert entry.actor == "test:admin"
    assert entry.payload["user"] == {
        "id": user.pk,
        "username": "ana",
        # A staff member's e-mail address is personal: a commitment under their key.
        "email": commitment(keys_for(["user:ana"], create=False)["user:ana"], "ana@example.org"),
        "role": "facility_staff",
        "jurisdiction_code": "",
        "facility_codes": ["TEC", "OTH"],
        "is_staff": False,
        "is_superuser": False,
        "is_active": True,
    }
    assert PASSWORD not in entry.canonical
    assert "ana@example.org" not in entry.canonical
    assert user.password not in entry.canonical
    assert "password" not in json.loads(entry.canonical)["payload"]["user"]


@pytest.mark.django_db
def test_liaison_jurisdiction_is_normalised() -> None:
    user = user_create(
        actor=ADMIN, username="li", password=PASSWORD, role="liaison", jurisdiction_code="us"
    )
    assert user.jurisdiction_code == "US"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"role": "warden"}, services.MSG_UNKNOWN_ROLE),
        ({"role": "liaison"}, services.MSG_LIAISON_NEEDS_JURISDICTION),
        ({"role": "finance"}, services.MSG_LIAISON_NEEDS_JURISDICTION),
        ({"role": "liaison", "jurisdiction_code": "XX"}, services.MSG_UNKNOWN_JURISDICTION),
        ({"role": "liaison", "jurisdiction_code": "USA"}, services.MSG_UNKNOWN_JURISDICTION),
        (
            {"role": "liaison", "jurisdiction_code": "US", "facility_codes": ["TEC"]},
            services.MSG_NO_FACILITIES_FOR_ROLE,
        ),
        ({"role": "facility_staff"}, services.MSG_FACILITY_ROLE_NEEDS_FACILITIES),
        ({"role": "facility_admin", "facility_codes": [""]}, services.MSG_FACILITY_CODE_INVALID),
        (
            {"role": "facility_admin", "facility_codes": ["TEC"], "jurisdiction_code": "SV"},
            services.MSG_NO_JURISDICTION_FOR_ROLE,
        ),
        ({"role": "oversight", "jurisdiction_code": "US"}, services.MSG_NO_JURISDICTION_FOR_ROLE),
        ({"role": "auditor", "facility_codes": ["TEC"]}, services.MSG_NO_FACILITIES_FOR_ROLE),
        ({"role": "auditor", "password": "short"}, services.MSG_WEAK_PASSWORD),
        ({"role": "auditor", "password": "password123"}, services.MSG_WEAK_PASSWORD),
        ({"role": "auditor", "username": "  "}, services.MSG_USERNAME_REQUIRED),
        ({"role": "auditor", "username": "a b/c"}, services.MSG_USERNAME_INVALID),
        ({"role": "auditor", "email": "not-an-email"}, services.MSG_ACCOUNT_INVALID),
    ],
)
@pytest.mark.django_db
def test_user_create_refuses_bad_scope_and_input(fields: dict[str, Any], message: str) -> None:
    from habeas.accounts.models import User

    arguments: dict[str, Any] = {"username": "bob", "password": PASSWORD, **fields}
    with pytest.raises(ValidationFailed) as caught:
        user_create(actor=ADMIN, **arguments)
    assert caught.value.message == message
    assert caught.value.status == 400
    assert not User.objects.exists()
    assert not entries("accounts.user_created")


@pytest.mark.django_db
def test_weak_password_details_say_why() -> None:
    with pytest.raises(ValidationFailed) as caught:
        user_create(actor=ADMIN, username="bob", password="short", role="auditor")
    reasons = caught.value.details["password"]
    assert isinstance(reasons, list)
    assert reasons
    assert all(isinstance(r, str) for r in reasons)


@pytest.mark.django_db
def test_username_taken_is_a_conflict() -> None:
    user_create(actor=ADMIN, username="bob", password=PASSWORD, role="auditor")
    with pytest.raises(Conflict) as caught:
        user_create(actor=ADMIN, username="bob", password=PASSWORD, role="oversight")
    assert caught.value.message == services.MSG_USERNAME_TAKEN
    assert len(entries("accounts.user_created")) == 1


@pytest.mark.django_db
def test_user_without_role_may_exist() -> None:
    user = user_create(actor=ADMIN, username="pending", password=PASSWORD, role="")
    assert user.role == ""


@pytest.mark.django_db
def test_token_create_and_revoke(users: dict[str, Any]) -> None:
    from habeas.accounts.models import APIToken, hash_token

    token, raw = token_create(actor=ADMIN, user=users["staff"], name=" deploy bot ")
    assert raw.startswith("hb_")
    assert len(raw) > 40
    assert token.name == "deploy bot"
    assert token.prefix == raw[:8]
    assert APIToken.objects.get(digest=hash_token(raw)) == token
    (issued,) = entries("accounts.token_issued")
    assert issued.subject == "user:staff"
    assert issued.payload["token"]["prefix"] == token.prefix
    assert issued.payload["token"]["revoked_at"] is None
    revoked = token_revoke(actor=ADMIN, token=token)
    assert revoked.revoked_at is not None
    (entry,) = entries("accounts.token_revoked")
    assert entry.subject == "user:staff"
    assert entry.payload["token"]["id"] == token.pk
    assert entry.payload["token"]["revoked_at"] is not None
    for e in (issued, entry):
        assert raw not in e.canonical
        assert hash_token(raw) not in e.canonical
    with pytest.raises(Conflict) as caught:
        token_revoke(actor=ADMIN, token=token)
    assert caught.value.message == services.MSG_TOKEN_ALREADY_REVOKED
    assert len(entries("accounts.token_revoked")) == 1


@pytest.mark.parametrize(
    ("name", "message"),
    [("", services.MSG_TOKEN_NAME_REQUIRED), ("x" * 101, services.MSG_TOKEN_NAME_TOO_LONG)],
)
@pytest.mark.django_db
def test_token_create_needs_a_name(users: dict[str, Any], name: str, message: str) -> None:
    with pytest.raises(ApplicationError) as caught:
        token_create(actor=ADMIN, user=users["staff"], name=name)
    assert caught.value.message == message
    assert not entries("accounts.token_issued")


@pytest.mark.django_db
def test_no_token_for_inactive_user(users: dict[str, Any]) -> None:
    user_deactivate(actor=ADMIN, user=users["staff"], reason="left the service")
    users["staff"].refresh_from_db()
    with pytest.raises(Conflict):
        token_create(actor=ADMIN, user=users["staff"], name="x")


@pytest.mark.django_db
def test_tokens_are_unique(users: dict[str, Any]) -> None:
    raws = {token_create(actor=ADMIN, user=users["staff"], name=f"t{i}")[1] for i in range(20)}
    assert len(raws) == 20


@pytest.mark.django_db
def test_account_change_and_ledger_entry_commit_together(
    users: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The one rule: if the ledger append fails, the token is not created either."""
    from habeas.accounts.models import APIToken

    def broken(**_: Any) -> None:
        raise RuntimeError("ledger down")

    monkeypatch.setattr(services, "ledger_append", broken)
    with pytest.raises(RuntimeError):
        token_create(actor=ADMIN, user=users["staff"], name="x")
    assert not APIToken.objects.exists()
