"""Invoices through the services, hand-computed (STANDARDS.md, Billing; INTERFACES.md,
``invoice --format json``). TEC is in America/El_Salvador (UTC−6); the US agreement starts
on 15 March 2025 at US$54.79 a person-day."""

from __future__ import annotations

import datetime as dt
import tomllib
from decimal import Decimal
from typing import Any

import pytest
from django.db import DatabaseError, transaction

from habeas.billing.compute import invoice_document
from tests.conftest import SMALL_SETUP, admit, make_person

UTC = dt.UTC


def at(day: str, hour: int = 14) -> dt.datetime:
    return dt.datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


def lines(doc: dict[str, Any]) -> list[tuple[str, str, int, str, str]]:
    return [
        (ln["first_day"], ln["last_day"], ln["days"], ln["rate"], ln["amount"])
        for ln in doc["lines"]
    ]


def reapply(actor: Any, old: str, new: str) -> None:
    from habeas.facilities.setup import setup_apply
    from habeas.facilities.setup_schema import parse_setup

    text = SMALL_SETUP.replace(old, new)
    setup_apply(actor=actor, document=parse_setup(tomllib.loads(text), name="small.toml"))


US_FEES = 'fees = {per_person_day = "54.79"}'


def test_contract_example_month(world: dict[str, Any], actor: Any) -> None:
    """Arrived 16 March at 08:05 local, still held: 16 days × 54.79 = 876.64."""
    person = make_person(actor)
    admit(actor, person, world["tec"], world["us"], at=dt.datetime(2025, 3, 16, 14, 5, tzinfo=UTC))
    doc = invoice_document(world["us"], "2025-03")
    assert lines(doc) == [("2025-03-16", "2025-03-31", 16, "54.79", "876.64")]
    assert doc["total_days"] == 16
    assert doc["total"] == "876.64"
    assert doc["currency"] == "USD"
    assert doc["lines"][0]["sending_ref"] == person.identifiers.get().value
    assert doc["lines"][0]["name"] == "José Alberto Hernández Ramírez"
    assert doc["status"] == "draft"
    assert doc["number"] is None
    assert len(doc["ledger_root"]) == 64


def test_arrival_late_on_the_last_day_in_local_time(world: dict[str, Any], actor: Any) -> None:
    """21:00 on 31 March local is 03:00 on 1 April UTC: billed on 31 March."""
    admit(actor, make_person(actor), world["tec"], world["us"], at=at("2025-04-01", 3))
    assert lines(invoice_document(world["us"], "2025-03")) == [
        ("2025-03-31", "2025-03-31", 1, "54.79", "54.79")
    ]
    assert invoice_document(world["us"], "2025-04")["total_days"] == 30


def test_release_and_readmission_within_a_month(world: dict[str, Any], actor: Any) -> None:
    from habeas.custody.services import custody_release

    person = make_person(actor)
    admit(actor, person, world["tec"], world["us"], at=at("2025-04-03"))
    custody_release(actor=actor, person=person, reason="court_order", at=at("2025-04-10"))
    admit(actor, person, world["tec"], world["us"], at=at("2025-04-20"))
    custody_release(actor=actor, person=person, reason="repatriated", at=at("2025-04-25"))
    assert lines(invoice_document(world["us"], "2025-04")) == [
        ("2025-04-03", "2025-04-09", 7, "54.79", "383.53"),
        ("2025-04-20", "2025-04-24", 5, "54.79", "273.95"),
    ]


def test_same_day_stay_under_each_convention(world: dict[str, Any], actor: Any) -> None:
    from habeas.custody.services import custody_release

    person = make_person(actor)
    admit(actor, person, world["tec"], world["us"], at=at("2025-04-03", 13))
    custody_release(actor=actor, person=person, reason="court_order", at=at("2025-04-03", 20))
    assert invoice_document(world["us"], "2025-04")["total_days"] == 1
    reapply(actor, US_FEES, 'fees = {per_person_day = "54.79", day_count = "both"}')
    world["us"].refresh_from_db()
    assert invoice_document(world["us"], "2025-04")["total_days"] == 1
    reapply(actor, US_FEES, 'fees = {per_person_day = "54.79", day_count = "midnights"}')
    world["us"].refresh_from_db()
    assert invoice_document(world["us"], "2025-04")["lines"] == []


@pytest.mark.parametrize(
    ("convention", "days"), [("arrival_not_departure", 9), ("both", 10), ("midnights", 9)]
)
def test_stay_across_a_month_boundary(
    world: dict[str, Any], actor: Any, convention: str, days: int
) -> None:
    """In 25 April, out 4 May: April 25–30 (6 days), May 1–3, plus 4 May under ``both``."""
    from habeas.custody.services import custody_release

    reapply(actor, US_FEES, f'fees = {{per_person_day = "54.79", day_count = "{convention}"}}')
    world["us"].refresh_from_db()
    person = make_person(actor)
    admit(actor, person, world["tec"], world["us"], at=at("2025-04-25"))
    custody_release(actor=actor, person=person, reason="repatriated", at=at("2025-05-04"))
    april = invoice_document(world["us"], "2025-04")["total_days"]
    may = invoice_document(world["us"], "2025-05")["total_days"]
    assert (april, april + may) == (6, days)


def test_leap_february(world: dict[str, Any], actor: Any) -> None:
    reapply(actor, 'starts = "2025-03-15"', 'starts = "2024-01-01"')
    world["us"].refresh_from_db()
    admit(actor, make_person(actor), world["tec"], world["us"], at=at("2024-02-10"))
    doc = invoice_document(world["us"], "2024-02")
    assert lines(doc) == [("2024-02-10", "2024-02-29", 20, "54.79", "1095.80")]
    assert invoice_document(world["us"], "2024-03")["total_days"] == 31


def test_rate_change_mid_month_splits_the_line(world: dict[str, Any], actor: Any) -> None:
    reapply(
        actor,
        US_FEES,
        'fees = {per_person_day = "54.79", changes = [{from = "2025-04-10", per_person_day = "56.00"}]}',
    )
    admit(actor, make_person(actor), world["tec"], world["us"], at=at("2025-03-16"))
    assert lines(invoice_document(world["us"], "2025-04")) == [
        ("2025-04-01", "2025-04-09", 9, "54.79", "493.11"),
        ("2025-04-10", "2025-04-30", 21, "56.00", "1176.00"),
    ]


def test_fee_change_is_never_edited(world: dict[str, Any], actor: Any) -> None:
    from habeas.core.errors import ValidationFailed

    change = 'changes = [{from = "2025-04-10", per_person_day = "56.00"}]'
    reapply(actor, US_FEES, f'fees = {{per_person_day = "54.79", {change}}}')
    reapply(actor, US_FEES, f'fees = {{per_person_day = "54.79", {change}}}')  # idempotent
    with pytest.raises(ValidationFailed, match="never edited"):
        reapply(
            actor, US_FEES, f'fees = {{per_person_day = "54.79", {change.replace("56", "57")}}}'
        )


def test_monthly_fee_and_tier_lines(world: dict[str, Any], actor: Any) -> None:
    """Two people all April, a third from 21 April; above 2 people held: 10 person-days at
    50.00 instead of 54.79, a line of 10 × −4.79 = −47.90; a fixed fee of 1,000.00."""
    reapply(
        actor,
        US_FEES,
        'fees = {per_person_day = "54.79", monthly_fee = "1000.00", tiers = [{above = 2, per_person_day = "50.00"}]}',
    )
    world["us"].refresh_from_db()
    for day in ("2025-03-20", "2025-03-21", "2025-04-21"):
        admit(actor, make_person(actor), world["tec"], world["us"], at=at(day))
    doc = invoice_document(world["us"], "2025-04")
    extra = [(ln["kind"], ln["days"], ln["rate"], ln["amount"]) for ln in doc["lines"][3:]]
    assert extra == [("tier", 10, "-4.79", "-47.90"), ("monthly_fee", 0, "1000.00", "1000.00")]
    assert doc["total_days"] == 70
    assert Decimal(doc["total"]) == Decimal("54.79") * 70 - Decimal("47.90") + 1000


def test_absence_is_still_billed(world: dict[str, Any], actor: Any) -> None:
    from habeas.custody.absences import absence_end, absence_start

    person = make_person(actor)
    admit(actor, person, world["tec"], world["us"], at=at("2025-04-01"))
    absence = absence_start(
        actor=actor,
        person=person,
        kind="hospital",
        destination="Hospital Rosales",
        authority="Medical officer",
        started_at=at("2025-04-05"),
    )
    absence_end(actor=actor, absence=absence, returned_at=at("2025-04-12"))
    assert invoice_document(world["us"], "2025-04")["total_days"] == 30


def test_transfer_under_the_same_agreement_continues(world: dict[str, Any], actor: Any) -> None:
    """Released as transferred from TEC and admitted in OTH on the same day under the GT
    agreement: one line, no day lost or billed twice."""
    from habeas.custody.services import custody_release

    person = make_person(actor, authority="GT")
    admit(actor, person, world["tec"], world["gt"], at=at("2025-04-01"))
    custody_release(actor=actor, person=person, reason="transferred", at=at("2025-04-10", 9))
    admit(actor, person, world["oth"], world["gt"], at=at("2025-04-10", 15))
    assert lines(invoice_document(world["gt"], "2025-04")) == [
        ("2025-04-01", "2025-04-30", 30, "30.00", "900.00")
    ]


# --- issue, pay, notes ------------------------------------------------------------------------


def test_issue_numbers_per_agreement_and_year_and_is_idempotent(
    world: dict[str, Any], actor: Any
) -> None:
    from habeas.billing.services import invoice_issue
    from habeas.ledger.models import LedgerEntry

    admit(actor, make_person(actor), world["tec"], world["us"], at=at("2025-03-16"))
    march = invoice_issue(actor=actor, agreement=world["us"], period="2025-03")
    april = invoice_issue(actor=actor, agreement=world["us"], period="2025-04")
    assert (march.number, april.number) == ("US-SV/2025/0001", "US-SV/2025/0002")
    assert invoice_issue(actor=actor, agreement=world["us"], period="2025-03").pk == march.pk
    assert march.document["status"] == "issued"
    assert march.document["total"] == "876.64"
    entry = LedgerEntry.objects.get(
        action="billing.invoice_issued", subject="invoice:US-SV/2025/0001"
    )
    assert march.ledger_size < entry.index + 1
    assert "Hernández" not in entry.canonical


def test_issue_refuses_a_month_not_over(world: dict[str, Any], actor: Any) -> None:
    from habeas.billing.services import invoice_issue
    from habeas.core.errors import Conflict

    with pytest.raises(Conflict, match="not over"):
        invoice_issue(
            actor=actor, agreement=world["us"], period="2025-04", today=dt.date(2025, 4, 30)
        )


def test_issued_invoice_never_changes(world: dict[str, Any], actor: Any) -> None:
    """Refused by the service layer's write guard and by the database itself."""
    from habeas.billing.models import Invoice
    from habeas.billing.services import invoice_issue, invoice_mark_paid
    from habeas.core.errors import Conflict
    from habeas.core.services import WriteOutsideService, service

    admit(actor, make_person(actor), world["tec"], world["us"], at=at("2025-03-16"))
    invoice = invoice_issue(actor=actor, agreement=world["us"], period="2025-03")
    invoice.total = Decimal("1")
    with pytest.raises(WriteOutsideService):
        invoice.save()
    for change in ({"total": Decimal("1")}, {"document": {}}, {"status": "issued", "number": "X"}):
        with pytest.raises(DatabaseError), transaction.atomic():
            service(lambda change=change: Invoice.objects.filter(pk=invoice.pk).update(**change))()
    with pytest.raises(DatabaseError), transaction.atomic():
        service(lambda: Invoice.objects.filter(pk=invoice.pk).delete())()
    invoice.refresh_from_db()
    paid = invoice_mark_paid(actor=actor, invoice=invoice, paid_at=at("2025-04-20"))
    assert paid.status == "paid"
    with pytest.raises(Conflict):
        invoice_mark_paid(actor=actor, invoice=paid, paid_at=at("2025-04-21"))
    with pytest.raises(DatabaseError), transaction.atomic():
        service(
            lambda: Invoice.objects.filter(pk=invoice.pk).update(status="issued", paid_at=None)
        )()


def test_late_release_gives_a_credit_note_of_the_difference(
    world: dict[str, Any], actor: Any
) -> None:
    from habeas.billing.corrections import correction_document
    from habeas.billing.services import invoice_issue, note_issue
    from habeas.custody.services import custody_release

    person = make_person(actor)
    admit(actor, person, world["tec"], world["us"], at=at("2025-03-16"))
    invoice = invoice_issue(actor=actor, agreement=world["us"], period="2025-03")
    assert correction_document(invoice) is None
    custody_release(actor=actor, person=person, reason="repatriated", at=at("2025-03-21"))
    note = note_issue(actor=actor, invoice=invoice)
    assert note.kind == "credit_note"
    assert note.refers_to == invoice
    assert note.number == "CN-US-SV/2025/0002"
    assert [(ln["days"], ln["amount"]) for ln in note.document["lines"]] == [(-11, "-602.69")]
    recomputed = invoice_document(world["us"], "2025-03")
    assert invoice.total + note.total == Decimal(recomputed["total"]) == Decimal("273.95")
    assert correction_document(invoice) is None
