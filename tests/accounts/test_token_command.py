"""``habeas token create|revoke|list`` (exit 2 on refusal, token printed once on stdout)."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command


def run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("token", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.mark.django_db
def test_create_prints_the_raw_token_once(users: dict[str, Any]) -> None:
    from habeas.accounts.models import APIToken, hash_token
    from habeas.ledger.models import LedgerEntry

    out, err = run("create", "liaison_us", "--name", "consulate feed")
    raw = out.strip()
    assert raw.startswith("hb_")
    assert "\n" not in raw
    token = APIToken.objects.get()
    assert token.digest == hash_token(raw)
    assert token.prefix in err
    assert raw not in err
    entry = LedgerEntry.objects.get(action="accounts.token_issued")
    assert entry.actor.startswith("cli:")
    listing, _ = run("list", "liaison_us")
    assert token.prefix in listing
    assert "consulate feed" in listing
    assert raw not in listing


@pytest.mark.django_db
def test_revoke_by_prefix(users: dict[str, Any]) -> None:
    from habeas.accounts.models import APIToken

    out, _ = run("create", "staff", "--name", "ci")
    prefix = out.strip()[:8]
    _, err = run("revoke", prefix)
    assert prefix in err
    assert APIToken.objects.get().revoked_at is not None
    listing, _ = run("list", "staff")
    assert "revoked" in listing
    with pytest.raises(CommandError) as caught:
        run("revoke", prefix)
    assert caught.value.returncode == 2


@pytest.mark.django_db
def test_unknown_user_is_exit_2(users: dict[str, Any]) -> None:
    from habeas.accounts.models import APIToken

    with pytest.raises(CommandError) as caught:
        run("create", "nobody", "--name", "x")
    assert caught.value.returncode == 2
    assert "no user with that username" in str(caught.value)
    assert not APIToken.objects.exists()


@pytest.mark.django_db
def test_name_is_required(users: dict[str, Any]) -> None:
    with pytest.raises(CommandError):
        run("create", "staff")


@pytest.mark.django_db
def test_user_create_and_close_are_ledger_events(monkeypatch: pytest.MonkeyPatch) -> None:
    from habeas.accounts.models import User
    from habeas.ledger.models import LedgerEntry
    from tests.conftest import run_cli

    monkeypatch.setenv("HABEAS_PASSWORD", "a long and unguessable passphrase")
    code, out, err = run_cli("user", "create", "ana", "--role", "oversight")
    assert code == 0, err
    assert User.objects.get(username="ana").role == "oversight"
    code, out, err = run_cli("user", "create", "ana", "--role", "oversight")
    assert code == 2  # the username is taken: refused, nothing written
    code, _, err = run_cli("user", "close", "ana", "--reason", "left the service")
    assert code == 0, err
    assert not User.objects.get(username="ana").is_active
    actions = list(LedgerEntry.objects.order_by("index").values_list("action", flat=True))
    assert actions == ["accounts.user_created", "accounts.user_deactivated"]
    code, out, _ = run_cli("verify-ledger", "--json")
    assert code == 0, out
