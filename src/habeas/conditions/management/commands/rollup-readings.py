"""``habeas rollup-readings [--json]``: retention of cell readings. Raw readings older than 30
days become hourly rows (count, minimum, mean, maximum) and are removed, in one ledger entry
that commits to what was removed and to what was written. Idempotent; the worker runs it
daily."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import CommandParser

from habeas.conditions.retention import readings_rollup
from habeas.core.actor import Actor
from habeas.core.commands import HabeasCommand


class Command(HabeasCommand):
    help = "Roll up readings older than 30 days into hourly rows (on the ledger)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        report = readings_rollup(actor=Actor.cli())
        if options["json"]:
            self.stdout.write(json.dumps(report.document(), indent=2))
            return
        self.stdout.write(
            f"{report.removed} readings rolled up into {report.hours} hourly rows"
            + (f" (rollup {report.rollup})" if report.rollup else "")
        )
