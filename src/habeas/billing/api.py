"""Billing under /api/v1 (INTERFACES.md: every command has its endpoint): the month's invoice
of an agreement (the ``invoice --format json`` document, a draft until issued), issuing it,
the issued documents, payments, correction notes and reconciliation. Reads are scoped like
agreements (``visible_to``); writes are for the finance officers of the receiving state."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status

from habeas.accounts.auth import api_user
from habeas.accounts.permissions import may_issue_invoices, may_reconcile
from habeas.billing.compute import invoice_document, period_bounds
from habeas.billing.corrections import correction_document
from habeas.billing.models import DocumentKind, Invoice
from habeas.billing.reconcile import parse_theirs, reconcile
from habeas.billing.selectors import agreement_get_for, document_for, invoice_list
from habeas.billing.services import invoice_issue, invoice_mark_paid, note_issue
from habeas.core.actor import Actor
from habeas.core.api import DecimalStr, InstantStr, errors
from habeas.core.errors import NotFound, ValidationFailed

router = Router(tags=["billing"])

MSG_MAY_NOT_ISSUE = "only the finance officers of the receiving state issue invoices"
MSG_MAY_NOT_RECONCILE = "reconciliation is for the finance officers and liaisons of the parties"


class InvoiceOut(Schema):
    """An issued invoice or note, without its lines (``/document`` has them)."""

    id: str
    number: str
    kind: str
    agreement: str
    period: str
    status: str
    currency: str
    total: DecimalStr
    total_days: int
    refers_to: str | None
    issued_at: InstantStr
    paid_at: InstantStr | None
    ledger_root: str


def _out(invoice: Invoice) -> dict[str, Any]:
    return {
        "id": str(invoice.pk),
        "number": invoice.number,
        "kind": invoice.kind,
        "agreement": invoice.agreement.code,
        "period": invoice.period,
        "status": invoice.status,
        "currency": invoice.currency,
        "total": invoice.document["total"],
        "total_days": invoice.total_days,
        "refers_to": invoice.refers_to.number if invoice.refers_to else None,
        "issued_at": invoice.issued_at.isoformat(),
        "paid_at": invoice.paid_at.isoformat() if invoice.paid_at else None,
        "ledger_root": invoice.ledger_root,
    }


class PaymentIn(Schema):
    paid_at: dt.datetime


class ReconcileIn(Schema):
    csv: str


def _period(period: str) -> str:
    try:
        period_bounds(period)
    except ValueError:
        raise NotFound(_("not found")) from None
    return period


def _invoice(request: HttpRequest, invoice_id: int) -> Invoice:
    found = invoice_list(api_user(request)).filter(pk=invoice_id).first()
    if found is None:
        raise NotFound(_("not found"))
    return found


def _writer(request: HttpRequest, receiving: str) -> Actor:
    user = api_user(request)
    if not may_issue_invoices(user, receiving_state=receiving):
        raise PermissionDenied(_(MSG_MAY_NOT_ISSUE))
    return Actor.from_user(user)


@router.get(
    "/invoices/",
    response={200: list[InvoiceOut], **errors()},
    summary="Issued invoices and notes",
    operation_id="invoices_list",
)
def invoices_list(request: HttpRequest, agreement: str | None = None) -> list[dict[str, Any]]:
    found = invoice_list(api_user(request))
    if agreement:
        found = found.filter(agreement__code=agreement)
    return [_out(i) for i in found.order_by("agreement__code", "period", "sequence")]


@router.get(
    "/invoices/{invoice_id}/",
    response={200: dict[str, Any], **errors()},
    summary="An issued invoice or note (the JSON document)",
    operation_id="invoices_get",
)
def invoices_get(request: HttpRequest, invoice_id: int) -> dict[str, Any]:
    return document_for(api_user(request), _invoice(request, invoice_id).document)


@router.get(
    "/invoices/{invoice_id}/correction",
    response={200: dict[str, Any], **errors()},
    summary="The correction proposal of an invoice (404 when it agrees with custody)",
    operation_id="invoices_correction",
)
def invoices_correction(request: HttpRequest, invoice_id: int) -> dict[str, Any]:
    invoice = _invoice(request, invoice_id)
    if invoice.kind != DocumentKind.INVOICE:
        raise NotFound(_("not found"))
    proposal = correction_document(invoice)
    if proposal is None:
        raise NotFound(_("nothing to correct"))
    return document_for(api_user(request), proposal)


@router.post(
    "/invoices/{invoice_id}/notes",
    response={201: dict[str, Any], **errors(400, 401, 403, 404, 409)},
    summary="Issue the correction proposal as a credit or debit note",
    operation_id="invoices_note_issue",
)
def invoices_note_issue(request: HttpRequest, invoice_id: int) -> Status[Any]:
    invoice = _invoice(request, invoice_id)
    actor = _writer(request, invoice.agreement.receiving.code)
    return Status(201, note_issue(actor=actor, invoice=invoice).document)


@router.post(
    "/invoices/{invoice_id}/payment",
    response={200: InvoiceOut, **errors(400, 401, 403, 404, 409)},
    summary="Record that an invoice was paid",
    operation_id="invoices_pay",
)
def invoices_pay(request: HttpRequest, invoice_id: int, body: PaymentIn) -> dict[str, Any]:
    invoice = _invoice(request, invoice_id)
    actor = _writer(request, invoice.agreement.receiving.code)
    if body.paid_at.tzinfo is None:
        raise ValidationFailed(_("paid_at needs a time zone offset"))
    return _out(invoice_mark_paid(actor=actor, invoice=invoice, paid_at=body.paid_at))


@router.get(
    "/agreements/{code}/invoices/{period}",
    response={200: dict[str, Any], **errors()},
    summary="The month's invoice: the issued one, or a draft computed now",
    operation_id="agreement_invoice_get",
)
def agreement_invoice_get(request: HttpRequest, code: str, period: str) -> dict[str, Any]:
    user = api_user(request)
    agreement = agreement_get_for(user, code)
    issued = Invoice.objects.filter(
        agreement=agreement, period=_period(period), kind=DocumentKind.INVOICE
    ).first()
    document = issued.document if issued else invoice_document(agreement, period)
    return document_for(user, document)


@router.post(
    "/agreements/{code}/invoices/{period}/issue",
    response={200: dict[str, Any], **errors(400, 401, 403, 404, 409)},
    summary="Issue the month's invoice (the issued one if it already was)",
    operation_id="agreement_invoice_issue",
)
def agreement_invoice_issue(request: HttpRequest, code: str, period: str) -> dict[str, Any]:
    agreement = agreement_get_for(api_user(request), code)
    actor = _writer(request, agreement.receiving.code)
    return invoice_issue(actor=actor, agreement=agreement, period=_period(period)).document


@router.post(
    "/agreements/{code}/reconciliations/{period}",
    response={200: dict[str, Any], **errors(400, 401, 403, 404)},
    summary="Compare the sending state's list (CSV text) with what was billed",
    operation_id="agreement_reconcile",
)
def agreement_reconcile(
    request: HttpRequest, code: str, period: str, body: ReconcileIn
) -> dict[str, Any]:
    user = api_user(request)
    agreement = agreement_get_for(user, code)
    if not may_reconcile(user):
        raise PermissionDenied(_(MSG_MAY_NOT_RECONCILE))
    theirs = parse_theirs(body.csv, name="csv")
    report = reconcile(agreement, _period(period), theirs)
    return report
