"""``habeas check-conditions [--json]``: open a ``sensor_silent`` alert on the ledger for each
occupied cell without a reading for 2 hours and close those heard from again (rule A6);
idempotent, safe to run from cron (the worker runs it with the daily check)."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import CommandParser

from habeas.conditions.readings_alerts import cell_silence_check
from habeas.core.actor import Actor
from habeas.core.commands import HabeasCommand


class Command(HabeasCommand):
    help = "Open and close silent-sensor alerts on the ledger (no reading for 2 hours)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        report = cell_silence_check(actor=Actor.cli())
        if options["json"]:
            self.stdout.write(
                json.dumps({"opened": report.opened, "closed": report.closed}, indent=2)
            )
            return
        self.stdout.write(f"{len(report.opened)} opened, {len(report.closed)} closed")
        for a in report.opened:
            self.stdout.write(f"  opened: {a}")
        for a in report.closed:
            self.stdout.write(f"  closed: {a}")
