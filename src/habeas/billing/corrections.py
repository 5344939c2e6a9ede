"""Correction proposals (STANDARDS.md, Billing: "issued invoices are never edited:
corrections are credit or debit notes referring to them").

A custody event recorded after its month was invoiced (a release entered late, an admission
recorded after the fact) makes the invoice recomputed from today's history differ from the
invoice and the notes already issued on it. The proposal is that difference, per person and
rate (and per fee or tier line): its days and its amount. Proposals are computed, never
stored: issuing one is ``note_issue``.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from habeas.billing.compute import PERSON_DAYS, finish, invoice_document

if TYPE_CHECKING:
    from habeas.billing.models import Invoice


def _key(line: dict[str, Any]) -> tuple[str, str, str, str]:
    return (line["kind"], str(line.get("person") or ""), str(line.get("tier_above")), line["rate"])


def _totals(lines: list[dict[str, Any]]) -> dict[tuple[str, str, str, str], dict[str, Any]]:
    found: dict[tuple[str, str, str, str], dict[str, Any]] = defaultdict(
        lambda: {"days": 0, "amount": Decimal(0), "first": None, "last": None, "line": None}
    )
    for line in lines:
        group = found[_key(line)]
        group["days"] += int(line["days"])
        group["amount"] += Decimal(line["amount"])
        group["line"] = line
        group["first"] = min(filter(None, (group["first"], line["first_day"])))
        group["last"] = max(filter(None, (group["last"], line["last_day"])))
    return found


def correction_document(invoice: Invoice) -> dict[str, Any] | None:
    """The note that would bring the invoice and its notes to the recomputed invoice, or
    None when they agree."""
    recomputed = invoice_document(invoice.agreement, invoice.period)
    billed = [line for doc in (invoice, *invoice.notes.all()) for line in doc.document["lines"]]
    old, new = _totals(billed), _totals(recomputed["lines"])
    lines: list[dict[str, Any]] = []
    for key in sorted(set(old) | set(new)):
        was, now_ = old.get(key), new.get(key)
        days = (now_["days"] if now_ else 0) - (was["days"] if was else 0)
        amount = (now_["amount"] if now_ else Decimal(0)) - (was["amount"] if was else Decimal(0))
        if days == 0 and amount == 0:
            continue
        source = (now_ or was or {})["line"]
        span = [g for g in (was, now_) if g]
        lines.append(
            {
                "kind": source["kind"],
                "person": source.get("person"),
                "tier_above": source.get("tier_above"),
                "first_day": min(g["first"] for g in span),
                "last_day": max(g["last"] for g in span),
                "days": days,
                "rate": source["rate"],
                "amount": str(amount),
            }
        )
    if not lines:
        return None
    total_days = sum(line["days"] for line in lines if line["kind"] == PERSON_DAYS)
    total = sum((Decimal(line["amount"]) for line in lines), Decimal(0))
    kind = "credit_note" if total < 0 else "debit_note"
    return finish(
        invoice.agreement,
        invoice.period,
        lines,
        total_days,
        root=recomputed["ledger_root"],
        size=recomputed["ledger_size"],
        kind=kind,
    )
