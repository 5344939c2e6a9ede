"""Reviewing a manifest in a real browser (issue 11, deliver 6): the counts as filter links, a
filter, the side-by-side comparison of a possible match, and "accept all eligible" with its
confirmation; at 1366 px and 390 px, in English and Spanish.

The small demo's first flight (238 entries, its eligible ones already accepted and admitted)
is reviewed; a second manifest, uploaded here through the page, has eligible entries waiting.
Screenshots go to tests/e2e/artifacts/, or with ``HABEAS_UPDATE_SCREENSHOTS=1`` the committed
ones to docs/screenshots/.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path
from typing import Any

import pytest

from tests.transfers.helpers import row, to_csv

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
SCREENSHOTS = (
    ROOT / "docs" / "screenshots" if os.environ.get("HABEAS_UPDATE_SCREENSHOTS") else ARTIFACTS
)
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
FLIGHT = "US-SV-2025-F1"
WAITING = 4


def _page(browser: Any, base: str, language: str, viewport: dict[str, int]) -> Any:
    from habeas.web.demo import demo_password

    context = browser.new_context(
        viewport=viewport, locale="es-ES" if language == "es" else "en-GB"
    )
    context.add_cookies([{"name": "django_language", "value": language, "url": base}])
    page = context.new_page()
    page.goto(f"{base}/login/")
    page.fill("#id_username", "director")
    page.fill("#id_password", demo_password("director"))
    page.click("form.form button[type=submit]")
    page.wait_for_url(f"{base}/")
    return page


def _no_overflow(page: Any) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"{page.url} is {width} px wide"


def test_review_filter_compare_and_accept_all_eligible(browser: Any, server: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page = _page(browser, server, "en", DESKTOP)
    page.goto(f"{server}/transfers/manifests/{FLIGHT}/")
    assert page.locator(".review-table tbody tr").count() == 50
    assert "Entries 1–50 of 238" in page.locator(".result-count").inner_text()
    chips = page.locator(".chip")
    assert chips.first.inner_text().split()[0] == "238"
    _no_overflow(page)
    page.screenshot(path=str(SCREENSHOTS / "manifest-review.png"))

    # the "needs review" chip filters; its count is the rows shown
    chip = page.locator("a.chip", has_text="Needs review")
    expected = int(chip.locator(".chip__count").inner_text())
    assert expected > 0
    chip.click()
    page.wait_for_load_state()
    assert page.locator("a.chip--current", has_text="Needs review").count() == 1
    assert page.locator(".review-table tbody tr").count() == min(expected, 50)
    assert all(
        t == "Needs review" for t in page.locator(".review-table tbody td .tag").all_inner_texts()
    )

    # a possible match, side by side
    page.locator("a.compare-link").first.click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text().startswith("Compare ")
    labels = page.locator(".compare-table tbody th").all_inner_texts()
    assert labels[:3] == ["Given names", "First surname", "Second surname"]
    assert "Date of birth" in labels
    assert "Nationalities" in labels
    agreements = page.locator(".compare-table .agreement").all_inner_texts()
    assert len(agreements) == len(labels)
    assert page.locator(
        ".compare-row--differs, .compare-row--similar, .compare-row--folded"
    ).count()
    page.screenshot(path=str(SCREENSHOTS / "manifest-compare.png"))

    # a new manifest with eligible entries waiting: accept them all, after the confirmation
    rows = [
        row(sending_ref=f"E2E{i}", given_names=f"Rodrigo{chr(65 + i)}", first_surname="Valle",
            nationalities="SV", date_of_birth=f"198{i}-02-11")
        for i in range(WAITING)
    ]  # fmt: skip
    page.goto(f"{server}/transfers/")
    page.set_input_files(
        "#id_file", files=[{"name": "e2e.csv", "mimeType": "text/csv", "buffer": to_csv(rows)}]
    )
    page.select_option("#id_agreement", "US-SV-2025")
    page.fill("#id_ref", "E2E-REVIEW")
    page.fill("#id_on", "2025-03-15")
    page.click("text=Import and decide")
    page.wait_for_url(re.compile(r".*/transfers/manifests/E2E-REVIEW/$"))
    page.click(f"text=Accept all {WAITING} eligible entries…")
    page.wait_for_url(re.compile(r".*/accept-eligible/$"))
    assert f"You are about to accept {WAITING} eligible entries" in page.content()
    page.click(f"button:has-text('Accept {WAITING} entries')")
    page.wait_for_url(re.compile(r".*/transfers/manifests/E2E-REVIEW/$"))
    assert f"{WAITING} eligible entries accepted." in page.locator(".messages").inner_text()
    accepted = page.locator("a.chip[href='?status=accepted'] .chip__count").inner_text()
    assert accepted == str(WAITING)
    assert page.locator("text=eligible entries…").count() == 0


@pytest.mark.parametrize(
    ("language", "viewport", "name"),
    [
        ("es", DESKTOP, "manifest-review-es.png"),
        ("en", PHONE, "manifest-review-390.png"),
        ("es", PHONE, "manifest-review-es-390.png"),
    ],
)
def test_review_page_in_spanish_and_on_a_phone(
    browser: Any, server: str, language: str, viewport: dict[str, int], name: str
) -> None:
    page = _page(browser, server, language, viewport)
    page.goto(f"{server}/transfers/manifests/{FLIGHT}/?decision=needs_review")
    assert page.locator("html").get_attribute("lang") == language
    if language == "es":
        assert page.locator("a.chip--current", has_text="Requiere revisión").count() == 1
        assert "Entradas 1–" in page.locator(".result-count").inner_text()
    _no_overflow(page)
    target = SCREENSHOTS if name == "manifest-review-es.png" else ARTIFACTS
    page.screenshot(path=str(target / name))
    page.locator("a.compare-link").first.click()
    page.wait_for_load_state()
    _no_overflow(page)
    page.screenshot(path=str(ARTIFACTS / name.replace("review", "compare")))


@pytest.mark.parametrize(
    ("language", "viewport", "name"),
    [("en", DESKTOP, "entry-arrival.png"), ("es", PHONE, "entry-arrival-es-390.png")],
)
def test_one_arrival_at_the_gate(
    browser: Any, server: str, language: str, viewport: dict[str, int], name: str
) -> None:
    """Reception (issue 11, deliver 1): an accepted entry admitted from its arrival screen,
    in the suggested cell, with a property list in the Rule 7 record."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    ref = f"E2E-ARRIVE-{language}"
    page = _page(browser, server, language, viewport)
    page.goto(f"{server}/transfers/")
    rows = [
        row(sending_ref=f"{ref}-1", given_names="Mauricio" if language == "en" else "Teodoro",
            first_surname="Llegada" if language == "en" else "Portillo",
            nationalities="SV", date_of_birth="1984-05-02" if language == "en" else "1979-11-23")
    ]  # fmt: skip
    page.set_input_files(
        "#id_file", files=[{"name": "arrive.csv", "mimeType": "text/csv", "buffer": to_csv(rows)}]
    )
    page.select_option("#id_agreement", "US-SV-2025")
    page.fill("#id_ref", ref)
    page.fill("#id_on", "2025-03-15")
    page.click("form[enctype='multipart/form-data'] button[type=submit]")
    page.wait_for_url(re.compile(rf".*/transfers/manifests/{ref}/$"))
    page.goto(f"{server}/transfers/manifests/{ref}/accept-eligible/")
    page.click("form:has(input[name=expected]) button[type=submit]")
    page.wait_for_url(re.compile(rf".*/transfers/manifests/{ref}/$"))
    page.goto(f"{server}/transfers/manifests/{ref}/rows/1/arrive/")
    assert page.locator("html").get_attribute("lang") == language
    suggested = "Sugerida: celda" if language == "es" else "Suggested: cell"
    assert suggested in page.locator("main").inner_text()
    cell = page.locator("#id_cell").input_value()
    assert cell
    # arrived yesterday, so that today's move and release come after the admission
    shown = page.locator("#id_arrived_date").input_value()
    page.fill("#id_arrived_date", str(dt.date.fromisoformat(shown) - dt.timedelta(days=1)))
    page.fill("input[name='property_items-0-item']", "reloj" if language == "es" else "watch")
    page.fill("input[name='property_items-0-quantity']", "1")
    _no_overflow(page)
    target = SCREENSHOTS if language == "en" else ARTIFACTS
    page.screenshot(path=str(target / name), full_page=True)
    page.click("form.form > button[type=submit]")
    page.wait_for_url(re.compile(rf".*/transfers/manifests/{ref}/\?status=accepted$"))
    said = page.locator(".messages").inner_text()
    assert f"{ref}-1" in said
    assert cell in said
    if language != "en":
        return
    # the rest of staff's journey (issue 11, acceptance): move him, release him, and the
    # public locator says released
    page.goto(f"{server}/people/?q=Mauricio+Llegada")
    page.locator("table a[href^='/people/']").first.click()
    page.wait_for_load_state()
    person_url = page.url
    page.click(".person-actions >> text=Move to another cell")
    page.wait_for_load_state()
    targets = [
        v
        for v in page.locator("#target-cells option").evaluate_all("os => os.map(o => o.value)")
        if v != cell
    ]
    assert targets
    page.fill("input[name=cell]", targets[0])
    page.fill("input[name=reason]", "cell repairs")
    page.locator("form button[type=submit]", has_text="Move").click()
    page.wait_for_load_state()
    page.goto(person_url)
    assert targets[0] in page.locator("main").inner_text()
    page.click(".person-actions >> text=Release")
    page.wait_for_load_state()
    page.select_option("#id_reason", "court_order")
    page.fill("#id_destination", "SV")
    page.click("form.departure-form button[type=submit]")
    page.wait_for_load_state()
    page.click("form.departure-form button[type=submit]")
    page.wait_for_load_state()
    assert "was released" in page.content(), page.locator("main").inner_text()[:1500]
    public = browser.new_context(viewport=DESKTOP, locale="en-GB").new_page()
    public.goto(f"{server}/locator/?nationality=SV&name=Mauricio+Llegada&dob=1984")
    found = public.locator("main").inner_text()
    assert "Released on" in found
    public.screenshot(path=str(ARTIFACTS / "locator-released.png"), full_page=True)
