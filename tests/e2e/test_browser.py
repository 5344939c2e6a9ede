"""The web shell in a real browser (Chromium through Playwright) against the real server.

No ``live_server``: the ledger's DELETE triggers make a test-database flush fail. Instead a
fixture loads the demo into a temporary ``HABEAS_HOME`` with ``habeas demo --no-serve`` and
starts ``habeas serve`` (gunicorn + whitenoise) on a free port, exactly as an operator would.

Screenshots go to tests/e2e/artifacts/ (not tracked). With ``HABEAS_UPDATE_SCREENSHOTS=1`` the
README's go to docs/screenshots/ instead, so that a test run leaves the work tree clean.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import WIDTH, login

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
SCREENSHOTS = (
    ROOT / "docs" / "screenshots" if os.environ.get("HABEAS_UPDATE_SCREENSHOTS") else ARTIFACTS
)
DEMO_CELLS = 256  # 8 modules × 32 cells (STANDARDS.md, the facility the demo models)


def test_staff_dashboard_grid_spanish_switch_and_cell_page(browser: Any, server: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page = login(browser, server, "staff")

    # English dashboard: the facility, its figures and one square per cell
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("h1").inner_text() == "Dashboard"
    assert page.locator(".facility__title").first.is_visible()
    assert page.locator(".cell-square").count() == DEMO_CELLS
    assert page.locator(".ledger-status").inner_text().startswith("Ledger")
    assert "Facility staff" in page.locator(".account").inner_text()
    first = page.locator("a.cell-square").first
    assert "/housing/TEC/cells/" in (first.get_attribute("href") or "")
    assert "certified" in (first.get_attribute("title") or "")
    page.screenshot(path=str(SCREENSHOTS / "dashboard.png"), full_page=True)

    # switch to Spanish with the header switch (a POST to set_language)
    page.click("button.lang-switch__option[value=es]")
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "es"
    assert page.locator("h1").inner_text() == "Panel de control"
    assert page.get_by_text("Capacidad certificada").first.is_visible()
    assert page.locator(".cell-square").count() == DEMO_CELLS
    page.screenshot(path=str(SCREENSHOTS / "dashboard-es.png"), full_page=True)

    # open the most crowded cell from the grid
    for band in ("severe", "over", "near", "ok"):
        crowded = page.locator(f"a.cell-square.band-{band}").first
        if crowded.count():
            break
    code = crowded.get_attribute("title").split(" · ")[0]  # type: ignore[union-attr]
    crowded.click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == f"Celda {code}"
    assert page.get_by_text("Capacidad certificada").first.is_visible()
    page.screenshot(path=str(ARTIFACTS / "cell-es.png"), full_page=True)

    # back to English, then the cell and a person held in it
    page.click("button.lang-switch__option[value=en]")
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == f"Cell {code}"
    assert page.locator("table .person-name").count() > 0
    page.screenshot(path=str(ARTIFACTS / "cell.png"), full_page=True)
    page.locator("table .person-name").first.click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", name="History from the ledger").is_visible()
    assert page.locator(".timeline__item").count() >= 1
    page.screenshot(path=str(ARTIFACTS / "person.png"), full_page=True)

    # the people list and its search
    page.click("nav.site-nav >> text=People")
    page.wait_for_load_state()
    assert page.locator("table .person-name").count() > 0
    page.screenshot(path=str(ARTIFACTS / "people.png"), full_page=True)
    page.context.close()


def test_liaison_sees_totals_but_no_cells(browser: Any, server: str) -> None:
    page = login(browser, server, "liaison")
    assert page.locator(".stat").count() > 0
    assert page.locator(".cell-square").count() == 0
    assert page.locator("a[href*='/cells/']").count() == 0
    for url in ("/housing/TEC/cells/M1-01/", "/facilities/TEC/cells/M1-01/"):  # old: a 301
        response = page.goto(f"{server}{url}")
        assert response is not None
        assert response.status == 404
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.goto(f"{server}/")
    page.screenshot(path=str(ARTIFACTS / "dashboard-liaison.png"), full_page=True)
    page.context.close()


def test_login_page_in_spanish(browser: Any, server: str) -> None:
    context = browser.new_context(viewport={"width": WIDTH, "height": 800}, locale="es-ES")
    page = context.new_page()
    page.goto(f"{server}/login/")
    assert page.locator("html").get_attribute("lang") == "es"
    assert page.locator("h1").inner_text() == "Iniciar sesión en Habeas"
    page.fill("#id_username", "staff")
    page.fill("#id_password", "wrong-password")
    page.click("form.form button[type=submit]")
    assert page.get_by_text("Hay un problema").is_visible()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "login-es.png"), full_page=True)
    context.close()
