"""``habeas release PERSON --reason R --at ISO8601 [--destination CC]`` (Mandela Rule 7(c))."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from habeas.core.actor import Actor
from habeas.core.clock import parse_instant
from habeas.core.commands import HabeasCommand
from habeas.custody.choices import ReleaseReason
from habeas.custody.selectors import release_warnings
from habeas.custody.services import custody_release
from habeas.people.selectors import person_resolve


class Command(HabeasCommand):
    help = "Record a release: PERSON is a registry id or a sending reference."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("person")
        parser.add_argument("--reason", required=True, choices=ReleaseReason.values)
        parser.add_argument("--at", required=True, help="ISO 8601 with offset")
        parser.add_argument("--destination", default="", help="ISO 3166 alpha-2 code")
        parser.add_argument("--note", default="")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            at = parse_instant(options["at"])
        except ValueError as exc:
            raise CommandError(f"--at: {exc}", returncode=2) from None
        person = person_resolve(options["person"])
        for warning in release_warnings(
            person, reason=options["reason"], at=at, destination=options["destination"]
        ):
            self.stderr.write(f"warning: {warning}")
        episode = custody_release(
            actor=Actor.cli(),
            person=person,
            reason=options["reason"],
            at=at,
            destination=options["destination"],
            note=options["note"],
        )
        self.stdout.write(
            f"released person {person.pk} from {episode.facility.code} at "
            f"{at.isoformat()} ({options['reason']})"
        )
