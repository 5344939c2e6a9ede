"""Writes of billing: issue an invoice, issue a correction note, record a payment
(STANDARDS.md, Billing; the one rule: each writes its ledger entry in the same transaction).

Issued documents never change: a later custody event that changes a month already invoiced is
a correction proposal (``corrections.py``), and issuing it makes a credit or debit note that
refers to the invoice and carries only the difference.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db.models import Max

from habeas.agreements.models import Agreement
from habeas.billing.compute import invoice_document, period_bounds
from habeas.billing.corrections import correction_document
from habeas.billing.events import public_lines
from habeas.billing.models import DocumentKind, Invoice, InvoiceStatus
from habeas.core.actor import Actor
from habeas.core.clock import now
from habeas.core.errors import Conflict, ValidationFailed
from habeas.core.services import service
from habeas.ledger.services import ledger_append

MSG_BAD_PERIOD = "period {period!r} is not YYYY-MM"
MSG_NOT_OVER = "the month {period} is not over yet: an invoice is issued after its last day"
MSG_OUTSIDE_TERM = "agreement {code} is not in force in {period}"
MSG_NOTHING_TO_CORRECT = "invoice {number} agrees with the custody history: nothing to correct"
MSG_NOT_AN_INVOICE = "{number} is a note: corrections refer to an invoice"
MSG_ALREADY_PAID = "invoice {number} is already paid"
MSG_NOTE_NOT_PAYABLE = "{number} is a note: only an invoice is paid"


def _check_period(agreement: Agreement, period: str, today: dt.date) -> tuple[dt.date, dt.date]:
    try:
        first, last = period_bounds(period)
    except ValueError:
        raise ValidationFailed(MSG_BAD_PERIOD.format(period=period)) from None
    if last >= today:
        raise Conflict(MSG_NOT_OVER.format(period=period))
    if last < agreement.starts or (agreement.ends is not None and first > agreement.ends):
        raise Conflict(MSG_OUTSIDE_TERM.format(code=agreement.code, period=period))
    return first, last


def _store(
    *, actor: Actor, agreement: Agreement, document: dict[str, Any], refers_to: Invoice | None
) -> Invoice:
    Agreement.objects.select_for_update().filter(pk=agreement.pk).first()
    year = int(document["period"][:4])
    sequence = (
        Invoice.objects.filter(agreement=agreement, year=year).aggregate(m=Max("sequence"))["m"]
        or 0
    ) + 1
    prefix = {"invoice": "", "credit_note": "CN-", "debit_note": "DN-"}[document["kind"]]
    number = f"{prefix}{agreement.code}/{year}/{sequence:04d}"
    issued_at = now()
    document = {
        **document,
        "status": InvoiceStatus.ISSUED.value,
        "number": number,
        "issued_at": issued_at.isoformat(),
        "refers_to": refers_to.number if refers_to is not None else None,
    }
    invoice = Invoice(
        agreement=agreement,
        kind=document["kind"],
        period=document["period"],
        year=year,
        sequence=sequence,
        number=number,
        refers_to=refers_to,
        status=InvoiceStatus.ISSUED,
        currency=document["currency"],
        total=Decimal(document["total"]),
        total_days=document["total_days"],
        ledger_root=document["ledger_root"],
        ledger_size=document["ledger_size"],
        issued_at=issued_at,
        document=document,
    )
    invoice.full_clean()
    invoice.save()
    ledger_append(
        actor=actor,
        action="billing.invoice_issued" if refers_to is None else "billing.note_issued",
        subject=f"invoice:{number}",
        payload={
            "invoice": {
                "id": invoice.pk,
                "agreement_id": agreement.pk,
                "kind": invoice.kind,
                "period": invoice.period,
                "year": year,
                "sequence": sequence,
                "number": number,
                "refers_to_id": refers_to.pk if refers_to is not None else None,
                "currency": invoice.currency,
                "total": document["total"],
                "total_days": invoice.total_days,
                "ledger_root": invoice.ledger_root,
                "ledger_size": invoice.ledger_size,
                "issued_at": issued_at,
                "lines": public_lines(document["lines"]),
            }
        },
    )
    return invoice


@service
def invoice_issue(
    *, actor: Actor, agreement: Agreement, period: str, today: dt.date | None = None
) -> Invoice:
    """Issue the month's invoice: numbered per agreement and year, immutable, on the ledger
    with the root it was computed from. The month's invoice already issued is returned as it
    is (INTERFACES.md: "issuing an issued month again shows the issued one")."""
    found = Invoice.objects.filter(
        agreement=agreement, period=period, kind=DocumentKind.INVOICE
    ).first()
    if found is not None:
        return found
    _check_period(agreement, period, today or now().date())
    document = invoice_document(agreement, period)
    return _store(actor=actor, agreement=agreement, document=document, refers_to=None)


@service
def note_issue(*, actor: Actor, invoice: Invoice) -> Invoice:
    """Issue the correction proposal of an invoice as a credit note (the difference is owed
    back) or a debit note (more is owed), referring to the invoice (STANDARDS.md, Billing)."""
    if invoice.kind != DocumentKind.INVOICE:
        raise ValidationFailed(MSG_NOT_AN_INVOICE.format(number=invoice.number))
    document = correction_document(invoice)
    if document is None:
        raise Conflict(MSG_NOTHING_TO_CORRECT.format(number=invoice.number))
    return _store(actor=actor, agreement=invoice.agreement, document=document, refers_to=invoice)


@service
def invoice_mark_paid(*, actor: Actor, invoice: Invoice, paid_at: dt.datetime) -> Invoice:
    """Record that an invoice was paid: the one change an issued invoice admits."""
    if invoice.kind != DocumentKind.INVOICE:
        raise ValidationFailed(MSG_NOTE_NOT_PAYABLE.format(number=invoice.number))
    if invoice.status == InvoiceStatus.PAID:
        raise Conflict(MSG_ALREADY_PAID.format(number=invoice.number))
    invoice.status = InvoiceStatus.PAID
    invoice.paid_at = paid_at
    invoice.save(update_fields=["status", "paid_at"])
    ledger_append(
        actor=actor,
        action="billing.invoice_paid",
        subject=f"invoice:{invoice.number}",
        payload={"id": invoice.pk, "paid_at": paid_at},
    )
    return invoice
