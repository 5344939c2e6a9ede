"""Load test: the public locator under load (issue 15 item 5: ≥ 500 requests/s at p95 ≤ 50 ms
on the 2-core machine, with 1,000,000 people on PostgreSQL, behind the shared-cache rate
limit; ≥ 95 % of the server's CPU in the application, not in the framework).

1. **The registry** (untimed): ``--people`` persons (default 1,000,000) bulk-loaded by plain
   SQL (COPY) into PostgreSQL exactly as ``bench_locator.py`` does, ``--held`` of them with an
   open custody episode, then the locator's index built by ``locator_index_rebuild()``.
   ``--reuse`` keeps a database an earlier run filled (checked by its number of people).
2. **The searches** are drawn from that registry: names of people held, as registered and
   with the accents removed (lowercase ASCII), sending references, and names that match
   nobody held (common names of people never held, and invented ones); through the API
   (``/api/v1/locator``) and the page (``/locator/``). See ``locustfile_locator.py``.
3. **The server** is ``habeas serve`` (gunicorn, ``--workers``, default 2 for 2 cores) with
   Redis as the shared cache (``HABEAS_CACHE_URL``), 127.0.0.1 as a trusted proxy (each
   locust user sends its own ``X-Forwarded-For``), and the rate limits *raised* for the test
   (``HABEAS_LOCATOR_PER_MINUTE``, ``HABEAS_LOCATOR_PER_NAME_PER_HOUR``): every search still
   takes its slots in Redis, the limit is only out of reach.
4. **The load**: locust headless, ``--users`` users each sending ``--rate / --users``
   requests per second (``constant_throughput``), ``--duration`` seconds; the first
   ``--ramp`` seconds (spawning, caches warming) are left out of the sustained rate. Then the
   same load shape against two baselines through the same server: a static file (whitenoise,
   the server's floor) and an unknown ``/api/`` path (the whole middleware stack and the API
   error document: the framework's floor).
5. **CPU**: of the gunicorn workers, of the PostgreSQL backends they hold, of Redis and of
   locust itself, read from ``/proc`` before and after each phase; the load generator runs on
   the same two cores and its share is printed. ``--profile``: one more locator phase with
   a sampler in each worker (``gunicorn_sampler.py``, given to gunicorn by
   ``GUNICORN_CMD_ARGS``; py-spy cannot read this Python build), the stacks, weighted by CPU time, sorted
   into the locator's code (``oversight/locator.py``: the search and the rate limit), the
   rest of the view (forms, templates) and the framework (gunicorn, Django's handler and
   middleware, URL routing, django-ninja's parsing and serialisation).

Usage: ``python benchmarks/load_locator.py [--pg-database NAME] [--people N] [--reuse]
[--workers W] [--users U] [--rate R] [--duration S] [--profile] [--json F]``.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import csv
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import unicodedata
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import _common as common

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
GOAL_RPS = 500.0
GOAL_P95_MS = 50.0
GOAL_APP_SHARE = 0.95
SEED = 1515
#: Redis database of the test's shared cache (its keys expire within the hour).
REDIS_URL = os.environ.get("HABEAS_LOAD_REDIS_URL", "redis://127.0.0.1:6379/11")
RAISED_LIMIT = "100000000"


# --- the registry ----------------------------------------------------------------------------


def fill(people: int, held: int) -> None:
    """``people`` persons by COPY, ``held`` of them admitted, and the locator index."""
    import bench_locator
    from django.db import connection

    from habeas.oversight.services import locator_index_rebuild

    env = _Env()
    env.fresh_database()
    rng = random.Random(SEED)
    t0 = time.perf_counter()
    rows = bench_locator.build_registry(env, people, rng)  # type: ignore[arg-type]
    bench_locator.admit_targets(rng.sample(rows, held))
    common.log(f"registry loaded in {time.perf_counter() - t0:.0f} s; building the index")
    t0 = time.perf_counter()
    locator_index_rebuild()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    common.log(f"index built in {time.perf_counter() - t0:.0f} s")


class _Env:
    """What ``bench_locator.build_registry`` needs of the harness: a fresh schema."""

    postgres = True

    def fresh_database(self) -> None:
        from django.core.management import call_command
        from django.db import connection, connections

        connections.close_all()
        with connection.cursor() as cursor:
            cursor.execute("DROP SCHEMA public CASCADE")
            cursor.execute("CREATE SCHEMA public")
        call_command("migrate", verbosity=0)


def people_count() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT to_regclass('people_person') IS NOT NULL "
            "AND to_regclass('oversight_locatortoken') IS NOT NULL"
        )
        if not cursor.fetchone()[0]:
            return 0
        cursor.execute("SELECT COUNT(*) FROM people_person")
        count = int(cursor.fetchone()[0])
        cursor.execute("SELECT EXISTS (SELECT 1 FROM oversight_locatortoken)")
        return count if cursor.fetchone()[0] else 0


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def searches(rng: random.Random, n: int = 2000) -> dict[str, list[dict[str, str]]]:
    """Searches drawn from the registry under test (see the module's docstring)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT p.given_names, p.first_surname, p.second_surname, p.date_of_birth, "
            "p.nationalities, i.value FROM custody_custodyepisode e "
            "JOIN people_person p ON p.id = e.person_id "
            "JOIN people_personidentifier i ON i.person_id = p.id "
            "WHERE e.released_at IS NULL ORDER BY p.id LIMIT %s",
            [n],
        )
        held = cursor.fetchall()
        cursor.execute(
            "SELECT p.given_names, p.first_surname, p.second_surname, p.date_of_birth, "
            "p.nationalities FROM people_person p WHERE p.id %% 499 = 0 AND NOT EXISTS "
            "(SELECT 1 FROM custody_custodyepisode e WHERE e.person_id = p.id) "
            "ORDER BY p.id LIMIT %s",
            [n // 2],
        )
        never = cursor.fetchall()

    def nat(value: Any) -> str:
        return str((value if isinstance(value, list) else json.loads(value))[0])

    def name(g: str, s1: str, s2: str) -> str:
        words = [g.split()[0], s1] + ([s2] if s2 and rng.random() < 0.5 else [])
        return " ".join(words)

    out: dict[str, list[dict[str, str]]] = {"held": [], "held_folded": [], "ref": [], "absent": []}
    for g, s1, s2, dob, nats, ref in held:
        full = name(g, s1, s2)
        base = {"dob": str(dob.year), "nationality": nat(nats)}
        out["held"].append({"name": full, **base})
        out["held_folded"].append({"name": _fold(full), **base})
        out["ref"].append({"ref": ref, "nationality": nat(nats)})
    for g, s1, s2, dob, nats in never:
        out["absent"].append(
            {"name": name(g, s1, s2), "dob": str(dob.year), "nationality": nat(nats)}
        )
    syllables = ["qua", "zor", "vex", "plin", "drub", "kex", "wym", "fro"]
    for _ in range(len(never)):
        invented = "".join(rng.choice(syllables) for _ in range(3)).capitalize()
        g, s1, _s2, dob, nats = rng.choice(never)
        out["absent"].append(
            {"name": f"{g} {invented}", "dob": str(dob.year), "nationality": nat(nats)}
        )
    return out


# --- CPU accounting ----------------------------------------------------------------------------

CLOCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU of one process (``/proc/PID/stat``), 0 if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError):
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                if int(stat[1]) == pid:
                    found.append(int(entry.name))
    return found


def machine_busy() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far (``/proc/stat``)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    return (sum(values) - idle) / CLOCK, sum(values) / CLOCK


def redis_pid() -> int | None:
    out = subprocess.run(["pidof", "redis-server"], capture_output=True, text=True).stdout.split()
    return int(out[0]) if out else None


class CpuMeter:
    """CPU seconds of each group of processes over one phase. Groups are lists of pids or
    callables returning the current pids (PostgreSQL backends come and go: Django closes a
    persistent connection after ``CONN_MAX_AGE``); every process is polled twice a second, so
    one that ends during the phase loses at most half a second."""

    def __init__(self, groups: dict[str, Any]) -> None:
        self.groups = groups
        self.start: dict[str, float] = {}
        self.spent: dict[str, float] = {}
        self._seen: dict[str, dict[int, tuple[float, float]]] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.machine = (0.0, 0.0)

    def _pids(self, group: str) -> list[int]:
        found = self.groups[group]
        return list(found() if callable(found) else found)

    def _poll(self) -> None:
        for group in self.groups:
            seen = self._seen.setdefault(group, {})
            for pid in self._pids(group):
                now = cpu_seconds(pid)
                first = seen.get(pid, (0.0 if self._thread is not None else now, now))[0]
                seen[pid] = (first, now)

    def __enter__(self) -> CpuMeter:
        self._poll()  # the starting CPU of every process already there
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()
        self.start = {g: sum(b for _a, b in self._seen[g].values()) for g in self.groups}
        self.machine = machine_busy()
        return self

    def _loop(self) -> None:
        while not self._stop.wait(0.5):
            with contextlib.suppress(Exception):
                self._poll()

    def __exit__(self, *exc: object) -> None:
        self._poll()
        self._stop.set()
        self.spent = {
            g: sum(last - first for first, last in self._seen[g].values()) for g in self.groups
        }
        busy, total = machine_busy()
        self.spent["machine (all processes)"] = busy - self.machine[0]
        self.spent["_wall machine"] = total - self.machine[1]


# --- the server --------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(
    pg_url: str, home: Path, port: int, workers: int, *, profile: bool = False
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": pg_url,
        "HABEAS_HOME": str(home),
        "HABEAS_CACHE_URL": REDIS_URL,
        "HABEAS_TRUSTED_PROXIES": "127.0.0.1",
        "HABEAS_LOCATOR_PER_MINUTE": RAISED_LIMIT,
        "HABEAS_LOCATOR_PER_NAME_PER_HOUR": RAISED_LIMIT,
        "DJANGO_SETTINGS_MODULE": "habeas.settings",
    }
    env.pop("HABEAS_TEST_DATABASE_URL", None)
    if profile:
        (home / "samples").mkdir(exist_ok=True)
        env["HABEAS_LOAD_SAMPLES"] = str(home / "samples")
        env["GUNICORN_CMD_ARGS"] = f"--config {HERE / 'gunicorn_sampler.py'}"
    log = (home / "serve.log").open("wb")
    server = subprocess.Popen(
        [str(BIN / "habeas"), "serve", "--port", str(port), "--workers", str(workers)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            urllib.request.urlopen(f"http://127.0.0.1:{port}/locator/", timeout=5).read()
            if len(children(server.pid)) >= workers:
                return server
        if server.poll() is not None:
            raise SystemExit(f"habeas serve stopped: see {home / 'serve.log'}")
        time.sleep(0.5)
    raise SystemExit(f"habeas serve did not answer in 120 s: see {home / 'serve.log'}")


def backend_pids(pg_url: str, db: str) -> Any:
    """A callable: the pids of the PostgreSQL backends serving ``db`` now (one connection
    of its own, left out)."""
    import psycopg

    conn = psycopg.connect(pg_url, autocommit=True)
    query = "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()"

    def pids() -> list[int]:
        return [int(r[0]) for r in conn.execute(query, (db,)).fetchall()]

    return pids


# --- locust -----------------------------------------------------------------------------------


@dataclass
class Phase:
    name: str
    requests: int = 0
    failures: int = 0
    sustained_rps: float = 0.0
    p50: float = 0.0
    p95: float = 0.0
    p99: float = 0.0
    per_entry: list[dict[str, str]] = field(default_factory=list)
    failures_by_kind: list[str] = field(default_factory=list)
    cpu: dict[str, float] = field(default_factory=dict)

    def cpu_ms_per_request(self, group: str) -> float:
        return 1000 * self.cpu.get(group, 0.0) / max(self.requests, 1)


def run_locust(
    name: str,
    mix: str,
    port: int,
    queries: Path,
    args: argparse.Namespace,
    duration: int,
    workdir: Path,
    server_pids: list[int],
    pg_pids: Any,
) -> Phase:
    prefix = workdir / name.replace(" ", "_")
    env = {
        **os.environ,
        "HABEAS_LOAD_QUERIES": str(queries),
        "HABEAS_LOAD_RATE": str(args.rate / args.users),
        "HABEAS_LOAD_MIX": mix,
    }
    argv = [
        str(BIN / "locust"),
        "-f",
        str(HERE / "locustfile_locator.py"),
        "--headless",
        "--host",
        f"http://127.0.0.1:{port}",
        "-u",
        str(args.users),
        "-r",
        str(args.spawn_rate),
        "-t",
        f"{duration}s",
        "--csv",
        str(prefix),
        "--only-summary",
        "--loglevel",
        "WARNING",
        "--stop-timeout",
        "5",
    ]
    common.log(f"{name}: {args.users} users, {args.rate:.0f} requests/s asked, {duration} s")
    groups: dict[str, Any] = {"server workers": server_pids, "postgresql backends": pg_pids}
    if (rpid := redis_pid()) is not None:
        groups["redis"] = [rpid]
    locust = subprocess.Popen(
        argv, env=env, stdout=subprocess.DEVNULL, stderr=(workdir / f"{name}.log").open("wb")
    )
    groups["locust (load generator)"] = [locust.pid]
    meter = CpuMeter(groups)
    time.sleep(args.ramp)  # spawning and warming: left out of the CPU per request too
    with meter:
        # locust's own CPU from its rusage when it ends (its /proc entry goes with it)
        _pid, _status, usage = os.wait4(locust.pid, 0)
        locust.returncode = 0
    meter.spent["locust (load generator)"] = (
        usage.ru_utime + usage.ru_stime - meter.start["locust (load generator)"]
    )
    phase = Phase(name=name, cpu=meter.spent)
    _read_csv(phase, prefix, args.ramp)
    return phase


def _read_csv(phase: Phase, prefix: Path, ramp: int) -> None:
    with open(f"{prefix}_stats.csv", newline="") as f:
        for row in csv.DictReader(f):
            if row["Name"] == "Aggregated":
                phase.requests = int(row["Request Count"])
                phase.failures = int(row["Failure Count"])
                phase.p50, phase.p95, phase.p99 = (
                    float(row["50%"]),
                    float(row["95%"]),
                    float(row["99%"]),
                )
            else:
                phase.per_entry.append(row)
    with open(f"{prefix}_stats_history.csv", newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["Name"] == "Aggregated"]
    if rows:
        t0 = int(rows[0]["Timestamp"])
        steady = [float(r["Requests/s"]) for r in rows if int(r["Timestamp"]) - t0 >= ramp + 5] or [
            float(r["Requests/s"]) for r in rows
        ]
        phase.sustained_rps = statistics.median(steady)
        # the requests of the steady window (CPU per request is over the same window)
        counted = [int(r["Total Request Count"]) for r in rows if int(r["Timestamp"]) - t0 >= ramp]
        if counted:
            phase.requests = int(rows[-1]["Total Request Count"]) - counted[0] or phase.requests
    failures = Path(f"{prefix}_failures.csv")
    if failures.exists():
        with failures.open(newline="") as f:
            phase.failures_by_kind = [
                f"{r['Name']}: {r['Error']} x{r['Occurrences']}" for r in csv.DictReader(f)
            ]


# --- profile ------------------------------------------------------------------------------------

#: Buckets of the profile, first match wins (frames are ``function (file:line)``).
BUCKETS = [
    ("locator: locate()", ("oversight/locator.py",)),
    ("view: forms, templates, serialisation", ("oversight/views.py", "oversight/api.py")),
]


def profile_phase(
    port: int,
    queries: Path,
    args: argparse.Namespace,
    workdir: Path,
    server_pids: list[int],
    pg_pids: Any,
) -> tuple[Phase, dict[str, int], str]:
    """One more locator phase with the workers' sampler on (``gunicorn_sampler.py``)."""
    samples = workdir / "samples"
    (samples / "ON").touch()
    try:
        phase = run_locust(
            "locator (profiled)",
            "locator",
            port,
            queries,
            args,
            args.duration,
            workdir,
            server_pids,
            pg_pids,
        )
    finally:
        (samples / "ON").unlink()
    time.sleep(2)  # the samplers write their counts within a second
    counts: collections.Counter[str] = collections.Counter()
    functions: collections.Counter[str] = collections.Counter()
    for out in samples.glob("*.txt"):
        for line in out.read_text().splitlines():
            stack, _, n = line.rpartition(" ")
            if not n.isdigit():
                continue
            frames = stack.split(";")
            bucket = "framework: server, handler, middleware, routing"
            for label, needles in BUCKETS:
                if any(any(s in fr for s in needles) for fr in frames):
                    bucket = label
                    break
            counts[bucket] += int(n)
            functions[frames[-1].replace(str(BIN.parent), "")] += int(n)
    top = "\n".join(f"  {n / 1000:8.0f} ms  {fn}" for fn, n in functions.most_common(25))
    return phase, dict(counts), top


# --- report -------------------------------------------------------------------------------------


def report(
    phases: list[Phase], profile: dict[str, int] | None, top: str, args: Any
) -> dict[str, Any]:
    main = phases[0]
    print()
    print(
        f"{'phase':<22} {'requests':>9} {'errors':>7} {'req/s':>7} {'p50 ms':>7} "
        f"{'p95 ms':>7} {'p99 ms':>7} {'server CPU ms/req':>18} {'locust CPU ms/req':>18}"
    )
    for ph in phases:
        print(
            f"{ph.name:<22} {ph.requests:>9,} {ph.failures:>7,} {ph.sustained_rps:>7.0f} "
            f"{ph.p50:>7.0f} {ph.p95:>7.0f} {ph.p99:>7.0f} "
            f"{ph.cpu_ms_per_request('server workers'):>18.2f} "
            f"{ph.cpu_ms_per_request('locust (load generator)'):>18.2f}"
        )
    print()
    print("locator mix, per entry (whole run):")
    for row in main.per_entry:
        print(
            f"  {row['Name']:<24} n={int(row['Request Count']):>7,} fail={int(row['Failure Count']):>5,} "
            f"p50={row['50%']:>4} p95={row['95%']:>4} p99={row['99%']:>4} ms"
        )
    for line in main.failures_by_kind[:10]:
        print(f"  failure: {line}")
    steady = max(args.duration - args.ramp, 1)
    print()
    print(
        f"CPU over the steady {steady} s of the locator phase (seconds; 2 cores = {2 * steady} s):"
    )
    for group, seconds in main.cpu.items():
        if not group.startswith("_"):
            print(f"  {group:<26} {seconds:7.1f} s  ({seconds / steady:.2f} cores)")
    ratios = {}
    for ph in phases[1:]:
        if ph.name.startswith("locator"):
            continue
        ratios[ph.name] = ph.cpu_ms_per_request("server workers") / max(
            main.cpu_ms_per_request("server workers"), 1e-9
        )
        print(
            f"ratio: server CPU per request, baseline '{ph.name}' / locator = {ratios[ph.name]:.3f} "
            f"(p95 {ph.p95:.0f} ms vs {main.p95:.0f} ms; req/s {ph.sustained_rps:.0f} vs "
            f"{main.sustained_rps:.0f})"
        )
    out: dict[str, Any] = {
        "phases": [ph.__dict__ for ph in phases],
        "ratios": ratios,
        "goal": {
            "rps": main.sustained_rps >= GOAL_RPS,
            "p95": main.p95 <= GOAL_P95_MS,
            "errors": main.failures == 0,
        },
    }
    if profile:
        total = sum(profile.values())
        print()
        print(f"profile of the workers (in-worker sampler, {total / 1e6:.1f} s of CPU sampled):")
        for bucket, n in sorted(profile.items(), key=lambda kv: -kv[1]):
            print(f"  {bucket:<48} {n / 1e6:7.2f} s  {100 * n / total:5.1f} %")
        app = sum(n for b, n in profile.items() if not b.startswith("framework"))
        strict = profile.get(BUCKETS[0][0], 0)
        print(
            f"  application share: {100 * app / total:.1f} % (the locator's code alone "
            f"{100 * strict / total:.1f} %); goal ≥ {100 * GOAL_APP_SHARE:.0f} %"
        )
        print("hottest functions (leaf frames, CPU):")
        print(top)
        out["profile"] = profile
        out["goal"]["app_share"] = app / total >= GOAL_APP_SHARE
    print()
    print(
        f"goal ≥ {GOAL_RPS:.0f} req/s sustained: {'met' if out['goal']['rps'] else 'NOT met'} "
        f"({main.sustained_rps:.0f}); p95 ≤ {GOAL_P95_MS:.0f} ms: "
        f"{'met' if out['goal']['p95'] else 'NOT met'} ({main.p95:.0f} ms); errors: {main.failures}"
    )
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--pg-database", default=os.environ.get("HABEAS_BENCH_PG_DB", "habeas_load"))
    p.add_argument("--people", type=int, default=1_000_000)
    p.add_argument("--held", type=int, default=20_000, help="people with an open episode")
    p.add_argument("--reuse", action="store_true", help="keep a registry an earlier run filled")
    p.add_argument("--workers", type=int, default=2, help="gunicorn workers (habeas serve)")
    p.add_argument("--users", type=int, default=50)
    p.add_argument("--rate", type=float, default=GOAL_RPS, help="requests/s asked in all")
    p.add_argument("--spawn-rate", type=float, default=50)
    p.add_argument("--duration", type=int, default=60)
    p.add_argument("--ramp", type=int, default=10, help="seconds left out at the start")
    p.add_argument("--baseline-duration", type=int, default=30)
    p.add_argument("--no-baselines", action="store_true")
    p.add_argument("--profile", action="store_true", help="one more phase, sampled in the workers")
    p.add_argument("--json", type=Path)
    args = p.parse_args()

    pg_url = f"postgresql://postgres@127.0.0.1:5432/{args.pg_database}"
    common.PG_URL, common.PG_DB = pg_url, args.pg_database
    env = common.Env(postgres=True)
    home = env.home
    env.setup()
    machine = common.machine_info(env)
    uptime_before = Path("/proc/loadavg").read_text().split()[:3]
    count = people_count() if args.reuse else 0
    if count >= args.people:
        common.log(f"reusing the registry of {args.pg_database}: {count:,} people")
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
    else:
        fill(args.people, args.held)
        count = people_count()
    queries = home / "queries.json"
    found = searches(random.Random(SEED))
    queries.write_text(json.dumps(found))
    common.log(", ".join(f"{k}: {len(v)}" for k, v in found.items()) + " searches drawn")
    from django.db import connections

    connections.close_all()

    port = free_port()
    server = start_server(pg_url, home, port, args.workers, profile=args.profile)
    phases: list[Phase] = []
    profile: dict[str, int] | None = None
    top = ""
    try:
        workers = children(server.pid)
        # one request per worker opens its persistent connection before the backends are listed
        for _ in range(4 * args.workers):
            with contextlib.suppress(OSError):
                urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/api/v1/locator?ref=x&nationality=VE", timeout=5
                ).read()
        pg = backend_pids(pg_url, args.pg_database)
        phases.append(
            run_locust("locator", "locator", port, queries, args, args.duration, home, workers, pg)
        )
        if not args.no_baselines:
            for mix in ("floor", "static"):
                phases.append(
                    run_locust(
                        mix, mix, port, queries, args, args.baseline_duration, home, workers, pg
                    )
                )
        if args.profile:
            prof_phase, profile, top = profile_phase(port, queries, args, home, workers, pg)
            phases.append(prof_phase)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            server.wait(timeout=20)
    uptime_after = Path("/proc/loadavg").read_text().split()[:3]
    print()
    common.print_machine(machine)
    print(
        f"registry: {count:,} people ({args.pg_database}); server: habeas serve, "
        f"{args.workers} gunicorn workers, Redis shared cache {REDIS_URL}, limits raised to "
        f"{RAISED_LIMIT}; locust: {args.users} users asking {args.rate:.0f} req/s in all, "
        f"{args.duration} s ({args.ramp} s ramp left out)"
    )
    print(f"load average before: {' '.join(uptime_before)}; after: {' '.join(uptime_after)}")
    print(
        "note: locust runs on the same 2 cores as the server, PostgreSQL and Redis; its CPU is "
        "in the table below"
    )
    result = report(phases, profile, top, args)
    result.update(machine=machine, load_before=uptime_before, load_after=uptime_after)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, default=str) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
