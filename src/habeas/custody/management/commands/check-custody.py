"""``habeas check-custody [--json]``: every open custody episode's legal basis and release
date; alarms A4.1-A4.6 opened and closed on the ledger (INTERFACES.md v1.1). Idempotent: run
it from cron, or let ``habeas worker`` run it daily."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import CommandParser

from habeas.core.actor import Actor
from habeas.core.commands import HabeasCommand, spinner
from habeas.custody.check import custody_check


class Command(HabeasCommand):
    help = (
        "Evaluate every open custody episode's legal basis and release date; open or close alarms."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        with spinner("Checking custody"):
            report = custody_check(actor=Actor.system("check-custody"))
        doc = report.document()
        if options["json"]:
            self.stdout.write(json.dumps(doc, indent=2, ensure_ascii=False))
            return
        self.stdout.write(
            f"{doc['episodes']} open episodes; {doc['recalculated']} release dates recalculated; "
            f"{len(doc['opened'])} alarms opened, {len(doc['closed'])} closed"
        )
        for item in doc["opened"]:
            self.stdout.write(f"  opened {item['rule']} person {item['person']}")
        for item in doc["closed"]:
            self.stdout.write(f"  closed {item['rule']} person {item['person']}")
