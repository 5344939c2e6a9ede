"""The finance pages in a real browser, on the demo: the sending state's finance officer
follows the Billing link to the chart, opens the last invoice with its credit note, follows
a line to the person's custody episodes, reconciles April 2025 with the demo's list (two
discrepancies) and reads the invoice page in Spanish."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import login

pytestmark = pytest.mark.e2e

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"


def test_finance_reads_invoices_and_reconciles(browser: Any, server: str, tmp_path: Path) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page = login(browser, server, "finance")
    page.click("nav.site-nav >> text=Billing")
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "Billing"
    assert page.locator("figure.billing-chart svg rect").count() >= 12
    page.screenshot(path=str(ARTIFACTS / "billing.png"), full_page=True)

    page.click("text=US-SV-2025 >> nth=0")
    page.wait_for_load_state()
    rows = page.locator("table tbody tr")
    assert rows.count() >= 12
    # The demo's late release falls in the last month invoiced (the month before the demo's
    # day; the current month is still open), which carries the credit note.
    last = (dt.datetime.now(dt.UTC).date().replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")
    page.click(f"table tbody td:first-child a[href$='/{last}/']")
    page.wait_for_load_state()
    assert page.get_by_text("Credit note").first.is_visible()
    assert page.locator("text=In words:").is_visible()
    page.screenshot(path=str(ARTIFACTS / "billing-invoice.png"))
    name = page.locator("table tbody tr td:nth-child(2) a").first.inner_text()
    page.locator("table tbody tr td:nth-child(2) a").first.click()
    page.wait_for_load_state()
    assert name in page.locator("h1").inner_text()
    assert page.locator("#episodes").is_visible()

    page.goto(f"{server}/billing/US-SV-2025/2025-04/reconcile/")
    theirs = page.evaluate("fetch('/billing/US-SV-2025/2025-04/invoice.csv').then(r => r.text())")
    lines = theirs.splitlines()[1:]
    listed = ["sending_ref,name,first_day,last_day"]
    for i, row in enumerate(lines[1:]):  # the first person left out
        cells = row.split(",")
        last = "2025-04-27" if i == 0 else cells[6]
        listed.append(",".join([cells[2], cells[4], cells[5], last]))
    upload = tmp_path / "theirs.csv"
    upload.write_text("\n".join(listed) + "\n", encoding="utf-8")
    page.set_input_files("#theirs", str(upload))
    page.click("form.filter-bar button[type=submit]")
    page.wait_for_load_state()
    assert page.locator("h2", has_text="Billed, not on their list (1)").is_visible()
    assert page.locator("h2", has_text="Day differences (1)").is_visible()
    page.screenshot(path=str(ARTIFACTS / "billing-reconcile.png"), full_page=True)

    page.goto(f"{server}/billing/US-SV-2025/2025-04/")
    page.click("button.lang-switch__option[lang=es]")
    page.wait_for_load_state()
    assert "Factura" in page.locator("h1").inner_text()
    assert page.locator("text=En letras:").is_visible()
    page.close()
