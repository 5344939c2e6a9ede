"""``habeas ledger checkpoint|entry|proof`` (INTERFACES.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser

from habeas.core.commands import HabeasCommand
from habeas.ledger.proofs import (
    checkpoint_issue,
    consistency_proof,
    entry_document,
    inclusion_proof,
)


class Command(HabeasCommand):
    help = "Signed checkpoints, single entries and RFC 9162 proofs of the ledger."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="what", required=True)
        cp = sub.add_parser("checkpoint", help="sign the current tree head")
        cp.add_argument("--out", type=Path, help="write the checkpoint to this file")
        en = sub.add_parser("entry", help="one entry: the exact bytes hashed and its leaf hash")
        en.add_argument("index", type=int)
        en.add_argument("--json", action="store_true")
        pr = sub.add_parser("proof", help="an inclusion or consistency proof")
        group = pr.add_mutually_exclusive_group(required=True)
        group.add_argument("--inclusion", type=int, metavar="INDEX")
        group.add_argument("--consistency", type=int, nargs=2, metavar=("M", "N"))
        pr.add_argument("--size", type=int, help="tree size for an inclusion proof")
        pr.add_argument("--json", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        what = options["what"]
        if what == "checkpoint":
            checkpoint = checkpoint_issue()
            out: Path | None = options.get("out")
            if out is not None:
                out.write_text(checkpoint.text, encoding="utf-8")
                self.stdout.write(f"checkpoint of size {checkpoint.size} written to {out}")
            else:
                self.stdout.write(checkpoint.text, ending="")
            return
        if what == "entry":
            doc = entry_document(options["index"])
        elif options.get("inclusion") is not None:
            doc = inclusion_proof(options["inclusion"], options.get("size"))
        else:
            m, n = options["consistency"]
            if options.get("size") is not None:
                raise CommandError("--size applies to --inclusion only", returncode=2)
            doc = consistency_proof(m, n)
        self.stdout.write(json.dumps(doc, indent=2 if not options.get("json") else None))
