"""Benchmark: the public locator at registry scale (issue 5: p95 ≤ 20 ms at 1,000,000 people).

The registry is built with bulk inserts through raw SQL (this benchmark only; production
writes go through the services and the ledger; COPY on PostgreSQL, executemany on SQLite):
``--people`` persons (default 1,000,000) with a skewed, realistic name distribution (a few
very common given names and surnames, as in Latin America: "José" and "Hernández" are each a
few per cent), ten nationalities (one of them 40 %), years of birth 1950–2006 peaking around
1990, one sending reference each. Then the locator's index is built with
``locator_index_rebuild()`` (timed: people/s) and ``--queries`` searches are timed one by one
through ``locate()`` exactly as the page and the API call it (after a short untimed warm-up):

* names + year of birth + nationality: two or three of the person's tokens in a random order,
  a third of them with one typo;
* reference + nationality.

The searched people get an open custody episode (raw SQL too), so each answer is a real
``in_custody`` match; recall is reported. Latency: p50, p95, max per kind. Then 100 people
are registered one by one through ``person_create`` (ledger entries ``people.created``, the
index kept by their listener in the same transaction: a search never writes), timed.

On PostgreSQL the benchmark works in its own scratch database (``--pg-database``, default
``habeas_locbench``), created at the start and dropped at the end unless ``--keep``.

Usage: ``python benchmarks/bench_locator.py [--postgres] [--people N] [--queries Q]
[--pg-database NAME] [--keep] [--json F]``.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
import statistics
import sys
import time
from typing import Any

import _common as common

from habeas.people.synthetic import GIVEN, SURNAMES

TARGET_P95_MS = 20.0
SEED = 9162
WARMUP = 20

GIVEN_BASE = list(GIVEN)
SURNAME_BASE = list(SURNAMES)

SYLLABLES = [
    "ba",
    "ca",
    "da",
    "fe",
    "gi",
    "lo",
    "ma",
    "ne",
    "ri",
    "sa",
    "to",
    "vi",
    "yo",
    "zu",
    "ran",
    "tel",
    "mon",
    "dor",
    "quin",
    "bel",
    "nar",
    "sol",
    "ter",
    "gal",
]
NATIONALITIES = [
    ("VE", 40),
    ("SV", 15),
    ("HN", 10),
    ("GT", 10),
    ("MX", 8),
    ("CO", 6),
    ("NI", 4),
    ("CU", 3),
    ("EC", 2),
    ("US", 2),
]


def _invented(rng: random.Random, n: int, suffix: str) -> list[str]:
    names: set[str] = set()
    while len(names) < n:
        word = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3)))
        names.add(word.capitalize() + suffix)
    return sorted(names)


def _weights(n: int) -> list[float]:
    """Zipf-like: the first names of the list are by far the most common."""
    return [1.0 / (i + 3) for i in range(n)]


def _typo(rng: random.Random, word: str) -> str:
    if len(word) < 5:
        return word
    i = rng.randrange(1, len(word) - 2)
    kind = rng.choice(["swap", "drop", "sub"])
    if kind == "swap":
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if kind == "drop":
        return word[:i] + word[i + 1 :]
    return word[:i] + ("x" if word[i] != "x" else "y") + word[i + 1 :]


def _cumulative(weights: list[float]) -> list[float]:
    return list(itertools.accumulate(weights))


def build_registry(env: common.Env, people: int, rng: random.Random) -> list[tuple[Any, ...]]:
    """Raw bulk inserts of people and identifiers; returns the rows (id, given, s1, s2, dob,
    nationality, ref)."""
    from django.db import connection, transaction

    given = GIVEN_BASE + _invented(rng, 260, "")
    surnames = SURNAME_BASE + _invented(rng, 460, "ez")
    gcum, scum = _cumulative(_weights(len(given))), _cumulative(_weights(len(surnames)))
    nat_codes = [c for c, _w in NATIONALITIES]
    ncum = _cumulative([float(w) for _c, w in NATIONALITIES])
    years = list(range(1950, 2007))
    ycum = _cumulative([max(1.0, 30 - abs(y - 1990)) for y in years])
    created = dt.datetime(2025, 3, 1, tzinfo=dt.UTC).isoformat(sep=" ")
    rows: list[tuple[Any, ...]] = []
    batch = 50_000
    base_columns = [
        "id",
        "given_names",
        "first_surname",
        "second_surname",
        "aliases",
        "date_of_birth",
        "dob_precision",
        "sex",
        "nationalities",
        "language",
        "created_at",
    ]
    # The matcher's key columns (NOT NULL, blank) change with people/: introspected, left "".
    with connection.cursor() as cursor:
        description = connection.introspection.get_table_description(cursor, "people_person")
    blank_columns = [d.name for d in description if d.name not in base_columns and not d.null_ok]
    person_columns = ", ".join(base_columns + blank_columns)
    ident_columns = "authority, kind, value, person_id"
    postgres = connection.vendor == "postgresql"
    for start in range(1, people + 1, batch):
        pks = range(start, min(start + batch, people + 1))
        k = len(pks)
        gs = rng.choices(given, cum_weights=gcum, k=k)
        s1s = rng.choices(surnames, cum_weights=scum, k=k)
        s2s = rng.choices(surnames, cum_weights=scum, k=k)
        ys = rng.choices(years, cum_weights=ycum, k=k)
        nats = rng.choices(nat_codes, cum_weights=ncum, k=k)
        chunk = [
            (
                pk,
                gs[i],
                s1s[i],
                s2s[i],
                dt.date(ys[i], rng.randint(1, 12), rng.randint(1, 28)),
                nats[i],
                f"A{pk:09d}",
            )
            for i, pk in enumerate(pks)
        ]
        person_rows = [
            (r[0], r[1], r[2], r[3], "[]", r[4], "day", "M", f'["{r[5]}"]', "", created)
            + ("",) * len(blank_columns)
            for r in chunk
        ]
        ident_rows = [("US", "sending_ref", r[6], r[0]) for r in chunk]
        with transaction.atomic(), connection.cursor() as cursor:
            if postgres:
                raw = cursor.cursor
                with raw.copy(f"COPY people_person ({person_columns}) FROM STDIN") as copy:
                    for row in person_rows:
                        copy.write_row(row)
                with raw.copy(f"COPY people_personidentifier ({ident_columns}) FROM STDIN") as copy:
                    for row in ident_rows:
                        copy.write_row(row)
            else:
                marks = ", ".join(["%s"] * len(person_rows[0]))
                cursor.executemany(
                    f"INSERT INTO people_person ({person_columns}) VALUES ({marks})",
                    [(*r[:5], r[5].isoformat(), *r[6:]) for r in person_rows],
                )
                cursor.executemany(
                    f"INSERT INTO people_personidentifier ({ident_columns}) "
                    "VALUES (%s, %s, %s, %s)",
                    ident_rows,
                )
        rows.extend(chunk)
        common.log(f"{len(rows):,} people inserted")
    if postgres:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence('people_person', 'id'), %s)", [people]
            )
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence('people_personidentifier', 'id'), "
                "(SELECT MAX(id) FROM people_personidentifier))"
            )
            cursor.execute("ANALYZE")
    return rows


def admit_targets(targets: list[tuple[Any, ...]]) -> None:
    """Open custody episodes for the searched people (raw SQL), in one facility."""
    import tomllib

    from django.db import connection, transaction

    from habeas.core.actor import Actor
    from habeas.facilities.models import Facility
    from habeas.facilities.setup import setup_apply
    from habeas.facilities.setup_schema import parse_setup

    setup = """
[[jurisdiction]]
code = "SV"
name = "El Salvador"
[[facility]]
code = "TEC"
name = "Bench centre"
jurisdiction = "SV"
timezone = "America/El_Salvador"
space_standard = "icrc"
address = "Km 77"
phone = "+503 0000"
visiting = "Weekdays"
[[facility.module]]
code = "M1"
population = "adult_male"
regime = "criminal"
cells = [{code = "M1-01", floor_area_m2 = 100.0, max_capacity = 9000, working_capacity = 9000}]
"""
    setup_apply(actor=Actor.system("bench"), document=parse_setup(tomllib.loads(setup), name="b"))
    facility = Facility.objects.get(code="TEC")
    admitted = dt.datetime(2025, 3, 16, 14, 5, tzinfo=dt.UTC).isoformat(sep=" ")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO custody_custodyepisode (admitted_at, released_at, release_reason, "
            "release_destination, release_note, agreement_id, facility_id, person_id) "
            "VALUES (%s, NULL, '', '', '', NULL, %s, %s)",
            [(admitted, facility.pk, t[0]) for t in {t[0]: t for t in targets}.values()],
        )


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _search_words(rng: random.Random, i: int, g: str, s1: str, s2: str) -> tuple[str, list[str]]:
    from habeas.people.matching import tokens

    words = tokens(g)[:1] + tokens(s1) + (tokens(s2) if i % 2 else [])
    rng.shuffle(words)
    kind = "name_typo" if i % 3 == 0 else "name"
    if kind == "name_typo":
        j = max(range(len(words)), key=lambda k: len(words[k]))
        words[j] = _typo(rng, words[j])
    return kind, words


def _register(count: int, rng: random.Random) -> None:
    """``count`` people through the service (ledger entries ``people.created``)."""
    from habeas.core.actor import Actor
    from habeas.people.services import Identifier, PersonSpec, person_create

    actor = Actor.system("bench")
    for n in range(count):
        person_create(
            actor=actor,
            spec=PersonSpec(
                given_names=rng.choice(GIVEN_BASE),
                first_surname=rng.choice(SURNAME_BASE),
                second_surname=rng.choice(SURNAME_BASE),
                sex="M",
                nationalities=["VE"],
                date_of_birth=dt.date(1990, 1, 1 + n % 28),
                identifiers=[Identifier(authority="US", value=f"B{n:09d}")],
            ),
        )


def run(env: common.Env, people: int, queries: int) -> common.Report:
    from django.db import connection

    from habeas.oversight.locator import LocatorQuery, locate
    from habeas.oversight.models import LocatorToken
    from habeas.oversight.services import locator_index_rebuild

    rng = random.Random(SEED)
    report = common.Report(bench="locator", engine=env.engine)
    env.fresh_database()
    t0 = time.perf_counter()
    rows = build_registry(env, people, rng)
    build_s = time.perf_counter() - t0
    sample = rng.sample(rows, queries + WARMUP)
    warmup, targets = sample[:WARMUP], sample[WARMUP:]
    admit_targets(sample)
    index = report.add("index", "locator_index_rebuild()", people, "people")
    common.log("building the locator index")
    common.timed(index, locator_index_rebuild)
    token_rows = LocatorToken.objects.count()
    if env.postgres:
        # What autovacuum does soon after a bulk load (visibility map: index-only scans).
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE oversight_locatortoken")

    for i, (_pk, g, s1, s2, dob, nat, ref) in enumerate(warmup):  # untimed: caches warm
        _kind, words = _search_words(rng, i, g, s1, s2)
        locate(LocatorQuery.build(name=" ".join(words), dob=str(dob.year), nationality=nat))
        locate(LocatorQuery.build(ref=ref, nationality=nat))

    common.log(f"timing {len(targets) * 2} searches")
    latencies: dict[str, list[float]] = {"name": [], "name_typo": [], "ref": []}
    found = dict.fromkeys(latencies, 0)
    for i, (_pk, g, s1, s2, dob, nat, ref) in enumerate(targets):
        kind, words = _search_words(rng, i, g, s1, s2)
        for what, query in (
            (kind, LocatorQuery.build(name=" ".join(words), dob=str(dob.year), nationality=nat)),
            ("ref", LocatorQuery.build(ref=ref, nationality=nat)),
        ):
            start = time.perf_counter()
            doc = locate(query)
            latencies[what].append((time.perf_counter() - start) * 1000)
            full = f"{g} {s1} {s2}".strip()
            if any(m["status"] == "in_custody" and m["name"] == full for m in doc["matches"]):
                found[what] += 1
    latencies["all"] = latencies["name"] + latencies["name_typo"] + latencies["ref"]
    found["all"] = sum(found.values())

    for what, values in latencies.items():
        if not values:
            continue
        m = report.add(f"locate_{what}", f"locate() by {what.replace('_', ' + ')}", 1, "search")
        m.seconds = [v / 1000 for v in values]
        p95 = _percentile(values, 0.95)
        report.notes.append(
            f"{what}: n={len(values)} p50={statistics.median(values):.2f} ms "
            f"p95={p95:.2f} ms max={max(values):.2f} ms recall={found[what]}/{len(values)}"
        )
        report.targets.append(
            common.Target(
                f"locator p95 ≤ {TARGET_P95_MS:.0f} ms ({what}, {people:,} people)",
                p95 <= TARGET_P95_MS,
                f"p95 {p95:.2f} ms",
            )
        )

    fresh = report.add(
        "register", "person_create() with the index kept in its transaction", 100, "people"
    )
    common.timed(fresh, lambda: _register(100, rng))
    report.notes.append(
        f"100 registrations (index kept by the people.created listener): {fresh.median * 1000:.1f} ms"
    )
    report.notes.append(
        f"registry built by raw SQL in {build_s:.1f} s; index: {token_rows:,} token rows "
        f"built at {index.rate:,.0f} people/s"
    )
    return report


def _use_pg_database(name: str) -> None:
    """Point the harness at a scratch database of this benchmark's own (created if missing)."""
    import psycopg

    common.PG_URL = f"postgresql://postgres@127.0.0.1:5432/{name}"

    def ensure() -> None:
        with psycopg.connect(common.PG_ADMIN_URL, autocommit=True) as conn:
            found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
            if found is None:
                conn.execute(f'CREATE DATABASE "{name}"')

    common._ensure_pg_database = ensure


def _drop_pg_database(name: str) -> None:
    import psycopg

    with psycopg.connect(common.PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> int:
    p = common.parser(__doc__.splitlines()[0], 1)
    p.add_argument("--people", type=int, default=1_000_000)
    p.add_argument("--queries", type=int, default=600)
    p.add_argument("--pg-database", default="habeas_locbench")
    p.add_argument("--keep", action="store_true", help="keep the PostgreSQL scratch database")
    args = p.parse_args()
    if args.postgres:
        _use_pg_database(args.pg_database)
    env = common.Env(postgres=args.postgres).setup()
    try:
        machine = common.machine_info(env)
        report = run(env, args.people, args.queries)
    finally:
        env.close()
        if args.postgres and not args.keep:
            _drop_pg_database(args.pg_database)
    print()
    common.print_machine(machine)
    common.print_reports([report])
    common.write_json(args.json, machine, [report])
    return 0


if __name__ == "__main__":
    sys.exit(main())
