"""``habeas reconcile --agreement CODE --period YYYY-MM THEIRS.csv [--json]`` (INTERFACES.md):
compare the sending state's own list with what was billed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser

from habeas.agreements.models import Agreement
from habeas.billing.compute import period_bounds
from habeas.billing.reconcile import parse_theirs, reconcile
from habeas.core.commands import HabeasCommand


class Command(HabeasCommand):
    help = "Compare the sending state's list for a month with what was billed."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("theirs")
        parser.add_argument("--agreement", required=True)
        parser.add_argument("--period", required=True, help="YYYY-MM")
        parser.add_argument("--json", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        agreement = Agreement.objects.filter(code=options["agreement"]).first()
        if agreement is None:
            raise CommandError(f"--agreement: no agreement {options['agreement']!r}", returncode=2)
        try:
            period_bounds(options["period"])
        except ValueError as exc:
            raise CommandError(f"--period: {exc}", returncode=2) from None
        path = Path(options["theirs"])
        if not path.is_file():
            raise CommandError(f"{path}: no such file", returncode=2)
        report = reconcile(
            agreement, options["period"], parse_theirs(path.read_bytes(), name=str(path))
        )
        if options["json"]:
            self.stdout.write(json.dumps(report, ensure_ascii=False, indent=2))
            return
        counts = report["counts"]
        self.stdout.write(
            f"{agreement.code} {options['period']} ({report['billed']}): {counts['billed']} "
            f"billed, {counts['theirs']} on their list, {counts['matched']} matched"
        )
        for item in report["billed_not_theirs"]:
            self.stdout.write(
                f"  billed, not theirs: {item['sending_ref']} {item['name']} "
                f"{item['first_day']}…{item['last_day']} ({item['days']} days)"
            )
        for item in report["theirs_not_billed"]:
            self.stdout.write(
                f"  theirs, not billed: row {item['row']} {item['sending_ref']} {item['name']} "
                f"{item['first_day']}…{item['last_day']} ({item['days']} days)"
            )
        for item in report["day_differences"]:
            b, t = item["billed"], item["theirs"]
            self.stdout.write(
                f"  days differ: {b['sending_ref']} {b['name']}: billed {b['days']} "
                f"({b['first_day']}…{b['last_day']}), theirs {t['days']} "
                f"({t['first_day']}…{t['last_day']}), matched by {item['matched_by']}"
            )
            for e in item["episodes"]:
                self.stdout.write(
                    f"      episode {e['episode']} {e['facility']}: {e['admitted_at']} → "
                    f"{e['released_at'] or 'open'} {e['release_reason'] or ''}".rstrip()
                )
