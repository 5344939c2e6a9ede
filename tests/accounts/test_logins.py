"""Logins resist guessing (docs/security.md, "Logins"; issue 10 item 3).

The review signed in with the right password after 50 wrong ones, on the web and on /admin/;
``staffstaff``, ``84736251`` and ``staff123`` were accepted as passwords; sessions lasted 14
days. Now: django-axes locks a (username, address) pair after ``AXES_FAILURE_LIMIT`` wrong
passwords, with a clear message in English and Spanish, the same for /admin/; an administrator
lifts it with ``habeas unlock``; the password validators refuse weak passwords; sessions last
``HABEAS_SESSION_HOURS`` (10 h by default).
"""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from habeas.accounts import services
from habeas.core.actor import Actor
from habeas.core.errors import ValidationFailed
from tests.conftest import make_user, run_cli

ADMIN = Actor(name="test:admin", role="facility_admin")
LOGIN = "/login/"
HOME = "10.1.1.1"
OTHER = "10.2.2.2"


def _attempt(
    username: str, password: str, *, address: str = HOME, path: str = LOGIN, **headers: Any
) -> Any:
    return Client().post(
        path, {"username": username, "password": password}, REMOTE_ADDR=address, **headers
    )


def _fail(username: str, times: int, *, address: str = HOME, path: str = LOGIN) -> None:
    for _ in range(times):
        response = _attempt(username, "not-the-password", address=address, path=path)
        assert response.status_code in {200, 429}


@pytest.mark.django_db
@pytest.mark.parametrize("weak", ["staffstaff", "84736251", "staff123"])
def test_user_create_refuses_the_weak_passwords_of_the_review(weak: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        services.user_create(actor=ADMIN, username="staff", password=weak, role="auditor")
    assert caught.value.message == services.MSG_WEAK_PASSWORD


@pytest.mark.django_db
def test_password_validators_give_each_reason() -> None:
    with pytest.raises(ValidationFailed) as caught:
        services.user_create(actor=ADMIN, username="staff", password="84736251", role="auditor")
    reasons = " ".join(caught.value.details["password"])
    assert "at least 12 characters" in reasons
    assert "entirely numeric" in reasons


@pytest.mark.django_db
def test_a_strong_password_is_accepted() -> None:
    user = services.user_create(
        actor=ADMIN, username="staff", password="correct horse battery", role="auditor"
    )
    assert user.check_password("correct horse battery")


@pytest.mark.django_db
def test_the_right_password_after_the_failure_limit_is_refused_with_a_clear_message() -> None:
    make_user(username="staff", password="pw-staff-long", role="auditor")
    _fail("staff", settings.AXES_FAILURE_LIMIT)
    response = _attempt("staff", "pw-staff-long")
    assert response.status_code == 429
    text = response.content.decode()
    assert "Sign-in locked" in text
    assert f"After {settings.AXES_FAILURE_LIMIT} wrong passwords" in text
    assert "ask an administrator to unlock" in text
    assert "_auth_user_id" not in response.client.session


@pytest.mark.django_db
def test_below_the_limit_the_right_password_signs_in_and_resets_the_count() -> None:
    make_user(username="staff", password="pw-staff-long", role="auditor")
    _fail("staff", settings.AXES_FAILURE_LIMIT - 1)
    assert _attempt("staff", "pw-staff-long").status_code == 302
    _fail("staff", settings.AXES_FAILURE_LIMIT - 1)  # the count started again
    assert _attempt("staff", "pw-staff-long").status_code == 302


@pytest.mark.django_db
def test_the_lockout_is_per_username_and_address() -> None:
    make_user(username="staff", password="pw-staff-long", role="auditor")
    make_user(username="other", password="pw-other-long", role="auditor")
    _fail("staff", settings.AXES_FAILURE_LIMIT)
    assert _attempt("staff", "pw-staff-long").status_code == 429
    # The same user from another address, and another user from the same address, sign in:
    # a guesser cannot lock a colleague out from elsewhere.
    assert _attempt("staff", "pw-staff-long", address=OTHER).status_code == 302
    assert _attempt("other", "pw-other-long").status_code == 302


@pytest.mark.django_db
def test_the_lockout_message_is_in_spanish() -> None:
    make_user(username="staff", password="pw-staff-long", role="auditor")
    _fail("staff", settings.AXES_FAILURE_LIMIT)
    response = _attempt("staff", "pw-staff-long", HTTP_ACCEPT_LANGUAGE="es")
    assert response.status_code == 429
    text = response.content.decode()
    assert "Inicio de sesión bloqueado" in text
    assert "contraseñas incorrectas" in text


@pytest.mark.django_db
def test_admin_login_locks_the_same_way() -> None:
    make_user(username="root", password="root-pass-long", role="", is_staff=True, is_superuser=True)
    admin_login = reverse("admin:login")
    _fail("root", settings.AXES_FAILURE_LIMIT, path=admin_login)
    response = _attempt("root", "root-pass-long", path=admin_login)
    assert response.status_code == 429
    assert "Sign-in locked" in response.content.decode()
    # A lock taken on /admin/ holds on the web sign-in too: one account, one count.
    assert _attempt("root", "root-pass-long").status_code == 429


@pytest.mark.django_db
def test_habeas_unlock_lifts_the_lockout() -> None:
    make_user(username="staff", password="pw-staff-long", role="auditor")
    _fail("staff", settings.AXES_FAILURE_LIMIT)
    assert _attempt("staff", "pw-staff-long").status_code == 429
    code, out, _err = run_cli("unlock", "staff")
    assert code == 0, _err
    assert "staff" in out
    assert _attempt("staff", "pw-staff-long").status_code == 302


@pytest.mark.django_db
def test_habeas_unlock_of_an_unlocked_name_exits_2() -> None:
    code, _out, err = run_cli("unlock", "nobody")
    assert code == 2
    assert "no failed sign-ins recorded for nobody" in err


@pytest.mark.django_db
def test_habeas_unlock_with_an_address_lifts_only_that_pair() -> None:
    make_user(username="staff", password="pw-staff-long", role="auditor")
    _fail("staff", settings.AXES_FAILURE_LIMIT, address=HOME)
    _fail("staff", settings.AXES_FAILURE_LIMIT, address=OTHER)
    assert run_cli("unlock", "staff", "--address", OTHER)[0] == 0
    assert _attempt("staff", "pw-staff-long", address=OTHER).status_code == 302
    assert _attempt("staff", "pw-staff-long", address=HOME).status_code == 429


@pytest.mark.django_db
def test_a_session_lasts_ten_hours_by_default() -> None:
    assert settings.SESSION_COOKIE_AGE == 10 * 3600
    make_user(username="staff", password="pw-staff-long", role="auditor")
    client = Client()
    response = client.post(LOGIN, {"username": "staff", "password": "pw-staff-long"})
    assert response.status_code == 302
    assert client.session.get_expiry_age() == 10 * 3600
    assert response.cookies[settings.SESSION_COOKIE_NAME]["max-age"] == 10 * 3600


def _settings_value(name: str, **env: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", f"from django.conf import settings; print(settings.{name})"],
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "habeas.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    return (done.stdout + done.stderr).strip()


def test_habeas_session_hours_sets_the_session_age() -> None:
    assert _settings_value("SESSION_COOKIE_AGE", HABEAS_SESSION_HOURS="2") == "7200"
    assert "HABEAS_SESSION_HOURS must be a number" in _settings_value(
        "SESSION_COOKIE_AGE", HABEAS_SESSION_HOURS="ten"
    )
