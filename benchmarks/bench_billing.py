"""Benchmark: monthly invoices from custody intervals (docs/benchmarks.md, docs/billing.md).

Data (untimed, on a fresh database): the demo setup (facility TEC, America/El_Salvador, the
2025 agreement at US$54.79 a person-day, in force 2025-03-15 … 2026-03-14: 365 days) with a
population of 40,000 people held every day of that year (≈ 14.6 million person-days):

* 40,000 places, each filled by a person admitted between 1 January and 13 March 2025 at any
  hour;
* a quarter of them released at a random instant of the year, each place taken by a new
  person admitted up to twelve hours later (the same or the next local day);
* one in ten of those released admitted again later in the year (a second stay);

and a second agreement (GT-SV-BENCH, a rate change on 16 June) with 300 people admitted
between January and September 2025, a third released, one in ten of those admitted again: its
June 2025 is the 300-person month.

The set-up is a benchmark fixture, not Habeas code: the people, their sending references and
their episodes are built as model instances (the values Django would save) and written with
plain SQL, ``COPY … FROM STDIN`` through psycopg on PostgreSQL and one ``executemany``
``INSERT`` a table on SQLite, with explicit keys (the sequences reset after), inside a service
(the write guard open); PostgreSQL then runs ``ANALYZE`` on the three tables, as autovacuum
would shortly after a bulk load. It writes no ledger entries: the benchmark measures invoicing,
not admission (``bench_admissions.py`` does that).

Measured (Habeas): the draft invoice document as ``habeas invoice`` prints it: the episodes
read, arrival and departure converted to the facility's local days, the day-count convention,
merging, rate segments, the lines with names and references, the totals — for each of the
thirteen monthly invoices of the agreement's year (March 2025 from the 15th … March 2026 to the
14th), once with ``billing.compute.invoice_documents`` (the monthly documents from one read of
the episodes, names and references; checked equal to the documents of separate calls) and once
with thirteen ``billing.compute.invoice_document`` calls; and one month of the 300-person
agreement (``invoice_document``).

Baseline, in the same process, on the same rows: a naive per-day loop (each episode's days
walked one by one in local time into a set of (person, day), then counted per person). For
the year it walks the days of one person in ten (``person_id % 10 = 0``, a fixed subset), its
count checked equal to Habeas's for the same people, and its times are scaled by the
person-days of the year over those of the subset (the loop's work is one step a day); the
300-person month is walked whole.

Targets (issue 12): the year in ≤ 2 s on SQLite; the 300-person month in ≤ 100 ms; PostgreSQL
figures beside these (``--postgres``; ``HABEAS_BENCH_PG_DB`` names the database).

Usage: ``python benchmarks/bench_billing.py [--postgres] [--runs N] [--profile] [--json F]``.
"""

from __future__ import annotations

import datetime as dt
import random
import sys
from collections.abc import Sequence
from typing import Any

import _common as common

PEOPLE = 40_000
TURNOVER = 1 / 4
READMITTED = 1 / 10
SMALL = 300
SUBSET = 10  # the naive year walks the people with person_id % SUBSET == 0
DEFAULT_RUNS = 3
SEED = 20250401
YEAR_TARGET = 2.0
SMALL_TARGET = 0.100
YEAR = "US-SV-2025"
SMALL_CODE = "GT-SV-BENCH"
MONTHS = [f"2025-{m:02d}" for m in range(3, 13)] + [f"2026-{m:02d}" for m in range(1, 4)]
SMALL_MONTH = "2025-06"
#: The agreement's year in UTC: 2025-03-15 and 2026-03-15 at midnight in El Salvador (UTC−6).
TERM_START = dt.datetime(2025, 3, 15, 6, tzinfo=dt.UTC)
TERM_END = dt.datetime(2026, 3, 15, 6, tzinfo=dt.UTC)
DEMO_SETUP = common.ROOT / "src/habeas/web/data/demo_setup.toml"
EXTRA = """
[[jurisdiction]]
code = "GT"
name = "Guatemala"

[[agreement]]
code = "GT-SV-BENCH"
sending = "GT"
receiving = "SV"
facilities = ["TEC"]
policy = "treaty_transfer"
starts = "2025-01-01"
currency = "USD"
fees = {per_person_day = "30.00", changes = [{from = "2025-06-16", per_person_day = "31.50"}]}
"""


def habeas_setup() -> None:
    import tomllib

    from habeas.core.actor import Actor
    from habeas.facilities.setup import setup_apply
    from habeas.facilities.setup_schema import parse_setup

    text = DEMO_SETUP.read_text(encoding="utf-8") + EXTRA
    setup_apply(actor=Actor.system("bench"), document=parse_setup(tomllib.loads(text), name="b"))


def _instant(rng: random.Random, first: dt.datetime, last: dt.datetime) -> dt.datetime:
    seconds = int((last - first).total_seconds())
    return first + dt.timedelta(seconds=rng.randrange(seconds))


Stay = tuple[int, dt.datetime, dt.datetime | None]  # person index, admitted, released


def year_stays(rng: random.Random) -> tuple[int, list[Stay]]:
    """The year's population: 40,000 places held every day, with turnover (module doc)."""
    stays: list[Stay] = []
    people = 0
    for _ in range(PEOPLE):
        first = people
        people += 1
        admitted = _instant(rng, dt.datetime(2025, 1, 1, tzinfo=dt.UTC), dt.datetime(2025, 3, 14, tzinfo=dt.UTC))  # fmt: skip
        if rng.random() >= TURNOVER:
            stays.append((first, admitted, None))
            continue
        released = _instant(rng, TERM_START + dt.timedelta(hours=1), TERM_END - dt.timedelta(days=1))  # fmt: skip
        stays.append((first, admitted, released))
        stays.append((people, released + dt.timedelta(seconds=rng.randrange(12 * 3600)), None))
        people += 1
        if rng.random() < READMITTED and released < TERM_END - dt.timedelta(days=10):
            again = _instant(rng, released + dt.timedelta(days=1), TERM_END)
            stays.append((first, again, None))
    return people, stays


def small_stays(rng: random.Random) -> tuple[int, list[Stay]]:
    """The 300-person agreement: admitted January–September 2025, a third released."""
    now = dt.datetime(2026, 4, 1, tzinfo=dt.UTC)
    stays: list[Stay] = []
    for p in range(SMALL):
        admitted = _instant(rng, dt.datetime(2025, 1, 1, tzinfo=dt.UTC), dt.datetime(2025, 9, 30, tzinfo=dt.UTC))  # fmt: skip
        if rng.random() < 1 / 3:
            released = _instant(rng, admitted + dt.timedelta(hours=1), now)
            stays.append((p, admitted, released))
            if rng.random() < 0.1 and released < now - dt.timedelta(days=10):
                stays.append((p, _instant(rng, released + dt.timedelta(hours=1), now), None))
            continue
        stays.append((p, admitted, None))
    return SMALL, stays


def bulk_insert(model: Any, objs: Sequence[Any]) -> None:
    """Benchmark fixture: ``objs`` written with plain SQL, each column the value Django's
    ``bulk_create`` would send (``pre_save`` then ``get_db_prep_save``), keys included:
    ``COPY … FROM STDIN`` on PostgreSQL, one ``executemany`` on SQLite."""
    from django.db import connection

    fields = list(model._meta.concrete_fields)
    table = model._meta.db_table
    rows = [[f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields] for obj in objs]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            from psycopg import sql

            statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
                sql.Identifier(table), sql.SQL(", ").join(sql.Identifier(f.column) for f in fields)
            )
            with cursor.cursor.copy(statement) as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            qn = connection.ops.quote_name
            columns = ", ".join(qn(f.column) for f in fields)
            marks = ", ".join(["%s"] * len(fields))
            cursor.executemany(f"INSERT INTO {qn(table)} ({columns}) VALUES ({marks})", rows)


def populate(rng: random.Random) -> None:
    """People, references and episodes written in bulk (:func:`bulk_insert`) inside a service
    (the write guard open); untimed."""
    from django.core.management.color import no_style
    from django.db import connection
    from django.db.models import Max

    from habeas.agreements.models import Agreement
    from habeas.core.services import service
    from habeas.custody.models import CustodyEpisode
    from habeas.facilities.models import Facility
    from habeas.people.models import Person, PersonIdentifier

    def next_id(model: Any) -> int:
        return int(model.objects.aggregate(m=Max("pk"))["m"] or 0) + 1

    def write() -> None:
        tec = Facility.objects.get(code="TEC")
        now = dt.datetime(2026, 4, 1, tzinfo=dt.UTC)
        groups = [
            (Agreement.objects.get(code=YEAR), "US", "A", year_stays(rng)),
            (Agreement.objects.get(code=SMALL_CODE), "GT", "G", small_stays(rng)),
        ]
        person_id = next_id(Person)
        identifier_id = next_id(PersonIdentifier)
        episode_id = next_id(CustodyEpisode)
        for agreement, authority, prefix, (count, stays) in groups:
            people = [
                Person(
                    pk=person_id + n,
                    given_names=rng.choice(["José", "Luis", "Ana", "María", "Kevin"]),
                    first_surname=rng.choice(["Pérez", "García", "López", "Núñez"]),
                    second_surname=rng.choice(["Ramírez", "Peña", ""]),
                    sex="M",
                    nationalities=["VE"],
                    created_at=now,
                )
                for n in range(count)
            ]
            person_id += count
            bulk_insert(Person, people)
            bulk_insert(
                PersonIdentifier,
                [
                    PersonIdentifier(
                        pk=identifier_id + n,
                        person=p,
                        authority=authority,
                        value=f"{prefix}{n:08d}",
                    )
                    for n, p in enumerate(people)
                ],
            )
            identifier_id += count
            bulk_insert(
                CustodyEpisode,
                [
                    CustodyEpisode(
                        pk=episode_id + n, person=people[who], facility=tec, agreement=agreement,
                        admitted_at=a, released_at=r, release_reason="repatriated" if r else "",
                    )
                    for n, (who, a, r) in enumerate(stays)
                ],
            )  # fmt: skip
            episode_id += len(stays)
        models = [Person, PersonIdentifier, CustodyEpisode]
        with connection.cursor() as cursor:
            for statement in connection.ops.sequence_reset_sql(no_style(), models):
                cursor.execute(statement)
            if connection.vendor == "postgresql":
                for model in models:
                    cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")

    service(write)()


def habeas_year() -> int:
    """The monthly documents of one ``invoice_documents`` call (one read)."""
    return sum(d["total_days"] for d in year_documents())


def year_documents() -> list[dict[str, Any]]:
    from habeas.agreements.models import Agreement
    from habeas.billing.compute import invoice_documents

    agreement = Agreement.objects.select_related("sending", "receiving").get(code=YEAR)
    return invoice_documents(agreement, MONTHS)


def habeas_year_each() -> int:
    """The monthly documents of separate ``invoice_document`` calls, one a month."""
    from habeas.agreements.models import Agreement
    from habeas.billing.compute import invoice_document

    agreement = Agreement.objects.select_related("sending", "receiving").get(code=YEAR)
    return sum(invoice_document(agreement, m)["total_days"] for m in MONTHS)


def same_documents() -> bool:
    """Each document of ``invoice_documents`` is the one ``invoice_document`` gives alone."""
    from habeas.agreements.models import Agreement
    from habeas.billing.compute import invoice_document

    agreement = Agreement.objects.select_related("sending", "receiving").get(code=YEAR)
    return year_documents() == [invoice_document(agreement, m) for m in MONTHS]


def subset_days(documents: list[dict[str, Any]]) -> int:
    """Habeas's person-days of the naive loop's subset (``person_id % SUBSET == 0``)."""
    return sum(
        line["days"]
        for d in documents
        for line in d["lines"]
        if line["kind"] == "person_days" and int(line["person"]) % SUBSET == 0
    )


def habeas_small() -> int:
    from habeas.agreements.models import Agreement
    from habeas.billing.compute import invoice_document

    agreement = Agreement.objects.select_related("sending", "receiving").get(code=SMALL_CODE)
    return int(invoice_document(agreement, SMALL_MONTH)["total_days"])


def naive(code: str, months: list[str], subset: int = 1) -> int:
    """The per-day loop: every episode's days walked one by one in local time (of the people
    with ``person_id % subset == 0``)."""
    from zoneinfo import ZoneInfo

    from django.db.models.functions import Mod

    from habeas.agreements.models import Agreement
    from habeas.billing.compute import period_bounds
    from habeas.custody.models import CustodyEpisode

    agreement = Agreement.objects.get(code=code)
    total = 0
    for month in months:
        first, last = period_bounds(month)
        first = max(first, agreement.starts)
        last = min(last, agreement.ends) if agreement.ends else last
        episodes = CustodyEpisode.objects.filter(agreement__code=code)
        if subset > 1:
            episodes = episodes.annotate(share=Mod("person_id", subset)).filter(share=0)
        rows = episodes.values_list("person_id", "admitted_at", "released_at", "facility__timezone")
        days: set[tuple[int, dt.date]] = set()
        for person, admitted, released, zone in rows:
            tz = ZoneInfo(zone)
            a = admitted.astimezone(tz).date()
            d = released.astimezone(tz).date() if released else last + dt.timedelta(days=1)
            day = max(a, first)
            end = max(d - dt.timedelta(days=1), a)
            while day <= min(end, last):
                days.add((person, day))
                day += dt.timedelta(days=1)
        per_person: dict[int, int] = {}
        for person, _ in days:
            per_person[person] = per_person.get(person, 0) + 1
        total += sum(per_person.values())
    return total


def run(env: common.Env, runs: int, profile: bool = False) -> common.Report:
    report = common.Report(bench="billing", engine=env.engine)
    months = len(MONTHS)
    h_year = report.add("habeas_year", f"Habeas invoice_documents, {months} months", PEOPLE, "places")  # fmt: skip
    h_each = report.add(
        "habeas_year_each",
        f"Habeas invoice_document x {months}, one call a month",
        PEOPLE,
        "places",
    )
    n_year = report.add(
        "naive_year",
        f"baseline: naive per-day loop, {months} months (1 person in {SUBSET} timed, scaled)",
        PEOPLE,
        "places",
    )
    h_small = report.add(
        "habeas_small", "Habeas invoice_document, 300-person month", SMALL, "people"
    )
    n_small = report.add("naive_small", "baseline: naive per-day loop, 300-person month", SMALL, "people")  # fmt: skip
    common.log(f"billing: preparing {PEOPLE:,} places ({env.engine})")
    env.fresh_database()
    habeas_setup()
    populate(random.Random(SEED))
    common.log("billing: checking invoice_documents against invoice_document")
    assert same_documents(), "invoice_documents differs from invoice_document month by month"
    documents = year_documents()
    person_days = sum(d["total_days"] for d in documents)
    subset = subset_days(documents)
    scale = person_days / subset
    common.log(f"billing: {person_days:,} person-days; the naive subset {subset:,}")
    for number in range(runs):
        common.log(f"billing: run {number + 1}/{runs} ({env.engine})")
        assert common.timed(h_year, habeas_year) == person_days
        assert common.timed(h_each, habeas_year_each) == person_days
        small_days = common.timed(h_small, habeas_small)
        assert common.timed(n_small, naive, SMALL_CODE, [SMALL_MONTH]) == small_days
        assert common.timed(n_year, naive, YEAR, MONTHS, SUBSET) == subset
        n_year.seconds[-1] *= scale
        n_year.cpu_seconds[-1] *= scale
    report.notes.append(
        f"{person_days:,} person-days billed over the {months} monthly invoices of the"
        f" agreement's year ({PEOPLE:,} x 365 = {PEOPLE * 365:,})"
    )
    report.notes.append(
        f"naive year: the loop walked the {subset:,} person-days of the people with person_id"
        f" % {SUBSET} = 0 (its count checked equal to Habeas's for them); its times are scaled"
        f" x{scale:.3f} (person-days of the year / of the subset)"
    )
    report.ratio("Habeas year / naive per-day loop", "habeas_year", "naive_year")
    report.ratio("Habeas year, a call a month / naive", "habeas_year_each", "naive_year")
    report.ratio("Habeas 300-person month / naive", "habeas_small", "naive_small")
    beside = (
        "" if env.engine == "sqlite" else " (the target is SQLite's; this is the figure beside)"
    )
    report.targets.append(
        common.Target(
            f"a year of {PEOPLE:,} people ({person_days / 1e6:.1f} M person-days) month by month"
            f" <= {YEAR_TARGET:.0f} s",
            h_year.median <= YEAR_TARGET,
            f"median {h_year.median:.3f} s{beside}",
        )
    )
    report.targets.append(
        common.Target(
            f"a {SMALL}-person month <= {SMALL_TARGET * 1000:.0f} ms",
            h_small.median <= SMALL_TARGET,
            f"median {h_small.median * 1000:.1f} ms",
        )
    )
    if profile:
        common.profile(f"invoice_documents, {months} months ({env.engine})", habeas_year, report=report)  # fmt: skip
    return report


if __name__ == "__main__":
    sys.exit(common.main(run, __doc__ or "", DEFAULT_RUNS))
