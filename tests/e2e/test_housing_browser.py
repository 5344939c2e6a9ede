"""The housing pages in a real browser (issue 4 acceptance): the director walks the housing
board, opens a cell, tries to move a civil detainee into a criminal module (refused, with
the Mandela Rule 11(c) message), then moves them to an allowed cell.

The fixtures of tests/e2e/conftest.py: the demo in a temporary HABEAS_HOME
(``habeas demo --no-serve``), ``habeas serve`` on a free port, system Chromium.
Screenshots go to tests/e2e/artifacts/.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import login

pytestmark = pytest.mark.e2e

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"


def test_director_walks_board_opens_cell_and_moves(browser: Any, server: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page = login(browser, server, "director")

    # the housing board, from the main navigation
    page.click("nav.site-nav >> text=Housing")
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "Housing board"
    assert page.locator("li.hcell").count() == 256
    assert page.locator(".hbar__mark--cert").count() == 256
    page.screenshot(path=str(ARTIFACTS / "housing-board.png"), full_page=False)

    # filter: civil modules only, then open an occupied cell
    page.select_option("#id_regime", "civil")
    page.click(".housing-filters button[type=submit]")
    page.wait_for_load_state()
    assert "regime=civil" in page.url
    assert page.locator("li.hcell").count() == 64
    occupied = page.locator("li.hcell").filter(
        has_not=page.locator(".hcell__count", has_text=re.compile(r"^0$"))
    )
    link = occupied.first.locator("a.hcell__link")
    code = link.locator(".hcell__code").inner_text()
    page.screenshot(path=str(ARTIFACTS / "housing-board-civil.png"), full_page=False)
    link.click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == f"Cell {code}"
    assert page.locator("table .person-name").count() > 0
    page.screenshot(path=str(ARTIFACTS / "housing-cell.png"), full_page=True)

    # the move dialog of the first person held there
    page.locator("a.hmove-link").first.click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text().startswith("Move ")
    refused = page.locator("tr.htarget--refused").filter(has_text="separation:regime")
    assert refused.count() > 0
    criminal = refused.first.get_attribute("data-cell")
    assert criminal is not None
    page.screenshot(path=str(ARTIFACTS / "housing-move.png"), full_page=False)

    # try the forbidden target: refused, with the rule
    page.fill("input[name=cell]", criminal)
    page.fill("input[name=reason]", "browser test: forbidden target")
    page.click(".hmove-form button[type=submit]")
    page.wait_for_load_state()
    alert = page.locator(".hrefusal")
    assert alert.is_visible()
    assert f"The move to cell {criminal} was refused" in alert.inner_text()
    assert "Mandela Rule 11(c)" in alert.inner_text()
    assert "separation:regime" in alert.inner_text()
    page.screenshot(path=str(ARTIFACTS / "housing-move-refused.png"), full_page=False)

    # now an allowed target: moved, and the new cell lists the person
    target = page.locator("tr.htarget--allowed").first.get_attribute("data-cell")
    assert target is not None
    page.fill("input[name=cell]", target)
    page.fill("input[name=reason]", "browser test: allowed target")
    page.click(".hmove-form button[type=submit]")
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == f"Cell {target}"
    assert "moved to cell" in page.locator(".messages").inner_text()
    page.screenshot(path=str(ARTIFACTS / "housing-moved.png"), full_page=False)

    # the roll, keep-apart and occupancy pages render for the director
    for tab, heading, shot in (
        ("Roll count", "Roll count", "housing-roll.png"),
        ("Occupancy over time", "Occupancy over time", "housing-occupancy.png"),
        ("Keep-apart records", "Keep-apart records", "housing-keep-apart.png"),
    ):
        page.goto(f"{server}/housing/TEC/")
        page.click(f".housing-tabs >> text={tab}")
        page.wait_for_load_state()
        assert page.locator("h1").inner_text() == heading
        page.screenshot(path=str(ARTIFACTS / shot), full_page=False)
    page.context.close()


def test_liaison_gets_no_housing(browser: Any, server: str) -> None:
    page = login(browser, server, "liaison")
    assert page.locator("nav.site-nav >> text=Housing").count() == 0
    response = page.goto(f"{server}/housing/TEC/")
    assert response is not None
    assert response.status == 404
    page.context.close()
