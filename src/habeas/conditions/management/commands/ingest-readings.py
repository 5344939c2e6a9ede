"""``habeas ingest-readings FILE.csv [--json]``: cell sensor readings (INTERFACES.md), columns
``cell,taken_at,temperature_c,humidity_pct`` and optionally ``co2_ppm``; ``cell`` is
``FACILITY/CELL`` or a cell code used by one facility only. Idempotent on (cell, taken_at).
Bad rows are reported on stderr by row, column and reason and the rest are stored (exit 1);
a file that is not a readings CSV is refused whole (exit 2)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser

from habeas.conditions.readings import CellIndex, read_csv, readings_ingest, validate_rows
from habeas.conditions.readings_models import ReadingSource
from habeas.core.actor import Actor
from habeas.core.commands import HabeasCommand, progress_bar, spinner


class Command(HabeasCommand):
    help = "Ingest cell sensor readings from a CSV file; heat alerts are evaluated as they arrive."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="CSV: cell,taken_at,temperature_c,humidity_pct")
        parser.add_argument("--json", action="store_true", help="print the report as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"{path}: no such file", returncode=2)
        size = path.stat().st_size
        with (
            path.open(newline="", encoding="utf-8-sig") as handle,
            progress_bar(size, f"reading {path.name}") as advance,
        ):

            def lines() -> Any:
                # a megabyte of lines at a time, the bar advanced once for them
                while block := handle.readlines(1 << 20):
                    advance(len("".join(block).encode()))
                    yield from block

            records = read_csv(lines(), str(path))
            rows, errors = validate_rows(records, CellIndex())
        with spinner(f"storing {len(rows)} readings"):
            report = readings_ingest(
                actor=Actor.cli(),
                rows=rows,
                source=ReadingSource.CSV,
                name=path.name,
                errors=errors,
            )
        if options["json"]:
            self.stdout.write(json.dumps(report.document(), indent=2, ensure_ascii=False))
        else:
            self.stdout.write(
                f"{path.name}: {report.stored} readings stored, {report.unchanged} already "
                f"stored, {len(report.errors)} bad rows"
                + (f" (batch {report.batch})" if report.batch else "")
            )
            for alert in report.opened:
                self.stdout.write(f"  alert opened: {alert}")
            for alert in report.closed:
                self.stdout.write(f"  alert closed: {alert}")
        for e in report.errors[:200]:
            self.stderr.write(f"{path}: {e}")
        if len(report.errors) > 200:
            self.stderr.write(f"{path}: … and {len(report.errors) - 200} more bad rows")
        if report.errors:
            raise SystemExit(1)
