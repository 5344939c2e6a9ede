"""Shared harness of the Habeas benchmarks (docs/benchmarks.md).

Django runs standalone: ``DJANGO_SETTINGS_MODULE=habeas.settings`` and a fresh temporary
``HABEAS_HOME``. Every measured run starts from a fresh, freshly migrated database:

* SQLite: the schema is migrated once into a template file, and each run works on a copy of it
  (the connection is pointed at the copy), so no run sees the rows of the previous one;
* PostgreSQL (``--postgres``): ``postgresql://postgres@127.0.0.1:5432/habeas_bench``, created
  with psycopg if missing; each run starts with ``DROP SCHEMA public CASCADE; CREATE SCHEMA
  public`` and ``migrate``.

The machines have two noisy cores, so each measurement is repeated and the median is quoted;
every benchmark measures its baseline in the same process, on the same data, in the same run.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
#: The benchmark database; ``HABEAS_BENCH_PG_DB`` names another one (several people benchmarking
#: against one PostgreSQL server each drop and recreate the schema of theirs).
PG_DB = os.environ.get("HABEAS_BENCH_PG_DB", "habeas_bench")
PG_URL = f"postgresql://postgres@127.0.0.1:5432/{PG_DB}"
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


# --- results ------------------------------------------------------------------------------


@dataclass
class Measurement:
    """``count`` items done per run, one wall time per run (seconds)."""

    key: str
    label: str
    count: int
    unit: str
    seconds: list[float] = field(default_factory=list)
    cpu_seconds: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def cpu_median(self) -> float:
        """CPU time of this process only (a database server's own work is not in it)."""
        return statistics.median(self.cpu_seconds) if self.cpu_seconds else float("nan")

    @property
    def best(self) -> float:
        return min(self.seconds)

    @property
    def rate(self) -> float:
        """Items per second at the median run."""
        return self.count / self.median if self.median > 0 else float("inf")


@dataclass
class Ratio:
    label: str
    numerator: str
    denominator: str
    value: float = 0.0


@dataclass
class Target:
    label: str
    met: bool
    detail: str


@dataclass
class Report:
    bench: str
    engine: str
    measurements: list[Measurement] = field(default_factory=list)
    ratios: list[Ratio] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    profiles: list[str] = field(default_factory=list)

    def add(self, key: str, label: str, count: int, unit: str) -> Measurement:
        m = Measurement(key=key, label=label, count=count, unit=unit)
        self.measurements.append(m)
        return m

    def get(self, key: str) -> Measurement:
        return next(m for m in self.measurements if m.key == key)

    def ratio(self, label: str, numerator: str, denominator: str) -> None:
        """Rate of ``numerator`` over rate of ``denominator`` (below 1: Habeas is slower)."""
        value = self.get(numerator).rate / self.get(denominator).rate
        self.ratios.append(Ratio(label, numerator, denominator, value))

    def cpu_ratio(self, label: str, numerator: str, denominator: str) -> None:
        """The same ratio by the median CPU times of this process (on a loaded machine the
        wall times say more about the other jobs; on PostgreSQL the server's work is left
        out of both)."""
        top, bottom = self.get(numerator), self.get(denominator)
        value = (top.count / top.cpu_median) / (bottom.count / bottom.cpu_median)
        self.ratios.append(Ratio(f"{label}, by CPU time", numerator, denominator, value))

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        for m, raw in zip(self.measurements, data["measurements"], strict=True):
            raw.update(median=m.median, best=m.best, rate=m.rate, cpu_median=m.cpu_median)
        return data


def timed(measurement: Measurement, fn: Callable[..., Any], *args: Any) -> Any:
    """Run ``fn(*args)`` once, adding its wall time to ``measurement``."""
    gc.collect()
    cpu = time.process_time()
    start = time.perf_counter()
    result = fn(*args)
    measurement.seconds.append(time.perf_counter() - start)
    measurement.cpu_seconds.append(time.process_time() - cpu)
    return result


def log(message: str) -> None:
    print(f"  · {message}", file=sys.stderr, flush=True)


# --- printing -----------------------------------------------------------------------------


def _fmt_rate(rate: float) -> str:
    return f"{rate:,.0f}"


def print_reports(reports: Sequence[Report]) -> None:
    rows = [
        (
            "benchmark",
            "measurement",
            "n",
            "runs",
            "median s",
            "best s",
            "CPU s",
            "rate /s (median)",
        )
    ]
    for report in reports:
        for m in report.measurements:
            rows.append(
                (
                    f"{report.bench} [{report.engine}]",
                    m.label,
                    f"{m.count:,} {m.unit}",
                    str(len(m.seconds)),
                    f"{m.median:.3f}",
                    f"{m.best:.3f}",
                    f"{m.cpu_median:.3f}",
                    _fmt_rate(m.rate),
                )
            )
    _table(rows, right={2, 3, 4, 5, 6, 7})
    print("(CPU s: median CPU time of the benchmark process; the database server's is not in it)")
    ratio_rows = [("benchmark", "ratio (rate / rate)", "value", "reading")]
    for report in reports:
        for r in report.ratios:
            reading = (
                f"Habeas {1 / r.value:,.1f}x slower" if r.value < 1 else f"{r.value:,.1f}x faster"
            )
            ratio_rows.append(
                (f"{report.bench} [{report.engine}]", r.label, f"{r.value:.4f}", reading)
            )
    if len(ratio_rows) > 1:
        print()
        _table(ratio_rows, right={2})
    target_rows = [("benchmark", "target", "met?", "detail")]
    for report in reports:
        for t in report.targets:
            target_rows.append(
                (f"{report.bench} [{report.engine}]", t.label, "yes" if t.met else "NO", t.detail)
            )
    if len(target_rows) > 1:
        print()
        _table(target_rows, right=set())
    for report in reports:
        for note in report.notes:
            print(f"note ({report.bench}): {note}")
    for report in reports:
        for text in report.profiles:
            print()
            print(text)


def _table(rows: Sequence[Sequence[str]], right: set[int]) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]

    def line(row: Sequence[str]) -> str:
        cells = [
            cell.rjust(widths[i]) if i in right else cell.ljust(widths[i])
            for i, cell in enumerate(row)
        ]
        return "| " + " | ".join(cells) + " |"

    print(line(rows[0]))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in rows[1:]:
        print(line(row))


# --- the machine --------------------------------------------------------------------------


def machine_info(env: Env | None = None) -> dict[str, str]:
    """What the numbers were measured on (docs/benchmarks.md quotes it)."""
    import platform

    info = {
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
        "cpus": str(os.cpu_count()),
        "cpu": _proc_field("/proc/cpuinfo", "model name") or platform.processor(),
        "memory": _proc_field("/proc/meminfo", "MemTotal"),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
    }
    if env is not None and env.postgres:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            info["postgresql"] = str(cursor.fetchone()[0])
    with contextlib.suppress(OSError):
        info["load average"] = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    return info


def _proc_field(path: str, name: str) -> str:
    with contextlib.suppress(OSError):
        for line in Path(path).read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == name:
                return value.strip()
    return ""


def print_machine(info: dict[str, str]) -> None:
    print("; ".join(f"{k}: {v}" for k, v in info.items()))


# --- command line -------------------------------------------------------------------------


def parser(description: str, default_runs: int) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument(
        "--postgres",
        action="store_true",
        help=f"run against PostgreSQL ({PG_URL}) instead of SQLite",
    )
    p.add_argument(
        "--runs",
        type=int,
        default=default_runs,
        help=f"repetitions of each measurement (default {default_runs}; the median is quoted)",
    )
    p.add_argument(
        "--profile",
        action="store_true",
        help="after measuring, profile one more run of the Habeas path "
        "(pyinstrument if installed, else cProfile)",
    )
    p.add_argument("--json", type=Path, help="also write the results as JSON to this file")
    return p


def write_json(path: Path | None, machine: dict[str, str], reports: Sequence[Report]) -> None:
    if path is not None:
        data = {"machine": machine, "reports": [r.to_json() for r in reports]}
        path.write_text(json.dumps(data, indent=2) + "\n")


def main(run: Callable[[Env, int, bool], Report], doc: str, default_runs: int) -> int:
    """Command line of one benchmark run alone."""
    args = parser(doc.splitlines()[0], default_runs).parse_args()
    env = Env(postgres=args.postgres).setup()
    try:
        machine = machine_info(env)
        report = run(env, args.runs, args.profile)
    finally:
        env.close()
    print()
    print_machine(machine)
    print_reports([report])
    write_json(args.json, machine, [report])
    return 0


# --- Django and the databases -------------------------------------------------------------


class Env:
    """The standalone Django environment of one benchmark process."""

    def __init__(self, *, postgres: bool) -> None:
        self.postgres = postgres
        parent = os.environ.get("HABEAS_HOME")
        if parent:
            Path(parent).mkdir(parents=True, exist_ok=True)
        self.home = Path(tempfile.mkdtemp(prefix="habeas-bench-", dir=parent or None))
        self._template: Path | None = None
        self._runs = 0
        self._current: Path | None = None

    @property
    def engine(self) -> str:
        return "postgresql" if self.postgres else "sqlite"

    def setup(self) -> Env:
        os.environ["HABEAS_HOME"] = str(self.home)
        os.environ["DJANGO_SETTINGS_MODULE"] = "habeas.settings"
        os.environ.pop("HABEAS_TEST_DATABASE_URL", None)  # settings.py would switch to it
        if self.postgres:
            _ensure_pg_database()
            os.environ["DATABASE_URL"] = PG_URL
        else:
            os.environ.pop("DATABASE_URL", None)
        import django

        django.setup()
        return self

    def fresh_database(self) -> None:
        """Point the default connection at an empty, migrated database."""
        from django.core.management import call_command
        from django.db import connection, connections

        connections.close_all()
        if self.postgres:
            with connection.cursor() as cursor:
                cursor.execute("DROP SCHEMA public CASCADE")
                cursor.execute("CREATE SCHEMA public")
            call_command("migrate", verbosity=0)
            return
        if self._template is None:
            self._template = self.home / "template.sqlite3"
            connection.settings_dict["NAME"] = str(self._template)
            call_command("migrate", verbosity=0)
            connections.close_all()  # last close checkpoints the WAL into the file
        self._runs += 1
        target = self.home / f"run-{self._runs}.sqlite3"
        shutil.copyfile(self._template, target)
        connection.settings_dict["NAME"] = str(target)
        if self._current is not None:
            _remove_sqlite(self._current)
        self._current = target

    def raw_connection(self) -> RawDB:
        """A plain DB-API connection (no Django) for the baselines, same engine and settings."""
        if self.postgres:
            import psycopg

            return RawDB(psycopg.connect(PG_URL, autocommit=True), "postgresql")
        path = self.home / "raw.sqlite3"
        _remove_sqlite(path)
        conn = sqlite3.connect(path, isolation_level=None)
        # The pragmas Habeas uses (settings.py), so the baseline pays the same durability.
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        return RawDB(conn, "sqlite")

    def close(self) -> None:
        from django.db import connections

        connections.close_all()
        shutil.rmtree(self.home, ignore_errors=True)


def _remove_sqlite(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        with contextlib.suppress(FileNotFoundError):
            Path(f"{path}{suffix}").unlink()


def _ensure_pg_database() -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (PG_DB,)).fetchone()
        if found is None:
            from psycopg import sql

            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(PG_DB)))


class RawDB:
    """Just enough of DB-API over sqlite3 and psycopg for the raw baselines."""

    def __init__(self, conn: Any, vendor: str) -> None:
        self.conn = conn
        self.vendor = vendor

    def sql(self, text: str) -> str:
        return text.replace("?", "%s") if self.vendor == "postgresql" else text

    def execute(self, text: str) -> None:
        self.conn.execute(self.sql(text))

    def executemany(self, text: str, rows: Sequence[Sequence[Any]]) -> None:
        cur = self.conn.cursor()
        cur.executemany(self.sql(text), rows)
        cur.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        if self.vendor == "sqlite":
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")
        else:
            with self.conn.transaction():
                yield

    def recreate(self, ddl: Sequence[str], tables: Sequence[str]) -> None:
        """Drop and create the baseline's tables (outside any timing)."""
        for table in tables:
            self.execute(f"DROP TABLE IF EXISTS {table}")
        for statement in ddl:
            self.execute(statement)

    def close(self) -> None:
        self.conn.close()


# --- profiling ----------------------------------------------------------------------------


def profile(title: str, fn: Callable[[], Any], *, report: Report | None = None) -> str:
    """Run ``fn`` once under a profiler and return where the time went, as text: kept in
    ``report.profiles`` (printed after the results table) when a report is given, else
    printed at once."""
    text = _profile_text(f"=== profile: {title} ===", fn)
    if report is not None:
        report.profiles.append(text)
    else:
        print(text)
    return text


def _profile_text(header: str, fn: Callable[[], Any]) -> str:
    try:
        from pyinstrument import Profiler  # not a project dependency; used when installed
    except ImportError:
        Profiler = None
    if Profiler is not None:
        profiler = Profiler(interval=0.001)
        profiler.start()
        try:
            fn()
        finally:
            profiler.stop()
        return header + "\n" + profiler.output_text(unicode=True, color=False, show_all=False)
    import cProfile
    import io
    import pstats

    prof = cProfile.Profile()
    prof.enable()
    try:
        fn()
    finally:
        prof.disable()
    out = io.StringIO()
    stats = pstats.Stats(prof, stream=out).strip_dirs()
    stats.sort_stats("cumulative").print_stats(30)
    stats.sort_stats("tottime").print_stats(30)
    return header + "\n" + out.getvalue()
