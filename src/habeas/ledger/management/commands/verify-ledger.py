"""``habeas verify-ledger [--json]``: exit 0 when the ledger verifies, 1 naming the fault."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser

from habeas.core.commands import HabeasCommand, spinner
from habeas.ledger.services import verification_record
from habeas.ledger.verify import verify_against, verify_ledger


class Command(HabeasCommand):
    help = "Recompute every leaf hash and the Merkle root of the ledger; exit 1 on any fault."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="print the JSON document")
        parser.add_argument(
            "--deep",
            action="store_true",
            help="also re-encode every entry to check its text is canonical (slower)",
        )
        parser.add_argument(
            "--against",
            type=Path,
            help="a signed checkpoint (from `habeas ledger checkpoint`) the ledger must extend",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        against = options.get("against")
        if against is not None and not against.is_file():
            raise CommandError(f"{against}: no such file", returncode=2)
        with spinner("Verifying the ledger…"):
            result = verify_ledger(deep=options.get("deep", False))
            if against is not None:
                verify_against(against.read_text(encoding="utf-8"), result)
        verification_record(
            size=result.entries,
            root=result.root,
            ok=result.ok,
            problems=result.document()["problems"],
        )
        if options["json"]:
            self.stdout.write(json.dumps(result.document(), indent=2))
        elif result.ok:
            self.stdout.write(f"ledger ok: {result.entries} entries, root {result.root.hex()}")
        else:
            for p in result.problems:
                self.stderr.write(f"{p.where}: {p.message}")
        if not result.ok:
            raise SystemExit(1)
