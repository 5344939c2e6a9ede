"""Reads of billing, scoped to the user (HOUSE-STYLE: every selector starts from
``visible_to``): a state's liaison and finance officers see their state's agreements and
invoices, facility staff those of the agreements covering their facilities, oversight and
auditors all. Outside scope answers exactly like missing."""

from __future__ import annotations

from typing import Any

from habeas.accounts.permissions import scope_of
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


def document_for(user: Any, document: dict[str, Any]) -> dict[str, Any]:
    """The document as ``user`` may read it: the name and reference of a person outside the
    user's scope (facility staff of another facility under the same agreement) are withheld
    (Mandela Rule 9); days and amounts stay, so the totals still add up."""
    from habeas.people.models import Person

    if scope_of(user).everything:
        return document
    ids = {int(line["person"]) for line in document["lines"] if line.get("person")}
    if not ids:
        return document
    visible = {
        str(pk)
        for pk in Person.objects.visible_to(user).filter(pk__in=ids).values_list("pk", flat=True)
    }
    if len(visible) == len(ids):
        return document
    lines = [
        line
        if not line.get("person") or line["person"] in visible
        else {**line, "person": None, "name": "", "sending_ref": ""}
        for line in document["lines"]
    ]
    return {**document, "lines": lines}
