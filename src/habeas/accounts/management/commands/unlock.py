"""``habeas unlock USERNAME [--address IP]``: lift a sign-in lockout before its cool-off ends.

Lockouts (django-axes; settings ``AXES_*``, docs/security.md) are per username and client
address; without ``--address`` every lockout of the username is lifted. The failed attempts
stay visible to administrators in the Django admin ("Access attempts" is emptied for the
pair; "Access logs" keep the history). Exit 2 when nothing was locked for that name.
"""

from __future__ import annotations

from typing import Any

from axes.utils import reset
from django.core.management.base import CommandError, CommandParser

from habeas.core.commands import HabeasCommand


class Command(HabeasCommand):
    help = "Lift the sign-in lockout of a username (from one address, or from all)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--address", default="", metavar="IP", help="only from this address")

    def handle(self, *args: Any, **options: Any) -> None:
        username = options["username"]
        address = options["address"].strip() or None
        removed = reset(ip=address, username=username)
        if not removed:
            where = f" from {address}" if address else ""
            raise CommandError(f"no failed sign-ins recorded for {username}{where}", returncode=2)
        self.stdout.write(f"{username}: {removed} locked or failed sign-in record(s) cleared")
