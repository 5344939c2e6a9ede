"""``habeas apply SETUP.toml``: declare jurisdictions, facilities and agreements (idempotent)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser

from habeas.core.actor import Actor
from habeas.core.commands import HabeasCommand
from habeas.facilities.setup import setup_apply
from habeas.facilities.setup_schema import load_setup


class Command(HabeasCommand):
    help = "Apply a setup file; applying the same file twice changes nothing."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("setup", type=Path, help="the setup file (TOML)")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["setup"]
        if not path.is_file():
            raise CommandError(f"{path}: no such file", returncode=2)
        document = load_setup(path)
        report = setup_apply(actor=Actor.cli(), document=document)
        if not report.changed:
            self.stdout.write(
                f"{path.name}: nothing changed ({report.unchanged} objects as declared)"
            )
            return
        self.stdout.write(
            f"{path.name}: {len(report.created)} declared, {len(report.amended)} amended, "
            f"{report.unchanged} unchanged; {len(report.events)} ledger entries"
        )
        for subject in report.amended:
            self.stdout.write(f"  amended {subject}")
        for subject in report.not_in_file:
            self.stdout.write(f"  not in the file (kept): {subject}")
