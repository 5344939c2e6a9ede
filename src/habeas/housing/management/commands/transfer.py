"""``habeas transfer PERSON --to FACILITY --at ISO8601 [--reason R]`` (Mandela Rule 7(c))."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from habeas.core.actor import Actor
from habeas.core.clock import parse_instant
from habeas.core.commands import HabeasCommand
from habeas.facilities.models import Facility
from habeas.housing.relocation import custody_transfer
from habeas.people.selectors import person_resolve


class Command(HabeasCommand):
    help = "Transfer a person held to another facility of the registry (the episode goes on)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("person", help="registry id or sending reference")
        parser.add_argument("--to", required=True, help="facility code")
        parser.add_argument("--at", required=True, help="ISO 8601 with offset")
        parser.add_argument("--reason", default="")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            at = parse_instant(options["at"])
        except ValueError as exc:
            raise CommandError(f"--at: {exc}", returncode=2) from None
        facility = Facility.objects.filter(code=options["to"]).first()
        if facility is None:
            raise CommandError(f"--to: no facility {options['to']!r}", returncode=2)
        person = person_resolve(options["person"])
        placement = custody_transfer(
            actor=Actor.cli(), person=person, facility=facility, at=at, reason=options["reason"]
        )
        self.stdout.write(
            f"transferred person {person.pk} to {facility.code} (cell {placement.cell.code}) "
            f"at {at.isoformat()}"
        )
