"""``habeas alerts [--open] [--json] [--facility CODE] [--kind K]``: the open alerts
(INTERFACES.md): space per person, capacity, roll-count discrepancy, no live legal basis."""

from __future__ import annotations

import json
from typing import IO, Any, cast

from django.core.management.base import CommandParser

from habeas.conditions.alerts import KINDS, alerts_document, alerts_for
from habeas.core.commands import HabeasCommand
from habeas.core.errors import NotFound
from habeas.facilities.models import Facility


class Command(HabeasCommand):
    help = "Alarms and alerts: space per person, capacity, roll count, no live legal basis."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--open",
            action="store_true",
            help="only open alerts: leave out those staff have acknowledged (an alert is "
            "listed until its cause is fixed)",
        )
        parser.add_argument("--json", action="store_true")
        parser.add_argument("--facility", metavar="CODE")
        parser.add_argument("--kind", choices=KINDS, action="append", default=[])

    def handle(self, *args: Any, **options: Any) -> None:
        facility = None
        if options["facility"]:
            facility = Facility.objects.filter(code=options["facility"]).first()
            if facility is None:
                raise NotFound(f"facility {options['facility']!r} not found")
        alerts = alerts_for(facility=facility, kinds=options["kind"], open_only=options["open"])
        if options["json"]:
            self.stdout.write(json.dumps(alerts_document(alerts), indent=2, ensure_ascii=False))
            return
        from rich.console import Console
        from rich.table import Table

        console = Console(file=cast(IO[str], self.stdout), width=140)
        if not alerts:
            console.print("no open alerts")
            return
        table = Table(title=f"{len(alerts)} open alert(s)")
        for col in ("kind", "subject", "value", "since", "status", "message"):
            table.add_column(col, overflow="fold")
        for a in alerts:
            doc = a.document()
            table.add_row(a.kind, a.subject, a.value, str(doc["since"] or "—"), a.status, a.message)
        console.print(table)
