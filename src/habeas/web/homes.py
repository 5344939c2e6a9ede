"""A home for each role (ARCHITECTURE.md, users): ``/`` shows the facility dashboard to the
facility's people and inspectors, and to the others the page of their work, read in their
scope through the apps' own selectors (HOUSE-STYLE: every read starts from ``visible_to``):

* a sending state's liaison: the people their state sent who are held now, their manifests
  and where each stands, releases due in 30 days and the open alarms about their people
  (VCCR art. 36 consular access; Mandela Rules 7 and 68; VINE's advance notice of release);
* finance: the invoices of their state's agreements, what is still unpaid and the monthly
  amounts (the agreement's fee schedule; STANDARDS.md, Billing);
* oversight monitors and auditors: open alerts by kind and severity, the ledger's status and
  its verification page with the latest signed checkpoint (Mandela Rules 6 and 83-85: proof
  that no record was changed or removed unseen), the access log (Rule 9), the API docs.

The verification page never runs the full verification inside a request: on the full demo it
reads every entry and every covered table (about 11 s and 500 MB), more than a page may hold a
worker. The page shows the last recorded run of ``habeas verify-ledger`` (each run records
its result), the command to run it, and checks in the request what is cheap: the latest
checkpoint's signature and a consistency proof that today's ledger extends it (RFC 9162
§2.1.4: O(log n) stored hashes).
"""

from __future__ import annotations

import base64
from collections import defaultdict
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Sum
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from habeas.accounts.auth import role_required
from habeas.accounts.permissions import (
    HOME_FINANCE,
    HOME_LIAISON,
    HOME_MONITOR,
    home_of,
    may_use_admin,
    may_verify_ledger,
    may_view_home,
    scope_of,
)
from habeas.agreements.models import Agreement
from habeas.billing.models import DocumentKind, InvoiceStatus
from habeas.billing.selectors import invoice_list
from habeas.billing.views import monthly_chart
from habeas.conditions.alerts import LABELS as ALERT_LABELS
from habeas.conditions.alerts import alerts_for_cached
from habeas.custody.models import CustodyEpisode
from habeas.custody.selectors import releases_due
from habeas.ledger.models import LedgerCheckpoint
from habeas.oversight.selectors import ledger_status
from habeas.people.models import Person
from habeas.transfers.choices import EntryStatus
from habeas.transfers.models import ManifestEntry
from habeas.transfers.selectors import manifest_list
from habeas.web.attention import open_alert_groups

#: A liaison's releases window (the releases-due page's default).
RELEASE_DAYS = 30
#: Rows shown on a home before the link to the whole list.
SHOWN = 10
#: The alarms about a person that a liaison's home lists (their state's people).
LIAISON_ALARMS = ("legal_basis", "no_contact")


def _require(request: HttpRequest, home: str) -> None:
    if not may_view_home(request.user, home):
        raise PermissionDenied(_("This page is the home of another role."))


@role_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """``/``: the signed-in user's home, rendered here (no redirect: one round trip)."""
    from habeas.web.views import dashboard_page

    which = home_of(request.user)
    if which == HOME_LIAISON:
        return _liaison(request)
    if which == HOME_FINANCE:
        return _finance(request)
    if which == HOME_MONITOR:
        return _monitor(request)
    return dashboard_page(request)


# --- liaison -------------------------------------------------------------------------------


@role_required
@require_GET
def liaison_home(request: HttpRequest) -> HttpResponse:
    _require(request, HOME_LIAISON)
    return _liaison(request)


def _liaison(request: HttpRequest) -> HttpResponse:
    user = request.user
    held = (
        CustodyEpisode.objects.visible_to(user)
        .open()
        .values("facility__code", "facility__name")
        .annotate(n=Count("pk"))
        .order_by("facility__code")
    )
    manifests = list(manifest_list(user=user)[:SHOWN])
    by_status: dict[int, dict[str, int]] = defaultdict(dict)
    for m_id, status, n in (
        ManifestEntry.objects.filter(manifest__in=[m.pk for m in manifests])
        .values_list("manifest_id", "status")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        by_status[m_id][status] = n
    due = releases_due(user=user, days=RELEASE_DAYS)
    alarms = [
        a
        for a in alerts_for_cached(user=user, kinds=LIAISON_ALARMS, open_only=True)
        if a.person_id is not None
    ]
    names = {
        p.pk: p.full_name
        for p in Person.objects.visible_to(user).filter(
            pk__in=[a.person_id for a in alarms[:SHOWN]]
        )
    }
    return render(
        request,
        "web/home_liaison.html",
        {
            "state": scope_of(user).state or "",
            "held": list(held),
            "held_total": sum(h["n"] for h in held),
            "manifests": [
                {
                    "manifest": m,
                    "counts": [
                        (str(label), by_status[m.pk].get(value, 0))
                        for value, label in EntryStatus.choices
                    ],
                }
                for m in manifests
            ],
            "manifests_total": manifest_list(user=user).count(),
            "due": due[:SHOWN],
            "due_total": len(due),
            "release_days": RELEASE_DAYS,
            "alarms": [
                {
                    "person_id": a.person_id,
                    "name": names.get(a.person_id, ""),
                    "kind": ALERT_LABELS.get(a.kind, a.kind),
                    "since": a.since,
                }
                for a in alarms[:SHOWN]
            ],
            "alarms_total": len(alarms),
        },
    )


# --- finance -------------------------------------------------------------------------------


@role_required
@require_GET
def finance_home(request: HttpRequest) -> HttpResponse:
    _require(request, HOME_FINANCE)
    return _finance(request)


def _finance(request: HttpRequest) -> HttpResponse:
    user = request.user
    agreements = list(
        Agreement.objects.visible_to(user).select_related("sending", "receiving").order_by("code")
    )
    invoices = invoice_list(user)
    unpaid = (
        invoices.filter(kind=DocumentKind.INVOICE, status=InvoiceStatus.ISSUED)
        .values("agreement__code", "currency")
        .annotate(n=Count("pk"), total=Sum("total"))
        .order_by("agreement__code", "currency")
    )
    due: dict[str, dict[str, Any]] = {}
    for row in unpaid:
        due[row["agreement__code"]] = {"count": row["n"], "total": row["total"]}
    state = scope_of(user).state or ""
    return render(
        request,
        "web/home_finance.html",
        {
            "agreements": [
                {
                    "agreement": a,
                    "bills": a.receiving.code == state,
                    "due": due.get(a.code),
                }
                for a in agreements
            ],
            "latest": list(invoices.order_by("-issued_at", "-pk")[:SHOWN]),
            "chart": monthly_chart(
                list(invoices.select_related(None).only("period", "total", "total_days"))
            ),
        },
    )


# --- oversight monitors and auditors ----------------------------------------------------------


@role_required
@require_GET
def monitor_home(request: HttpRequest) -> HttpResponse:
    _require(request, HOME_MONITOR)
    return _monitor(request)


def _monitor(request: HttpRequest) -> HttpResponse:
    groups = open_alert_groups(request.user)
    return render(
        request,
        "web/home_monitor.html",
        {
            "groups": [
                {**g, "kinds": [(k, ALERT_LABELS.get(k, k), n) for k, n in g["kinds"]]}
                for g in groups
            ],
            "alerts_total": sum(g["count"] for g in groups),
            "ledger_state": ledger_status(),
            "may_admin": may_use_admin(request.user),
        },
    )


def _checkpoint_check(checkpoint: LedgerCheckpoint, size: int, root: str) -> dict[str, Any]:
    """The checkpoint's signature against the server's key, and a consistency proof that the
    ledger of ``size`` entries extends it (RFC 9162 §2.1.4.2): a few stored hashes, cheap
    enough for a request."""
    from habeas.ledger import merkle
    from habeas.ledger.checkpoint import CheckpointError, parse_and_verify
    from habeas.ledger.keys import public_key
    from habeas.ledger.proofs import consistency_proof, key_name

    result: dict[str, Any] = {"signature": False, "extends": False, "error": ""}
    try:
        note = parse_and_verify(checkpoint.text, public_key(), name=key_name())
    except (CheckpointError, OSError) as exc:
        result["error"] = str(exc)
        return result
    result["signature"] = note.root.hex() == checkpoint.root and note.size == checkpoint.size
    result["b64"] = base64.b64encode(note.root).decode("ascii")
    if not result["signature"]:
        result["error"] = _("The signed note does not carry the root recorded beside it.")
        return result
    if note.size == 0:
        result["extends"] = True
        return result
    try:
        proof = consistency_proof(note.size, size)
        merkle.verify_consistency(
            note.size,
            size,
            note.root,
            bytes.fromhex(root),
            [bytes.fromhex(h) for h in proof["proof"]],
        )
    except Exception as exc:
        result["error"] = str(exc)
        return result
    result["extends"] = True
    return result


@role_required
@require_GET
def ledger_verification(request: HttpRequest) -> HttpResponse:
    """The ledger verification page: the tree head, the last full verification recorded and
    the command that runs one, the latest signed checkpoint checked against today's ledger,
    and its download (Mandela Rule 6)."""
    if not may_verify_ledger(request.user):
        raise PermissionDenied(_("Only oversight monitors and auditors verify the ledger."))
    status = ledger_status()
    check = (
        _checkpoint_check(status.checkpoint, status.size, status.root)
        if status.checkpoint
        else None
    )
    return render(
        request,
        "web/ledger_verification.html",
        {"ledger_state": status, "check": check},
    )


@role_required
@require_GET
def ledger_checkpoint_download(request: HttpRequest) -> HttpResponse:
    """The latest signed checkpoint as its signed-note text (C2SP tlog-checkpoint), to keep
    and to check later with ``habeas verify-ledger --against``."""
    if not may_verify_ledger(request.user):
        raise PermissionDenied(_("Only oversight monitors and auditors verify the ledger."))
    latest = LedgerCheckpoint.objects.order_by("-size", "-created_at").first()
    if latest is None:
        raise Http404
    response = HttpResponse(latest.text, content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="checkpoint-{latest.size}.txt"'
    return response
