"""``habeas erase PERSON --reason R [--at ISO8601]``: erase a person's personal data after the
retention period (ARCHITECTURE.md, "Personal data and the ledger"; docs/ledger.md)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from habeas.core.actor import Actor
from habeas.core.clock import parse_instant
from habeas.core.commands import HabeasCommand
from habeas.custody.erasure import person_erase
from habeas.people.selectors import person_resolve


class Command(HabeasCommand):
    help = (
        "Erase a person's personal data (names, date of birth, identifiers, the Rule 7 record's "
        "personal fields, relatives' contacts) after the agreement's retention period; the "
        "custody facts stay and the ledger still verifies. PERSON is a registry id or a "
        "sending reference."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("person")
        parser.add_argument("--reason", required=True, help="the request or rule that applies")
        parser.add_argument("--at", help="ISO 8601 with offset (default: now)")

    def handle(self, *args: Any, **options: Any) -> None:
        at = None
        if options.get("at"):
            try:
                at = parse_instant(options["at"])
            except ValueError as exc:
                raise CommandError(f"--at: {exc}", returncode=2) from None
        person = person_resolve(options["person"])
        erased = person_erase(actor=Actor.cli(), person=person, reason=options["reason"], at=at)
        self.stdout.write(
            f"erased the personal data of person {erased.pk}; the custody facts and the "
            "ledger remain (verify with 'habeas verify-ledger')"
        )
