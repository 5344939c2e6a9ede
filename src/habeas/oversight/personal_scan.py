"""Is any personal data on the ledger in clear? (ARCHITECTURE.md, "Personal data and the
ledger"; docs/ledger.md.)

Reads the bodies that only the tables hold — names, dates of birth, identifiers, relatives'
names, phone numbers and e-mail addresses, injuries, complaints, property, free text of the
Rule 7 record — and looks for each in the text of every ledger entry. Run by the test suite on
the small demo and by ``benchmarks/scan_personal_data.py`` on the full one.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from django.db import connection

from habeas.people.models import Person, PersonIdentifier
from habeas.transfers.models import AdmissionRecord, Notification

#: Shorter values are not searched: they occur in any text ("Ana" in "Analyst", "M" …).
MIN_LENGTH = 5


@dataclass(frozen=True)
class Finding:
    entry: int
    kind: str
    value: str


def personal_values() -> Iterator[tuple[str, str]]:
    """(kind, value) for every personal value in the tables, long enough to search."""
    for row in Person.objects.values_list(
        "given_names", "first_surname", "second_surname", "date_of_birth"
    ).iterator(chunk_size=10_000):
        given, first, second, born = row
        yield "name", f"{given} {first}".strip()
        for part in (first, second):
            yield "surname", part
        if born is not None:
            yield "date of birth", born.isoformat()
    # A sending reference is the sending state's code for the case, the name a manifest row
    # goes by (a public fact, like the registry id); other identifiers (passport, national
    # identity numbers) are personal.
    for value in PersonIdentifier.objects.exclude(kind="sending_ref").values_list(
        "value", flat=True
    ):
        yield "identifier", value
    for record in AdmissionRecord.objects.values_list(
        "contact_name", "contact_phone", "contact_email", "visible_injuries",
        "ill_treatment_complaint", "arrest_place",
    ).iterator(chunk_size=10_000):  # fmt: skip
        kinds = ("contact name", "phone", "e-mail", "injury", "complaint", "arrest place")
        yield from zip(kinds, record, strict=True)
    for recipient in Notification.objects.values_list("recipient", flat=True):
        yield "notification recipient", recipient


def scan(*, limit: int = 20) -> tuple[int, int, list[Finding]]:
    """Search every entry for every personal value. Returns (values searched, entries
    read, findings): one pass over the entries, each searched with one compiled alternation
    of the escaped values, longest first (an audit, not a hot path: about ten minutes for the
    full demo's 80,000 entries and 16,000 distinct values on the reference machine)."""
    values: dict[str, str] = {}
    for kind, value in personal_values():
        value = (value or "").strip()
        if len(value) >= MIN_LENGTH and not value.startswith("consulate of "):
            values.setdefault(value, kind)
    findings: list[Finding] = []
    if not values:
        return 0, 0, findings
    pattern = re.compile("|".join(re.escape(v) for v in sorted(values, key=len, reverse=True)))
    read = 0
    last = -1
    with connection.cursor() as cursor:
        while True:
            cursor.execute(
                'SELECT "index", canonical FROM ledger_ledgerentry WHERE "index" > %s '
                'ORDER BY "index" LIMIT 20000',
                [last],
            )
            rows = cursor.fetchall()
            if not rows:
                break
            for index, text in rows:
                read += 1
                for match in pattern.finditer(text):
                    findings.append(Finding(int(index), values[match.group(0)], match.group(0)))
                    if len(findings) >= limit:
                        return len(values), read, findings
            last = int(rows[-1][0])
    return len(values), read, findings
