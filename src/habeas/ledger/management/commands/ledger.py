"""``habeas ledger checkpoint|entry|proof`` (INTERFACES.md), ``ledger export|witness``
(docs/ledger.md: the public ledger for an independent witness) and ``ledger actions`` (every
declared action, its personal paths and its payload's JSON Schema: how to read the entries)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser

from habeas.core.commands import HabeasCommand, progress_bar
from habeas.core.events import REGISTRY
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
        ex = sub.add_parser("export", help="the public ledger as JSON Lines, for a witness")
        ex.add_argument("--out", type=Path, help="write to this file (default: stdout)")
        ex.add_argument(
            "--from",
            dest="start",
            type=int,
            default=0,
            metavar="N",
            help="export entries N… with a consistency proof from size N",
        )
        ac = sub.add_parser(
            "actions", help="every ledger action: its label, personal paths and payload schema"
        )
        ac.add_argument("--json", action="store_true")
        wi = sub.add_parser("witness", help="check an export (no database needed)")
        wi.add_argument("file", type=Path)
        older = wi.add_mutually_exclusive_group()
        older.add_argument("--against", type=Path, metavar="OLDFILE", help="your older copy")
        older.add_argument("--checkpoint", type=Path, metavar="CP", help="an older checkpoint")
        wi.add_argument("--key", type=Path, metavar="PUBFILE", help="the ledger's public key")

    def execute(self, *args: Any, **options: Any) -> str | None:
        if options.get("what") == "witness":
            # The witness runs on its own machine, with no database: no system checks.
            options["skip_checks"] = True
        return super().execute(*args, **options)

    def handle(self, *args: Any, **options: Any) -> None:
        what = options["what"]
        if what == "export":
            self._export(options["start"], options.get("out"))
            return
        if what == "witness":
            self._witness(options)
            return
        if what == "actions":
            self._actions(bool(options.get("json")))
            return
        if what == "checkpoint":
            checkpoint = checkpoint_issue()
            out: Path | None = options.get("out")
            # The signed-note format (C2SP) carries the root in base64; Habeas prints hashes in
            # hex everywhere else, so the command names the same root in hex.
            said = (
                f"root {checkpoint.root} (hex; the note's third line is the same 32 bytes "
                "in base64, as the signed-note format requires)"
            )
            if out is not None:
                out.write_text(checkpoint.text, encoding="utf-8")
                self.stdout.write(f"checkpoint of size {checkpoint.size} written to {out}")
                self.stdout.write(said)
            else:
                self.stdout.write(checkpoint.text, ending="")
                self.stderr.write(said)  # stdout stays the note alone, ready to redirect
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

    def _actions(self, as_json: bool) -> None:
        """The declared actions, by name. A personal path holds, on the ledger, a commitment
        (``"hmac-sha256:<hex>"``) in place of the value the schema describes."""
        actions = [
            {
                "name": a.name,
                "label": str(a.label) if a.label is not None else None,
                "personal": list(a.personal),
                "schema": a.schema.model_json_schema() if a.schema is not None else None,
            }
            for a in sorted(REGISTRY.actions.values(), key=lambda a: a.name)
        ]
        if as_json:
            self.stdout.write(json.dumps({"actions": actions}, ensure_ascii=False))
            return
        for a in actions:
            self.stdout.write(f"{a['name']}  {a['label'] or ''}")
            if a["personal"]:
                self.stdout.write(f"  personal: {', '.join(a['personal'])}")
            self.stdout.write(
                "  schema: "
                + json.dumps(a["schema"], indent=2, ensure_ascii=False).replace("\n", "\n  ")
            )

    def _export(self, start: int, out: Path | None) -> None:
        from habeas.ledger.export import export_lines, prepare_export

        plan = prepare_export(start)
        with progress_bar(plan.count, "Exporting the ledger") as advance:
            if out is None:
                stream = getattr(self.stdout, "_out", sys.stdout)
                binary = getattr(stream, "buffer", None)
                for chunk in export_lines(plan, progress=advance):
                    if binary is not None:
                        binary.write(chunk)
                    else:
                        stream.write(chunk.decode("utf-8"))
                stream.flush()
                return
            try:
                with out.open("wb") as fh:
                    for chunk in export_lines(plan, progress=advance):
                        fh.write(chunk)
            except OSError as exc:
                raise CommandError(f"{out}: {exc.strerror}", returncode=2) from None
        self.stderr.write(
            f"exported entries {plan.start}–{plan.size - 1} of {plan.size} to {out}"
            if plan.count
            else f"exported the header of a ledger of {plan.size} entries to {out}"
        )

    def _witness(self, options: dict[str, Any]) -> None:
        from habeas.ledger.witness import WitnessInputError, read_header, witness

        path: Path = options["file"]
        for given in (path, options.get("against"), options.get("checkpoint"), options.get("key")):
            if given is not None and not given.is_file():
                raise CommandError(f"{given}: no such file", returncode=2)
        try:
            with path.open("rb") as fh:
                header = read_header(path, fh)
            with progress_bar(header.size - header.start, "Checking the export") as advance:
                result = witness(
                    path,
                    against=options.get("against"),
                    checkpoint=options.get("checkpoint"),
                    key=options.get("key"),
                    progress=advance,
                )
        except WitnessInputError as exc:
            raise CommandError(str(exc), returncode=2) from None
        for note in result.notes:
            self.stderr.write(f"note: {note}")
        if not result.ok:
            for p in result.problems:
                self.stderr.write(f"{path}: {p.where}: {p.message}")
            raise SystemExit(1)
        span = (
            f"entries {result.start}–{result.size - 1}"
            if result.size > result.start
            else "no entries"
        )
        extends = ""
        if options.get("against") is not None:
            extends = f"; extends the older copy {options['against']}"
        elif options.get("checkpoint") is not None:
            extends = f"; extends the checkpoint {options['checkpoint']}"
        self.stdout.write(
            f"witness ok: {span} of a ledger of {result.size}, root {result.root.hex()}, "
            f"checkpoint signed by {result.key_source}{extends}"
        )
