"""API authentication: bearer tokens (only the digest stored), revocation, sessions, roles."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

import pytest
from django.test import Client

from habeas.accounts.services import user_deactivate
from habeas.core.actor import Actor

ADMIN = Actor(name="test:admin", role="system")


def issue(user: Any, name: str = "ci") -> tuple[Any, str]:
    from habeas.accounts.services import token_create

    return token_create(actor=ADMIN, user=user, name=name)


def bearer(raw: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {raw}"}


def test_token_authenticates(world: dict[str, Any], users: dict[str, Any]) -> None:
    _, raw = issue(users["staff"])
    response = Client().get("/api/v1/facilities/", headers=bearer(raw))
    assert response.status_code == 200
    assert [f["code"] for f in response.json()] == ["TEC"]


def test_only_the_digest_is_stored(world: dict[str, Any], users: dict[str, Any]) -> None:
    from habeas.accounts.models import APIToken
    from habeas.ledger.models import LedgerEntry

    token, raw = issue(users["liaison_us"])
    digest = hashlib.sha256(raw.encode()).hexdigest()
    row = APIToken.objects.values().get(pk=token.pk)
    assert row["digest"] == digest
    assert row["prefix"] == raw[:8]
    assert raw not in {str(v) for v in row.values()}
    entry = LedgerEntry.objects.get(action="accounts.token_issued")
    assert entry.subject == "user:liaison_us"
    assert raw not in entry.canonical
    assert digest not in entry.canonical
    assert raw[8:] not in entry.canonical
    assert entry.payload["token"]["prefix"] == raw[:8]


def test_revoked_token_is_refused(world: dict[str, Any], users: dict[str, Any]) -> None:
    from habeas.accounts.services import token_revoke

    token, raw = issue(users["oversight"])
    assert Client().get("/api/v1/persons/", headers=bearer(raw)).status_code == 200
    token_revoke(actor=ADMIN, token=token)
    response = Client().get("/api/v1/persons/", headers=bearer(raw))
    assert response.status_code == 401
    assert response.json() == {
        "code": "unauthenticated",
        "message": "invalid or revoked API token",
        "details": {},
    }
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "header",
    ["Bearer hb_not-a-real-token", "Bearer nonsense", "Bearer ", "bearer hb_x y"],
)
def test_unknown_token_is_refused(world: dict[str, Any], header: str) -> None:
    response = Client().get("/api/v1/persons/", HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert response.json()["code"] == "unauthenticated"


def test_a_failing_token_does_not_fall_back_to_the_session(
    world: dict[str, Any], client_for: Any
) -> None:
    client = client_for("oversight")
    assert client.get("/api/v1/persons/").status_code == 200
    assert client.get("/api/v1/persons/", headers=bearer("hb_wrong")).status_code == 401


def test_token_of_inactive_user_is_refused(world: dict[str, Any], users: dict[str, Any]) -> None:
    _, raw = issue(users["auditor"])
    user_deactivate(actor=ADMIN, user=users["auditor"], reason="left the service")
    assert Client().get("/api/v1/persons/", headers=bearer(raw)).status_code == 401


def test_token_of_user_without_role_is_forbidden(
    world: dict[str, Any], users: dict[str, Any]
) -> None:
    _, raw = issue(users["norole"])
    response = Client().get("/api/v1/persons/", headers=bearer(raw))
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"


def test_superuser_without_role_reads_everything(
    world: dict[str, Any], users: dict[str, Any]
) -> None:
    from habeas.accounts.services import user_create

    root = user_create(
        actor=ADMIN, username="root", password="a-long-root-passphrase", role="", is_superuser=True
    )
    _, raw = issue(root)
    body = Client().get("/api/v1/facilities/", headers=bearer(raw)).json()
    assert [f["code"] for f in body] == ["OTH", "TEC"]


def test_last_used_is_recorded_at_most_once_per_interval(
    world: dict[str, Any], users: dict[str, Any]
) -> None:
    from habeas.accounts.models import APIToken
    from habeas.accounts.services import TOKEN_TOUCH_INTERVAL

    token, raw = issue(users["staff"])
    assert token.last_used_at is None
    Client().get("/api/v1/facilities/", headers=bearer(raw))
    first = APIToken.objects.get(pk=token.pk).last_used_at
    assert first is not None
    Client().get("/api/v1/facilities/", headers=bearer(raw))
    assert APIToken.objects.get(pk=token.pk).last_used_at == first
    stale = first - TOKEN_TOUCH_INTERVAL - dt.timedelta(seconds=1)
    APIToken.objects.filter(pk=token.pk).update(last_used_at=stale)
    Client().get("/api/v1/facilities/", headers=bearer(raw))
    touched = APIToken.objects.get(pk=token.pk).last_used_at
    assert touched is not None
    assert touched > stale


def test_token_use_writes_no_ledger_entry(world: dict[str, Any], users: dict[str, Any]) -> None:
    from habeas.ledger.services import ledger_size

    _, raw = issue(users["staff"])
    before = ledger_size()
    Client().get("/api/v1/facilities/", headers=bearer(raw))
    assert ledger_size() == before


def test_session_auth_enforces_csrf_on_unsafe_methods(users: dict[str, Any]) -> None:
    """ninja's SessionAuth checks CSRF for unsafe methods; the API's session auth keeps it."""
    from django.test import RequestFactory

    from habeas.accounts.auth import SessionAuth

    request = RequestFactory().post("/api/v1/persons/")
    request.user = users["oversight"]
    request.COOKIES["sessionid"] = "x"
    request._dont_enforce_csrf_checks = False  # type: ignore[attr-defined]
    from ninja.errors import HttpError

    with pytest.raises(HttpError) as caught:
        SessionAuth()(request)
    assert caught.value.status_code == 403
    safe = RequestFactory().get("/api/v1/persons/")
    safe.user = users["oversight"]
    assert SessionAuth()(safe) == users["oversight"]
