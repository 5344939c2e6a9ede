"""``habeas user create USERNAME --role R [--facility CODE ...] [--jurisdiction CC] [--email E]
[--superuser]`` / ``habeas user close USERNAME --reason R``: accounts, on the ledger (Mandela
Rule 6; the trust issue: who may read the registry is part of what ``verify-ledger`` checks, so
an account made with Django's ``createsuperuser`` is named as added behind Habeas's back).

The password is read from ``HABEAS_PASSWORD`` when set (for scripts), else asked twice on the
terminal; it is checked against the password validators and stored hashed, never printed.
"""

from __future__ import annotations

import getpass
import os
from typing import Any

from django.core.management.base import CommandError, CommandParser

from habeas.accounts.choices import Role
from habeas.accounts.selectors import user_get_by_username
from habeas.accounts.services import user_create, user_deactivate
from habeas.core.actor import Actor
from habeas.core.commands import HabeasCommand


class Command(HabeasCommand):
    help = "Create and close accounts (each a ledger event)."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        create = actions.add_parser("create", help="create an account with one role and scope")
        create.add_argument("username")
        create.add_argument("--role", required=True, choices=[*Role.values, "none"])
        create.add_argument("--facility", action="append", default=[], metavar="CODE")
        create.add_argument("--jurisdiction", default="", metavar="CC")
        create.add_argument("--email", default="")
        create.add_argument(
            "--superuser", action="store_true", help="may use the Django admin (read-only)"
        )
        close = actions.add_parser("close", help="close an account: no login, no API token")
        close.add_argument("username")
        close.add_argument("--reason", required=True)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "close":
            user = user_get_by_username(username=options["username"])
            user_deactivate(actor=Actor.cli(), user=user, reason=options["reason"])
            self.stdout.write(f"account {user.username} closed")
            return
        password = os.environ.get("HABEAS_PASSWORD") or self._ask()
        user = user_create(
            actor=Actor.cli(),
            username=options["username"],
            password=password,
            role="" if options["role"] == "none" else options["role"],
            facility_codes=options["facility"],
            jurisdiction_code=options["jurisdiction"],
            email=options["email"],
            is_staff=options["superuser"],
            is_superuser=options["superuser"],
        )
        self.stdout.write(f"account {user.username} created ({user.role or 'no role'})")

    @staticmethod
    def _ask() -> str:
        first = getpass.getpass("password: ")
        if first != getpass.getpass("again: "):
            raise CommandError("the two passwords differ", returncode=2)
        return first
