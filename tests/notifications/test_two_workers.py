"""Acceptance: "Two workers never deliver the same notification twice (PostgreSQL)."

Two ``habeas worker --once`` processes run at the same time against one PostgreSQL database
of their own (created and dropped here), sharing the task queue; a local HTTP receiver in
this process records every POST by its idempotency key. Each of 60 notices arrives once.
Batches of 7 (``HABEAS_NOTIFY_BATCH``) make nine tasks, so both workers claim batches side by
side; a task queued twice for the same deliveries (as the sweep may) finds them claimed or
sent and does nothing.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

from tests.notifications.test_delivery import Receiver

pytestmark = pytest.mark.subprocess
TIMEOUT = 300

SETUP = textwrap.dedent(
    """
    import datetime as dt, sys
    import django
    django.setup()
    from django.core.management import call_command
    call_command("init")
    from tests.conftest import SMALL_SETUP, make_person, sentence
    import tomllib
    from habeas.core.actor import Actor
    from habeas.facilities.setup import setup_apply
    from habeas.facilities.setup_schema import parse_setup
    from habeas.facilities.models import Facility
    from habeas.agreements.models import Agreement
    from habeas.housing.placements import admit_and_place
    from habeas.notifications.services import Notice, notices_queue, subscription_create
    actor = Actor(name="test:officer", role="facility_staff")
    setup_apply(actor=actor, document=parse_setup(tomllib.loads(SMALL_SETUP), name="s.toml"))
    tec, us = Facility.objects.get(code="TEC"), Agreement.objects.get(code="US-SV")
    subscription_create(actor=actor, name="DHS", audience="sending_state", country="US",
                        url=sys.argv[1], secret="test-secret-0123456789abcdef")
    episodes = []
    for i in range(12):
        p = make_person(actor, given_names=f"Persona {i}")
        episodes.append(admit_and_place(actor=actor, person=p, facility=tec, agreement=us,
            legal_bases=[sentence("P10Y")], cell_code=None,
            admitted_at=dt.datetime(2025, 3, 16, 14, 5, tzinfo=dt.UTC)))
    made = notices_queue(actor=actor, notices=[Notice(e.pk, "transfer", {}, occurrence=str(k))
                                               for e in episodes for k in range(5)])
    # the same deliveries queued again, in other batches: two tasks race for each notice
    from django.db import transaction
    from habeas.notifications.services import enqueue_deliveries
    transaction.on_commit(lambda: enqueue_deliveries([d.pk for d in made][::-1]))
    """
)


@pytest.fixture
def database(tmp_path: Path) -> Any:
    url = os.environ.get("HABEAS_TEST_DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        pytest.skip("PostgreSQL: this run is on SQLite (HABEAS_TEST_DATABASE_URL not set)")
    import psycopg

    parts = urlsplit(url)
    name = f"{parts.path.lstrip('/')}_workers_{uuid.uuid4().hex[:8]}"
    admin = urlunsplit(parts._replace(path="/postgres"))
    own = urlunsplit(parts._replace(path=f"/{name}"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    env = {**os.environ, "HABEAS_HOME": str(tmp_path), "DATABASE_URL": own,
           "DJANGO_SETTINGS_MODULE": "habeas.settings", "HABEAS_NOTIFY_BATCH": "7"}  # fmt: skip
    env.pop("HABEAS_TEST_DATABASE_URL", None)
    try:
        yield env, own
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_two_workers_never_deliver_the_same_notification_twice(database: Any) -> None:
    import psycopg

    env, url = database
    receiver = Receiver()
    try:
        root = Path(__file__).resolve().parents[2]
        setup = subprocess.run(
            [sys.executable, "-c", SETUP, receiver.url], env={**env, "PYTHONPATH": str(root)},
            cwd=root, capture_output=True, text=True, timeout=TIMEOUT, check=False,
        )  # fmt: skip
        assert setup.returncode == 0, setup.stderr[-3000:]
        workers = [
            subprocess.Popen(
                [sys.executable, "-m", "habeas", "worker", "--once", "--id", f"w{i}"],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for i in range(2)
        ]
        for w in workers:
            _out, err = w.communicate(timeout=TIMEOUT)
            assert w.returncode == 0, err[-3000:]
        keys = [r["key"] for r in receiver.received]
        assert len(keys) == 60
        assert len(set(keys)) == 60  # none twice
        with psycopg.connect(url) as conn:
            statuses = dict(
                conn.execute(
                    "SELECT status, COUNT(*) FROM notifications_delivery GROUP BY status"
                ).fetchall()
            )
            tasks = dict(
                conn.execute(
                    "SELECT status, COUNT(*) FROM django_tasks_database_dbtaskresult "
                    "GROUP BY status"
                ).fetchall()
            )
        assert statuses == {"sent": 60}
        # every task ran to its end: 9 batches queued with the notices, 9 more over the same
        # deliveries (each found them claimed or sent and did nothing), the daily check
        assert set(tasks) == {"SUCCESSFUL"}
        assert tasks["SUCCESSFUL"] >= 18
    finally:
        receiver.close()
