"""``habeas admit REF --arrived-at ISO8601 [--facility CODE]`` (INTERFACES.md; Mandela Rule 7)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from habeas.core.actor import Actor
from habeas.core.clock import parse_instant
from habeas.core.commands import HabeasCommand
from habeas.facilities.models import Facility
from habeas.transfers.selectors import manifest_resolve
from habeas.transfers.services import manifest_admit


class Command(HabeasCommand):
    help = "Admit the accepted entries of a manifest that arrived: custody, record, cell."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("ref")
        parser.add_argument("--arrived-at", required=True, help="ISO 8601 with offset")
        parser.add_argument("--facility", default=None)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            at = parse_instant(options["arrived_at"])
        except ValueError as exc:
            raise CommandError(f"--arrived-at: {exc}", returncode=2) from None
        facility = None
        if options["facility"]:
            facility = Facility.objects.filter(code=options["facility"]).first()
            if facility is None:
                raise CommandError(f"--facility: no facility {options['facility']!r}", returncode=2)
        manifest = manifest_resolve(options["ref"])
        episodes = manifest_admit(
            actor=Actor.cli(), manifest=manifest, arrived_at=at, facility=facility
        )
        self.stdout.write(f"manifest {manifest.ref}: {len(episodes)} admitted at {at.isoformat()}")
