"""``habeas stats [--json]``: population and occupancy (Mandela Rule 10)."""

from __future__ import annotations

import json
from typing import IO, Any, cast

from django.core.management.base import CommandParser

from habeas.core.commands import HabeasCommand
from habeas.oversight.selectors import stats_document


def _numbers(doc: dict[str, Any]) -> dict[str, Any]:
    """INTERFACES.md v1.1: occupancy rates are JSON numbers with one decimal (null when the
    capacity is zero), not strings."""

    def number(value: Any) -> float | None:
        return None if value is None else round(float(value), 1)

    for f in doc["facilities"]:
        for row in [f, *f["modules"]]:
            for key in ("occupancy_rate_certified", "occupancy_rate_working"):
                row[key] = number(row[key])
    return doc


class Command(HabeasCommand):
    help = "Population and occupancy against certified and working capacity."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        doc = stats_document()
        if options["json"]:
            self.stdout.write(json.dumps(_numbers(doc), indent=2, default=str))
            return
        from rich.console import Console
        from rich.table import Table

        console = Console(file=cast(IO[str], self.stdout), width=110)
        for f in doc["facilities"]:
            table = Table(
                title=f"{f['name']} ({f['code']}): {f['population']} held, "
                f"{f['occupancy_rate_certified'] or '—'} % of certified capacity"
            )
            for col in (
                "module",
                "regime",
                "population",
                "certified",
                "working",
                "% certified",
                "% working",
                "cells over",
            ):
                table.add_column(col, justify="right" if col != "module" else "left")
            for m in f["modules"]:
                table.add_row(
                    m["code"],
                    m["regime"],
                    str(m["population"]),
                    str(m["certified_capacity"]),
                    str(m["working_capacity"]),
                    str(m["occupancy_rate_certified"] or "—"),
                    str(m["occupancy_rate_working"] or "—"),
                    str(m["cells_over_certified"]),
                )
            console.print(table)
        console.print(f"by nationality: {doc['by_nationality']}")
        console.print(f"by sex: {doc['by_sex']}   by legal basis: {doc['by_legal_basis']}")
        console.print(f"open alerts: {doc['open_alerts']}")
