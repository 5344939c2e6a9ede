"""``habeas import-manifest FILE --agreement CODE [--ref REF] [--dry-run] [--report OUT.json]``
(INTERFACES.md; MANIFEST.md)."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser

from habeas.agreements.models import Agreement
from habeas.core.actor import Actor
from habeas.core.commands import HabeasCommand, spinner
from habeas.transfers.manifest import ManifestRefused
from habeas.transfers.selectors import manifest_report_write, report_text
from habeas.transfers.services import manifest_import


class Command(HabeasCommand):
    help = "Read a transfer manifest (CSV or JSON) and decide every entry, explained per rule."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file")
        parser.add_argument("--agreement", required=True)
        parser.add_argument("--ref", default=None, help="the manifest's reference")
        parser.add_argument("--dry-run", action="store_true", help="decide, store nothing")
        parser.add_argument("--report", default=None, help="write the report document here")
        parser.add_argument(
            "--on", default=None, help="decide as on this date (YYYY-MM-DD; default today)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"{path}: no such file", returncode=2)
        agreement = Agreement.objects.filter(code=options["agreement"]).first()
        if agreement is None:
            raise CommandError(f"--agreement: no agreement {options['agreement']!r}", returncode=2)
        on = None
        if options["on"]:
            try:
                on = dt.date.fromisoformat(options["on"])
            except ValueError:
                raise CommandError(f"--on: {options['on']!r} is not a date", returncode=2) from None
        try:
            with spinner("deciding…"):
                result = manifest_import(
                    actor=Actor.cli(),
                    data=path,
                    agreement=agreement,
                    ref=options["ref"],
                    filename=path.name,
                    decided_on=on,
                    dry_run=options["dry_run"],
                    dry_run_report=bool(options["report"]),
                )
        except ManifestRefused as exc:
            sys.stderr.write(f"{path}: {exc.message}\n")
            for p in exc.problems:
                sys.stderr.write(f"{path}: {p}\n")
            raise CommandError(f"{path}: refused, nothing stored", returncode=2) from None
        summary = result.summary
        if options["report"]:
            # Written page by page from the stored rows (a dry run's report is already built):
            # a 100,000-row manifest's report is never held whole.
            with Path(options["report"]).open("w", encoding="utf-8") as out:
                if result.manifest is not None:
                    manifest_report_write(result.manifest, out)
                else:
                    report = result.report
                    out.writelines(report_text(summary, report["entries"]))
                out.write("\n")
        c = summary["counts"]
        state = (
            "recognised: already imported, nothing stored"
            if result.recognised
            else ("dry run: nothing stored" if result.dry_run else "imported")
        )
        self.stdout.write(
            f"manifest {summary['manifest']} ({state}): {c['eligible']} eligible, "
            f"{c['needs_review']} need review, {c['ineligible']} ineligible"
        )
