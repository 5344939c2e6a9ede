"""Issued invoices and credit and debit notes (STANDARDS.md, Billing: "issued invoices are
never edited: corrections are credit or debit notes referring to them").

A draft is never stored: it is computed afresh from custody and the fee schedule. Issuing
stores the document as computed, numbered per agreement and year, with the ledger root it was
computed from. After that the only change is issued → paid; the database refuses any other
update and every delete (triggers on SQLite and PostgreSQL, migration 0002).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from habeas.agreements.models import Agreement
from habeas.core.services import ServiceModel, ServiceQuerySet

if TYPE_CHECKING:
    from habeas.accounts.models import User


class DocumentKind(models.TextChoices):
    INVOICE = "invoice", _("Invoice")
    CREDIT = "credit_note", _("Credit note")
    DEBIT = "debit_note", _("Debit note")


class InvoiceStatus(models.TextChoices):
    ISSUED = "issued", _("Issued")
    PAID = "paid", _("Paid")


class InvoiceQuerySet(ServiceQuerySet):
    def visible_to(self, user: User | Any) -> InvoiceQuerySet:
        """The documents of the agreements the user sees: a state's liaison and finance their
        state's agreements, facility staff those covering their facilities, oversight all."""
        return self.filter(agreement__in=Agreement.objects.visible_to(user))


class Invoice(ServiceModel):
    """An issued invoice, credit note or debit note. ``document`` is the JSON document of
    INTERFACES.md as it was issued; ``refers_to`` is the invoice a note corrects."""

    agreement = models.ForeignKey(Agreement, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=16, choices=DocumentKind.choices)
    period = models.CharField(max_length=7)
    year = models.PositiveIntegerField()
    sequence = models.PositiveIntegerField()
    number = models.CharField(max_length=100, unique=True)
    refers_to = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="notes"
    )
    status = models.CharField(max_length=8, choices=InvoiceStatus.choices)
    currency = models.CharField(max_length=3)
    total = models.DecimalField(max_digits=16, decimal_places=4)
    total_days = models.IntegerField()
    ledger_root = models.CharField(max_length=64)
    ledger_size = models.PositiveBigIntegerField()
    issued_at = models.DateTimeField()
    paid_at = models.DateTimeField(null=True, blank=True)
    document = models.JSONField()

    objects = InvoiceQuerySet.as_manager()  # type: ignore[misc]  # narrows the guarded base manager

    class Meta:
        ordering = ["agreement", "period", "sequence"]
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "year", "sequence"], name="invoice_number_per_agreement_year"
            ),
            models.UniqueConstraint(
                fields=["agreement", "period"],
                condition=Q(kind="invoice"),
                name="one_invoice_per_agreement_month",
            ),
            models.CheckConstraint(
                condition=Q(kind="invoice", refers_to__isnull=True)
                | (~Q(kind="invoice") & Q(refers_to__isnull=False)),
                name="invoice_note_refers_to_invoice",
            ),
            models.CheckConstraint(
                condition=Q(status="issued", paid_at__isnull=True)
                | Q(status="paid", paid_at__isnull=False),
                name="invoice_paid_has_time",
            ),
        ]

    def __str__(self) -> str:
        return self.number
