"""Billing in the demo (INTERFACES.md, demo scenario: "an invoice month"): the 2025
agreement's invoices issued for every month since the March 2025 flights, one release
recorded after its month was invoiced and the credit note that corrects it, the first
months paid, and the sending state's own list for April 2025 with two discrepancies (one
person missing, one stay a few days shorter), ready for ``habeas reconcile``.
"""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from habeas.agreements.models import Agreement
from habeas.billing.compute import PERSON_DAYS, months_between
from habeas.billing.models import Invoice
from habeas.billing.services import invoice_issue, invoice_mark_paid, note_issue
from habeas.core import csvsafe
from habeas.core.actor import Actor
from habeas.core.clock import now
from habeas.custody.models import CustodyEpisode
from habeas.custody.services import custody_release

RECONCILE_PERIOD = "2025-04"


def load_demo_billing(*, actor: Actor, agreement: Agreement) -> dict[str, Any]:
    """Issue the agreement's months that are over, record a late release and its credit
    note, mark the first months paid; returns the invoices and the demo's reconciliation list
    (CSV text)."""
    today = now().date()
    last_day = min(agreement.ends or today, today.replace(day=1) - dt.timedelta(days=1))
    months = months_between(agreement.starts, last_day)
    invoices = [invoice_issue(actor=actor, agreement=agreement, period=m) for m in months]
    note = None
    if invoices:
        late = invoices[-1]
        first = dt.date.fromisoformat(late.period + "-01")
        episode = (
            CustodyEpisode.objects.open()
            .filter(agreement=agreement, admitted_at__date__lt=first)
            .select_related("person")
            .order_by("-pk")  # the last admitted: the flights' duplicates are the first held
            .first()
        )
        if episode is not None:
            release_at = dt.datetime.combine(
                first + dt.timedelta(days=4), dt.time(16, 0), tzinfo=dt.UTC
            )
            custody_release(
                actor=actor, person=episode.person, reason="repatriated", at=release_at,
                destination=agreement.sending.code,
            )  # fmt: skip
            note = note_issue(actor=actor, invoice=late)
    for invoice in invoices[:3]:
        paid_at = dt.datetime.fromisoformat(invoice.period + "-01").replace(tzinfo=dt.UTC)
        invoice_mark_paid(actor=actor, invoice=invoice, paid_at=paid_at + dt.timedelta(days=75))
    return {
        "invoices": len(invoices),
        "credit_note": note.number if note else None,
        "reconcile_period": RECONCILE_PERIOD,
        "reconcile_csv": their_list(agreement, RECONCILE_PERIOD),
    }


def their_list(agreement: Agreement, period: str) -> str:
    """What the sending state's own records would say of a month: everybody billed, but the
    first person left out and the second's stay ending three days earlier."""
    invoice = Invoice.objects.filter(agreement=agreement, period=period, kind="invoice").first()
    if invoice is None:
        return ""
    out = io.StringIO()
    writer = csvsafe.writer(out, lineterminator="\r\n")
    writer.writerow(["sending_ref", "name", "first_day", "last_day"])
    lines = [ln for ln in invoice.document["lines"] if ln["kind"] == PERSON_DAYS]
    for i, line in enumerate(lines):
        if i == 0:
            continue
        last = line["last_day"]
        if i == 1:
            last = (dt.date.fromisoformat(last) - dt.timedelta(days=3)).isoformat()
        writer.writerow([line["sending_ref"], line["name"], line["first_day"], last])
    return out.getvalue()
