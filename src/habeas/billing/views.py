"""The finance pages (STANDARDS.md, Billing): a home per party with a chart of monthly amounts
and person-days per agreement, the agreement's months, the month's invoice (the issued one or
a draft) with its lines linked to each person's custody intervals, downloads (JSON, CSV,
PDF), issuing, payments, correction notes and reconciliation. Scoped like the API: outside
the user's agreements answers exactly like missing (404)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from habeas.accounts.permissions import has_role, may_issue_invoices, may_reconcile
from habeas.agreements.models import Agreement
from habeas.billing.compute import invoice_document, months_between, period_bounds
from habeas.billing.corrections import correction_document
from habeas.billing.exports import amount_in_words, invoice_csv, invoice_pdf
from habeas.billing.models import DocumentKind, Invoice
from habeas.billing.reconcile import parse_theirs, reconcile
from habeas.billing.selectors import document_for, invoice_list
from habeas.billing.services import invoice_issue, invoice_mark_paid, note_issue
from habeas.core.actor import Actor
from habeas.core.clock import now
from habeas.core.errors import ApplicationError


def _reader(request: HttpRequest) -> Any:
    if not has_role(request.user):
        raise PermissionDenied
    return request.user


def _agreement(user: Any, code: str) -> Agreement:
    found = (
        Agreement.objects.visible_to(user)
        .filter(code=code)
        .select_related("sending", "receiving")
        .first()
    )
    if found is None:
        raise Http404
    return found


def _period(period: str) -> str:
    try:
        period_bounds(period)
    except ValueError:
        raise Http404 from None
    return period


def monthly_chart(invoices: list[Invoice]) -> dict[str, Any]:
    """Bars of the issued invoices' amounts per month (notes included) and the person-days,
    scaled for an inline SVG."""
    months: dict[str, dict[str, Any]] = {}
    for inv in invoices:
        m = months.setdefault(inv.period, {"period": inv.period, "amount": 0.0, "days": 0})
        m["amount"] += float(inv.total)
        m["days"] += inv.total_days
    bars = sorted(months.values(), key=lambda m: m["period"])
    top = max((b["amount"] for b in bars), default=0.0) or 1.0
    top_days = max((b["days"] for b in bars), default=0) or 1
    width = 36
    for i, b in enumerate(bars):
        b["x"] = 50 + i * width
        b["h"] = round(150 * b["amount"] / top, 1)
        b["y"] = round(170 - b["h"], 1)
        b["dy"] = round(170 - 150 * b["days"] / top_days, 1)
        b["cx"] = b["x"] + width / 2 - 4
        b["label"] = b["period"][2:]
    points = " ".join(f"{b['cx'] + 4},{b['dy']}" for b in bars)
    return {
        "bars": bars,
        "width": 60 + len(bars) * width,
        "top": round(top, 2),
        "top_days": top_days,
        "points": points,
    }


@login_required
@require_GET
def billing_home(request: HttpRequest) -> HttpResponse:
    """The finance home: every agreement the user sees, its issued documents and the chart."""
    user = _reader(request)
    agreements = list(
        Agreement.objects.visible_to(user).select_related("sending", "receiving").order_by("code")
    )
    issued = list(invoice_list(user).order_by("period", "sequence"))
    rows = []
    for a in agreements:
        mine = [i for i in issued if i.agreement_id == a.pk]
        rows.append(
            {
                "agreement": a,
                "invoices": [i for i in mine if i.kind == DocumentKind.INVOICE],
                "notes": [i for i in mine if i.kind != DocumentKind.INVOICE],
                "chart": monthly_chart(mine),
                "unpaid": sum(1 for i in mine if i.kind == "invoice" and i.status == "issued"),
            }
        )
    return render(request, "billing/home.html", {"rows": rows})


@login_required
@require_GET
def agreement_months(request: HttpRequest, code: str) -> HttpResponse:
    """The agreement's months: issued invoices and notes, and the months still to issue."""
    user = _reader(request)
    agreement = _agreement(user, code)
    issued = {i.period: i for i in invoice_list(user, agreement).filter(kind=DocumentKind.INVOICE)}
    notes = list(invoice_list(user, agreement).exclude(kind=DocumentKind.INVOICE))
    today = now().date()
    last = min(agreement.ends or today, today)
    months = [
        {"period": m, "invoice": issued.get(m), "notes": [n for n in notes if n.period == m]}
        for m in months_between(agreement.starts, last)
    ]
    return render(
        request,
        "billing/agreement.html",
        {
            "agreement": agreement,
            "months": list(reversed(months)),
            "chart": monthly_chart(list(invoice_list(user, agreement))),
        },
    )


def _post(request: HttpRequest, agreement: Agreement, period: str) -> HttpResponse:
    user = request.user
    if not may_issue_invoices(user, receiving_state=agreement.receiving.code):
        raise PermissionDenied(
            _("Only the finance officers of the receiving state issue invoices.")
        )
    actor = Actor.from_user(user)
    form = request.POST.get("form", "")
    invoice = Invoice.objects.filter(
        agreement=agreement, period=period, kind=DocumentKind.INVOICE
    ).first()
    try:
        if form == "issue":
            invoice = invoice_issue(actor=actor, agreement=agreement, period=period)
            messages.success(request, _("Invoice %(n)s issued.") % {"n": invoice.number})
        elif form == "note" and invoice is not None:
            note = note_issue(actor=actor, invoice=invoice)
            messages.success(request, _("%(n)s issued.") % {"n": note.number})
        elif form == "paid" and invoice is not None:
            try:
                paid_at = dt.datetime.fromisoformat(request.POST.get("paid_on", "") + "T12:00")
            except ValueError:
                return HttpResponse(_("The payment date is not a date."), status=400)
            invoice_mark_paid(actor=actor, invoice=invoice, paid_at=paid_at.replace(tzinfo=dt.UTC))
            messages.success(request, _("Payment recorded."))
        else:
            return HttpResponse(_("Nothing to do."), status=400)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("billing:invoice", code=agreement.code, period=period)


@login_required
@require_http_methods(["GET", "POST"])
def invoice_page(request: HttpRequest, code: str, period: str) -> HttpResponse:
    """The month's invoice: the issued one with its notes and any correction proposal, or
    the draft computed now. Each line links to the person's file (their custody intervals)."""
    user = _reader(request)
    agreement = _agreement(user, code)
    period = _period(period)
    if request.method == "POST":
        return _post(request, agreement, period)
    invoice = invoice_list(user, agreement).filter(period=period, kind=DocumentKind.INVOICE).first()
    document = invoice.document if invoice else invoice_document(agreement, period)
    proposal = correction_document(invoice) if invoice else None
    notes = list(invoice.notes.order_by("sequence")) if invoice else []
    last = period_bounds(period)[1]
    return render(
        request,
        "billing/invoice.html",
        {
            "agreement": agreement,
            "period": period,
            "invoice": invoice,
            "doc": document_for(user, document),
            "words": amount_in_words(document["total"], document["currency"]),
            "notes": notes,
            "proposal": document_for(user, proposal) if proposal else None,
            "may_issue": may_issue_invoices(user, receiving_state=agreement.receiving.code),
            "may_reconcile": may_reconcile(user),
            "month_over": last < now().date(),
        },
    )


@login_required
@require_GET
def invoice_download(request: HttpRequest, code: str, period: str, fmt: str) -> HttpResponse:
    """The month's invoice (issued, or the draft) as JSON, CSV or PDF; ``?note=NUMBER`` for a
    note of it."""
    user = _reader(request)
    agreement = _agreement(user, code)
    period = _period(period)
    if fmt not in {"json", "csv", "pdf"}:
        raise Http404
    wanted = request.GET.get("note")
    found = invoice_list(user, agreement).filter(period=period)
    found = found.filter(number=wanted) if wanted else found.filter(kind=DocumentKind.INVOICE)
    invoice = found.first()
    if wanted and invoice is None:
        raise Http404
    document = document_for(
        user, invoice.document if invoice else invoice_document(agreement, period)
    )
    name = (document.get("number") or f"{code}-{period}-draft").replace("/", "-")
    if fmt == "pdf":
        response = HttpResponse(invoice_pdf(document, agreement), content_type="application/pdf")
    elif fmt == "csv":
        response = HttpResponse(invoice_csv(document), content_type="text/csv; charset=utf-8")
    else:
        response = HttpResponse(
            json.dumps(document, ensure_ascii=False, indent=2),
            content_type="application/json",
        )
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response


@login_required
@require_http_methods(["GET", "POST"])
def reconcile_page(request: HttpRequest, code: str, period: str) -> HttpResponse:
    """Upload the sending state's list of the month (``sending_ref,name,first_day,last_day``)
    and see what differs, with the custody episodes behind each difference. Nothing is
    written."""
    user = _reader(request)
    agreement = _agreement(user, code)
    period = _period(period)
    if not may_reconcile(user):
        raise PermissionDenied(
            _("Reconciliation is for the finance officers and liaisons of the parties.")
        )
    report = None
    error = None
    if request.method == "POST":
        upload = request.FILES.get("theirs")
        text = upload.read() if upload else request.POST.get("csv", "").encode()
        if not text:
            error = _("Choose their list (CSV) to compare.")
        else:
            try:
                report = reconcile(
                    agreement,
                    period,
                    parse_theirs(text, name=(upload.name if upload else "") or _("the list")),
                )
            except ApplicationError as exc:
                error = exc.message
        status = 400 if error else 200
    else:
        status = 200
    return render(
        request,
        "billing/reconcile.html",
        {"agreement": agreement, "period": period, "report": report, "error": error},
        status=status,
    )
