"""Every role's main pages at a phone's width (issue 11, item 9): at 390 px no page's document
is wider than the viewport (tables scroll inside their own box, the menu folds behind one
button), in English and Spanish; and the folded menu opens.

The fixtures of tests/e2e/conftest.py: the small demo in a temporary HABEAS_HOME, served by
``habeas serve``, system Chromium.
"""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}

#: Each role's main pages (paths; the first person's file is added at run time).
PAGES = {
    "director": ["/", "/people/", "/people/?q=a&status=held", "/transfers/", "/housing/",
                 "/housing/TEC/", "/housing/keep-apart/", "/alerts/", "/releases-due/"],
    "liaison": ["/", "/people/", "/transfers/", "/releases-due/"],
    "finance": ["/", "/people/", "/billing/"],
    "monitor": ["/", "/people/", "/alerts/", "/oversight/", "/oversight/access-log/"],
    "auditor": ["/", "/people/", "/oversight/"],
}  # fmt: skip
PUBLIC = ["/locator/", "/statistics/", "/login/"]


def _phone(browser: Any, base: str, username: str | None, language: str) -> Any:
    from habeas.web.demo import demo_password

    context = browser.new_context(viewport=PHONE, locale="es-ES" if language == "es" else "en-GB")
    context.add_cookies([{"name": "django_language", "value": language, "url": base}])
    page = context.new_page()
    if username:
        page.goto(f"{base}/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", demo_password(username))
        page.click("form.form button[type=submit]")
        page.wait_for_url(f"{base}/")
    return page


def _overflow(page: Any) -> int:
    """How many pixels the document is wider than the viewport (0 when it fits)."""
    return int(
        page.evaluate(
            "() => Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)"
            " - window.innerWidth"
        )
    )


@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize("username", sorted(PAGES))
def test_no_page_is_wider_than_a_phone(
    browser: Any, server: str, username: str, language: str
) -> None:
    page = _phone(browser, server, username, language)
    paths = list(PAGES[username])
    page.goto(f"{server}/people/")
    first = page.locator("a.person-name").first
    if first.count():
        paths.append(first.get_attribute("href"))
    too_wide = {}
    for path in paths:
        response = page.goto(f"{server}{path}")
        assert response is not None
        assert response.status == 200, path
        extra = _overflow(page)
        if extra > 0:
            too_wide[path] = extra
    assert too_wide == {}
    page.context.close()


@pytest.mark.parametrize("language", ["en", "es"])
def test_public_pages_fit_a_phone(browser: Any, server: str, language: str) -> None:
    page = _phone(browser, server, None, language)
    for path in PUBLIC:
        page.goto(f"{server}{path}")
        assert _overflow(page) <= 0, path
    page.context.close()


def test_the_menu_folds_and_opens(browser: Any, server: str) -> None:
    page = _phone(browser, server, "director", "en")
    menu = page.locator(".site-nav__list")
    toggle = page.locator(".site-nav__toggle")
    assert toggle.is_visible()
    assert not menu.is_visible()
    toggle.click()
    assert menu.is_visible()
    assert toggle.get_attribute("aria-expanded") == "true"
    page.locator(".site-nav__link", has_text="People").click()
    page.wait_for_url(f"{server}/people/")
    page.context.close()


def test_dashboard_numbers_are_not_clipped(browser: Any, server: str) -> None:
    page = _phone(browser, server, "director", "en")
    clipped = page.evaluate(
        """() => [...document.querySelectorAll('.stat__value, .figure, .num, td, th')]
            .filter(e => e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflow !== 'visible')
            .map(e => e.textContent.trim())"""
    )
    assert clipped == []
    page.context.close()
