"""``habeas roll-count --facility CODE FILE.csv``: a counted roll (``cell,counted,counted_at``)
against the registry (HMPPS establishment roll). Rows sharing a ``counted_at`` are one roll;
a discrepancy is reported and becomes a ``roll_count`` alert. Exit 0 when every count
matches, 1 when there is a discrepancy, 2 when the file is refused (nothing written)."""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser

from habeas.core.actor import Actor
from habeas.core.clock import parse_instant
from habeas.core.commands import HabeasCommand
from habeas.facilities.models import Facility
from habeas.housing.services import RollLine, roll_count_record_file

COLUMNS = ("cell", "counted", "counted_at")


class Command(HabeasCommand):
    help = "Record a counted roll; discrepancies with the registry become alerts."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--facility", required=True, help="facility code")
        parser.add_argument("file", type=Path, help="CSV with columns cell,counted,counted_at")
        parser.add_argument("--json", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        facility = Facility.objects.filter(code=options["facility"]).first()
        if facility is None:
            raise CommandError(f"no facility {options['facility']}", returncode=2)
        if not path.is_file():
            raise CommandError(f"{path}: no such file", returncode=2)
        rolls = self._read(path)
        recorded = roll_count_record_file(actor=Actor.cli(), facility=facility, rolls=rolls)
        document: dict[str, Any] = {
            "facility": facility.code,
            "rolls": [
                {
                    "id": str(r.pk),
                    "counted_at": r.counted_at.isoformat(),
                    "expected": r.expected,
                    "counted": r.counted,
                    "discrepancies": [
                        {"cell": line.cell.code, "expected": line.expected, "counted": line.counted}
                        for line in r.lines.select_related("cell")
                        if line.counted != line.expected
                    ],
                }
                for r in recorded
            ],
        }
        if options["json"]:
            self.stdout.write(json.dumps(document, indent=2, ensure_ascii=False))
        else:
            for roll in document["rolls"]:
                self.stdout.write(
                    f"{facility.code} roll at {roll['counted_at']}: counted {roll['counted']}, "
                    f"expected {roll['expected']}, {len(roll['discrepancies'])} discrepancies"
                )
                for d in roll["discrepancies"]:
                    self.stdout.write(
                        f"  {d['cell']}: counted {d['counted']}, expected {d['expected']}"
                    )
        if any(roll["discrepancies"] for roll in document["rolls"]):
            raise SystemExit(1)

    def _read(self, path: Path) -> dict[dt.datetime, list[RollLine]]:
        rolls: defaultdict[dt.datetime, list[RollLine]] = defaultdict(list)
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise CommandError(
                    f"{path.name}: missing column(s) {', '.join(missing)}", returncode=2
                )
            for row_no, row in enumerate(reader, start=2):
                where = f"{path.name}, row {row_no}"
                try:
                    counted = int(row["counted"])
                    if counted < 0:
                        raise ValueError
                except (TypeError, ValueError):
                    raise CommandError(
                        f"{where}, column counted: a whole number ≥ 0", returncode=2
                    ) from None
                try:
                    at = parse_instant(row["counted_at"] or "")
                except ValueError as exc:
                    raise CommandError(f"{where}, column counted_at: {exc}", returncode=2) from None
                rolls[at].append(
                    RollLine(cell=(row["cell"] or "").strip(), counted=counted, row=row_no)
                )
        if not rolls:
            raise CommandError(f"{path.name}: no rows", returncode=2)
        return rolls
