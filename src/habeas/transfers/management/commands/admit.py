"""``habeas admit REF --arrived-at ISO8601 [--facility CODE] [--only REF1,REF2]`` (INTERFACES.md
v1.1; Mandela Rules 7 and 11): an entry that cannot be housed is reported by its sending_ref
on stderr and the others are admitted; exit 2 when none is (nothing written)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from habeas.core.actor import Actor
from habeas.core.clock import parse_instant
from habeas.core.commands import HabeasCommand
from habeas.facilities.models import Facility
from habeas.transfers.selectors import manifest_resolve
from habeas.transfers.services import manifest_admit_each


class Command(HabeasCommand):
    help = "Admit the accepted entries of a manifest that arrived: custody, record, cell."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("ref")
        parser.add_argument("--arrived-at", required=True, help="ISO 8601 with offset")
        parser.add_argument("--facility", default=None)
        parser.add_argument("--only", default="", help="sending references, comma-separated")

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
        outcome = manifest_admit_each(
            actor=Actor.cli(),
            manifest=manifest,
            arrived_at=at,
            facility=facility,
            only=[r for r in options["only"].split(",") if r.strip()],
        )
        for left in outcome.not_housed:
            self.stderr.write(f"{left.sending_ref}: not admitted: {left.reason}")
        if not outcome.episodes:
            raise CommandError(f"manifest {manifest.ref}: nobody admitted", returncode=2)
        self.stdout.write(
            f"manifest {manifest.ref}: {len(outcome.episodes)} admitted at {at.isoformat()}"
        )
