"""No page breaks its own Content-Security-Policy (docs/security.md, "Internet deployment";
issue 10 item 8a): the demo served as an operator serves it, every kind of page opened in
Chromium, and not one CSP violation reported — no inline script, no inline style, nothing from
another origin. The detector itself is checked on a violation made on purpose."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import WIDTH, login

pytestmark = pytest.mark.e2e

#: Each violation the page reports, through the standard event (also seen in the console).
WATCH = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`);
});
"""


def _watch(page: Any) -> list[str]:
    console: list[str] = []
    page.on(
        "console",
        lambda msg: console.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    page.add_init_script(WATCH)
    return console


def _violations(page: Any, console: list[str]) -> list[str]:
    return [*page.evaluate("window.__csp || []"), *console]


def _visit(page: Any, console: list[str], url: str) -> list[str]:
    response = page.goto(url)
    assert response is not None
    assert response.status < 400, (url, response.status)
    assert "script-src 'self'" in (response.headers.get("content-security-policy") or "")
    page.wait_for_load_state("networkidle")
    return [f"{url}: {v}" for v in _violations(page, console)]


def test_pages_load_with_no_csp_violation(browser: Any, server: str) -> None:
    anonymous = browser.new_context(viewport={"width": WIDTH, "height": 900})
    page = anonymous.new_page()
    console = _watch(page)
    found: list[str] = []
    for path in ("/login/", "/locator/?nationality=SV&name=jose+lopez&dob=1990", "/statistics/"):
        found += _visit(page, console, server + path)

    staff = login(browser, server, "staff")
    console = _watch(staff)
    for path in ("/", "/people/", "/housing/", "/housing/TEC/", "/housing/TEC/cells/M1-01/"):
        found += _visit(staff, console, server + path)

    admin = login(browser, server, "admin")
    console = _watch(admin)
    for path in ("/admin/", "/admin/accounts/user/", "/api/v1/docs"):
        found += _visit(admin, console, server + path)
    assert found == []


def test_the_detector_sees_an_inline_style(browser: Any, server: str) -> None:
    page = browser.new_context().new_page()
    console = _watch(page)
    page.goto(f"{server}/login/")
    page.evaluate("document.body.insertAdjacentHTML('beforeend', '<p style=\"color:red\">x</p>')")
    page.wait_for_timeout(300)
    assert any("style-src" in v for v in _violations(page, console))
