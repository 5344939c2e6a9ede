"""ISSUE 3 acceptance: "A process killed in the middle of an import leaves nothing of it; the
rerun stores it once."

``habeas import-manifest`` runs as a real process on a database of its own (a fresh
HABEAS_HOME: ``habeas init`` and ``habeas apply``). The test hook of
:mod:`habeas.transfers.services` (``HABEAS_TEST_IMPORT_PAUSE_AFTER``) stops the import once
the first batch of 1,000 rows and its ledger entries are written in its open transaction; the
process says so on stderr, and gets SIGKILL there. Then: no manifest, entry, rule outcome or
ledger entry of it exists, ``habeas verify-ledger`` exits 0, and the rerun stores the manifest
exactly once (a third run recognises it).

SQLite always (the file in the test's HABEAS_HOME, read with ``sqlite3``); PostgreSQL too
when the run is on PostgreSQL (``HABEAS_TEST_DATABASE_URL``): a database of its own on that
server, created and dropped here.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

from habeas.transfers.services import PAUSE_ENV
from tests.conftest import SMALL_SETUP
from tests.transfers.helpers import ON, row, to_csv

pytestmark = pytest.mark.subprocess

ROWS = 1500  # two batches of the import (services.CHUNK = 1000)
PAUSE_AFTER = 1000
REF = "KILLED-1"
TIMEOUT = 300  # seconds; a cold start of ``python -m habeas`` on a loaded machine is slow


@dataclass
class Target:
    """The database the subprocesses use and a way for the test to read it."""

    env: dict[str, str]
    query: Callable[[str, tuple[Any, ...]], list[tuple[Any, ...]]]


def _base_env(home: Path) -> dict[str, str]:
    env = {**os.environ, "HABEAS_HOME": str(home)}
    for name in ("DATABASE_URL", "HABEAS_TEST_DATABASE_URL", "HABEAS_DEBUG", PAUSE_ENV):
        env.pop(name, None)
    return env


def _sqlite_target(home: Path) -> Iterator[Target]:
    path = home / "habeas.sqlite3"

    def query(sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        conn = sqlite3.connect(path)
        try:
            return conn.execute(sql.replace("%s", "?"), params).fetchall()
        finally:
            conn.close()

    yield Target(env=_base_env(home), query=query)


def _postgres_target(home: Path, url: str) -> Iterator[Target]:
    import psycopg

    parts = urlsplit(url)
    name = f"{parts.path.lstrip('/')}_killed_{uuid.uuid4().hex[:8]}"
    admin = urlunsplit(parts._replace(path="/postgres"))
    own = urlunsplit(parts._replace(path=f"/{name}"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def query(sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with psycopg.connect(own) as conn:
            return list(conn.execute(sql, params).fetchall())

    try:
        yield Target(env={**_base_env(home), "DATABASE_URL": own}, query=query)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Target]:
    home = tmp_path / "home"
    home.mkdir()
    url = os.environ.get("HABEAS_TEST_DATABASE_URL", "")
    if request.param == "sqlite":
        if url:
            # The embedded target never reads the suite's database: the SQLite suite runs it.
            pytest.skip("SQLite home: run by the SQLite suite (this run is on PostgreSQL)")
        yield from _sqlite_target(home)
        return
    if not url.startswith(("postgres://", "postgresql://")):
        pytest.skip("PostgreSQL: this run is on SQLite (HABEAS_TEST_DATABASE_URL not set)")
    yield from _postgres_target(home, url)


def habeas(target: Target, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "habeas", *args],
        env=target.env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )


def counts(target: Target) -> dict[str, int]:
    """What the database holds of the manifest ``REF``, and the ledger's size."""
    q = target.query
    return {
        "manifests": q("SELECT COUNT(*) FROM transfers_manifest WHERE ref = %s", (REF,))[0][0],
        "entries": q("SELECT COUNT(*) FROM transfers_manifestentry", ())[0][0],
        "outcomes": q("SELECT COUNT(*) FROM transfers_ruleoutcome", ())[0][0],
        "ledger_of_it": q(
            "SELECT COUNT(*) FROM ledger_ledgerentry WHERE subject = %s", (f"manifest:{REF}",)
        )[0][0],
        "ledger": q("SELECT COUNT(*) FROM ledger_ledgerentry", ())[0][0],
    }


def start_and_kill(target: Target, manifest: Path) -> str:
    """Start the import, wait until it reports the first batch stored in its open
    transaction, SIGKILL it; returns what it said."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "habeas",
            "import-manifest",
            str(manifest),
            "--agreement",
            "US-SV",
            "--ref",
            REF,
            "--on",
            ON,
        ],
        env={**target.env, PAUSE_ENV: str(PAUSE_AFTER)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    said = ""
    deadline = time.monotonic() + TIMEOUT
    try:
        assert proc.stderr is not None
        while time.monotonic() < deadline:
            line = proc.stderr.readline()
            if not line:
                break  # the process ended before pausing: the assertion below says so
            said += line
            if "paused after" in line:
                break
        assert "paused after" in said, f"the import never paused (exit {proc.poll()}):\n{said}"
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        if proc.stderr is not None:
            proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    return said


def test_import_killed_midway_leaves_nothing_and_rerun_stores_it_once(
    target: Target, tmp_path: Path
) -> None:
    setup = tmp_path / "setup.toml"
    setup.write_text(SMALL_SETUP)
    manifest = tmp_path / "manifest.csv"
    manifest.write_bytes(
        to_csv([row(sending_ref=f"K{i:05d}", given_names=f"Nombre{i}") for i in range(ROWS)])
    )
    for args in (("init",), ("apply", str(setup))):
        done = habeas(target, *args)
        assert done.returncode == 0, done.stderr
    before = counts(target)
    assert before["manifests"] == before["entries"] == before["ledger_of_it"] == 0

    said = start_and_kill(target, manifest)
    # Demonstrably in the middle: the first batch was written, the second not yet.
    assert f"paused after {PAUSE_AFTER} rows, {PAUSE_AFTER} entries stored" in said

    after = counts(target)
    assert after == before  # nothing of it: no manifest, entry, outcome or ledger entry
    verified = habeas(target, "verify-ledger")
    assert verified.returncode == 0, verified.stdout + verified.stderr

    command = ("import-manifest", str(manifest), "--agreement", "US-SV", "--ref", REF, "--on", ON)
    rerun = habeas(target, *command)
    assert rerun.returncode == 0, rerun.stderr
    assert "(imported)" in rerun.stdout
    stored = counts(target)
    assert stored["manifests"] == 1
    assert stored["entries"] == ROWS
    assert stored["outcomes"] > ROWS  # every rule of every entry
    assert stored["ledger_of_it"] == ROWS + 1  # one per entry, one for the manifest
    assert stored["ledger"] == before["ledger"] + ROWS + 1

    again = habeas(target, *command)
    assert again.returncode == 0, again.stderr
    assert "recognised" in again.stdout
    assert counts(target) == stored
    verified = habeas(target, "verify-ledger")
    assert verified.returncode == 0, verified.stdout + verified.stderr
