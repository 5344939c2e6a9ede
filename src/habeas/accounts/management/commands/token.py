"""``habeas token create USERNAME --name NAME`` / ``habeas token revoke PREFIX`` /
``habeas token list USERNAME``: API tokens (INTERFACES.md: every API client authenticates with
one). The raw token is printed once, on stdout alone so it can be piped into a secret store;
only its SHA-256 digest is kept. Issue and revocation are ledger events (Mandela Rule 6)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser
from django.utils.translation import gettext as _

from habeas.accounts.selectors import token_get_by_prefix, token_list, user_get_by_username
from habeas.accounts.services import token_create, token_revoke
from habeas.core.actor import Actor
from habeas.core.api import instant_str
from habeas.core.commands import HabeasCommand


class Command(HabeasCommand):
    help = "Issue, list and revoke API tokens."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        create = actions.add_parser("create", help="issue a token for a user (printed once)")
        create.add_argument("username")
        create.add_argument("--name", required=True, help="what or who uses the token")
        revoke = actions.add_parser("revoke", help="revoke a token by its 8-character prefix")
        revoke.add_argument("prefix")
        listing = actions.add_parser("list", help="a user's tokens (prefixes, never tokens)")
        listing.add_argument("username")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "create":
            user = user_get_by_username(username=options["username"])
            token, raw = token_create(actor=Actor.cli(), user=user, name=options["name"])
            self.stdout.write(raw)
            self.stderr.write(
                _("Token %(prefix)s… issued to %(user)s. Store it now: it is not shown again.")
                % {"prefix": token.prefix, "user": user.username}
            )
        elif action == "revoke":
            token = token_get_by_prefix(prefix=options["prefix"])
            token_revoke(actor=Actor.cli(), token=token)
            self.stderr.write(
                _("Token %(prefix)s… of %(user)s revoked.")
                % {"prefix": token.prefix, "user": token.user.username}
            )
        else:
            user = user_get_by_username(username=options["username"])
            for token in token_list(user=user):
                state = (
                    _("revoked %(at)s") % {"at": instant_str(token.revoked_at)}
                    if token.revoked_at
                    else _("active")
                )
                used = instant_str(token.last_used_at) or "-"
                self.stdout.write(
                    f"{token.prefix}\t{token.name}\t{instant_str(token.created_at)}\t{used}\t{state}"
                )
