"""Two processes racing for the last bed of a cell on PostgreSQL: exactly one wins, the other
gets a clear refusal (issue 4 acceptance; working capacity is a hard cap under concurrency:
``placement_move`` locks the target cell with ``SELECT … FOR UPDATE``).

A throwaway database is created with psycopg, initialised with ``habeas init`` and set up by
small scripts in subprocesses; both racers open a transaction, take a lock on a shared
"start gate" row so they block on the same lock, and are released together. Skipped unless
``HABEAS_TEST_DATABASE_URL`` is set (then PostgreSQL is at hand)."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.skipif(
    not os.environ.get("HABEAS_TEST_DATABASE_URL"),
    reason="HABEAS_TEST_DATABASE_URL is not set (the race needs PostgreSQL)",
)

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"

SETUP = """
[[jurisdiction]]
code = "US"
name = "United States"

[[jurisdiction]]
code = "SV"
name = "El Salvador"

[[facility]]
code = "RACE"
name = "Race centre"
jurisdiction = "SV"
timezone = "America/El_Salvador"
space_standard = "icrc"

[[facility.module]]
code = "M1"
population = "adult_male"
regime = "criminal"
cells = [
  {code = "A", floor_area_m2 = 20.0, max_capacity = 4, working_capacity = 2},
  {code = "B", floor_area_m2 = 20.0, max_capacity = 4, working_capacity = 4},
]

[[agreement]]
code = "US-SV"
sending = "US"
receiving = "SV"
facilities = ["RACE"]
policy = "outsourcing_2025"
starts = "2025-03-15"
currency = "USD"
fees = {per_person_day = "54.79"}
"""

#: Three people admitted: one in A (one bed left of 2), two in B (the racers).
ADMIT = textwrap.dedent(
    """
    import datetime as dt, json, django
    django.setup()
    from habeas.core.actor import Actor
    from habeas.custody.services import LegalBasisSpec
    from habeas.housing.placements import admit_and_place
    from habeas.facilities.models import Facility
    from habeas.agreements.models import Agreement
    from habeas.people.services import Identifier, PersonSpec, person_create
    actor = Actor(name="test:race", role="facility_staff")
    facility = Facility.objects.get(code="RACE")
    agreement = Agreement.objects.get(code="US-SV")
    ids = []
    for i, cell in enumerate(["A", "B", "B"]):
        person = person_create(actor=actor, spec=PersonSpec(
            given_names=f"Racer {i}", first_surname="Test", second_surname="", sex="M",
            nationalities=["VE"], date_of_birth=dt.date(1990, 1, 1),
            identifiers=[Identifier(authority="US", value=f"R{i:04d}")]))
        admit_and_place(actor=actor, person=person, facility=facility, agreement=agreement,
            legal_bases=[LegalBasisSpec(kind="criminal_sentence", ref=f"CR-{i}", authority="US",
                offence="theft", conviction_date=dt.date(2024, 1, 1), judgment_final=True,
                sentence="P2Y", sentence_start=dt.date(2024, 1, 1))],
            admitted_at=dt.datetime(2025, 3, 16, 12, 0, tzinfo=dt.UTC), cell_code=cell)
        ids.append(person.pk)
    print(json.dumps(ids))
    """
)

#: One racer: wait on the gate row, then move into A (one bed left) in the same transaction.
RACER = textwrap.dedent(
    """
    import json, sys, django
    django.setup()
    from django.db import connection
    from django.utils import timezone
    from habeas.core.actor import Actor
    from habeas.core.errors import ApplicationError
    from habeas.core.services import service
    from habeas.housing.placements import placement_move
    from habeas.facilities.models import Cell
    from habeas.people.models import Person
    person = Person.objects.get(pk=int(sys.argv[1]))
    cell = Cell.objects.get(facility__code="RACE", code="A")
    @service
    def gated_move():  # the gate and the move in one transaction
        with connection.cursor() as cur:  # both block here until the gate opens
            cur.execute("SELECT 1 FROM race_gate WHERE id = 1 FOR SHARE")
        placement_move(actor=Actor(name="test:racer", role="facility_staff"),
                       person=person, cell=cell, at=timezone.now(), reason="race")
    print("ready", flush=True)
    try:
        gated_move()
        print(json.dumps({"won": True}))
    except ApplicationError as exc:
        print(json.dumps({"won": False, "code": exc.code, "message": exc.message}))
    """
)


def _run(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, *args], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_two_processes_race_for_the_last_bed(tmp_path: Path) -> None:
    import psycopg

    name = f"habeas_race_{secrets.token_hex(4)}"
    url = f"postgresql://postgres@127.0.0.1:5432/{name}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        env = {**os.environ, "DATABASE_URL": url, "HABEAS_HOME": str(tmp_path)}
        env.pop("HABEAS_TEST_DATABASE_URL", None)
        env.setdefault("DJANGO_SETTINGS_MODULE", "habeas.settings")
        _run(env, "-m", "habeas", "init")
        setup = tmp_path / "setup.toml"
        setup.write_text(SETUP)
        _run(env, "-m", "habeas", "apply", str(setup))
        ids = json.loads(_run(env, "-c", ADMIT).strip().splitlines()[-1])
        _race(env, url, ids[1:])
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _race(env: dict[str, str], url: str, racers: list[int]) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as setup:
        setup.execute("CREATE TABLE race_gate (id int PRIMARY KEY)")
        setup.execute("INSERT INTO race_gate VALUES (1)")
    gate = psycopg.connect(url)
    procs: list[subprocess.Popen[str]] = []
    try:
        gate.execute("SELECT 1 FROM race_gate WHERE id = 1 FOR UPDATE")  # gate closed
        for pk in racers:
            procs.append(
                subprocess.Popen(
                    [sys.executable, "-c", RACER, str(pk)],
                    env=env,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                )
            )
        for proc in procs:  # both started and waiting on the gate
            assert proc.stdout is not None
            assert proc.stdout.readline().strip() == "ready"
        _wait_for_waiters(url, len(racers))
        gate.rollback()  # open the gate: both race for the one bed left in A
        outcomes: list[dict[str, Any]] = []
        for proc in procs:
            out, err = proc.communicate(timeout=120)
            assert proc.returncode == 0, err[-3000:]
            outcomes.append(json.loads(out.strip().splitlines()[-1]))
    finally:
        gate.close()
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
    winners = [o for o in outcomes if o["won"]]
    losers = [o for o in outcomes if not o["won"]]
    assert len(winners) == 1, outcomes
    assert len(losers) == 1, outcomes
    assert losers[0]["code"] == "conflict"
    assert "working capacity (2/2)" in losers[0]["message"], losers[0]
    with psycopg.connect(url) as check:
        held = check.execute(
            "SELECT count(*) FROM custody_placement p JOIN facilities_cell c ON c.id = p.cell_id "
            "WHERE c.code = 'A' AND p.ended_at IS NULL"
        ).fetchone()
    assert held is not None
    assert held[0] == 2


def _wait_for_waiters(url: str, n: int, timeout: float = 60.0) -> None:
    """Until ``n`` sessions are blocked on a lock (the racers at the gate)."""
    import psycopg

    deadline = time.monotonic() + timeout
    with psycopg.connect(url, autocommit=True) as watch:
        while time.monotonic() < deadline:
            row = watch.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            ).fetchone()
            if row is not None and row[0] >= n:
                return
            time.sleep(0.1)
    raise AssertionError(f"the racers did not both reach the gate within {timeout} s")
