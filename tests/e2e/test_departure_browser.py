"""Release and transfer from the person page in a real browser: the director opens a
person held, sees the actions, asks for a release, gets the confirmation (in the facility's
local time) and confirms; the file then says released. Screenshots go to the system's
temporary folder."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import login

pytestmark = pytest.mark.e2e

SHOTS = Path(tempfile.gettempdir())


def test_director_releases_a_person_from_the_person_page(browser: Any, server: str) -> None:
    page = login(browser, server, "director")
    page.goto(f"{server}/people/")
    page.locator("table a[href^='/people/']").first.click()
    page.wait_for_load_state()
    assert page.locator(".person-actions").count() == 1
    page.screenshot(path=str(SHOTS / "habeas-person-actions.png"), full_page=False)

    page.click(".person-actions >> text=Transfer to another facility")
    page.wait_for_load_state()
    assert page.locator("h1").inner_text().startswith("Transfer ")
    page.screenshot(path=str(SHOTS / "habeas-transfer-form.png"), full_page=True)
    page.go_back()

    page.click(".person-actions >> text=Release")
    page.wait_for_load_state()
    assert page.locator("h1").inner_text().startswith("Release ")
    page.select_option("#id_reason", "court_order")
    page.fill("#id_destination", "SV")
    page.screenshot(path=str(SHOTS / "habeas-release-form.png"), full_page=True)
    page.click("form.departure-form button[type=submit]")
    page.wait_for_load_state()
    assert page.locator("#confirm-title").inner_text() == "Please confirm"
    page.screenshot(path=str(SHOTS / "habeas-release-confirm.png"), full_page=True)
    page.click("form.departure-form button[type=submit]")
    page.wait_for_load_state()
    assert "was released" in page.content()
    # released: nothing left to move, release or transfer
    for action in ("Release", "Transfer to another facility"):
        assert page.locator(f".person-actions >> text={action}").count() == 0
    page.screenshot(path=str(SHOTS / "habeas-person-released.png"), full_page=False)


def test_dashboard_needs_attention_and_manifest_reception(browser: Any, server: str) -> None:
    page = login(browser, server, "director")
    assert page.locator("#attention-title").inner_text() == "Needs attention"
    page.screenshot(path=str(SHOTS / "habeas-dashboard-attention.png"), full_page=False)
    page.goto(f"{server}/transfers/")
    page.locator("table a[href^='/transfers/manifests/']").first.click()
    page.wait_for_load_state()
    assert page.locator("fieldset.reception").count() == 2
    page.locator("fieldset.reception").first.scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "habeas-manifest-reception.png"), full_page=False)
    es = browser.new_context(viewport={"width": 390, "height": 844}, locale="es-ES")
    phone = es.new_page()
    phone.goto(f"{server}/login/")
    from habeas.web.demo import demo_password

    phone.fill("#id_username", "director")
    phone.fill("#id_password", demo_password("director"))
    phone.click("form.form button[type=submit]")
    phone.wait_for_url(f"{server}/")
    phone.screenshot(path=str(SHOTS / "habeas-dashboard-attention-390-es.png"), full_page=False)
