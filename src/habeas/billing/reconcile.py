"""Reconciliation of a month with the sending state's own list (INTERFACES.md, ``reconcile``:
``sending_ref,name,first_day,last_day``).

Each row of their list is matched to a person billed that month: first by reference, folded
(case, spaces, dashes and accents away, so ``a-123 456`` is ``A123456``); what is left by
the identity matcher on the name (``habeas.people.matching``), helped by a reference one or
two keystrokes away. The report lists who was billed but is not on their list, who is on
their list but was not billed, and every difference in days, each with the custody episodes
behind it.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from typing import Any

from rapidfuzz.distance import DamerauLevenshtein

from habeas.agreements.models import Agreement
from habeas.billing.compute import PERSON_DAYS, invoice_document, period_bounds
from habeas.billing.models import DocumentKind, Invoice
from habeas.core.errors import ValidationFailed
from habeas.custody.models import CustodyEpisode
from habeas.people.matching import PersonRecord, fold, score
from habeas.people.models import Person

COLUMNS = ("sending_ref", "name", "first_day", "last_day")
MSG_NO_HEADER = "{file}: the first row must name the columns {columns}"
MSG_MISSING_COLUMN = "{file}: column {column} is missing"
MSG_BAD_DATE = "{file}, row {row}, column {column}: {value!r} is not a date (YYYY-MM-DD)"
MSG_EMPTY = "{file}, row {row}, column {column}: empty"
MSG_ORDER = "{file}, row {row}: last_day {last} is before first_day {first}"
MSG_NOT_CSV = "{file}: not a UTF-8 CSV file"


@dataclass(frozen=True)
class TheirRow:
    row: int
    sending_ref: str
    name: str
    first_day: dt.date
    last_day: dt.date

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1


def parse_theirs(data: bytes | str, *, name: str = "list") -> list[TheirRow]:
    """Their list, refused whole with the row and column at fault."""
    try:
        text = data.decode("utf-8-sig") if isinstance(data, bytes) else data
    except UnicodeDecodeError:
        raise ValidationFailed(MSG_NOT_CSV.format(file=name)) from None
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames:
        raise ValidationFailed(MSG_NO_HEADER.format(file=name, columns=",".join(COLUMNS)))
    header = [h.strip() for h in reader.fieldnames]
    for column in COLUMNS:
        if column not in header:
            raise ValidationFailed(MSG_MISSING_COLUMN.format(file=name, column=column))
    rows = []
    for number, raw in enumerate(reader, start=2):
        values = {(k or "").strip(): (v or "").strip() for k, v in raw.items()}
        days = {}
        for column in ("first_day", "last_day"):
            value = values[column]
            if not value:
                raise ValidationFailed(MSG_EMPTY.format(file=name, row=number, column=column))
            try:
                days[column] = dt.date.fromisoformat(value)
            except ValueError:
                raise ValidationFailed(
                    MSG_BAD_DATE.format(file=name, row=number, column=column, value=value)
                ) from None
        if days["last_day"] < days["first_day"]:
            raise ValidationFailed(
                MSG_ORDER.format(
                    file=name, row=number, first=days["first_day"], last=days["last_day"]
                )
            )
        if not values["sending_ref"] and not values["name"]:
            raise ValidationFailed(MSG_EMPTY.format(file=name, row=number, column="sending_ref"))
        rows.append(TheirRow(number, values["sending_ref"], values["name"], **days))
    return rows


def _ref(value: str) -> str:
    return fold(value).replace(" ", "").upper()


def billed_people(agreement: Agreement, period: str) -> tuple[dict[int, dict[str, Any]], str]:
    """What was billed per person in the month: the issued invoice and its notes, or the
    draft when none was issued."""
    invoice = Invoice.objects.filter(
        agreement=agreement, period=period, kind=DocumentKind.INVOICE
    ).first()
    if invoice is not None:
        documents = [invoice.document, *(n.document for n in invoice.notes.all())]
        source = invoice.number
    else:
        documents = [invoice_document(agreement, period)]
        source = "draft"
    people: dict[int, dict[str, Any]] = {}
    for doc in documents:
        for line in doc["lines"]:
            if line["kind"] != PERSON_DAYS:
                continue
            person = people.setdefault(
                int(line["person"]),
                {
                    "person": line["person"],
                    "sending_ref": line["sending_ref"],
                    "name": line["name"],
                    "first_day": line["first_day"],
                    "last_day": line["last_day"],
                    "days": 0,
                },
            )
            person["days"] += int(line["days"])
            if line["days"] > 0:
                person["first_day"] = min(person["first_day"], line["first_day"])
                person["last_day"] = max(person["last_day"], line["last_day"])
    return {k: v for k, v in people.items() if v["days"]}, source


def _record(ref: str, name: str, person: Person | None = None) -> PersonRecord:
    if person is not None:
        return PersonRecord(
            ref=ref,
            given_names=person.given_names,
            first_surname=person.first_surname,
            second_surname=person.second_surname,
            date_of_birth=None,
        )
    words = name.split()
    return PersonRecord(ref=ref, given_names=" ".join(words[:1]), first_surname=" ".join(words[1:]))


def _episodes(agreement: Agreement, person: int, first: dt.date, last: dt.date) -> list[Any]:
    until = dt.datetime.combine(last + dt.timedelta(days=2), dt.time(), dt.UTC)
    since = dt.datetime.combine(first - dt.timedelta(days=2), dt.time(), dt.UTC)
    found = CustodyEpisode.objects.filter(
        agreement=agreement, person_id=person, admitted_at__lt=until
    ).select_related("facility")
    return [
        {
            "episode": str(e.pk),
            "facility": e.facility.code,
            "admitted_at": e.admitted_at.isoformat(),
            "released_at": e.released_at.isoformat() if e.released_at else None,
            "release_reason": e.release_reason or None,
        }
        for e in found.order_by("admitted_at")
        if e.released_at is None or e.released_at >= since
    ]


def reconcile(agreement: Agreement, period: str, theirs: list[TheirRow]) -> dict[str, Any]:
    """The reconciliation report (a stable JSON document)."""
    first, last = period_bounds(period)
    billed, source = billed_people(agreement, period)
    by_ref = {_ref(b["sending_ref"]): pk for pk, b in billed.items() if b["sending_ref"]}
    matched: dict[int, tuple[TheirRow, str]] = {}
    left: list[TheirRow] = []
    for row in theirs:
        pk = by_ref.get(_ref(row.sending_ref))
        if pk is not None and pk not in matched:
            matched[pk] = (row, "reference")
        else:
            left.append(row)
    unmatched = [pk for pk in billed if pk not in matched]
    people = Person.objects.in_bulk(unmatched)
    theirs_not_billed = []
    for row in left:
        best: tuple[float, int] | None = None
        for pk in unmatched:
            if pk in matched or pk not in people:
                continue
            result = score(_record(row.sending_ref, row.name), _record(str(pk), "", people[pk]))
            close = (
                DamerauLevenshtein.distance(_ref(row.sending_ref), _ref(billed[pk]["sending_ref"]))
                <= 2
            )
            accepted = result.band == "same" or (result.band == "possible" and close)
            if accepted and (best is None or result.score > best[0]):
                best = (result.score, pk)
        if best is None:
            theirs_not_billed.append(_theirs(row))
        else:
            matched[best[1]] = (row, "name")
    differences = []
    for pk, (row, how) in sorted(matched.items(), key=lambda m: m[1][0].row):
        ours = billed[pk]
        if ours["days"] != row.days or (ours["first_day"], ours["last_day"]) != (
            row.first_day.isoformat(),
            row.last_day.isoformat(),
        ):
            differences.append(
                {
                    "person": str(pk),
                    "matched_by": how,
                    "billed": ours,
                    "theirs": _theirs(row),
                    "difference": ours["days"] - row.days,
                    "episodes": _episodes(agreement, pk, first, last),
                }
            )
    billed_not_theirs = [
        {**billed[pk], "episodes": _episodes(agreement, pk, first, last)}
        for pk in sorted(billed, key=lambda p: billed[p]["sending_ref"])
        if pk not in matched
    ]
    return {
        "agreement": agreement.code,
        "period": period,
        "billed": source,
        "counts": {
            "billed": len(billed),
            "theirs": len(theirs),
            "matched": len(matched),
            "billed_not_theirs": len(billed_not_theirs),
            "theirs_not_billed": len(theirs_not_billed),
            "day_differences": len(differences),
        },
        "billed_not_theirs": billed_not_theirs,
        "theirs_not_billed": theirs_not_billed,
        "day_differences": differences,
    }


def _theirs(row: TheirRow) -> dict[str, Any]:
    return {
        "row": row.row,
        "sending_ref": row.sending_ref,
        "name": row.name,
        "first_day": row.first_day.isoformat(),
        "last_day": row.last_day.isoformat(),
        "days": row.days,
    }
