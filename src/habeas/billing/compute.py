"""The month's invoice from custody intervals and the agreement's fee schedule (INTERFACES.md,
``invoice``; STANDARDS.md, Billing: a monthly itemised invoice listing each detainee's name,
identifier, dates of detention, detainee-days × rate, other charges).

One line per person, stay and rate: a rate change inside the month splits the person's days
into two lines, a release and readmission gives a line per stay. The fixed monthly fee and
each tier have their own line. The document is the JSON contract; an issued invoice stores it
as it was computed, with the ledger root it was computed from.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from operator import itemgetter
from typing import Any

import numpy as np
from django.db import connection

from habeas.agreements.models import Agreement
from habeas.billing import daycount
from habeas.billing.daycount import Ranges, day_number, day_of
from habeas.billing.schedule import Segment, minor_units, round_money, schedule
from habeas.custody.models import CustodyEpisode
from habeas.ledger.services import ledger_root, ledger_size
from habeas.people.models import PersonIdentifier

PERSON_DAYS = "person_days"
MONTHLY_FEE = "monthly_fee"
TIER = "tier"


def period_bounds(period: str) -> tuple[dt.date, dt.date]:
    """``YYYY-MM`` → its first and last day."""
    try:
        year, month = (int(p) for p in period.split("-"))
        first = dt.date(year, month, 1)
    except (ValueError, TypeError):
        raise ValueError(f"period {period!r} is not YYYY-MM") from None
    return first, dt.date(year, month, calendar.monthrange(year, month)[1])


def months_between(first: dt.date, last: dt.date) -> list[str]:
    """The months ``YYYY-MM`` from the one of ``first`` to the one of ``last``."""
    months = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


@dataclass(frozen=True)
class Intervals:
    """An agreement's custody intervals as arrays (local days in each facility's zone)."""

    person: daycount.Days
    arrive: daycount.Days
    depart: daycount.Days


def _window(first: dt.date, last: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The instants around ``first … last`` that any local day of it may fall in (a day of
    margin on each side covers every time zone)."""
    since = dt.datetime.combine(first - dt.timedelta(days=2), dt.time(), dt.UTC)
    until = dt.datetime.combine(last + dt.timedelta(days=2), dt.time(), dt.UTC)
    return since, until


def _epoch(column: str) -> str:
    """SQL for whole seconds since the epoch of a time column, computed by the database."""
    if connection.vendor == "postgresql":
        return f"CAST(FLOOR(EXTRACT(EPOCH FROM {column})) AS BIGINT)"
    return f"CAST(strftime('%%s', {column}) AS INTEGER)"


@dataclass(frozen=True)
class Held:
    """The episodes under an agreement around a span of days, read in one query: person,
    facility, admission and release (−1 while open) as epoch seconds, and the name and the
    sending state's reference of each person held."""

    person: daycount.Days
    facility: daycount.Days
    admitted: daycount.Days
    released: daycount.Days
    names: dict[int, str]
    refs: dict[int, str]

    def within(self, first: dt.date, last: dt.date) -> Intervals:
        """The episodes that may touch ``first … last`` (those :func:`_window` selects), as
        local days in each facility's zone."""
        since, until = (int(t.timestamp()) for t in _window(first, last))
        keep = (self.admitted < until) & ((self.released < 0) | (self.released >= since))
        return _local(
            self.person[keep], self.facility[keep], self.admitted[keep], self.released[keep]
        )


def read_held(agreement: Agreement, first: dt.date, last: dt.date) -> Held:
    """The episodes under ``agreement`` that may touch ``first … last``, with the names and
    references of their people, in one query (the name is joined by the database; the
    reference is the first recorded for the sending state).

    On PostgreSQL the reference is joined as a set (each person's first identifier of the
    sending state, grouped once for the people ever held under the agreement): a correlated
    subquery per episode let it, with no statistics yet after a bulk load, intersect the
    person index with the whole of the authority's index for every row, quadratic in the
    people held. SQLite runs the correlated subquery on the person index, faster than the
    grouping (docs/benchmarks.md, "Billing on PostgreSQL")."""
    from habeas.people.models import Person

    since, until = _window(first, last)
    adapt = connection.ops.adapt_datetimefield_value
    e = CustodyEpisode._meta.db_table
    p = Person._meta.db_table
    i = PersonIdentifier._meta.db_table
    admitted_s, released_s = _epoch("e.admitted_at"), _epoch("e.released_at")
    ref_params: list[Any] = [agreement.sending.code]
    if connection.vendor == "postgresql":
        ref_sql = "i.value"
        joins = (
            f"LEFT JOIN (SELECT f.person_id, MIN(f.id) AS id FROM {i} f "  # noqa: S608
            f"WHERE f.authority = %s AND f.person_id IN "
            f"(SELECT h.person_id FROM {e} h WHERE h.agreement_id = %s) GROUP BY f.person_id) r "
            f"ON r.person_id = e.person_id LEFT JOIN {i} i ON i.id = r.id "
        )
        ref_params.append(agreement.pk)
    else:
        ref_sql = (
            f"(SELECT i.value FROM {i} i WHERE i.person_id = e.person_id AND i.authority = %s "  # noqa: S608
            "ORDER BY i.id LIMIT 1)"
        )
        joins = ""
    # Integers read into arrays, text into dictionaries. Table names from the models'
    # metadata, values as parameters.
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT e.person_id, e.facility_id, {admitted_s}, COALESCE({released_s}, -1), "  # noqa: S608
            "CASE WHEN p.erased_at IS NULL THEN TRIM(p.given_names || ' ' || "
            f"p.first_surname || ' ' || p.second_surname) ELSE '' END, {ref_sql} "
            f"FROM {e} e JOIN {p} p ON p.id = e.person_id {joins}WHERE e.agreement_id = %s "
            "AND e.admitted_at < %s AND (e.released_at IS NULL OR e.released_at >= %s)",
            [*ref_params, agreement.pk, adapt(until), adapt(since)],
        )
        rows = cursor.fetchall()
    if not rows:
        empty = np.empty(0, dtype=np.int64)
        return Held(empty, empty, empty, empty, {}, {})
    person, facility, admitted, released, name, ref = zip(*rows, strict=True)
    names = dict(zip(person, name, strict=True))
    refs = {k: v for k, v in zip(person, ref, strict=True) if v is not None}
    return Held(
        np.asarray(person, dtype=np.int64),
        np.asarray(facility, dtype=np.int64),
        np.asarray(admitted, dtype=np.int64),
        np.asarray(released, dtype=np.int64),
        names,
        refs,
    )


def _local(
    person: daycount.Days, facility: daycount.Days, admitted: daycount.Days, released: daycount.Days
) -> Intervals:
    """Arrival and departure as local days in each facility's zone."""
    from habeas.facilities.models import Facility

    arrive = np.zeros(person.size, dtype=np.int64)
    depart = np.full(person.size, daycount.OPEN, dtype=np.int64)
    closed = released >= 0
    zones = dict(
        Facility.objects.filter(pk__in=np.unique(facility).tolist()).values_list("pk", "timezone")
    )
    for pk, zone in zones.items():
        here = facility == pk
        arrive[here] = daycount.local_days(admitted[here], zone)
        out = here & closed
        depart[out] = daycount.local_days(released[out], zone)
    return Intervals(person.copy(), arrive, depart)


def intervals(agreement: Agreement, first: dt.date, last: dt.date) -> Intervals:
    """The episodes under ``agreement`` that may touch ``first … last``, read as arrays."""
    return read_held(agreement, first, last).within(first, last)


def billed(data: Intervals, convention: str, first: int, last: int) -> Ranges:
    """The billed days of each person inside ``first … last``, merged (a day once)."""
    start, end = daycount.billed_ranges(data.arrive, data.depart, convention)
    return daycount.clip(daycount.merge(data.person, start, end), first, last)


def _money(value: Decimal, currency: str) -> str:
    return str(round_money(value, currency))


def _people(
    agreement: Agreement, first: dt.date, last: dt.date
) -> tuple[dict[int, str], dict[int, str]]:
    """Names and the sending state's references of the people held under the agreement
    around ``first … last`` (two queries; the name is joined by the database)."""
    from habeas.people.models import Person

    e = CustodyEpisode._meta.db_table
    p = Person._meta.db_table
    i = PersonIdentifier._meta.db_table
    since, until = _window(first, last)
    adapt = connection.ops.adapt_datetimefield_value
    # Table names from the models' metadata, values as parameters.
    held = (
        f"SELECT e.person_id FROM {e} e WHERE e.agreement_id = %s AND e.admitted_at < %s "  # noqa: S608
        "AND (e.released_at IS NULL OR e.released_at >= %s)"
    )
    window = [agreement.pk, adapt(until), adapt(since)]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT p.id, CASE WHEN p.erased_at IS NULL THEN TRIM(p.given_names || ' ' || "  # noqa: S608
            f"p.first_surname || ' ' || p.second_surname) ELSE '' END FROM {p} p "
            f"WHERE p.id IN ({held})",
            window,
        )
        names: dict[int, str] = dict(cursor.fetchall())
        cursor.execute(
            f"SELECT i.person_id, i.value FROM {i} i WHERE i.authority = %s "  # noqa: S608
            f"AND i.person_id IN ({held}) ORDER BY i.id DESC",
            [agreement.sending.code, *window],
        )
        refs: dict[int, str] = dict(cursor.fetchall())  # the first recorded wins (read last)
    return names, refs


def _iso(days: daycount.Days) -> list[str]:
    """ISO dates of day numbers, converted by numpy in one call."""
    return np.datetime_as_string(days.astype("datetime64[D]")).tolist()


def _iso_each(days: daycount.Days) -> list[str]:
    """ISO dates of day numbers, each distinct day converted once."""
    unique, at = np.unique(days, return_inverse=True)
    text = _iso(unique)
    return [text[i] for i in at.tolist()]


def compute_lines(
    agreement: Agreement,
    data: Intervals,
    first: dt.date,
    last: dt.date,
    segments: list[Segment],
    people: tuple[dict[int, str], dict[int, str]] | None = None,
) -> tuple[list[dict[str, Any]], int]:
    """Person lines and the fee and tier lines, and the person-days. With ``people`` (names
    and references) the person lines carry their reference and name, else :func:`finish`
    adds them."""
    currency = agreement.currency
    lo, hi = day_number(first), day_number(last)
    ranges = billed(data, agreement.day_count, lo, hi)
    parts = daycount.split(ranges, [(s.first, s.last) for s in segments])
    days = parts.last - parts.first + 1
    rates = [str(s.terms.rate) for s in segments]
    # The text of each distinct value computed once: a month has a few dozen amounts (one
    # per rate and number of days) and at most 31 first and last days, not one per line.
    key = days * len(segments) + parts.segment
    unique, at = np.unique(key, return_inverse=True)
    text = [
        _money(segments[k % len(segments)].terms.rate * (k // len(segments)), currency)
        for k in unique.tolist()
    ]
    amount = [text[i] for i in at.tolist()]
    firsts, lasts = _iso_each(parts.first), _iso_each(parts.last)
    person = parts.person.tolist()
    ids = {p: str(p) for p in set(person)}
    lines: list[dict[str, Any]]
    if people is None:
        lines = [
            {
                "kind": PERSON_DAYS,
                "person": ids[p],
                "first_day": a,
                "last_day": b,
                "days": n,
                "rate": rates[seg],
                "amount": m,
            }
            for p, a, b, n, seg, m in zip(
                person, firsts, lasts, days.tolist(), parts.segment.tolist(), amount, strict=True
            )
        ]
    else:
        names, refs = people
        lines = [
            {
                "kind": PERSON_DAYS,
                "person": ids[p],
                "first_day": a,
                "last_day": b,
                "days": n,
                "rate": rates[seg],
                "amount": m,
                "sending_ref": refs.get(p, ""),
                "name": names.get(p, ""),
            }
            for p, a, b, n, seg, m in zip(
                person, firsts, lasts, days.tolist(), parts.segment.tolist(), amount, strict=True
            )
        ]
    total_days = int(days.sum())
    for s in segments:
        tiers = s.terms.tiers
        above = [daycount.headcount_above(ranges, t.above, s.first, s.last) for t in tiers]
        for i, tier in enumerate(tiers):
            # Person-days above this tier's threshold and up to the next one's.
            n = above[i] - (above[i + 1] if i + 1 < len(tiers) else 0)
            if n <= 0:
                continue
            step = tier.rate - s.terms.rate
            lines.append(
                {
                    "kind": TIER,
                    "person": None,
                    "tier_above": tier.above,
                    "first_day": day_of(s.first).isoformat(),
                    "last_day": day_of(s.last).isoformat(),
                    "days": n,
                    "rate": str(step),
                    "amount": _money(step * n, currency),
                }
            )
        if s.terms.monthly_fee and s.first == lo:
            lines.append(
                {
                    "kind": MONTHLY_FEE,
                    "person": None,
                    "first_day": first.isoformat(),
                    "last_day": last.isoformat(),
                    "days": 0,
                    "rate": str(s.terms.monthly_fee),
                    "amount": _money(s.terms.monthly_fee, currency),
                }
            )
    return lines, total_days


def term_window(agreement: Agreement, first: dt.date, last: dt.date) -> tuple[dt.date, dt.date]:
    """The part of the month when the agreement is in force (may be empty: last < first)."""
    lo = max(first, agreement.starts)
    hi = min(last, agreement.ends) if agreement.ends else last
    return lo, hi


def invoice_document(agreement: Agreement, period: str) -> dict[str, Any]:
    """The draft invoice of ``period`` as the JSON document of INTERFACES.md (extended with
    the parties, the kind of each line, the day count and the rounding rule)."""
    return invoice_documents(agreement, [period])[0]


def invoice_documents(agreement: Agreement, periods: Sequence[str]) -> list[dict[str, Any]]:
    """The draft invoices of several months, each the document :func:`invoice_document`
    gives for its month: the episodes, names and references are read once for the span of
    all the months, and each month takes the episodes its own window selects."""
    size = ledger_size()
    root = ledger_root(size).hex()
    spans = [term_window(agreement, *period_bounds(period)) for period in periods]
    live = [(lo, hi) for lo, hi in spans if lo <= hi]
    held = (
        read_held(agreement, min(lo for lo, _ in live), max(hi for _, hi in live)) if live else None
    )
    people = (held.names, held.refs) if held is not None else ({}, {})
    documents = []
    for period, (lo, hi) in zip(periods, spans, strict=True):
        lines: list[dict[str, Any]] = []
        total_days = 0
        if held is not None and lo <= hi:
            data = held.within(lo, hi)
            terms = schedule(agreement, lo, hi)
            lines, total_days = compute_lines(agreement, data, lo, hi, terms, people)
        documents.append(
            finish(agreement, period, lines, total_days, root=root, size=size, people=people)
        )
    return documents


def finish(
    agreement: Agreement,
    period: str,
    lines: list[dict[str, Any]],
    total_days: int,
    *,
    root: str,
    size: int,
    kind: str = "invoice",
    people: tuple[dict[int, str], dict[int, str]] | None = None,
) -> dict[str, Any]:
    """Names, references and totals added to computed lines; lines in a stable order: the
    person lines by reference, then the others. ``people`` is the names and references
    already read for the month (else read here)."""
    if people is None:
        people = _people(agreement, *period_bounds(period))
    names, refs = people
    persons: list[dict[str, Any]] = []
    others: list[dict[str, Any]] = []
    for line in lines:
        person = line.get("person")
        if "sending_ref" not in line:  # else already named by compute_lines
            if person:
                key = int(person)
                line["sending_ref"] = refs.get(key, "")
                line["name"] = names.get(key, "")
            else:
                line["sending_ref"] = ""
                line["name"] = LABELS[line["kind"]].format(n=line.get("tier_above"))
        (persons if line["kind"] == PERSON_DAYS else others).append(line)
    # Stable sorts: the order of ``(kind != PERSON_DAYS, sending_ref)``.
    persons.sort(key=itemgetter("sending_ref"))
    others.sort(key=itemgetter("sending_ref"))
    lines[:] = persons + others
    # The same amount recurs on many lines: each distinct amount is parsed once.
    counts = Counter(line["amount"] for line in lines)
    total = sum((Decimal(amount) * n for amount, n in counts.items()), Decimal(0))
    return {
        "kind": kind,
        "agreement": agreement.code,
        "sending": agreement.sending.code,
        "receiving": agreement.receiving.code,
        "period": period,
        "currency": agreement.currency,
        "status": "draft",
        "number": None,
        "refers_to": None,
        "issued_at": None,
        "ledger_root": root,
        "ledger_size": size,
        "day_count": agreement.day_count,
        "rounding": f"half-up, per line, to {minor_units(agreement.currency)} decimals",
        "lines": lines,
        "total_days": total_days,
        "total": _money(total, agreement.currency),
    }


#: The name column of the lines that bill no person (the document is the same in every
#: language; pages show these translated).
LABELS = {
    MONTHLY_FEE: "Fixed monthly fee",
    TIER: "Tier: person-days above {n} people held, at the difference of rates",
}
