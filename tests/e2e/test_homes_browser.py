"""A home for each role in a real browser (issue 11, deliver 8): the liaison's, finance's and
the auditor's home and the ledger verification page, at 1366 px and 390 px, in English and
Spanish.

Screenshots go to tests/e2e/artifacts/ (not tracked); with ``HABEAS_UPDATE_SCREENSHOTS=1``
the four of docs/screenshots/ (1366 px, English, the first screen) are written there too.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
DOCS = ROOT / "docs" / "screenshots"
WIDTHS = (1366, 390)
LOCALES = {"en": "en-GB", "es": "es-ES"}


def _login(browser: Any, base: str, username: str, width: int, language: str) -> Any:
    from habeas.web.demo import demo_password

    context = browser.new_context(
        viewport={"width": width, "height": 900}, locale=LOCALES[language]
    )
    page = context.new_page()
    page.goto(f"{base}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", demo_password(username))
    page.click("form.form button[type=submit]")
    page.wait_for_url(f"{base}/")
    assert page.locator("html").get_attribute("lang") == language
    return page


def _no_horizontal_scroll(page: Any) -> None:
    """At 390 px the page itself never scrolls sideways (wide tables scroll in their box)."""
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], width


def _shots(page: Any, name: str, width: int, language: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}-{width}-{language}.png"), full_page=True)
    if width == WIDTHS[0] and language == "en" and os.environ.get("HABEAS_UPDATE_SCREENSHOTS"):
        DOCS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(DOCS / f"{name}.png"))


@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize("width", WIDTHS)
def test_liaison_home(browser: Any, server: str, width: int, language: str) -> None:
    page = _login(browser, server, "liaison", width, language)
    heading = page.locator("h1").inner_text()
    assert (
        heading
        == {"en": "People sent by United States", "es": "Personas enviadas por Estados Unidos"}[
            language
        ]
    )
    held = page.locator(".stat").first
    link = held.locator("a")
    assert link.get_attribute("href") == "/people/?status=held"
    count = int(link.inner_text().replace(",", "").replace(".", "").replace("\u00a0", ""))
    assert count > 0
    assert page.locator("a[href*='/cells/']").count() == 0  # never a cell for a liaison
    if width == 390:
        _no_horizontal_scroll(page)
    _shots(page, "home-liaison", width, language)
    # The link leads to their people only: as many as the home counts.
    page.goto(f"{server}/people/?status=held")
    assert str(count) in page.locator("main").inner_text().replace(",", "").replace(".", "")
    page.context.close()


@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize("width", WIDTHS)
def test_auditor_home_and_verification(
    browser: Any, server: str, width: int, language: str
) -> None:
    page = _login(browser, server, "auditor", width, language)
    assert (
        page.locator("h1").inner_text()
        == {
            "en": "Oversight and audit",
            "es": "Supervisión y auditoría",
        }[language]
    )
    assert page.locator("a[href='/oversight/access-log/']").count() >= 1
    assert page.locator("a[href='/api/v1/docs']").count() >= 1
    if width == 390:
        _no_horizontal_scroll(page)
    _shots(page, "home-auditor", width, language)
    page.locator("main a[href='/ledger/verification/']").first.click()
    page.wait_for_url(f"{server}/ledger/verification/")
    main = page.locator("main").inner_text()
    assert "habeas verify-ledger" in main
    download = page.locator("a[href='/ledger/checkpoint.txt']")
    assert download.count() == 1
    assert "✓" in main  # the demo's checkpoint verifies and today's ledger extends it
    if width == 390:
        _no_horizontal_scroll(page)
    _shots(page, "ledger-verification", width, language)
    with page.expect_download() as info:
        download.click()
    text = Path(info.value.path()).read_text(encoding="utf-8")
    assert "\n\n\u2014 " in text  # a signed note: body, blank line, signature line
    page.context.close()


@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize("width", WIDTHS)
def test_finance_home(browser: Any, server: str, width: int, language: str) -> None:
    page = _login(browser, server, "finance", width, language)
    assert (
        page.locator("h1").inner_text()
        == {
            "en": "Fees and invoices",
            "es": "Tarifas y facturas",
        }[language]
    )
    assert page.locator("a[href^='/billing/']").count() > 0
    assert page.locator("figure.billing-chart svg").count() == 1
    if width == 390:
        _no_horizontal_scroll(page)
    _shots(page, "home-finance", width, language)
    page.context.close()
