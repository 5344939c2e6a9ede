"""Housing benchmarks (issue 4): the planner on a full facility and the placement suggestion.

* Planner: 40,000 people in 256 cells (8 modules × 32 cells of 100 m², ICRC certified 28,
  working 160: 256 × 156 = 39,936 would not hold 40,000), criminal and civil regimes,
  untried and convicted, 2,000 keep-apart pairs, starting from a skewed placement. Prints the
  plan's people above certified capacity against the lower bound and against
  first-fit-decreasing alone, the moves, the time, and re-checks the plan with an independent
  validator (zero violations required).
* Suggestion (``--suggest``, or ``--only-suggest`` without the planner): the demo facility
  (``demo_setup.toml``, 256 cells of working capacity 157) filled to 40,000 through
  ``admit_and_place_many`` in batches of 2,000 (the placement service's throughput is printed),
  then the suggestion's latency (p50/p95) for one more person with keep-apart records: the
  per-cell-queries baseline, the previous ``Allocator.ranked``, and ``placement_suggest``
  right after a write — one admission, move or release through the placement services, in
  turn — with the snapshot read again in full (the previous behaviour) and brought up to
  date incrementally from the ledger (the new one), and with no write in between (snapshot
  reused). SQLite by default; ``--postgres`` uses its own database
  ``habeas_bench_housing``.

Run: ``.venv/bin/python benchmarks/bench_housing.py [--time-limit 10] [--suggest]
[--only-suggest] [--postgres] [--samples 100]``.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
os.environ.setdefault("HABEAS_HOME", tempfile.mkdtemp(prefix="habeas-bench-housing-"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "habeas.settings")


def synthetic(people: int = 40_000, pairs: int = 2_000, seed: int = 1) -> object:
    from habeas.housing.planner import PlanCell, PlanPair, PlanPerson, Problem

    rng = random.Random(seed)
    cells = []
    for m in range(8):
        regime = "criminal" if m < 5 else "civil"
        for i in range(32):
            cells.append(
                PlanCell(
                    id=m * 32 + i + 1,
                    code=f"M{m + 1}-{i + 1:02d}",
                    module=m + 1,
                    module_code=f"M{m + 1}",
                    population="adult_male",
                    regime=regime,
                    certified=28,
                    working=160,
                )
            )
    criminal = [c for c in cells if c.regime == "criminal"]
    civil = [c for c in cells if c.regime == "civil"]
    folk = []
    n_criminal = people * 5 // 8
    # Skewed start: fill the first cells of each regime up to working capacity, by trial status
    # blocks, so the planner has crowding to spread.
    for pid in range(1, people + 1):
        is_criminal = pid <= n_criminal
        pool = criminal if is_criminal else civil
        untried = is_criminal and pid % 10 == 0
        folk.append((pid, is_criminal, untried))
    placed: list[object] = []
    count: Counter[int] = Counter()
    for pid, is_criminal, untried in folk:
        pool = criminal if is_criminal else civil
        # untried people start in the last 16 criminal cells, convicted in the others
        if is_criminal:
            pool = pool[-16:] if untried else pool[:-16]
        room = [c for c in pool if count[c.id] < c.working]
        weights = [1 + (len(pool) - i) for i in range(len(room))]
        cell = rng.choices(room, weights)[0]
        count[cell.id] += 1
        placed.append(
            PlanPerson(
                id=pid,
                sex="M",
                youth=False,
                regime="criminal" if is_criminal else "civil",
                untried=untried,
                cell=cell.id,
            )
        )
    pair_list = []
    seen: set[tuple[int, int]] = set()
    while len(pair_list) < pairs:
        a, b = rng.sample(range(1, people + 1), 2)
        a, b = min(a, b), max(a, b)
        if (a, b) in seen:
            continue
        seen.add((a, b))
        scope = rng.choices(["cell", "module", "facility"], [6, 3, 1])[0]
        pair_list.append(PlanPair(len(pair_list) + 1, a, b, scope))
    return Problem(cells=cells, people=placed, pairs=pair_list)


def validate(problem: object, assignment: dict[int, int]) -> list[str]:
    """Independent re-check (does not use the planner's State)."""
    from habeas.housing.planner import Problem

    assert isinstance(problem, Problem)
    problems: list[str] = []
    cell = {c.id: c for c in problem.cells}
    person = {p.id: p for p in problem.people}
    if set(assignment) != set(person):
        problems.append("not everyone is placed exactly once")
    count = Counter(assignment.values())
    for cid, n in count.items():
        if n > cell[cid].working:
            problems.append(f"cell {cid} above working capacity")
    for pid, cid in assignment.items():
        p, c = person[pid], cell[cid]
        age = "youth" if p.youth else "adult"
        if not c.active or c.regime != p.regime or not c.population.startswith(age):
            problems.append(f"person {pid} in a cell of the wrong module")
        if p.sex == "M" and not c.population.endswith("_male"):
            problems.append(f"person {pid} sex")
    status: dict[int, set[bool]] = {}
    for pid, cid in assignment.items():
        if person[pid].regime == "criminal":
            status.setdefault(cid, set()).add(person[pid].untried)
    problems += [
        f"cell {cid} mixes untried and convicted" for cid, s in status.items() if len(s) > 1
    ]
    for pair in problem.pairs:
        ca, cb = assignment[pair.a], assignment[pair.b]
        if ca == cb:
            problems.append(f"keep-apart {pair.keep_apart} in one cell")
        elif pair.scope in {"module", "facility"} and cell[ca].module == cell[cb].module:
            pa, pb = person[pair.a].cell, person[pair.b].cell
            if not (pa and pb and cell[pa].module == cell[pb].module):
                problems.append(f"keep-apart {pair.keep_apart} in one module")
    return problems


def bench_planner(time_limit: float) -> None:
    import django

    django.setup()
    from habeas.housing.planner import solve

    t0 = time.perf_counter()
    problem = synthetic()
    built = time.perf_counter() - t0
    plan = solve(problem, time_limit=time_limit)
    violations = validate(problem, plan.assignment)
    lb, ffd, after, before = plan.lower_bound, plan.start, plan.after, plan.before

    def ratio(a: int, b: int) -> str:
        return f"{a / b:.3f}" if b else ("1.000" if a == b else "inf")

    print(
        f"planner: {len(problem.people)} people, {len(problem.cells)} cells, "
        f"{len(problem.pairs)} keep-apart pairs (synthetic data built in {built:.2f} s)"
    )
    print(
        f"  status {plan.status}; {plan.seconds:.2f} s (time limit {time_limit} s); "
        f"solver {plan.solver}"
    )
    for name, f in (
        ("before", before),
        ("first-fit-decreasing", ffd),
        ("plan", after),
        ("lower bound", lb),
    ):
        print(
            f"  {name:22} above certified {f.above_certified:6d}  worst cell excess "
            f"{f.worst_excess:4d}  moves {f.moves:6d}"
        )
    print(
        "  plan / lower bound (above certified): "
        f"{ratio(after.above_certified, lb.above_certified)}"
        f"; plan / FFD: {ratio(after.above_certified, ffd.above_certified)}"
        f"; worst-cell plan / lower bound: {ratio(after.worst_excess, lb.worst_excess)}"
        f"; moves plan / FFD: {ratio(after.moves, ffd.moves)}"
    )
    print(f"  violations found by the independent validator: {len(violations)}")
    if violations:
        print("   ", violations[:5])
        raise SystemExit(1)


PG_HOUSING_URL = "postgresql://postgres@127.0.0.1:5432/habeas_bench_housing"

#: The demo facility (``demo_setup.toml``): 6 criminal modules and 2 civil ones of 32 cells
#: each, working capacity 157 per cell (256 × 157 = 40,192 beds for the declared 40,000).
#: The bench fills it with 30,000 people held on criminal sentences (1,000 of them untried,
#: admitted first into the last 7 cells of M6, 7 × 157 = 1,099 beds; the 29,000 convicted
#: fill the other 185 criminal cells, 29,045 beds) and 10,000 held only on removal orders
#: (the 64 civil cells, 10,048 beds), so every one of the 40,000 has a cell by the rules.
UNTRIED_CELLS = [f"M6-{i:02d}" for i in range(26, 33)]
CONVICTED, UNTRIED, CIVIL = 29_000, 1_000, 10_000


def _pg_fresh() -> None:
    """An empty ``habeas_bench_housing`` database (its own, so other benchmarks running at
    the same time are not disturbed)."""
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        if not conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = 'habeas_bench_housing'"
        ).fetchone():
            conn.execute("CREATE DATABASE habeas_bench_housing")
    with psycopg.connect(PG_HOUSING_URL, autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")


def naive_suggest(facility: Any, who: Any) -> tuple[list[Any], list[Any]]:
    """The baseline the issue implies: scan every cell of the facility, reading each cell's
    occupancy, trial mix and the person's keep-apart counterparts with per-cell queries
    (:func:`habeas.housing.allocator.refusals` reads what it is not given)."""
    from habeas.facilities.models import Cell
    from habeas.housing.allocator import Occupant, crowding_key, occupancy, refusals

    assert isinstance(who, Occupant)
    allowed: list[tuple[tuple[float, float, str], Cell]] = []
    refused: list[Any] = []
    for cell in Cell.objects.filter(facility=facility).select_related("module").order_by("code"):
        n = occupancy([cell.pk])[cell.pk]
        why = refusals(cell, n, who)
        if why:
            refused.append((cell, why))
        else:
            allowed.append((crowding_key(cell, n), cell))
    allowed.sort(key=lambda kc: kc[0])
    return [c for _k, c in allowed], refused


def _percentiles(times: list[float]) -> tuple[float, float]:
    times = sorted(times)
    return statistics.median(times), times[max(0, math.ceil(len(times) * 0.95) - 1)]


def bench_suggest(samples: int, *, postgres: bool, reuse: bool) -> None:
    """Fill the demo facility to 40,000 through the admission service (in batches of 2,000),
    then time the suggestion for one more person against the baselines."""
    import datetime as dt

    if postgres:
        os.environ.pop("HABEAS_TEST_DATABASE_URL", None)
        os.environ["DATABASE_URL"] = PG_HOUSING_URL
        if not reuse:
            _pg_fresh()
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    import tomllib

    from habeas.core.actor import Actor
    from habeas.core.services import service
    from habeas.facilities.models import Facility
    from habeas.facilities.setup import setup_apply
    from habeas.facilities.setup_schema import parse_setup
    from habeas.housing import selectors
    from habeas.housing.allocator import Allocator, Occupant
    from habeas.housing.selectors import placement_suggest
    from habeas.housing.services import keep_apart_open
    from habeas.people.models import Person

    actor = Actor.system("bench")
    print(f"suggestion benchmark on {connection.vendor}")
    facility = Facility.objects.filter(code="TEC").first()
    held = facility.cells.filter(placements__ended_at__isnull=True).count() if facility else 0
    if not (reuse and held >= CONVICTED + UNTRIED + CIVIL):
        doc = parse_setup(
            tomllib.loads((ROOT / "src/habeas/web/data/demo_setup.toml").read_text()),
            name="demo_setup.toml",
        )
        setup_apply(actor=actor, document=doc)
        facility = Facility.objects.get(code="TEC")
        _fill(actor, facility)
    assert facility is not None
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:  # what autovacuum does after a bulk load
            cursor.execute("ANALYZE")
    held = facility.cells.filter(placements__ended_at__isnull=True).count()
    print(f"  held in {facility.code}: {held} in {facility.cells.count()} cells")

    # One more person to house: convicted, with keep-apart records of every scope (cell and
    # module scope against people held here, facility scope against someone not held), so
    # the suggestion reads this person's records and where the others are.
    at = dt.datetime(2025, 3, 16, 12, tzinfo=dt.UTC)
    newcomer, outside = service(
        lambda: tuple(
            Person.objects.create(
                given_names="N",
                first_surname=name,
                sex="M",
                date_of_birth=dt.date(1990, 1, 1),
                nationalities=["VE"],
                created_at=at,
            )
            for name in ("Newcomer", "Outside")
        )
    )()
    held_ids = list(
        Person.objects.filter(episodes__facility=facility, episodes__released_at__isnull=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    for other, scope in (
        (held_ids[UNTRIED + 10], "cell"),
        (held_ids[UNTRIED + 20], "module"),
        (outside.pk, "facility"),
    ):
        keep_apart_open(
            actor=actor,
            person=newcomer,
            other=Person.objects.get(pk=other),
            scope=scope,
            reason="bench",
        )
    who = Occupant(sex="M", youth=False, regime="criminal", person_id=newcomer.pk)

    def old_suggest() -> tuple[list[Any], list[Any]]:
        allowed, refused = Allocator(facility, lock=False).ranked(who)
        return list(allowed), list(refused)

    def new_suggest() -> tuple[list[Any], list[Any]]:
        s = placement_suggest(facility=facility, who=who)
        return list(s.allowed), list(s.refused)

    def shape(result: tuple[list[Any], list[Any]]) -> object:
        allowed, refused = result
        return (
            [c.pk for c in allowed],
            [(c.pk, [(r.rule, r.message) for r in why]) for c, why in refused],
        )

    expected = shape(naive_suggest(facility, who))
    for name, fn in (("allocator", old_suggest), ("aggregate", new_suggest)):
        if shape(fn()) != expected:
            raise SystemExit(f"the {name} suggestion differs from the per-cell baseline")
    allowed, refused = new_suggest()
    print(
        f"  suggestion: {len(allowed)} cells allowed, {len(refused)} refused "
        "(identical in the three implementations)"
    )
    # After a write: every sample follows one write through the placement services, in
    # turn an admission (a convicted newcomer, cell chosen by the service), a move (a civil
    # detainee to the least crowded other civil cell) and the release of that newcomer, so
    # the facility stays full. The cached snapshot is then one ledger entry behind.
    writes = Writes(actor, facility, samples + 40)

    def full_reload() -> tuple[list[Any], list[Any]]:
        selectors._SNAPSHOTS.clear()  # the previous behaviour: any write → read everything
        return new_suggest()

    results: dict[str, tuple[float, float]] = {}
    by_kind: dict[str, list[float]] = {}
    for name, fn, n, before in (
        ("per-cell queries (naive baseline)", lambda: naive_suggest(facility, who), 20, None),
        ("Allocator.ranked (previous, in a transaction)", old_suggest, min(samples, 30), None),
        ("after a write, everything read again (previous)", full_reload, 30, writes.next),
        ("after a write, incremental (new)", new_suggest, samples, writes.next),
        ("no write between (snapshot reused)", new_suggest, samples, None),
    ):
        fn()  # warm the connection and the code paths
        times = []
        for _ in range(n):
            kind = before() if before is not None else ""
            t = time.perf_counter()
            fn()
            took = (time.perf_counter() - t) * 1000
            times.append(took)
            if name.endswith("(new)"):
                by_kind.setdefault(kind, []).append(took)
        results[name] = _percentiles(times)
        p50, p95 = results[name]
        print(f"  {name:50} {n:4d} runs: p50 {p50:8.1f} ms  p95 {p95:8.1f} ms")
    for kind, times in by_kind.items():
        p50, p95 = _percentiles(times)
        print(
            f"    incremental after {kind:9} {len(times):4d} runs: p50 {p50:6.1f}  p95 {p95:6.1f}"
        )
    print(f"  writes (untimed): {writes.summary()}")
    if shape(new_suggest()) != shape(naive_suggest(facility, who)):
        raise SystemExit("after the writes the incremental suggestion differs from the baseline")
    print("  after the writes: incremental suggestion identical to the per-cell baseline")
    naive = results["per-cell queries (naive baseline)"]
    full = results["after a write, everything read again (previous)"]
    cold = results["after a write, incremental (new)"]
    warm = results["no write between (snapshot reused)"]
    print(
        f"  p95 ratios: naive / after-a-write {naive[1] / cold[1]:.0f}x, naive / reused "
        f"{naive[1] / warm[1]:.0f}x, full read / incremental after a write "
        f"{full[1] / cold[1]:.1f}x (p50 {full[0] / cold[0]:.1f}x); "
        f"target p95 <= 50 ms: after a write {'met' if cold[1] <= 50 else 'NOT met'}, "
        f"reused {'met' if warm[1] <= 50 else 'NOT met'}"
    )
    cpu = time.process_time()
    load = os.getloadavg()
    print(f"  process CPU time {cpu:.1f} s; load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


class Writes:
    """The writes timed suggestions follow: admission, move, release, in turn, each one
    service call (one ledger entry)."""

    def __init__(self, actor: Any, facility: Any, n: int) -> None:
        import datetime as dt

        from habeas.core.services import service
        from habeas.facilities.models import Cell
        from habeas.people.models import Person

        self.actor, self.facility = actor, facility
        self.clock = dt.datetime(2025, 3, 17, 8, tzinfo=dt.UTC)
        at = dt.datetime(2025, 3, 16, 12, tzinfo=dt.UTC)
        self.newcomers = service(
            lambda: Person.objects.bulk_create(
                [
                    Person(
                        given_names="W",
                        first_surname=f"Write{i}",
                        sex="M",
                        date_of_birth=dt.date(1990, 1, 1),
                        nationalities=["VE"],
                        created_at=at,
                    )
                    for i in range(n // 3 + 2)
                ]
            )
        )()
        self.civil = list(
            Person.objects.filter(
                episodes__facility=facility,
                episodes__released_at__isnull=True,
                episodes__legal_bases__kind="removal_order",
            ).order_by("pk")[:n]
        )
        self.civil_cells = list(
            Cell.objects.filter(facility=facility, module__regime="civil", active=True)
        )
        self.step = 0
        self.held: Any = None
        self.took: dict[str, list[float]] = {}

    def next(self) -> str:
        import datetime as dt

        from django.db.models import Count, Q

        from habeas.custody.services import LegalBasisSpec, custody_release
        from habeas.facilities.models import Cell
        from habeas.housing.placements import admit_and_place, placement_move

        self.clock += dt.timedelta(minutes=1)
        kind = ("admission", "move", "release")[self.step % 3]
        t = time.perf_counter()
        if kind == "admission":
            self.held = self.newcomers[self.step // 3]
            admit_and_place(
                actor=self.actor,
                person=self.held,
                facility=self.facility,
                agreement=None,
                legal_bases=[
                    LegalBasisSpec(
                        kind="criminal_sentence",
                        ref="W",
                        sentence="P5Y",
                        sentence_start=dt.date(2024, 1, 1),
                        judgment_final=True,
                    )
                ],
                admitted_at=self.clock,
            )
        elif kind == "move":
            person = self.civil[self.step // 3]
            here = person.episodes.get(released_at__isnull=True).placements.get(
                ended_at__isnull=True
            )
            target = (
                Cell.objects.filter(pk__in=[c.pk for c in self.civil_cells])
                .exclude(pk=here.cell_id)
                .annotate(n=Count("placements", filter=Q(placements__ended_at__isnull=True)))
                .order_by("n", "code")
                .first()
            )
            placement_move(
                actor=self.actor, person=person, cell=target, at=self.clock, reason="bench"
            )
        else:
            custody_release(actor=self.actor, person=self.held, reason="other", at=self.clock)
        self.took.setdefault(kind, []).append((time.perf_counter() - t) * 1000)
        self.step += 1
        return kind

    def summary(self) -> str:
        return ", ".join(
            f"{kind} median {statistics.median(ms):.0f} ms ({len(ms)})"
            for kind, ms in self.took.items()
        )


def _fill(actor: Any, facility: Any) -> None:
    """Admit 40,000 people through ``admit_and_place_many`` in batches of 2,000 and print the
    placement service's throughput."""
    import datetime as dt

    from habeas.core.services import service
    from habeas.custody.services import AdmissionSpec, LegalBasisSpec
    from habeas.housing.placements import admit_and_place_many
    from habeas.people.models import Person

    at = dt.datetime(2025, 3, 16, 12, tzinfo=dt.UTC)
    convicted = LegalBasisSpec(
        kind="criminal_sentence",
        ref="X",
        sentence="P5Y",
        sentence_start=dt.date(2024, 1, 1),
        judgment_final=True,
    )
    untried = LegalBasisSpec(
        kind="criminal_sentence",
        ref="X",
        sentence="P5Y",
        sentence_start=dt.date(2024, 1, 1),
        judgment_final=False,
    )
    civil = LegalBasisSpec(kind="removal_order", ref="RO", order_date=dt.date(2025, 3, 1))
    total = CONVICTED + UNTRIED + CIVIL
    t0 = time.perf_counter()
    people = service(
        lambda: Person.objects.bulk_create(
            [
                Person(
                    given_names="A",
                    first_surname=f"B{i}",
                    sex="M",
                    date_of_birth=dt.date(1990, 1, 1),
                    nationalities=["VE"],
                    created_at=at,
                )
                for i in range(total)
            ],
            batch_size=1000,
        )
    )()
    made = time.perf_counter() - t0
    specs = [
        AdmissionSpec(
            person=p,
            legal_bases=[untried],
            admitted_at=at,
            cell_code=UNTRIED_CELLS[i % len(UNTRIED_CELLS)],
        )
        for i, p in enumerate(people[:UNTRIED])
    ]
    rest = [
        AdmissionSpec(person=p, legal_bases=[convicted if i < CONVICTED else civil], admitted_at=at)
        for i, p in enumerate(people[UNTRIED:])
    ]
    random.Random(4).shuffle(rest)  # convicted and civil arrive mixed
    specs += rest
    batch = 2_000
    t0 = time.perf_counter()
    for start in range(0, total, batch):
        admit_and_place_many(
            actor=actor,
            facility=facility,
            agreement=None,
            admissions=specs[start : start + batch],
        )
    took = time.perf_counter() - t0
    print(
        f"  admissions: {total} through admit_and_place_many (batches of {batch}) in {took:.1f} s "
        f"= {total / took:.0f}/s (people created in {made:.1f} s)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--time-limit", type=float, default=10.0)
    parser.add_argument("--suggest", action="store_true", help="also time the suggestion")
    parser.add_argument("--samples", type=int, default=100)
    parser.add_argument(
        "--only-suggest", action="store_true", help="time the suggestion, not the planner"
    )
    parser.add_argument(
        "--postgres", action="store_true", help=f"suggestion on PostgreSQL ({PG_HOUSING_URL})"
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="keep a database already filled by an earlier run (HABEAS_HOME or --postgres)",
    )
    args = parser.parse_args()
    if not args.only_suggest:
        bench_planner(args.time_limit)
    if args.suggest or args.only_suggest:
        bench_suggest(args.samples, postgres=args.postgres, reuse=args.reuse)


if __name__ == "__main__":
    main()
