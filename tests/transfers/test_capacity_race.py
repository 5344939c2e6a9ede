"""Two agreements that share a facility cannot both take its last place (docs/security.md,
"Capacity"; issue 10 item 5).

The review saw, on PostgreSQL, two acceptances under two agreements sharing a facility both
take the last place in 2 of 5 runs: acceptance locked the agreement, not the facility, so the
second transaction counted the free places before the first had committed. Now
``manifest_accept`` locks the rows of the agreement's facilities (``SELECT … FOR UPDATE``, in
id order so that two acceptances never wait on each other crosswise) before it counts.

The race runs in two processes on a throwaway PostgreSQL database and is made deterministic:
the first acceptance is held open, uncommitted, until the second one is either blocked on a
lock (the fix) or has finished (the bug); only then does the first commit. SQLite serialises writers (IMMEDIATE transactions), so there the race cannot
happen; the serial case is checked on both databases.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import textwrap
import time
import tomllib
from pathlib import Path
from typing import Any

import pytest

from habeas.core.actor import Actor
from habeas.core.errors import Conflict
from habeas.transfers.models import ManifestEntry
from habeas.transfers.services import manifest_accept, manifest_import
from tests.transfers.helpers import ON, row, to_csv

ACTOR = Actor(name="test:intake", role="facility_staff")

#: One facility with 2 working places, used by two agreements (US and GT).
SHARED = """
[[jurisdiction]]
code = "US"
name = "United States"

[[jurisdiction]]
code = "GT"
name = "Guatemala"

[[jurisdiction]]
code = "SV"
name = "El Salvador"

[[facility]]
code = "SHR"
name = "Shared centre"
jurisdiction = "SV"
timezone = "America/El_Salvador"
space_standard = "icrc"

[[facility.module]]
code = "M1"
population = "adult_male"
regime = "criminal"
cells = [{code = "M1-01", floor_area_m2 = 20.0, max_capacity = 4, working_capacity = 2}]

[[agreement]]
code = "US-SV"
sending = "US"
receiving = "SV"
facilities = ["SHR"]
policy = "outsourcing_2025"
starts = "2025-01-01"
currency = "USD"
fees = {per_person_day = "50.00"}

[[agreement]]
code = "GT-SV"
sending = "GT"
receiving = "SV"
facilities = ["SHR"]
policy = "outsourcing_2025"
starts = "2025-01-01"
currency = "USD"
fees = {per_person_day = "30.00"}
"""


def _shared_world() -> dict[str, Any]:
    """The facility with one place left: US-SV has accepted one of its two people."""
    import datetime as dt

    from habeas.agreements.models import Agreement
    from habeas.facilities.setup import setup_apply
    from habeas.facilities.setup_schema import parse_setup

    setup_apply(actor=ACTOR, document=parse_setup(tomllib.loads(SHARED), name="shared.toml"))
    on = dt.date.fromisoformat(ON)
    us = manifest_import(
        actor=ACTOR,
        data=to_csv(
            [
                row(sending_ref="US1", given_names="Luis", first_surname="Uno"),
                row(sending_ref="US2", given_names="Pedro", first_surname="Dos"),
            ]
        ),
        agreement=Agreement.objects.get(code="US-SV"),
        ref="US-F1",
        decided_on=on,
    ).manifest
    gt = manifest_import(
        actor=ACTOR,
        data=to_csv([row(sending_ref="GT1", given_names="Jorge", first_surname="Tres")]),
        agreement=Agreement.objects.get(code="GT-SV"),
        ref="GT-F1",
        decided_on=on,
    ).manifest
    decisions = dict(ManifestEntry.objects.values_list("sending_ref", "decision"))
    assert set(decisions.values()) == {"eligible"}, decisions
    manifest_accept(actor=ACTOR, manifest=us, only=["US1"])
    return {"us": us, "gt": gt}


@pytest.mark.django_db
def test_the_last_place_goes_to_one_agreement_only_serially() -> None:
    shared = _shared_world()
    manifest_accept(actor=ACTOR, manifest=shared["us"], only=["US2"])
    with pytest.raises(Conflict, match="working capacity of SHR: 0 places free"):
        manifest_accept(actor=ACTOR, manifest=shared["gt"], only=["GT1"])
    assert ManifestEntry.objects.filter(status="accepted").count() == 2


#: One racer process: accept one entry; with ``hold``, keep the transaction open (the place
#: taken, not committed) until a line arrives on stdin.
RACER = textwrap.dedent(
    """
    import json, sys, django
    django.setup()
    from habeas.core.actor import Actor
    from habeas.core.errors import Conflict
    from habeas.core.services import service
    from habeas.transfers.models import Manifest
    from habeas.transfers.services import manifest_accept
    ref, entry, hold = sys.argv[1], sys.argv[2], sys.argv[3] == "hold"
    manifest = Manifest.objects.get(ref=ref)
    @service
    def accept():
        manifest_accept(actor=Actor(name="test:racer", role="facility_staff"),
                        manifest=manifest, only=[entry])
        if hold:
            print("accepted", flush=True)
            sys.stdin.readline()
    try:
        accept()
        print(json.dumps({"won": True}), flush=True)
    except Conflict as exc:
        print(json.dumps({"won": False, "message": exc.message}), flush=True)
    """
)

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def _run(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, *args], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    return done.stdout


def _lock_waiters(url: str) -> int:
    import psycopg

    with psycopg.connect(url, autocommit=True) as watch:
        found = watch.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        ).fetchone()
    return int(found[0]) if found else 0


@pytest.mark.skipif(
    not os.environ.get("HABEAS_TEST_DATABASE_URL"),
    reason="HABEAS_TEST_DATABASE_URL is not set (the race needs PostgreSQL; SQLite "
    "serialises writers, so two acceptances cannot overlap there)",
)
def test_two_agreements_race_for_the_last_place_on_postgresql(tmp_path: Path) -> None:
    import psycopg

    name = f"habeas_capacity_{secrets.token_hex(4)}"
    url = f"postgresql://postgres@127.0.0.1:5432/{name}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    procs: list[subprocess.Popen[str]] = []
    try:
        env = {**os.environ, "DATABASE_URL": url, "HABEAS_HOME": str(tmp_path)}
        env.pop("HABEAS_TEST_DATABASE_URL", None)
        env["DJANGO_SETTINGS_MODULE"] = "habeas.settings"
        _run(env, "-m", "habeas", "init")
        (tmp_path / "setup.toml").write_text(SHARED)
        _run(env, "-m", "habeas", "apply", str(tmp_path / "setup.toml"))
        us_rows = [
            row(sending_ref="US1", given_names="Luis", first_surname="Uno"),
            row(sending_ref="US2", given_names="Pedro", first_surname="Dos"),
        ]
        (tmp_path / "us.csv").write_bytes(to_csv(us_rows))
        gt_rows = [row(sending_ref="GT1", given_names="Jorge", first_surname="Tres")]
        (tmp_path / "gt.csv").write_bytes(to_csv(gt_rows))
        for agreement, ref, file in (("US-SV", "US-F1", "us.csv"), ("GT-SV", "GT-F1", "gt.csv")):
            _run(env, "-m", "habeas", "import-manifest", str(tmp_path / file),
                 "--agreement", agreement, "--ref", ref, "--on", ON)  # fmt: skip
        _run(env, "-m", "habeas", "accept-manifest", "US-F1", "--only", "US1")

        def racer(ref: str, entry: str, hold: str) -> subprocess.Popen[str]:
            proc = subprocess.Popen(
                [sys.executable, "-c", RACER, ref, entry, hold],
                env=env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            procs.append(proc)
            return proc

        first = racer("US-F1", "US2", "hold")
        assert first.stdout is not None
        assert first.stdin is not None
        assert first.stdout.readline().strip() == "accepted"  # the last place, uncommitted
        second = racer("GT-F1", "GT1", "go")
        deadline = time.monotonic() + 60
        while second.poll() is None and _lock_waiters(url) < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        first.stdin.write("commit\n")
        first.stdin.flush()
        outcomes = {}
        for entry, proc in (("US2", first), ("GT1", second)):
            out, err = proc.communicate(timeout=120)
            assert proc.returncode == 0, err[-3000:]
            outcomes[entry] = json.loads(out.strip().splitlines()[-1])
        assert outcomes["US2"] == {"won": True}, outcomes
        assert outcomes["GT1"]["won"] is False, outcomes
        assert "working capacity of SHR: 0 places free" in outcomes["GT1"]["message"]
        with psycopg.connect(url) as check:
            accepted = check.execute(
                "SELECT sending_ref FROM transfers_manifestentry WHERE status = 'accepted'"
            ).fetchall()
        assert sorted(r[0] for r in accepted) == ["US1", "US2"]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
