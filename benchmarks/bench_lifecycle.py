"""Benchmark: the custody lifecycle (docs/lifecycle.md) — release dates and ``check-custody``.

* release dates for 40,000 people: ``habeas.custody.release.calculate`` under ``us_federal``
  (good conduct time, prior credit, weekend and El Salvador's holidays), one sentence each;
  target ≤ 2 s;
* ``check-custody`` over N open episodes (``HABEAS_BENCH_EPISODES``, default 1,000,000): the
  first run calculates every release date and opens the alarms (ledger entries); the timed
  steady-state run finds nothing changed and writes nothing; target ≤ 30 s on SQLite for
  1,000,000;
* the worker (``--postgres`` only): ``HABEAS_BENCH_NOTIFICATIONS`` (default 3,000) webhook
  notifications queued (``notices_queue``) for a local HTTP receiver running in a thread of
  this process, delivered by 2 ``habeas worker`` processes (claim, signed POST, attempt
  recorded on the ledger); timed from the queueing transaction's commit until every delivery
  is sent, and from the queueing call (the queueing, done by the service that records the
  event, included); target ≥ 200 notifications/s. Baseline: the same bodies posted to the same
  receiver by 2 threads with plain ``urllib`` (no database).

Set-up (untimed): the demo setup file, then N people with one legal basis each (3 in 4 a
sentence, 1 in 4 a removal order) and their open episodes, written with plain SQL (a
benchmark's fixture, not how Habeas admits anyone: bench_admissions measures that).

Baseline, in the same run: the rows ``check-custody`` reads (episodes, their orders, the
current calculations), fetched with one plain SQL join each on the same database and walked in
Python, with no decision made.

Usage: ``python benchmarks/bench_lifecycle.py [--postgres] [--runs N] [--json F]``
(``HABEAS_BENCH_SKIP_CHECK=1`` leaves out the release dates and ``check-custody``).

``HABEAS_BENCH_LIFECYCLE_DB=FILE`` (SQLite) keeps the populated and first-checked database in
FILE: a run that finds FILE reuses it and times only the steady state and the baseline, so
the hour-long set-up of 1,000,000 episodes can be done once, and the timed part taken later on
a quiet machine. The steady state writes nothing, so the file stays valid for the next run.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import sys
from typing import Any

import _common as common

PEOPLE_FOR_DATES = 40_000
EPISODES = int(os.environ.get("HABEAS_BENCH_EPISODES", "1000000"))
NOTIFICATIONS = int(os.environ.get("HABEAS_BENCH_NOTIFICATIONS", "3000"))
WORKERS = 2
SKIP_CHECK = os.environ.get("HABEAS_BENCH_SKIP_CHECK") == "1"
DEFAULT_RUNS = 1
SEED = 20251207
KEEP_DB = os.environ.get("HABEAS_BENCH_LIFECYCLE_DB", "")
DEMO_SETUP = common.ROOT / "src/habeas/web/data/demo_setup.toml"


def release_dates(inputs: list[Any]) -> int:
    from habeas.custody.release import calculate

    return sum(1 for b in inputs if calculate("us_federal", "SV", [b]).release_date is not None)


def populate(n: int) -> None:
    """N people, legal bases, open episodes and links, with plain SQL in one transaction."""
    from django.db import connection, transaction

    from habeas.core.actor import Actor
    from habeas.facilities.setup import setup_apply
    from habeas.facilities.setup_schema import load_setup

    setup_apply(actor=Actor.system("bench"), document=load_setup(DEMO_SETUP))
    rng = random.Random(SEED)
    with connection.cursor() as c:
        c.execute("SELECT id FROM facilities_facility WHERE code = 'TEC'")
        facility = c.fetchone()[0]
        c.execute("SELECT id FROM agreements_agreement WHERE code = 'US-SV-2025'")
        agreement = c.fetchone()[0]
    now = dt.datetime(2026, 1, 5, 12, tzinfo=dt.UTC)
    chunk = 20_000
    with transaction.atomic(), connection.cursor() as c:
        for start in range(0, n, chunk):
            ids = range(start + 1, min(start + chunk, n) + 1)
            c.executemany(
                "INSERT INTO people_person (id, given_names, first_surname, second_surname, "
                "aliases, sex, nationalities, dob_precision, language, created_at, "
                "match_key_a, match_key_gd, match_key_d1, match_key_d2, match_key_p, "
                "match_key_y1, match_key_y2, name_keys) VALUES "
                "(%s, 'Bench', 'Person', '', '[]', 'M', '[\"VE\"]', 'day', 'es', %s, "
                "'', '', '', '', '', '', '', '')",
                [(i, now) for i in ids],
            )
            bases = []
            for i in ids:
                if i % 4 == 3:
                    bases.append(
                        (
                            i,
                            i,
                            "removal_order",
                            "",
                            None,
                            None,
                            dt.date(2025, 1, 1) + dt.timedelta(days=rng.randrange(300)),
                        )
                    )
                else:
                    s = dt.date(2015, 1, 1) + dt.timedelta(days=rng.randrange(3600))
                    sentence = rng.choice(["P2Y", "P5Y", "P10Y", "P18M", "P25Y"])
                    bases.append((i, i, "criminal_sentence", sentence, s, None, None))
            c.executemany(
                "INSERT INTO custody_legalbasis (id, person_id, kind, authority, ref, "
                "status_in_sending_state, removal_protection, offence, sentence, "
                "sentence_start, custody_credit_days, consent, recorded_at, ends_on, status, "
                "credit_forfeited_days, order_date) VALUES "
                "(%s, %s, %s, '', '', '', FALSE, '', %s, %s, 0, 'unknown', "
                f"'{now.isoformat()}', %s, 'active', 0, %s)",
                bases,
            )
            c.executemany(
                "INSERT INTO custody_custodyepisode (id, person_id, facility_id, agreement_id, "
                "admitted_at, release_reason, release_destination, release_note) VALUES "
                "(%s, %s, %s, %s, %s, '', '', '')",
                [(i, i, facility, agreement, now) for i in ids],
            )
            c.executemany(
                "INSERT INTO custody_custodyepisode_legal_bases (custodyepisode_id, "
                "legalbasis_id) VALUES (%s, %s)",
                [(i, i) for i in ids],
            )
    # ends_on as the admission stores it
    from habeas.custody.release import full_term_less_credit

    with transaction.atomic(), connection.cursor() as c:
        c.execute(
            "SELECT id, sentence, sentence_start FROM custody_legalbasis "
            "WHERE kind = 'criminal_sentence'"
        )
        rows = [(full_term_less_credit(s, d, 0), i) for i, s, d in c.fetchall()]
        c.executemany("UPDATE custody_legalbasis SET ends_on = %s WHERE id = %s", rows)


def use_kept_database(path: str) -> None:
    """Point the default connection at PATH, migrating it if it is new (SQLite)."""
    from django.core.management import call_command
    from django.db import connection, connections

    connections.close_all()
    connection.settings_dict["NAME"] = path
    call_command("migrate", verbosity=0)
    with connection.cursor() as c:
        c.execute("SELECT COUNT(*) FROM custody_custodyepisode WHERE released_at IS NULL")
        held = c.fetchone()[0]
    if held not in (0, EPISODES):
        raise SystemExit(f"{path} holds {held:,} open episodes, not {EPISODES:,}")


def custody_check_as(actor: Any) -> Any:
    from habeas.custody.check import custody_check

    return custody_check(actor=actor)


def baseline_read() -> int:
    from django.db import connection

    count = 0
    with connection.cursor() as c:
        c.execute(
            "SELECT e.id, e.facility_id, e.admitted_at, a.ends, b.kind, b.status, b.ends_on, "
            "b.ended_on, b.sentence, b.order_date, b.removal_protection, b.protection_on, "
            "b.sentence_start, b.custody_credit_days, b.credit_forfeited_days "
            "FROM custody_custodyepisode e JOIN custody_custodyepisode_legal_bases l "
            "ON l.custodyepisode_id = e.id JOIN custody_legalbasis b ON b.id = l.legalbasis_id "
            "LEFT JOIN agreements_agreement a ON a.id = e.agreement_id "
            "WHERE e.released_at IS NULL"
        )
        for _row in c:
            count += 1
        c.execute("SELECT episode_id, inputs_sha, release_date FROM custody_releasecalculation")
        for _row in c:
            count += 1
    return count


class Receiver:
    """A local webhook receiver (a thread of this process): answers 200 to every POST and
    counts each idempotency key it is sent. It speaks HTTP/1.1 and keeps connections open, as
    a web server in front of a real receiver does."""

    def __init__(self) -> None:
        import http.server
        import threading

        self.posts = 0
        self.keys: set[str] = set()
        lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with lock:
                    outer.posts += 1
                    outer.keys.add(self.headers.get("Idempotency-Key", ""))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _cpu_of(pid: int) -> float:
    """User + system CPU seconds of a running process (Linux /proc)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def queue_notices(actor: Any, episodes: int, occurrence: str) -> list[Any]:
    from habeas.notifications.services import Notice, notices_queue

    return notices_queue(
        actor=actor,
        notices=[
            Notice(
                episode=i,
                event="release_due",
                facts={"release_date": "2026-02-01"},
                occurrence=occurrence,
            )
            for i in range(1, episodes + 1)
        ],
    )


def wait_sent(total: int, timeout: float = 600.0) -> None:
    import time

    from habeas.notifications.models import Delivery

    deadline = time.monotonic() + timeout
    while Delivery.objects.filter(status="sent").count() < total:
        if time.monotonic() > deadline:
            raise RuntimeError(f"the workers did not send {total} notifications in {timeout} s")
        time.sleep(0.05)


def deliver_batch(actor: Any, n: int, occurrence: str, sent_before: int) -> list[Any]:
    made = queue_notices(actor, n, occurrence)
    wait_sent(sent_before + len(made))
    return made


def baseline_posts(deliveries: list[Any], threads: int) -> int:
    """The same signed bodies posted to the same receiver with plain urllib, no database."""
    import concurrent.futures
    import time
    import urllib.request

    from habeas.notifications.channels import document, sign

    prepared = []
    for d in deliveries:
        body = document(d)
        stamp = str(int(time.time()))
        prepared.append(
            (
                d.address,
                body,
                {
                    "Content-Type": "application/json",
                    "Idempotency-Key": d.key + ":baseline",
                    "X-Habeas-Timestamp": stamp,
                    "X-Habeas-Signature": sign(d.subscription.secret, stamp, body),
                },
            )
        )

    def post(part: list[tuple[str, bytes, dict[str, str]]]) -> int:
        for url, body, headers in part:
            request = urllib.request.Request(url, data=body, method="POST", headers=headers)  # noqa: S310
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                assert response.status == 200
        return len(part)

    with concurrent.futures.ThreadPoolExecutor(threads) as pool:
        return sum(pool.map(post, [prepared[i::threads] for i in range(threads)]))


def run_worker(env: common.Env, report: common.Report, runs: int) -> None:
    """2 ``habeas worker`` processes delivering webhook notifications (PostgreSQL)."""
    import shutil
    import statistics
    import subprocess
    import time

    from habeas.core.actor import Actor
    from habeas.notifications.services import subscription_create

    delivered = report.add(
        "worker",
        f"worker: webhooks queued and delivered, {WORKERS} workers",
        NOTIFICATIONS,
        "notifications",
    )
    from_commit = report.add(
        "worker_delivery",
        f"worker: delivered from the queueing commit, {WORKERS} workers",
        NOTIFICATIONS,
        "notifications",
    )
    queued = report.add("worker_queue", "worker: queueing alone", NOTIFICATIONS, "notifications")
    raw = report.add(
        "worker_baseline",
        f"baseline: the same bodies posted by {WORKERS} threads",
        NOTIFICATIONS,
        "notifications",
    )
    env.fresh_database()
    common.log(f"worker: {NOTIFICATIONS:,} episodes (untimed)")
    populate(NOTIFICATIONS)
    actor = Actor.system("bench")
    receiver = Receiver()
    subscription_create(
        actor=actor,
        name="Bench receiver",
        audience="sending_state",
        country="US",
        url=receiver.url,
        secret="bench-secret-0123456789",
    )
    habeas = shutil.which("habeas", path=os.path.dirname(sys.executable)) or "habeas"
    child_env = dict(os.environ, HABEAS_DAILY_CHECK_AT="23:59")  # no daily check mid-run
    from django.db import connections

    connections.close_all()
    workers = [
        subprocess.Popen(
            [habeas, "worker", "--interval", "0.05", "--id", f"bench-{k}"],
            env=child_env,
            stdout=subprocess.DEVNULL,
        )
        for k in range(WORKERS)
    ]
    worker_cpu: list[float] = []
    try:
        common.log("worker: warming up")
        sent = len(deliver_batch(actor, 50, "warm-up", 0))
        for number in range(runs):
            common.log(f"worker: run {number + 1}/{runs}: {NOTIFICATIONS:,} notifications")
            cpu = sum(_cpu_of(w.pid) for w in workers)
            start = time.perf_counter()
            made = common.timed(queued, queue_notices, actor, NOTIFICATIONS, f"run-{number}")
            committed = time.perf_counter()
            wait_sent(sent + len(made))
            end = time.perf_counter()
            delivered.seconds.append(end - start)
            from_commit.seconds.append(end - committed)
            delivered.cpu_seconds.append(sum(_cpu_of(w.pid) for w in workers) - cpu)
            from_commit.cpu_seconds.append(delivered.cpu_seconds[-1])
            worker_cpu.append(delivered.cpu_seconds[-1])
            sent += len(made)
            assert len(made) == NOTIFICATIONS
            common.log("worker: baseline")
            common.timed(raw, baseline_posts, made, WORKERS)
    finally:
        for w in workers:
            w.kill()
            w.wait()
    assert receiver.posts == len(receiver.keys), "a notification was delivered twice"
    receiver.close()
    report.ratio("worker delivery vs plain posts", "worker", "worker_baseline")
    report.ratio(
        "worker delivery from the commit vs plain posts", "worker_delivery", "worker_baseline"
    )
    rate = NOTIFICATIONS / from_commit.median
    report.targets.append(
        common.Target(
            f"worker: ≥ 200 notifications/s delivered with {WORKERS} workers (PostgreSQL)",
            rate >= 200 and env.postgres,
            f"{rate:,.0f}/s delivered from the queueing commit ({NOTIFICATIONS:,} in"
            f" {from_commit.median:.2f} s; the workers' CPU {statistics.median(worker_cpu):.2f} s);"
            f" {NOTIFICATIONS / delivered.median:,.0f}/s with the queueing",
        )
    )


def run(env: common.Env, runs: int, profile: bool = False) -> common.Report:
    from habeas.custody.release import BasisInput

    report = common.Report(bench="lifecycle", engine=env.engine)
    rng = random.Random(SEED)
    inputs = [
        BasisInput(
            i,
            rng.choice(["P2Y", "P5Y", "P10Y", "P13M", "P1Y", "life"]),
            dt.date(2015, 1, 1) + dt.timedelta(days=rng.randrange(3600)),
            rng.randrange(200),
        )
        for i in range(PEOPLE_FOR_DATES)
    ]
    dates = report.add(
        "dates", "release dates (us_federal), one call each", PEOPLE_FOR_DATES, "people"
    )
    first = report.add(
        "check_first", "check-custody, first run (calculates, opens)", EPISODES, "episodes"
    )
    steady = report.add("check_steady", "check-custody, nothing changed", EPISODES, "episodes")
    base = report.add(
        "baseline", f"baseline: plain {env.engine} reads of the same rows", EPISODES, "episodes"
    )
    from habeas.core.actor import Actor

    for number in range(0 if SKIP_CHECK else runs):
        common.log(f"lifecycle: run {number + 1}/{runs}: release dates")
        common.timed(dates, release_dates, inputs)
        actor = Actor.system("bench")
        if KEEP_DB and not env.postgres and os.path.exists(KEEP_DB):
            use_kept_database(KEEP_DB)
            common.log(f"lifecycle: reusing {KEEP_DB} (populated and first-checked)")
            # the day's first check (untimed): whatever the code kept since the file was
            # made (a new day, tables added by migrations) is brought up to date first
            custody_check_as(actor)
        else:
            if KEEP_DB and not env.postgres:
                use_kept_database(KEEP_DB)
            else:
                env.fresh_database()
            common.log(f"lifecycle: populating {EPISODES:,} episodes (untimed)")
            populate(EPISODES)
            common.log("lifecycle: check-custody, first run")
            common.timed(first, custody_check_as, actor)
        common.log("lifecycle: check-custody, steady state")
        report_doc = common.timed(steady, custody_check_as, actor).document()
        assert report_doc["opened"] == []
        assert report_doc["recalculated"] == 0
        common.log("lifecycle: baseline")
        common.timed(base, baseline_read)
        if profile and number == runs - 1:
            common.profile(
                "check-custody, nothing changed",
                lambda actor=actor: custody_check_as(actor),
                report=report,
            )
    report.measurements = [m for m in report.measurements if m.seconds]
    if not SKIP_CHECK:
        report.ratio("check-custody (steady) vs plain reads", "check_steady", "baseline")
        report.targets.append(
            common.Target(
                "release dates for 40,000 people ≤ 2 s",
                dates.median <= 2.0,
                f"{dates.median:.2f} s",
            )
        )
        scaled = steady.median * 1_000_000 / EPISODES
        if not env.postgres:  # the target is set for SQLite
            report.targets.append(
                common.Target(
                    "check-custody over 1,000,000 open episodes ≤ 30 s (SQLite)",
                    scaled <= 30.0,
                    f"{steady.median:.2f} s for {EPISODES:,}"
                    + ("" if EPISODES == 1_000_000 else f" (≈ {scaled:.1f} s scaled to 1,000,000)"),
                )
            )
    else:
        report.measurements = [
            m
            for m in report.measurements
            if m.key not in ("dates", "check_first", "check_steady", "baseline")
        ]
    if env.postgres:
        run_worker(env, report, runs)
    return report


if __name__ == "__main__":
    sys.exit(common.main(run, __doc__ or "", DEFAULT_RUNS))
