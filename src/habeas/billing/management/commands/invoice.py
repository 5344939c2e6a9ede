"""``habeas invoice --agreement CODE --period YYYY-MM [--issue] [--format json|csv|pdf]
[--output F]`` (INTERFACES.md): the month's invoice, a draft unless ``--issue``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser

from habeas.agreements.models import Agreement
from habeas.billing.compute import invoice_document, period_bounds
from habeas.billing.exports import invoice_csv, invoice_pdf
from habeas.billing.models import DocumentKind, Invoice
from habeas.billing.services import invoice_issue
from habeas.core.actor import Actor
from habeas.core.commands import HabeasCommand


class Command(HabeasCommand):
    help = "The month's invoice of an agreement (a draft unless --issue)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--agreement", required=True)
        parser.add_argument("--period", required=True, help="YYYY-MM")
        parser.add_argument("--issue", action="store_true")
        parser.add_argument("--format", choices=("json", "csv", "pdf"), default="json")
        parser.add_argument("--output", default=None)

    def handle(self, *args: Any, **options: Any) -> None:
        agreement = Agreement.objects.filter(code=options["agreement"]).first()
        if agreement is None:
            raise CommandError(f"--agreement: no agreement {options['agreement']!r}", returncode=2)
        period = options["period"]
        try:
            period_bounds(period)
        except ValueError as exc:
            raise CommandError(f"--period: {exc}", returncode=2) from None
        if options["issue"]:
            document = invoice_issue(actor=Actor.cli(), agreement=agreement, period=period).document
        else:
            issued = Invoice.objects.filter(
                agreement=agreement, period=period, kind=DocumentKind.INVOICE
            ).first()
            document = issued.document if issued else invoice_document(agreement, period)
        fmt = options["format"]
        data: bytes
        if fmt == "pdf":
            data = invoice_pdf(document, agreement)
        elif fmt == "csv":
            data = invoice_csv(document).encode()
        else:
            data = (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode()
        if options["output"]:
            Path(options["output"]).write_bytes(data)
            self.stderr.write(
                f"{document.get('number') or 'draft'}: {len(document['lines'])} lines, "
                f"total {document['total']} {document['currency']} → {options['output']}"
            )
        elif fmt == "pdf":
            if sys.stdout.isatty():
                raise CommandError("--format pdf: give --output FILE", returncode=2)
            sys.stdout.buffer.write(data)
        else:
            self.stdout.write(data.decode(), ending="")
