"""Ledger actions of billing: an invoice or a credit or debit note issued, an invoice paid
(STANDARDS.md, Billing; the one rule).

The entry of an issued document carries its number, totals, the ledger root and size it was
computed from, and every line without the person's name or reference: a line names the
person by registry id, a public fact (ARCHITECTURE.md, "Personal data and the ledger"). The
names on an invoice are read from the people's table when it is issued, and erased with it.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.utils.translation import pgettext_lazy

from habeas.core.events import Action, Payload, State, covers, dec, declare, instant

I = "billing.Invoice"  # noqa: E741
FIELDS = (
    "agreement_id", "kind", "period", "year", "sequence", "number", "refers_to_id", "currency",
    "total", "total_days", "ledger_root", "ledger_size",
)  # fmt: skip
LINE_FIELDS = ("kind", "person", "tier_above", "first_day", "last_day", "days", "rate", "amount")


def public_lines(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A document's lines as the ledger holds them: no name, no reference."""
    return [{k: line.get(k) for k in LINE_FIELDS} for line in lines]


def _row(values: dict[str, Any]) -> dict[str, Any]:
    row = {k: values.get(k) for k in FIELDS}
    row["total"] = dec(row["total"])
    return row


def _issued(state: State, p: dict[str, Any]) -> None:
    doc = p["invoice"]
    state.setdefault(I, {})[doc["id"]] = {
        **_row(doc),
        "issued_at": instant(doc["issued_at"]),
        "status": "issued",
        "paid_at": None,
        "lines": doc["lines"],
    }


def _paid(state: State, p: dict[str, Any]) -> None:
    row = state.setdefault(I, {}).setdefault(p["id"], {})
    row.update(status="paid", paid_at=instant(p["paid_at"]))


class Line(Payload):
    kind: str
    person: str | None
    tier_above: int | None
    first_day: dt.date
    last_day: dt.date
    days: int
    rate: Decimal
    amount: Decimal


class IssuedRow(Payload):
    id: int
    agreement_id: int
    kind: str
    period: str
    year: int
    sequence: int
    number: str
    refers_to_id: int | None
    currency: str
    total: Decimal
    total_days: int
    ledger_root: str
    ledger_size: int
    issued_at: dt.datetime
    lines: list[Line]


class IssuedPayload(Payload):
    invoice: IssuedRow


class PaidPayload(Payload):
    id: int
    paid_at: dt.datetime


declare(
    Action(
        "billing.invoice_issued",
        schema=IssuedPayload,
        label=pgettext_lazy("ledger action", "Invoice issued"),
        replay=_issued,
        housing=None,
    ),
    Action(
        "billing.note_issued",
        schema=IssuedPayload,
        label=pgettext_lazy("ledger action", "Credit or debit note issued"),
        replay=_issued,
        housing=None,
    ),
    Action(
        "billing.invoice_paid",
        schema=PaidPayload,
        label=pgettext_lazy("ledger action", "Invoice paid"),
        replay=_paid,
        housing=None,
    ),
)


def _stored_lines(document: Any) -> Any:
    """The lines of a stored document as the ledger holds them; a document not of that shape
    (changed behind Habeas) is compared as it is, and differs."""
    try:
        return public_lines(document["lines"])
    except (TypeError, KeyError, AttributeError):
        return document


@covers(I)
def _invoices() -> dict[Any, dict[str, Any]]:
    from habeas.billing.models import Invoice

    return {
        v["id"]: {
            **_row(v),
            "issued_at": instant(v["issued_at"]),
            "status": v["status"],
            "paid_at": instant(v["paid_at"]),
            "lines": _stored_lines(v["document"]),
        }
        for v in Invoice.objects.values("id", *FIELDS, "issued_at", "status", "paid_at", "document")
    }
