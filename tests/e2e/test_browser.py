"""The web shell in a real browser (Chromium through Playwright) against the real server.

No ``live_server``: the ledger's DELETE triggers make a test-database flush fail. Instead a
fixture loads the demo into a temporary ``HABEAS_HOME`` with ``habeas demo --no-serve`` and
starts ``habeas serve`` (gunicorn + whitenoise) on a free port, exactly as an operator would.

Screenshots for the README go to docs/screenshots/; the others to tests/e2e/artifacts/.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.e2e

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "docs" / "screenshots"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
DEMO_CELLS = 256  # 8 modules × 32 cells (STANDARDS.md, the facility the demo models)
WIDTH = 1400


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_until_up(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"habeas serve exited with {proc.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - local URL
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.3)
    raise RuntimeError(f"habeas serve did not answer at {url}:\n{log.read_text()}")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A demo loaded into a fresh HABEAS_HOME (embedded SQLite), served on a free port."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: the browser test needs a system Chromium")
    home = tmp_path_factory.mktemp("habeas-e2e")
    env = {**os.environ, "HABEAS_HOME": str(home), "HABEAS_WORKERS": "2"}
    # The server must use its own embedded database, never the one the test run points at.
    for name in ("DATABASE_URL", "HABEAS_TEST_DATABASE_URL", "HABEAS_DEBUG"):
        env.pop(name, None)
    subprocess.run(
        [sys.executable, "-m", "habeas", "demo", "--no-serve", "--scale", "small"],
        env=env,
        check=True,
        capture_output=True,
        timeout=600,
    )
    port = _free_port()
    log = home / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "habeas", "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(f"{base}/login/", proc, log, timeout=60)
        yield base
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)


@pytest.fixture(scope="module")
def browser(server: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def _login(browser: Any, base: str, username: str) -> Any:
    context = browser.new_context(viewport={"width": WIDTH, "height": 900}, locale="en-GB")
    page = context.new_page()
    page.goto(f"{base}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", f"{username}-demo")
    page.click("form.form button[type=submit]")
    page.wait_for_url(f"{base}/")
    return page


def test_staff_dashboard_grid_spanish_switch_and_cell_page(browser: Any, server: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page = _login(browser, server, "staff")

    # English dashboard: the facility, its figures and one square per cell
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("h1").inner_text() == "Dashboard"
    assert page.locator(".facility__title").first.is_visible()
    assert page.locator(".cell-square").count() == DEMO_CELLS
    assert page.locator(".ledger-status").inner_text().startswith("Ledger")
    assert "Facility staff" in page.locator(".account").inner_text()
    first = page.locator("a.cell-square").first
    assert "/facilities/TEC/cells/" in (first.get_attribute("href") or "")
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
    page = _login(browser, server, "liaison")
    assert page.locator(".stat").count() > 0
    assert page.locator(".cell-square").count() == 0
    assert page.locator("a[href*='/cells/']").count() == 0
    response = page.goto(f"{server}/facilities/TEC/cells/M1-01/")
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
