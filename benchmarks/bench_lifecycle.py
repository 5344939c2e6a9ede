"""Benchmark: the custody lifecycle (docs/lifecycle.md) — release dates and ``check-custody``.

* release dates for 40,000 people: ``habeas.custody.release.calculate`` under ``us_federal``
  (good conduct time, prior credit, weekend and El Salvador's holidays), one sentence each;
  target ≤ 2 s;
* ``check-custody`` over N open episodes (``HABEAS_BENCH_EPISODES``, default 1,000,000): the
  first run calculates every release date and opens the alarms (ledger entries); the timed
  steady-state run finds nothing changed and writes nothing; target ≤ 30 s on SQLite for
  1,000,000.

Set-up (untimed): the demo setup file, then N people with one legal basis each (3 in 4 a
sentence, 1 in 4 a removal order) and their open episodes, written with plain SQL (a
benchmark's fixture, not how Habeas admits anyone: bench_admissions measures that).

Baseline, in the same run: the rows ``check-custody`` reads (episodes, their orders, the
current calculations), fetched with one plain SQL join each on the same database and walked in
Python, with no decision made.

Usage: ``python benchmarks/bench_lifecycle.py [--postgres] [--runs N] [--json F]``.
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
DEFAULT_RUNS = 1
SEED = 20251207
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

    for number in range(runs):
        common.log(f"lifecycle: run {number + 1}/{runs}: release dates")
        common.timed(dates, release_dates, inputs)
        env.fresh_database()
        common.log(f"lifecycle: populating {EPISODES:,} episodes (untimed)")
        populate(EPISODES)
        actor = Actor.system("bench")
        common.log("lifecycle: check-custody, first run")
        common.timed(first, custody_check_as, actor)
        common.log("lifecycle: check-custody, steady state")
        report_doc = common.timed(steady, custody_check_as, actor).document()
        assert report_doc["opened"] == []
        assert report_doc["recalculated"] == 0
        common.log("lifecycle: baseline")
        common.timed(base, baseline_read)
    report.ratio("check-custody (steady) vs plain reads", "check_steady", "baseline")
    report.targets.append(
        common.Target(
            "release dates for 40,000 people ≤ 2 s",
            dates.median <= 2.0,
            f"{dates.median:.2f} s",
        )
    )
    scaled = steady.median * 1_000_000 / EPISODES
    report.targets.append(
        common.Target(
            "check-custody over 1,000,000 open episodes ≤ 30 s (SQLite)",
            scaled <= 30.0,
            f"{steady.median:.2f} s for {EPISODES:,}"
            + ("" if EPISODES == 1_000_000 else f" (≈ {scaled:.1f} s scaled to 1,000,000)"),
        )
    )
    return report


if __name__ == "__main__":
    sys.exit(common.main(run, __doc__ or "", DEFAULT_RUNS))
