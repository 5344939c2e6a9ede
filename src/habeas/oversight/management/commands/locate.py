"""``habeas locate (--name "NAMES" | --ref SENDING_REF) [--dob YYYY[-MM[-DD]]]
[--nationality CC] [--json]``: what the public locator shows (INTERFACES.md).

On the server the nationality and date of birth may be omitted (the public locator and API
require them); the answer is the same document: never a cell, never another person's data,
never a legal document."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import CommandParser

from habeas.core.commands import HabeasCommand
from habeas.oversight.locator import LocatorQuery, locate


class Command(HabeasCommand):
    help = "Where is this person held? (what the public locator shows)"

    def add_arguments(self, parser: CommandParser) -> None:
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("--name", help="given name(s) and surname(s), any order")
        which.add_argument("--ref", help="the sending state's reference (e.g. A-number)")
        parser.add_argument("--dob", default="", help="YYYY, YYYY-MM or YYYY-MM-DD")
        parser.add_argument("--nationality", default="", help="ISO 3166-1 alpha-2")
        parser.add_argument("--json", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        query = LocatorQuery.build(
            name=options["name"] or "",
            ref=options["ref"] or "",
            dob=options["dob"],
            nationality=options["nationality"],
            public=False,
        )
        doc = locate(query)
        if options["json"]:
            self.stdout.write(json.dumps(doc, indent=2, ensure_ascii=False))
            return
        for m in doc["matches"]:
            year = f" ({m['year_of_birth']})" if m["year_of_birth"] else ""
            if m["status"] == "not_found":
                who = m["name"] or f"reference {options['ref']}"
                self.stdout.write(f"{who}{year}: not found")
                continue
            f = m["facility"]
            if m["status"] == "in_custody":
                self.stdout.write(f"{m['name']}{year}: in custody since {m['since']}")
            else:
                to = f" to {m['released_to']}" if m.get("released_to") else ""
                self.stdout.write(f"{m['name']}{year}: released on {m['released_on']}{to}")
            self.stdout.write(f"  {f['name']}")
            for key in ("address", "phone", "visiting"):
                if f[key]:
                    self.stdout.write(f"  {key}: {f[key]}")
