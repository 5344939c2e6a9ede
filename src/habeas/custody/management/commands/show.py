"""``habeas show PERSON [--json]``: the person's file as staff see it (INTERFACES.md)."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import CommandParser

from habeas.core.commands import HabeasCommand
from habeas.custody.selectors import person_file
from habeas.people.selectors import person_resolve


class Command(HabeasCommand):
    help = "Show a person's file: identity, legal bases, custody, cell, release date, alarms."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("person", help="registry id or sending reference")
        parser.add_argument("--json", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        doc = person_file(person_resolve(options["person"]))
        if options["json"]:
            self.stdout.write(json.dumps(doc, indent=2, ensure_ascii=False))
            return
        names = doc["names"]
        full = " ".join(
            n for n in (names["given_names"], names["first_surname"], names["second_surname"]) if n
        )
        lines = [
            f"{full}  (registry id {doc['id']}; refs {', '.join(doc['sending_refs']) or '—'})",
            f"born {doc['date_of_birth'] or 'unknown'}, sex {doc['sex']}, "
            f"nationality {', '.join(doc['nationalities']) or '—'}",
            f"cell: {doc['cell'] or '—'}   release date: {doc['release_date'] or '—'}",
            "legal bases:",
            *[
                f"  {b['kind']} {b['ref']} {b['sentence'] or ''} ends {b['ends_on'] or '—'}"
                for b in doc["legal_bases"]
            ],
            "custody:",
            *[
                f"  {c['facility']} {c['agreement'] or '(domestic)'} {c['admitted_at']} → "
                f"{c['released_at'] or 'now'} {c['release_reason'] or ''}"
                for c in doc["custody"]
            ],
        ]
        self.stdout.write("\n".join(lines))
