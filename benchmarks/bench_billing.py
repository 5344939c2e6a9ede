"""Benchmark: monthly invoices from custody intervals (docs/benchmarks.md, docs/billing.md).

Data (untimed, on a fresh database): the demo setup (facility TEC, America/El_Salvador, the
2025 agreement at US$54.79 a person-day) with 40,000 people held under the agreement over
its year: admitted between January and September 2025 at any hour, a third released at a
random instant of the year, one in ten of those admitted again later; and a second agreement
with a 300-person month. Rows are bulk-inserted (the benchmark measures invoicing, not
admission: ``bench_admissions.py`` does that).

Measured (Habeas): the draft invoice document as ``habeas invoice`` prints it: the episodes
read, arrival and departure converted to the facility's local days, the day-count convention,
merging, rate segments, the lines with names and references, the totals — for each of the
twelve months April 2025 – March 2026 (≈ 14.6 million person-days), once with
``billing.compute.invoice_documents`` (the twelve monthly documents from one read of the
episodes, names and references; checked equal to the documents of separate calls) and once
with twelve ``billing.compute.invoice_document`` calls; and one month of the 300-person
agreement (``invoice_document``).

Baseline, in the same process, on the same rows: a naive per-day loop (each episode's days
walked one by one in local time into a set of (person, day), then counted per person).

Targets (issue 12): the year in ≤ 2 s on SQLite; the 300-person month in ≤ 100 ms.

Usage: ``python benchmarks/bench_billing.py [--postgres] [--runs N] [--profile] [--json F]``.
"""

from __future__ import annotations

import datetime as dt
import random
import sys

import _common as common

PEOPLE = 40_000
SMALL = 300
DEFAULT_RUNS = 3
SEED = 20250401
YEAR_TARGET = 2.0
SMALL_TARGET = 0.100
MONTHS = [f"2025-{m:02d}" for m in range(4, 13)] + [f"2026-{m:02d}" for m in range(1, 4)]
SMALL_MONTH = "2025-06"
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


def populate(rng: random.Random) -> None:
    """People and episodes, bulk-inserted inside a service (the write guard open)."""
    from habeas.agreements.models import Agreement
    from habeas.core.services import service
    from habeas.custody.models import CustodyEpisode
    from habeas.facilities.models import Facility
    from habeas.people.models import Person, PersonIdentifier

    def write() -> None:
        tec = Facility.objects.get(code="TEC")
        year = Agreement.objects.get(code="US-SV-2025")
        small = Agreement.objects.get(code="GT-SV-BENCH")
        now = dt.datetime(2026, 4, 1, tzinfo=dt.UTC)
        groups = [(year, PEOPLE, "US", "A"), (small, SMALL, "GT", "G")]
        for agreement, count, authority, prefix in groups:
            people = Person.objects.bulk_create(
                [
                    Person(
                        given_names=rng.choice(["José", "Luis", "Ana", "María", "Kevin"]),
                        first_surname=rng.choice(["Pérez", "García", "López", "Núñez"]),
                        second_surname=rng.choice(["Ramírez", "Peña", ""]),
                        sex="M",
                        nationalities=["VE"],
                        created_at=now,
                    )
                    for _ in range(count)
                ],
                batch_size=2000,
            )
            PersonIdentifier.objects.bulk_create(
                [
                    PersonIdentifier(person=p, authority=authority, value=f"{prefix}{i:08d}")
                    for i, p in enumerate(people)
                ],
                batch_size=2000,
            )
            episodes = []
            start = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
            for p in people:
                admitted = _instant(rng, start, dt.datetime(2025, 9, 30, tzinfo=dt.UTC))
                released = None
                if rng.random() < 1 / 3:
                    released = _instant(rng, admitted + dt.timedelta(hours=1), now)
                    episodes.append((p, admitted, released))
                    if rng.random() < 0.1 and released < now - dt.timedelta(days=10):
                        again = _instant(rng, released + dt.timedelta(hours=1), now)
                        episodes.append((p, again, None))
                    continue
                episodes.append((p, admitted, None))
            CustodyEpisode.objects.bulk_create(
                [
                    CustodyEpisode(
                        person=p, facility=tec, agreement=agreement, admitted_at=a,
                        released_at=r, release_reason="repatriated" if r else "",
                    )
                    for p, a, r in episodes
                ],
                batch_size=2000,
            )  # fmt: skip

    service(write)()


def habeas_year() -> int:
    """The twelve monthly documents of one ``invoice_documents`` call (one read)."""
    from habeas.agreements.models import Agreement
    from habeas.billing.compute import invoice_documents

    agreement = Agreement.objects.select_related("sending", "receiving").get(code="US-SV-2025")
    return sum(d["total_days"] for d in invoice_documents(agreement, MONTHS))


def habeas_year_each() -> int:
    """The twelve monthly documents of twelve separate ``invoice_document`` calls."""
    from habeas.agreements.models import Agreement
    from habeas.billing.compute import invoice_document

    agreement = Agreement.objects.select_related("sending", "receiving").get(code="US-SV-2025")
    return sum(invoice_document(agreement, m)["total_days"] for m in MONTHS)


def same_documents() -> bool:
    """Each document of ``invoice_documents`` is the one ``invoice_document`` gives alone."""
    from habeas.agreements.models import Agreement
    from habeas.billing.compute import invoice_document, invoice_documents

    agreement = Agreement.objects.select_related("sending", "receiving").get(code="US-SV-2025")
    together = invoice_documents(agreement, MONTHS)
    return together == [invoice_document(agreement, m) for m in MONTHS]


def habeas_small() -> int:
    from habeas.agreements.models import Agreement
    from habeas.billing.compute import invoice_document

    agreement = Agreement.objects.select_related("sending", "receiving").get(code="GT-SV-BENCH")
    return int(invoice_document(agreement, SMALL_MONTH)["total_days"])


def naive(code: str, months: list[str]) -> int:
    """The per-day loop: every episode's days walked one by one in local time."""
    from zoneinfo import ZoneInfo

    from habeas.agreements.models import Agreement
    from habeas.billing.compute import period_bounds
    from habeas.custody.models import CustodyEpisode

    agreement = Agreement.objects.get(code=code)
    total = 0
    for month in months:
        first, last = period_bounds(month)
        first = max(first, agreement.starts)
        last = min(last, agreement.ends) if agreement.ends else last
        rows = CustodyEpisode.objects.filter(agreement__code=code).values_list(
            "person_id", "admitted_at", "released_at", "facility__timezone"
        )
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
    h_year = report.add("habeas_year", "Habeas invoice_documents, 12 months", PEOPLE, "people")
    h_each = report.add(
        "habeas_year_each", "Habeas invoice_document x 12, one call a month", PEOPLE, "people"
    )
    n_year = report.add("naive_year", "baseline: naive per-day loop, 12 months", PEOPLE, "people")
    h_small = report.add(
        "habeas_small", "Habeas invoice_document, 300-person month", SMALL, "people"
    )
    n_small = report.add("naive_small", "baseline: naive per-day loop, 300-person month", SMALL, "people")  # fmt: skip
    common.log(f"billing: preparing {PEOPLE:,} people ({env.engine})")
    env.fresh_database()
    habeas_setup()
    populate(random.Random(SEED))
    assert same_documents(), "invoice_documents differs from invoice_document month by month"
    person_days = 0
    for number in range(runs):
        common.log(f"billing: run {number + 1}/{runs} ({env.engine})")
        person_days = common.timed(h_year, habeas_year)
        assert common.timed(h_each, habeas_year_each) == person_days
        small_days = common.timed(h_small, habeas_small)
        assert common.timed(n_small, naive, "GT-SV-BENCH", [SMALL_MONTH]) == small_days
        if number == 0:
            assert common.timed(n_year, naive, "US-SV-2025", MONTHS) == person_days
        else:  # the naive year takes a minute a run: measured once
            n_year.seconds.append(n_year.seconds[0])
            n_year.cpu_seconds.append(n_year.cpu_seconds[0])
    report.notes.append(
        f"{person_days:,} person-days billed over the twelve months; the naive loop counts the"
        " same (checked)"
    )
    report.ratio("Habeas year / naive per-day loop", "habeas_year", "naive_year")
    report.ratio("Habeas year, a call a month / naive", "habeas_year_each", "naive_year")
    report.ratio("Habeas 300-person month / naive", "habeas_small", "naive_small")
    report.targets.append(
        common.Target(
            f"a year of {PEOPLE:,} people month by month <= {YEAR_TARGET:.0f} s",
            h_year.median <= YEAR_TARGET,
            f"median {h_year.median:.3f} s",
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
        common.profile(f"invoice_document, 12 months ({env.engine})", habeas_year, report=report)
    return report


if __name__ == "__main__":
    sys.exit(common.main(run, __doc__ or "", DEFAULT_RUNS))
