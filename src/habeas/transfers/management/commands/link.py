"""``habeas link LEFT.csv RIGHT.csv [--threshold T] [--out PAIRS.csv]`` (INTERFACES.md): record
linkage between two person lists with the registry's matcher (habeas.people.matching)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser

from habeas.core import csvsafe
from habeas.core.commands import HabeasCommand
from habeas.people.matching import SAME, link
from habeas.transfers.linking import read_person_list


class Command(HabeasCommand):
    help = "Pairs of rows of two person lists judged the same person: left_ref,right_ref,score."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("left")
        parser.add_argument("right")
        parser.add_argument("--threshold", type=float, default=SAME)
        parser.add_argument("--out", default=None)

    def handle(self, *args: Any, **options: Any) -> None:
        paths = [Path(options["left"]), Path(options["right"])]
        for p in paths:
            if not p.is_file():
                raise CommandError(f"{p}: no such file", returncode=2)
        if not 0 < options["threshold"] <= 1:
            raise CommandError("--threshold: between 0 and 1", returncode=2)
        left, right = (read_person_list(p) for p in paths)
        pairs = link(left, right, threshold=options["threshold"])
        if options["out"]:
            with Path(options["out"]).open("w", newline="", encoding="utf-8") as fh:
                _write(fh, pairs)
            sys.stderr.write(f"{len(pairs)} pairs written to {options['out']}\n")
        else:
            _write(self.stdout, pairs)


def _write(fh: Any, pairs: list[tuple[str, str, float]]) -> None:
    writer = csvsafe.writer(fh, lineterminator="\n")
    writer.writerow(["left_ref", "right_ref", "score"])
    for l_ref, r_ref, score in pairs:
        writer.writerow([l_ref, r_ref, f"{score:.4f}"])
