"""Benchmark: the ``no_contact`` alarm and the gate's day's visit list (docs/benchmarks.md,
docs/contact.md).

Data (untimed, on a fresh database): the demo setup (facility TEC) plus a second facility BIG;
1,000,000 people held in TEC (open episodes admitted over 400 days; 70 % nationals, 30 %
Venezuelan), with their last contact kept as the contact services keep it (97 % within the
last 29 days, 3 % from 31 to 90 days ago; the foreign nationals' consulates in contact but one
in a thousand); and 40,000 people held in BIG with 30 visiting days of 2,000 family visits
each (60,000 visits, their visitors), the measured day among them. Rows are inserted with
``INSERT … SELECT`` over a counter (the benchmark measures the alarm and the list, not the
services: tests/contact covers those).

Measured (Habeas): ``habeas.contact.alarms.no_contact_alerts`` over TEC — rules A8.1 (no
visit, call or letter for 30 days) and A8.2 (consulate neither notified nor in contact) in one
set-based pass over the open episodes joined to the last contact, A8.3 (consular access
withheld) one query over the people a consul asked to visit; and the gate's list of one day at
BIG: the whole page as gate staff get it (``GET /contact/BIG/?day=…``: the day's counts per
slot and status, and the first page of 100 visits of the slot, with their action forms), its
rows' selector (``gate_rows``), and the whole day's 2,000 visits as the API reads them
(``day_visits``).

Baselines, in the same process, on the same rows: A8.1 the naive way — every open episode and
every last contact read into Python and compared there (checked to find the same people); and
the day's list without ``select_related`` (one query per visit for the person and one for the
visitor, as a first version would do).

Targets (issue 16): the evaluation over 1,000,000 open episodes ≤ 10 s on SQLite; the day's
visit list for a 40,000-person facility ≤ 150 ms.

Usage: ``python benchmarks/bench_contact.py [--postgres] [--runs N] [--profile] [--json F]``.
"""

from __future__ import annotations

import datetime as dt
import sys
from typing import Any

import _common as common

PEOPLE = 1_000_000
BIG_PEOPLE = 40_000
VISIT_DAYS = 30
VISITS_A_DAY = 2_000
DEFAULT_RUNS = 3
EVAL_TARGET = 10.0
DAY_TARGET = 0.150
DEMO_SETUP = common.ROOT / "src/habeas/web/data/demo_setup.toml"
EXTRA = """
[[facility]]
code = "BIG"
name = "Benchmark centre"
jurisdiction = "SV"
timezone = "America/El_Salvador"
space_standard = "icrc"
visiting_slots = [{day = "saturday", start = "08:00", end = "16:00", capacity = 100000}]

[[facility.module]]
code = "B1"
population = "adult_male"
regime = "criminal"
cells = [{code = "B1-01", floor_area_m2 = 100.0, max_capacity = 100, working_capacity = 100}]
"""
#: The measured Saturday, and the instant the data is built around.
DAY = dt.date(2026, 6, 6)
NOW = dt.datetime(2026, 6, 10, 12, 0, tzinfo=dt.UTC)


def habeas_setup() -> None:
    import tomllib

    from habeas.core.actor import Actor
    from habeas.facilities.setup import setup_apply
    from habeas.facilities.setup_schema import parse_setup

    text = DEMO_SETUP.read_text(encoding="utf-8") + EXTRA
    setup_apply(actor=Actor.system("bench"), document=parse_setup(tomllib.loads(text), name="b"))


def _counter(n: int) -> str:
    return f"WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < {n}) "


def _minus_days(vendor: str, base: str, days: str) -> str:
    """``base`` (an instant literal) minus ``days`` (an SQL integer or real expression)."""
    if vendor == "postgresql":
        return f"(TIMESTAMPTZ '{base}' - ({days}) * INTERVAL '1 day')"
    return f"strftime('%Y-%m-%d %H:%M:%S', '{base}', '-' || ({days}) || ' days')"


def populate() -> None:
    """People, episodes, last contacts, visitors and visits, inserted in SQL inside a
    service (the write guard open)."""
    from django.db import connection

    from habeas.core.services import service
    from habeas.facilities.models import Facility

    vendor = connection.vendor
    base = NOW.strftime("%Y-%m-%d %H:%M:%S")

    def write() -> None:
        tec = Facility.objects.get(code="TEC").pk
        big = Facility.objects.get(code="BIG").pk
        with connection.cursor() as cur:
            for count, nat_mod in ((PEOPLE, 10), (BIG_PEOPLE, 10)):
                cur.execute(
                    _counter(count)
                    + "INSERT INTO people_person (given_names, first_surname, second_surname,"
                    " aliases, date_of_birth, dob_precision, sex, nationalities, language,"
                    " created_at, erased_at, match_key_a, match_key_gd, match_key_d1,"
                    " match_key_d2, match_key_p, match_key_y1, match_key_y2, name_keys)"
                    " SELECT 'José', 'Pérez' || x, 'Ramírez', '[]', NULL, '', 'M',"
                    f" CASE WHEN x % {nat_mod} < 7 THEN '[\"SV\"]' ELSE '[\"VE\"]' END, '',"
                    f" '{base}', NULL, '', '', '', '', '', '', '', '' FROM c"
                )
            cur.execute("SELECT MIN(id), MAX(id) FROM people_person")
            first, last = cur.fetchone()
            split = first + PEOPLE
            admitted = _minus_days(vendor, base, "1 + (id % 400)")
            for facility, low, high in ((tec, first, split - 1), (big, split, last)):
                cur.execute(
                    "INSERT INTO custody_custodyepisode (person_id, facility_id, agreement_id,"
                    " admitted_at, released_at, release_reason, release_destination,"
                    f" release_note) SELECT id, {facility}, NULL, {admitted}, NULL, '', '', ''"
                    f" FROM people_person WHERE id BETWEEN {low} AND {high}"
                )
            recent = _minus_days(vendor, base, "id % 29")
            stale = _minus_days(vendor, base, "31 + (id % 60)")
            consular = _minus_days(vendor, base, "id % 400")
            cur.execute(
                "INSERT INTO contact_lastcontact (person_id, last_contact_at, last_consular_at)"
                f" SELECT id, CASE WHEN id % 100 < 97 THEN {recent} ELSE {stale} END,"
                f" CASE WHEN id % 1000 = 7 THEN NULL ELSE {consular} END FROM people_person"
            )
            visits = VISIT_DAYS * VISITS_A_DAY
            cur.execute(
                _counter(visits)
                + "INSERT INTO contact_visitor (person_id, kind, name, relation, id_document,"
                f" country, registered_at) SELECT {split} + (x % {BIG_PEOPLE}), 'family',"
                f" 'Visitante ' || x, 'madre', 'DUI ' || x, '', '{base}' FROM c"
            )
            cur.execute("SELECT MIN(id) FROM contact_visitor")
            (v0,) = cur.fetchone()
            # Saturdays back from DAY at 08:00 local (14:00 UTC), the measured one the first.
            day0 = dt.datetime.combine(DAY, dt.time(14, 0)).strftime("%Y-%m-%d %H:%M:%S")
            starts = _minus_days(vendor, day0, f"7 * ((id - {v0}) / {VISITS_A_DAY})")
            cur.execute(
                "INSERT INTO contact_visit (facility_id, person_id, visitor_id, kind, status,"
                " source, starts_at, requested_at, decided_at, took_place_at, reason, note,"
                f" recorded_by) SELECT {big}, person_id, id, 'family',"
                f" CASE WHEN id - {v0} < {VISITS_A_DAY} THEN 'booked' ELSE 'took_place' END,"
                f" 'staff', {starts}, '{base}', '{base}',"
                f" CASE WHEN id - {v0} < {VISITS_A_DAY} THEN NULL ELSE {starts} END, '', '',"
                " 'bench' FROM contact_visitor"
            )

    service(write)()
    if vendor == "sqlite":
        with connection.cursor() as cur:
            cur.execute("ANALYZE")


def habeas_evaluate() -> dict[str, int]:
    from habeas.contact.alarms import no_contact_alerts
    from habeas.facilities.models import Facility

    found = no_contact_alerts([Facility.objects.get(code="TEC")], None, True)
    counts: dict[str, int] = {}
    for alert in found:
        counts[alert.rule_id] = counts.get(alert.rule_id, 0) + 1
    return counts


def naive_evaluate() -> int:
    """A8.1 in Python: every open episode and every last contact read and compared."""
    from habeas.contact.alarms import no_contact_days
    from habeas.contact.models import LastContact
    from habeas.core.clock import now
    from habeas.custody.models import CustodyEpisode

    cutoff = now() - dt.timedelta(days=no_contact_days())
    last = dict(LastContact.objects.values_list("person_id", "last_contact_at").iterator(10_000))
    found = 0
    rows = CustodyEpisode.objects.filter(released_at__isnull=True, facility__code="TEC")
    for person_id, admitted_at in rows.values_list("person_id", "admitted_at").iterator(10_000):
        if (last.get(person_id) or admitted_at) < cutoff:
            found += 1
    return found


class _Oversight:
    is_authenticated = True
    is_superuser = False
    role = "oversight"
    facility_codes: list[str] = []


def habeas_day() -> int:
    from habeas.contact.selectors import day_visits
    from habeas.facilities.models import Facility

    return len(day_visits(_Oversight(), Facility.objects.get(code="BIG"), DAY))


def habeas_gate_rows() -> int:
    from habeas.contact.schedule import dated_slots
    from habeas.contact.selectors import gate_rows
    from habeas.facilities.models import Facility

    big = Facility.objects.get(code="BIG")
    starts = [s.starts_at for s in dated_slots(big, DAY, 1)]
    rows = gate_rows(_Oversight(), big, DAY, slot_start=starts[0], slot_starts=starts)
    return len(rows)


def naive_day() -> int:
    """The list as a first version would read it: each row's person and visitor loaded
    one query at a time."""
    from habeas.contact.models import Visit
    from habeas.contact.schedule import local_day_bounds
    from habeas.facilities.models import Facility

    big = Facility.objects.get(code="BIG")
    start, end = local_day_bounds(big, DAY)
    rows = 0
    for visit in Visit.objects.filter(facility=big, starts_at__gte=start, starts_at__lt=end):
        rows += bool(visit.person.first_surname) + bool(visit.visitor.name) - 1
    return rows


def page_client() -> Any:
    from django.test import Client

    from habeas.accounts.services import user_create
    from habeas.core.actor import Actor

    user = user_create(
        actor=Actor.system("bench"), username="gate", password="gate-bench-long-passphrase",
        role="facility_staff", facility_codes=["BIG"],
    )  # fmt: skip
    client = Client()
    client.force_login(user)
    return client


def habeas_page(client: Any) -> int:
    response = client.get(f"/contact/BIG/?day={DAY.isoformat()}", HTTP_HOST="127.0.0.1")
    assert response.status_code == 200, response.status_code
    return len(response.content)


def run(env: common.Env, runs: int, profile: bool = False) -> common.Report:
    from unittest import mock

    report = common.Report(bench="contact", engine=env.engine)
    h_eval = report.add("habeas_no_contact", "Habeas no_contact A8.1-A8.3, TEC", PEOPLE, "episodes")
    n_eval = report.add("naive_no_contact", "baseline: A8.1 compared in Python", PEOPLE, "episodes")
    h_page = report.add(
        "habeas_day_page", "Habeas gate's list page (HTML, 100 rows)", 100, "visits"
    )
    h_rows = report.add("habeas_gate_rows", "Habeas gate's rows (one page)", 100, "visits")
    h_day = report.add("habeas_day", "Habeas day's visits (API selector)", VISITS_A_DAY, "visits")
    n_day = report.add("naive_day", "baseline: day's visits, N+1 reads", VISITS_A_DAY, "visits")
    common.log(f"contact: preparing {PEOPLE:,} + {BIG_PEOPLE:,} people ({env.engine})")
    env.fresh_database()
    with mock.patch("habeas.core.clock.timezone.now", return_value=NOW):
        habeas_setup()
        populate()
        client = page_client()
        counts: dict[str, int] = {}
        for number in range(runs):
            common.log(f"contact: run {number + 1}/{runs} ({env.engine})")
            counts = common.timed(h_eval, habeas_evaluate)
            common.log(f"contact: no_contact {h_eval.seconds[-1]:.2f} s: {counts}")
            assert common.timed(n_eval, naive_evaluate) == counts.get("A8.1", 0)
            assert common.timed(h_day, habeas_day) == VISITS_A_DAY
            common.timed(h_page, habeas_page, client)
            for _ in range(4):  # the page and its rows are short: more samples for the median
                common.timed(h_page, habeas_page, client)
                assert common.timed(h_rows, habeas_gate_rows) == 100
            assert common.timed(n_day, naive_day) == VISITS_A_DAY
        if profile:
            common.profile(
                f"no_contact over {PEOPLE:,} ({env.engine})", habeas_evaluate, report=report
            )
    report.notes.append(
        "alarms found: "
        + ", ".join(f"{k} {v:,}" for k, v in sorted(counts.items()))
        + "; the Python baseline finds the same A8.1 people (checked)"
    )
    report.ratio("Habeas no_contact / naive Python", "habeas_no_contact", "naive_no_contact")
    report.ratio("Habeas day's visits / N+1 reads", "habeas_day", "naive_day")
    report.ratio(
        "Habeas gate page (100 rows) / N+1 reads of the day", "habeas_day_page", "naive_day"
    )
    report.targets.append(
        common.Target(
            f"no_contact over {PEOPLE:,} open episodes <= {EVAL_TARGET:.0f} s",
            h_eval.median <= EVAL_TARGET,
            f"median {h_eval.median:.2f} s",
        )
    )
    report.targets.append(
        common.Target(
            f"the day's visit list of a {BIG_PEOPLE:,}-person facility <= {DAY_TARGET * 1000:.0f} ms",
            h_page.median <= DAY_TARGET,
            f"whole page median {h_page.median * 1000:.0f} ms (CPU {h_page.cpu_median * 1000:.0f} ms);"
            f" its rows {h_rows.median * 1000:.1f} ms; the whole day's 2,000 for the API"
            f" {h_day.median * 1000:.0f} ms",
        )
    )
    return report


if __name__ == "__main__":
    sys.exit(common.main(run, __doc__ or "", DEFAULT_RUNS))
