"""Shared browser-test fixtures: the demo in a fresh HABEAS_HOME, served by ``habeas serve``
on a free port (module scope: each test module gets its own data to change), and Debian's
Chromium driven by Playwright.

No ``live_server``: the ledger's DELETE triggers make a test-database flush fail, and serving
the demo exactly as an operator would is the better test anyway.
"""

from __future__ import annotations

import os
import shutil
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

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
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


def _server_env(home: Path) -> dict[str, str]:
    env = {**os.environ, "HABEAS_HOME": str(home), "HABEAS_WORKERS": "2"}
    # The server must use its own embedded database, never the one the test run points at.
    for name in ("DATABASE_URL", "HABEAS_TEST_DATABASE_URL", "HABEAS_DEBUG"):
        env.pop(name, None)
    return env


@pytest.fixture(scope="session")
def demo_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small demo loaded once per run into a HABEAS_HOME that no server uses: each
    module's server gets a copy of it (loading it costs about 25 s of CPU; ten modules did
    that ten times)."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: the browser test needs a system Chromium")
    home = tmp_path_factory.mktemp("habeas-e2e-demo")
    subprocess.run(
        [sys.executable, "-m", "habeas", "demo", "--no-serve", "--scale", "small"],
        env=_server_env(home),
        check=True,
        capture_output=True,
        timeout=600,
    )
    return home


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, demo_home: Path) -> Iterator[str]:
    """A copy of the loaded demo in a fresh HABEAS_HOME (embedded SQLite: the database, its
    keys and collected static files), served on a free port (module scope: each test module
    changes its own data)."""
    home = tmp_path_factory.mktemp("habeas-e2e") / "home"
    shutil.copytree(demo_home, home)
    env = _server_env(home)
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


def login(browser: Any, base: str, username: str) -> Any:
    from habeas.web.demo import demo_password

    context = browser.new_context(viewport={"width": WIDTH, "height": 900}, locale="en-GB")
    page = context.new_page()
    page.goto(f"{base}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", demo_password(username))
    page.click("form.form button[type=submit]")
    page.wait_for_url(f"{base}/")
    return page
