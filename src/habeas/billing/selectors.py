"""Reads of billing, scoped to the user (HOUSE-STYLE: every selector starts from
``visible_to``): a state's liaison and finance officers see their state's agreements and
invoices, facility staff those of the agreements covering their facilities, oversight and
auditors all. Outside scope answers exactly like missing."""

from __future__ import annotations

from typing import Any

from habeas.agreements.models import Agreement
from habeas.billing.models import Invoice, InvoiceQuerySet
from habeas.core.errors import NotFound


def agreement_get_for(user: Any, code: str) -> Agreement:
    found = Agreement.objects.visible_to(user).filter(code=code).first()
    if found is None:
        raise NotFound("not found")
    return found


def invoice_list(user: Any, agreement: Agreement | None = None) -> InvoiceQuerySet:
    found = Invoice.objects.visible_to(user).select_related("agreement", "refers_to")
    if agreement is not None:
        found = found.filter(agreement=agreement)
    return found


def invoice_get_for(user: Any, number: str) -> Invoice:
    found = invoice_list(user).filter(number=number).first()
    if found is None:
        raise NotFound("not found")
    return found
