"""Admin for issued invoices and notes, read-only: issued documents never change
(STANDARDS.md, Billing); they are issued, paid and corrected through the services."""

from __future__ import annotations

from django.contrib import admin

from habeas.billing.models import Invoice
from habeas.ledger.admin import ReadOnlyModelAdmin


@admin.register(Invoice)
class InvoiceAdmin(ReadOnlyModelAdmin):
    list_display = ["number", "kind", "agreement", "period", "status", "total", "currency"]
    list_select_related = ["agreement"]
    list_filter = ["kind", "status"]
