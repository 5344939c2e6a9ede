"""Benchmark 2: admitting 40,000 people into the demo facility (docs/benchmarks.md).

Habeas, through its services API, on a fresh database each run (untimed: ``habeas apply`` of
``src/habeas/web/data/demo_setup.toml``, i.e. ``load_setup`` + ``setup_apply``):

* people: ``person_create_many`` in batches of 2,000 (one sending-state identifier each), 40,000
  people, one ``people.created`` ledger entry each;
* admissions: ``admit_and_place_many`` into facility TEC, no agreement, batches of 2,000, each
  person with one legal basis: a criminal sentence for 3 in 4 (housed by the allocator in the
  criminal modules M1-M6), a removal order for 1 in 4 (civil modules M7-M8). This is the time
  for legal bases, episodes, placements and the ``custody.admitted`` ledger entries.

Baseline, measured in the same process: the very rows Habeas stored (read back from its
database after the first run) inserted again with plain ``executemany`` (sqlite3, or psycopg
with ``--postgres``) into tables with the same columns, checks and indexes but no foreign keys
or triggers, in one transaction: persons, identifiers, legal bases, episodes, episode-basis
links, placements, ledger entries and Merkle node rows (hashes precomputed).

Target (for later issues): 40,000 admissions in at most 10 s on SQLite.

Usage: ``python benchmarks/bench_admissions.py [--postgres] [--runs N] [--profile] [--json F]``.
"""

from __future__ import annotations

import datetime as dt
import random
import re
import sys
from collections.abc import Sequence
from typing import Any

import _common as common

PEOPLE = 40_000
BATCH = 2_000
TARGET_SECONDS = 10.0
DEFAULT_RUNS = 3
SEED = 20250316

DEMO_SETUP = common.ROOT / "src/habeas/web/data/demo_setup.toml"
_ADMITTED = dt.datetime(2025, 3, 16, 14, 5, tzinfo=dt.timezone(dt.timedelta(hours=-6)))

GIVEN = [
    "José",
    "Luis",
    "Carlos",
    "Juan",
    "Jesús",
    "Andrés",
    "Miguel",
    "Ángel",
    "Óscar",
    "Wilmer",
    "Yeferson",
    "Daniel",
    "Franklin",
    "Kevin",
    "Brayan",
    "Héctor",
    "Ramón",
    "Edgar",
]
SURNAMES = [
    "García",
    "Rodríguez",
    "Martínez",
    "Hernández",
    "López",
    "González",
    "Pérez",
    "Sánchez",
    "Ramírez",
    "Torres",
    "Flores",
    "Rivera",
    "Gómez",
    "Díaz",
    "Cruz",
    "Morales",
    "Reyes",
    "Gutiérrez",
    "Ortiz",
    "Chávez",
    "Núñez",
    "Peña",
    "Castillo",
    "Mendoza",
]
COUNTRIES = ["VE", "SV", "GT", "HN", "MX", "CO", "NI", "EC"]
OFFENCES = [
    "8 U.S.C. 1326 illegal reentry",
    "21 U.S.C. 841 distribution",
    "18 U.S.C. 1962 RICO",
    "18 U.S.C. 922(g) firearm possession",
]
SENTENCES = ["P2Y", "P5Y", "P10Y", "P18M", "P25Y", "life"]

# Tables the baseline refills, in insertion order, with the part each belongs to.
PEOPLE_TABLES = ["people_person", "people_personidentifier"]
ADMISSION_TABLES = [
    "custody_legalbasis",
    "custody_custodyepisode",
    "custody_custodyepisode_legal_bases",
    "custody_placement",
]
LEDGER_TABLES = ["ledger_ledgerentry", "ledger_ledgernode"]
# The other rows the same services write in the same transactions (table: its key column):
# the data subjects' commitment keys and the locator's index (people); the release-date
# calculations, today's alarm conditions and the statistics' tallies (admissions). Derived or
# not, they are rows Habeas writes for the people it admits, so the floor inserts them too.
DERIVED_PEOPLE = {
    "ledger_subjectkey": "id",
    "oversight_locatortoken": "id",
    "oversight_locatorvariant": "id",
}
DERIVED_ADMISSIONS = {
    "custody_releasecalculation": "id",
    "custody_standingcondition": "id",
    "oversight_populationtally": "episode_id",
    "oversight_populationcount": "id",
}
DERIVED = {**DERIVED_PEOPLE, **DERIVED_ADMISSIONS}
ALL_TABLES = PEOPLE_TABLES + ADMISSION_TABLES + LEDGER_TABLES + list(DERIVED)


def person_specs(rng: random.Random) -> list[Any]:
    from habeas.people.services import Identifier, PersonSpec

    specs = []
    for i in range(PEOPLE):
        dob = dt.date(1960, 1, 1) + dt.timedelta(days=rng.randrange(0, 40 * 365))
        specs.append(
            PersonSpec(
                given_names=f"{rng.choice(GIVEN)} {rng.choice(GIVEN)}",
                first_surname=rng.choice(SURNAMES),
                second_surname=rng.choice(SURNAMES),
                sex="M",
                nationalities=[rng.choice(COUNTRIES)],
                date_of_birth=dob,
                language="es",
                identifiers=(Identifier(authority="US", value=f"A{200_000_000 + i}"),),
            )
        )
    return specs


def legal_basis(i: int, rng: random.Random) -> Any:
    """3 in 4 a criminal sentence, 1 in 4 a removal order (MANIFEST.md fields)."""
    from habeas.custody.services import LegalBasisSpec

    if i % 4 == 3:
        return LegalBasisSpec(
            kind="removal_order",
            ref=f"EOIR-{2025_000_000 + i}",
            authority="US Executive Office for Immigration Review",
            status_in_sending_state="other",
            order_date=dt.date(2025, 1, 1) + dt.timedelta(days=rng.randrange(0, 70)),
        )
    conviction = dt.date(2015, 1, 1) + dt.timedelta(days=rng.randrange(0, 3600))
    return LegalBasisSpec(
        kind="criminal_sentence",
        ref=f"1:{conviction.year % 100:02d}-cr-{i:05d}",
        authority="US District Court, S.D. Texas",
        status_in_sending_state="other",
        offence=rng.choice(OFFENCES),
        conviction_date=conviction,
        judgment_final=True,
        sentence=rng.choice(SENTENCES),
        sentence_start=conviction,
        custody_credit_days=rng.randrange(0, 400),
    )


def admitted_at(i: int) -> dt.datetime:
    return _ADMITTED + dt.timedelta(seconds=3 * i)


# --- Habeas -------------------------------------------------------------------------------


def habeas_setup() -> None:
    from habeas.core.actor import Actor
    from habeas.facilities.setup import setup_apply
    from habeas.facilities.setup_schema import load_setup

    setup_apply(actor=Actor.system("bench"), document=load_setup(DEMO_SETUP))


def habeas_people(specs: Sequence[Any]) -> list[Any]:
    from habeas.core.actor import Actor
    from habeas.people.services import person_create_many

    actor = Actor.system("bench")
    people: list[Any] = []
    for start in range(0, len(specs), BATCH):
        people += person_create_many(actor=actor, specs=specs[start : start + BATCH])
    return people


def habeas_admit(people: Sequence[Any], bases: Sequence[Any]) -> None:
    from habeas.core.actor import Actor
    from habeas.custody.services import AdmissionSpec
    from habeas.facilities.models import Facility
    from habeas.housing.placements import admit_and_place_many

    actor = Actor.system("bench")
    facility = Facility.objects.get(code="TEC")
    for start in range(0, len(people), BATCH):
        admit_and_place_many(
            actor=actor,
            facility=facility,
            agreement=None,
            admissions=[
                AdmissionSpec(person=p, legal_bases=[bases[i]], admitted_at=admitted_at(i))
                for i, p in enumerate(people[start : start + BATCH], start=start)
            ],
        )


def check_admissions() -> None:
    """Everyone admitted, housed by regime, and one ledger entry each (outside the timing)."""
    from django.db.models import Count

    from habeas.custody.models import CustodyEpisode
    from habeas.housing.models import Placement
    from habeas.ledger.models import LedgerEntry

    episodes = CustodyEpisode.objects.open().count()
    by_regime = dict(Placement.objects.values_list("cell__module__regime").annotate(n=Count("id")))
    admitted = LedgerEntry.objects.filter(action="custody.admitted").count()
    created = LedgerEntry.objects.filter(action="people.created").count()
    civil = PEOPLE // 4
    expected = {"criminal": PEOPLE - civil, "civil": civil}
    if episodes != PEOPLE or by_regime != expected or admitted != PEOPLE or created != PEOPLE:
        raise SystemExit(
            f"unexpected result: {episodes} open episodes, placements by regime {by_regime}, "
            f"{created} people.created and {admitted} custody.admitted entries"
        )


# --- baseline -----------------------------------------------------------------------------


class Snapshot:
    """The rows Habeas stored, split into the people part and the admissions part, each
    into the rows of the issue's baseline and the other rows (``DERIVED``)."""

    def __init__(self) -> None:
        self.tables: dict[str, list[tuple[Any, ...]]] = {}
        self.people: list[tuple[str, list[tuple[Any, ...]]]] = []
        self.admissions: list[tuple[str, list[tuple[Any, ...]]]] = []
        self.people_derived: list[tuple[str, list[tuple[Any, ...]]]] = []
        self.admissions_derived: list[tuple[str, list[tuple[Any, ...]]]] = []
        self.sqlite_ddl: list[str] = []

    def parts(self) -> list[tuple[str, list[tuple[Any, ...]]]]:
        return self.people + self.people_derived + self.admissions + self.admissions_derived

    @property
    def row_count(self) -> int:
        return sum(len(rows) for _, rows in self.parts())

    @property
    def core_count(self) -> int:
        return sum(len(rows) for _, rows in self.people + self.admissions)


def table_marks() -> dict[str, int]:
    """The highest key of each ``DERIVED`` table (after the set-up: rows above it are the
    benchmark's)."""
    from django.db import connection

    marks = {}
    with connection.cursor() as cursor:
        for table, key in DERIVED.items():
            cursor.execute(f'SELECT MAX("{key}") FROM "{table}"')
            marks[table] = int(cursor.fetchone()[0] or 0)
    return marks


def snapshot(ledger_start: int, vendor: str, marks: dict[str, int]) -> Snapshot:
    """Read back what the benchmark wrote (everything after the setup's ledger entries)."""
    from django.db import connection

    from habeas.ledger.models import NODE_LEVEL_SHIFT

    snap = Snapshot()
    with connection.cursor() as cursor:

        def rows(sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
            cursor.execute(sql, params)
            return [tuple(_portable(v, vendor) for v in row) for row in cursor.fetchall()]

        for table in PEOPLE_TABLES + ADMISSION_TABLES:
            snap.tables[table] = rows(f'SELECT * FROM "{table}" ORDER BY id')
        entries = rows(
            'SELECT * FROM "ledger_ledgerentry" WHERE "index" >= %s ORDER BY "index"',
            [ledger_start],
        )
        nodes = rows('SELECT * FROM "ledger_ledgernode" ORDER BY "key"')
        for table, key in DERIVED.items():
            snap.tables[table] = rows(
                f'SELECT * FROM "{table}" WHERE "{key}" > %s ORDER BY "{key}"',
                [marks[table]],
            )
        if vendor == "sqlite":
            names = ALL_TABLES
            cursor.execute(
                "SELECT sql FROM sqlite_master WHERE type IN ('table', 'index') "
                f"AND tbl_name IN ({', '.join('%s' for _ in names)}) AND sql IS NOT NULL "
                "ORDER BY type DESC",
                names,
            )
            snap.sqlite_ddl = [
                re.sub(r' REFERENCES "\w+" \("\w+"\) DEFERRABLE INITIALLY DEFERRED', "", sql)
                for (sql,) in cursor.fetchall()
            ]
    people_end = ledger_start + PEOPLE
    actions = {row[0]: row for row in entries}
    mask = (1 << NODE_LEVEL_SHIFT) - 1

    def last_leaf(key: int) -> int:
        level, idx = key >> NODE_LEVEL_SHIFT, key & mask
        return ((idx + 1) << level) - 1

    new_nodes = [n for n in nodes if last_leaf(n[0]) >= ledger_start]
    snap.people = [(t, snap.tables[t]) for t in PEOPLE_TABLES] + [
        ("ledger_ledgerentry", [actions[i] for i in range(ledger_start, people_end)]),
        ("ledger_ledgernode", [n for n in new_nodes if last_leaf(n[0]) < people_end]),
    ]
    snap.admissions = [(t, snap.tables[t]) for t in ADMISSION_TABLES] + [
        ("ledger_ledgerentry", [actions[i] for i in range(people_end, people_end + PEOPLE)]),
        ("ledger_ledgernode", [n for n in new_nodes if last_leaf(n[0]) >= people_end]),
    ]
    snap.people_derived = [(t, snap.tables[t]) for t in DERIVED_PEOPLE]
    snap.admissions_derived = [(t, snap.tables[t]) for t in DERIVED_ADMISSIONS]
    return snap


def _portable(value: Any, vendor: str) -> Any:
    if vendor == "postgresql" and isinstance(value, dict | list):
        from psycopg.types.json import Jsonb

        return Jsonb(value)
    if isinstance(value, memoryview):
        return bytes(value)
    return value


def _raw_name(db: common.RawDB, table: str) -> str:
    # SQLite: a separate database file, same names; PostgreSQL: same database, ``raw_`` prefix.
    return f"raw_{table}" if db.vendor == "postgresql" else table


def prepare_raw(db: common.RawDB, snap: Snapshot) -> None:
    tables = [_raw_name(db, t) for t in ALL_TABLES]
    if db.vendor == "postgresql":
        ddl = [f'CREATE TABLE "{_raw_name(db, t)}" (LIKE "{t}" INCLUDING ALL)' for t in ALL_TABLES]
    else:
        ddl = snap.sqlite_ddl
    db.recreate(ddl, [f'"{t}"' for t in reversed(tables)])


def raw_insert(
    db: common.RawDB,
    snap: Snapshot,
    people: common.Measurement,
    admissions: common.Measurement,
    core: common.Measurement,
) -> None:
    """One transaction: the people part, then the admissions part (and the commit), each
    the rows of the issue's baseline first, then the other rows; ``core`` gets the time of
    the former alone."""
    import time

    def insert(parts: list[tuple[str, list[tuple[Any, ...]]]]) -> tuple[float, float]:
        cpu, wall = time.process_time(), time.perf_counter()
        for table, rows in parts:
            if rows:
                marks = ", ".join("?" for _ in rows[0])
                db.executemany(f'INSERT INTO "{_raw_name(db, table)}" VALUES ({marks})', rows)
        return time.perf_counter() - wall, time.process_time() - cpu

    with db.transaction():
        people_core = insert(snap.people)
        people_derived = insert(snap.people_derived)
        admissions_core = insert(snap.admissions)
        cpu, wall = time.process_time(), time.perf_counter()
        admissions_derived = insert(snap.admissions_derived)
    # the commit counts with the last part
    admissions_derived = (time.perf_counter() - wall, time.process_time() - cpu)
    people.seconds.append(people_core[0] + people_derived[0])
    people.cpu_seconds.append(people_core[1] + people_derived[1])
    admissions.seconds.append(admissions_core[0] + admissions_derived[0])
    admissions.cpu_seconds.append(admissions_core[1] + admissions_derived[1])
    core.seconds.append(people_core[0] + admissions_core[0])
    core.cpu_seconds.append(people_core[1] + admissions_core[1])


# --- the benchmark ------------------------------------------------------------------------


def run(env: common.Env, runs: int, profile: bool = False) -> common.Report:
    import gc

    from habeas.ledger.services import ledger_size

    report = common.Report(bench="admissions", engine=env.engine)
    rng = random.Random(SEED)
    common.log(f"admissions: preparing {PEOPLE:,} people")
    specs = person_specs(rng)
    bases = [legal_basis(i, rng) for i in range(PEOPLE)]

    h_people = report.add(
        "habeas_people", "Habeas person_create_many, 2,000/call", PEOPLE, "people"
    )
    h_admit = report.add(
        "habeas_admit", "Habeas admit_and_place_many, 2,000/call", PEOPLE, "admissions"
    )
    h_total = report.add("habeas_total", "Habeas people + admissions", PEOPLE, "people")
    r_people = report.add(
        "raw_people", f"baseline: raw {env.engine} executemany, people rows", PEOPLE, "people"
    )
    r_admit = report.add(
        "raw_admit", f"baseline: raw {env.engine} executemany, admission rows", PEOPLE, "admissions"
    )
    r_total = report.add(
        "raw_total", f"baseline: raw {env.engine} executemany, all (1 txn)", PEOPLE, "people"
    )
    r_core = report.add(
        "raw_core",
        f"baseline: raw {env.engine} executemany, the issue's tables only",
        PEOPLE,
        "people",
    )

    snap: Snapshot | None = None
    for number in range(runs):
        common.log(f"admissions: run {number + 1}/{runs} ({env.engine})")
        env.fresh_database()
        habeas_setup()
        ledger_start = ledger_size()
        marks = table_marks()
        created = common.timed(h_people, habeas_people, specs)
        common.timed(h_admit, habeas_admit, created, bases)
        h_total.seconds.append(h_people.seconds[-1] + h_admit.seconds[-1])
        h_total.cpu_seconds.append(h_people.cpu_seconds[-1] + h_admit.cpu_seconds[-1])
        del created
        if snap is None:
            check_admissions()
            snap = snapshot(ledger_start, env.engine, marks)
            report.notes.append(
                f"the baseline inserts {snap.row_count:,} rows "
                f"({', '.join(f'{t}: {len(r):,}' for t, r in snap.parts())}); "
                f"{snap.core_count:,} of them in the tables of the issue's baseline"
            )
        db = env.raw_connection()
        try:
            prepare_raw(db, snap)
            gc.collect()
            raw_insert(db, snap, r_people, r_admit, r_core)
            r_total.seconds.append(r_people.seconds[-1] + r_admit.seconds[-1])
            r_total.cpu_seconds.append(r_people.cpu_seconds[-1] + r_admit.cpu_seconds[-1])
            db.recreate([], [f'"{_raw_name(db, t)}"' for t in reversed(ALL_TABLES)])
        finally:
            db.close()

    report.ratio("Habeas people / raw people rows", "habeas_people", "raw_people")
    report.ratio("Habeas admissions / raw admission rows", "habeas_admit", "raw_admit")
    report.ratio("Habeas people + admissions / raw all rows", "habeas_total", "raw_total")
    report.ratio(
        "Habeas people + admissions / raw rows of the issue's tables only",
        "habeas_total",
        "raw_core",
    )
    report.cpu_ratio("Habeas people + admissions / raw all rows", "habeas_total", "raw_total")
    detail = (
        f"median {h_admit.median:.1f} s for the admissions alone "
        f"({h_total.median:.1f} s with the {PEOPLE:,} people created first)"
    )
    if env.postgres:
        report.notes.append(f"the 10 s target is set for SQLite; on PostgreSQL: {detail}")
    else:
        report.targets.append(
            common.Target(
                label=f"{PEOPLE:,} admissions <= {TARGET_SECONDS:.0f} s on SQLite",
                met=h_admit.median <= TARGET_SECONDS,
                detail=detail,
            )
        )

    if profile:
        env.fresh_database()
        habeas_setup()
        holder: list[Any] = []
        common.profile(
            f"person_create_many, {PEOPLE:,} people ({env.engine})",
            lambda: holder.extend(habeas_people(specs)),
            report=report,
        )
        common.profile(
            f"admit_and_place_many, {PEOPLE:,} admissions ({env.engine})",
            lambda: habeas_admit(holder, bases),
            report=report,
        )
    return report


if __name__ == "__main__":
    sys.exit(common.main(run, __doc__ or "", DEFAULT_RUNS))
