"""``habeas accept-manifest REF [--all-eligible] [--only REF1,REF2]`` (INTERFACES.md)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from habeas.core.actor import Actor
from habeas.core.commands import HabeasCommand
from habeas.transfers.selectors import manifest_resolve
from habeas.transfers.services import manifest_accept


class Command(HabeasCommand):
    help = "Accept entries of a manifest (within the quota and the working capacity)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("ref")
        parser.add_argument("--all-eligible", action="store_true")
        parser.add_argument("--only", default="", help="comma-separated sending references")

    def handle(self, *args: Any, **options: Any) -> None:
        only = [r for r in options["only"].split(",") if r.strip()]
        if not only and not options["all_eligible"]:
            raise CommandError("say --all-eligible or --only REF1,REF2", returncode=2)
        manifest = manifest_resolve(options["ref"])
        accepted = manifest_accept(
            actor=Actor.cli(), manifest=manifest, all_eligible=options["all_eligible"], only=only
        )
        self.stdout.write(f"manifest {manifest.ref}: {len(accepted)} accepted")
