"""The alerts page in a real browser: a duty officer follows the Alerts link, sees the
demo prisoners held past the end of their sentence (rule A4.5, Mandela Rule 7(b)) among the
other legal-basis alarms (A4.1-A4.3, A4.6: release date passed, removal period, protection
order, the agreement's term ending within weeks), filters by
kind, acknowledges one with a note (it stays listed, marked acknowledged), and opens that
person's file; then the same page in Spanish."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import login

pytestmark = pytest.mark.e2e

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"


def test_staff_follows_an_alert_to_the_person(browser: Any, server: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page = login(browser, server, "staff")
    page.click("nav.site-nav >> text=Alerts")
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "Alerts"
    # a hundred alerts a page: the legal-basis alarms on their own
    page.goto(f"{server}/alerts/?kind=legal_basis")
    page.wait_for_load_state()
    rows = page.locator("table tbody tr")
    total = rows.count()
    assert page.locator("table tbody tr", has_text="no live legal basis").count() >= 3
    page.screenshot(path=str(ARTIFACTS / "alerts.png"), full_page=True)
    seen = page.locator("table tbody").inner_text()
    while page.locator(".pagination >> text=→").count():  # the following pages
        page.click(".pagination >> text=→")
        page.wait_for_load_state()
        seen += page.locator("table tbody").inner_text()
    for rule in ("A4.1", "A4.2", "A4.3", "A4.5", "A4.6"):  # each alarm of the demo
        assert f"({rule} " in seen, rule
    page.goto(f"{server}/alerts/?kind=legal_basis")
    page.wait_for_load_state()

    page.select_option("#alert-kind", "space")
    page.click(".filter-bar button[type=submit]")
    page.wait_for_load_state()
    assert "kind=space" in page.url
    assert page.locator("table tbody tr").count() == 0
    assert page.get_by_text("No open alert.").is_visible()

    page.select_option("#alert-kind", "legal_basis")
    page.click(".filter-bar button[type=submit]")
    page.wait_for_load_state()
    first = page.locator("table tbody tr").first
    first.locator("input[name=note]").fill("Records office checking the release order")
    first.locator("form.alert-ack-form button").click()
    page.wait_for_load_state()
    first = page.locator("table tbody tr").first
    assert "Acknowledged" in first.inner_text()
    assert "Records office checking the release order" in first.inner_text()
    assert first.locator("form.alert-ack-form").count() == 0
    name = first.locator("td:nth-child(2) a").inner_text()
    first.locator("td:nth-child(2) a").click()
    page.wait_for_load_state()
    assert name in page.locator("h1").inner_text()

    page.goto(f"{server}/alerts/")
    page.click("button.lang-switch__option[lang=es]")
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "Alertas"
    assert page.locator("table tbody tr").count() == total
    page.close()
