"""The billing API as its users drive it (INTERFACES.md: every command has its endpoint)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.test import Client

from tests.conftest import make_user


def _finance_sv(users: dict[str, Any]) -> Client:
    user = make_user(
        username="finance_sv", password="pw-finance-sv-long", role="finance", jurisdiction_code="SV"
    )
    client = Client()
    client.force_login(user)
    return client


def test_receiving_finance_issues_pays_and_corrects(
    scene: dict[str, Any], users: dict[str, Any], client_for: Any, actor: Any
) -> None:
    from habeas.custody.services import custody_release

    client = _finance_sv(users)
    draft = client.get("/api/v1/agreements/US-SV/invoices/2025-04").json()
    assert draft["status"] == "draft"
    assert draft["total_days"] == 30
    issued = client.post("/api/v1/agreements/US-SV/invoices/2025-04/issue")
    assert issued.status_code == 200, issued.json()
    assert issued.json()["number"] == "US-SV/2025/0001"
    again = client.post("/api/v1/agreements/US-SV/invoices/2025-04/issue").json()
    assert again == issued.json()
    (listed,) = client.get("/api/v1/invoices/?agreement=US-SV").json()
    assert (listed["status"], listed["total"]) == ("issued", "1643.70")
    inv = listed["id"]
    assert client.get(f"/api/v1/invoices/{inv}/correction").status_code == 404
    custody_release(
        actor=actor,
        person=scene["people"]["us"],
        reason="repatriated",
        at=dt.datetime(2025, 4, 21, 15, tzinfo=dt.UTC),
    )
    proposal = client.get(f"/api/v1/invoices/{inv}/correction").json()
    assert [(ln["days"], ln["amount"]) for ln in proposal["lines"]] == [(-10, "-547.90")]
    note = client.post(f"/api/v1/invoices/{inv}/notes")
    assert note.status_code == 201
    assert (note.json()["kind"], note.json()["refers_to"]) == ("credit_note", "US-SV/2025/0001")
    paid = client.post(
        f"/api/v1/invoices/{inv}/payment",
        {"paid_at": "2025-05-20T10:00:00-06:00"},
        content_type="application/json",
    ).json()
    assert paid["status"] == "paid"
    twice = client.post(
        f"/api/v1/invoices/{inv}/payment",
        {"paid_at": "2025-05-21T10:00:00-06:00"},
        content_type="application/json",
    )
    assert twice.status_code == 409
    # The sending state's finance officer reads the same documents, but may not write.
    us = client_for("finance_us")
    assert len(us.get("/api/v1/invoices/?agreement=US-SV").json()) == 2
    assert us.post(f"/api/v1/invoices/{inv}/notes").status_code == 403


def test_names_outside_a_facility_users_scope_are_withheld(
    scene: dict[str, Any], client_for: Any
) -> None:
    """GT-SV covers TEC and OTH: OTH's staff see the month's lines, but not the name of the
    person held in TEC (Mandela Rule 9); the totals are the same for everyone."""
    mine = client_for("staff_oth").get("/api/v1/agreements/GT-SV/invoices/2025-03").json()
    everyone = client_for("oversight").get("/api/v1/agreements/GT-SV/invoices/2025-03").json()
    assert mine["total"] == everyone["total"]
    gt_tec = str(scene["people"]["gt_tec"].pk)
    assert gt_tec in {ln["person"] for ln in everyone["lines"]}
    assert gt_tec not in {ln["person"] for ln in mine["lines"]}
    assert "Carla" not in str(mine)


def test_reconcile_over_the_api(scene: dict[str, Any], client_for: Any) -> None:
    ref = scene["people"]["us"].identifiers.get().value
    body = {"csv": f"sending_ref,name,first_day,last_day\n{ref},Ana Uno,2025-03-16,2025-03-30\n"}
    report = client_for("finance_us").post(
        "/api/v1/agreements/US-SV/reconciliations/2025-03", body, content_type="application/json"
    )
    assert report.status_code == 200
    (diff,) = report.json()["day_differences"]
    assert diff["difference"] == 1
    bad = client_for("finance_us").post(
        "/api/v1/agreements/US-SV/reconciliations/2025-03",
        {"csv": "sending_ref,name\n"},
        content_type="application/json",
    )
    assert bad.status_code == 400
    assert "column first_day is missing" in bad.json()["message"]
    staff = client_for("staff").post(
        "/api/v1/agreements/US-SV/reconciliations/2025-03", body, content_type="application/json"
    )
    assert staff.status_code == 403


def test_an_issued_invoice_cannot_be_changed_through_the_api_or_the_admin(
    scene: dict[str, Any], users: dict[str, Any], actor: Any
) -> None:
    from habeas.billing.models import Invoice
    from habeas.billing.services import invoice_issue

    invoice = invoice_issue(actor=actor, agreement=scene["us"], period="2025-03")
    before = dict(Invoice.objects.filter(pk=invoice.pk).values().get())
    client = _finance_sv(users)
    for method in ("put", "patch", "delete"):
        response = getattr(client, method)(
            f"/api/v1/invoices/{invoice.pk}/", {"total": "1"}, content_type="application/json"
        )
        assert response.status_code == 405, method
    root = make_user(username="root", password="root-pass-long", is_staff=True, is_superuser=True)
    admin = Client()
    admin.force_login(root)
    change = f"/admin/billing/invoice/{invoice.pk}/change/"
    assert admin.post(change, {"total": "1"}).status_code == 403
    assert (
        admin.post(f"/admin/billing/invoice/{invoice.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )
    assert dict(Invoice.objects.filter(pk=invoice.pk).values().get()) == before
