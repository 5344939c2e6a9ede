"""Settings for the open Internet (docs/security.md, "Internet deployment"; issue 10 item 8).

The review found no Content-Security-Policy, no settings for HSTS, SSL redirect or secure
cookies, and ``check --deploy`` gave 4 warnings. Now every response carries a strict CSP
(django-csp) that the templates keep — no inline script or style anywhere, checked here on
the sources and in a browser in ``tests/e2e/test_csp_browser.py`` — and ``HABEAS_HTTPS=1``
turns on HSTS, the redirect to https and secure cookies, with ``habeas check --deploy`` clean.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

SRC = Path(__file__).resolve().parents[2] / "src" / "habeas"
TEMPLATES = sorted(p for p in SRC.rglob("templates/**/*.html"))

INLINE = [
    (
        re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I),
        "inline script",
    ),
    (re.compile(r"<style\b", re.I), "inline style element"),
    (re.compile(r"\sstyle\s*=", re.I), "style attribute"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "event-handler attribute"),
    (re.compile(r"javascript:", re.I), "javascript: URL"),
    (re.compile(r"\shx-on", re.I), "htmx inline handler"),
]


def test_templates_were_found() -> None:
    assert len(TEMPLATES) > 20


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: str(p.relative_to(SRC)))
def test_no_template_has_inline_script_or_style(template: Path) -> None:
    text = template.read_text()
    found = [f"{what}: {m.group(0)!r}" for rx, what in INLINE for m in rx.finditer(text)]
    assert found == []


PYTHON = sorted(p for p in SRC.rglob("*.py") if "migrations" not in p.parts)


@pytest.mark.parametrize("module", PYTHON, ids=lambda p: str(p.relative_to(SRC)))
def test_no_python_module_writes_inline_script_or_style(module: Path) -> None:
    """HTML made in Python (the statistics' SVG chart) keeps the policy too."""
    text = module.read_text()
    found = [
        f"{what}: {m.group(0)!r}"
        for rx, what in INLINE[:3]
        for m in rx.finditer(text)
        if text[max(m.start() - 2, 0) : m.start()] != "``"  # quoted in a docstring
    ]
    assert found == []


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/login/", "/locator/", "/api/v1/statistics", "/admin/login/"])
def test_every_response_carries_a_strict_csp(path: str) -> None:
    response = Client().get(path)
    policy = response["Content-Security-Policy"]
    parts = [p.strip().partition(" ") for p in policy.split(";") if p.strip()]
    directives = {name: value for name, _sep, value in parts}
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy


@pytest.mark.django_db
def test_the_server_error_page_needs_no_inline_style() -> None:
    from django.template.loader import render_to_string

    page = render_to_string("500.html")
    assert "/static/habeas/error.css" in page
    assert "<style" not in page


def _habeas(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "habeas", *args],
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "habeas.settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


HTTPS = {"HABEAS_HTTPS": "1", "HABEAS_ALLOWED_HOSTS": "habeas.example.org"}


def test_check_deploy_is_clean_with_habeas_https() -> None:
    done = _habeas("check", "--deploy", "--fail-level", "WARNING", **HTTPS)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "System check identified no issues" in done.stdout


def test_check_deploy_warns_without_habeas_https() -> None:
    """The reproduction: without the setting, the warnings the review saw are there."""
    done = _habeas("check", "--deploy", "--fail-level", "WARNING")
    assert done.returncode != 0
    for warning in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert warning in done.stderr + done.stdout


def _settings(**env: str) -> dict[str, Any]:
    names = [
        "SECURE_SSL_REDIRECT",
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "SECURE_HSTS_SECONDS",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS",
        "SECURE_HSTS_PRELOAD",
        "SECURE_PROXY_SSL_HEADER",
    ]
    code = (
        "import json; from django.conf import settings; "
        f"print(json.dumps({{n: getattr(settings, n) for n in {names!r}}}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "habeas.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout))


def test_habeas_https_turns_on_hsts_redirect_and_secure_cookies() -> None:
    on = _settings(**HTTPS)
    assert on["SECURE_SSL_REDIRECT"] is True
    assert on["SESSION_COOKIE_SECURE"] is True
    assert on["CSRF_COOKIE_SECURE"] is True
    assert on["SECURE_HSTS_SECONDS"] >= 31_536_000
    assert on["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert on["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    off = _settings()
    assert off["SECURE_SSL_REDIRECT"] is False
    assert off["SESSION_COOKIE_SECURE"] is False
    assert off["SECURE_HSTS_SECONDS"] == 0


@pytest.mark.django_db
def test_under_https_settings_http_is_redirected_and_https_gets_hsts(settings: Any) -> None:
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31_536_000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    plain = Client().get("/login/")
    assert plain.status_code == 301
    assert plain["Location"].startswith("https://")
    secure = Client().get("/login/", HTTP_X_FORWARDED_PROTO="https")
    assert secure.status_code == 200
    assert secure["Strict-Transport-Security"].startswith("max-age=31536000")
