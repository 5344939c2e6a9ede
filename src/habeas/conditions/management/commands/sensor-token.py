"""``habeas sensor-token create FACILITY --name NAME`` / ``revoke PREFIX`` / ``list FACILITY``:
tokens for a facility's sensors, which may only send that facility's readings
(``POST /api/v1/readings``). The raw token is printed once, on stdout alone; only its SHA-256
is kept. Issue and revocation are ledger entries (Mandela Rule 6)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser
from django.utils.translation import gettext as _

from habeas.conditions.readings_models import SensorToken
from habeas.conditions.sensors import sensor_token_create, sensor_token_get, sensor_token_revoke
from habeas.core.actor import Actor
from habeas.core.api import instant_str
from habeas.core.commands import HabeasCommand
from habeas.core.errors import NotFound
from habeas.facilities.models import Facility


def _facility(code: str) -> Facility:
    facility = Facility.objects.filter(code=code).first()
    if facility is None:
        raise NotFound(_("no facility %(code)s") % {"code": code})
    return facility


class Command(HabeasCommand):
    help = "Issue, list and revoke a facility's sensor tokens (readings only)."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        create = actions.add_parser("create", help="issue a sensor token (printed once)")
        create.add_argument("facility")
        create.add_argument("--name", required=True, help="the sensor or gateway using it")
        revoke = actions.add_parser("revoke", help="revoke a sensor token by its prefix")
        revoke.add_argument("prefix")
        listing = actions.add_parser("list", help="a facility's sensor tokens (never tokens)")
        listing.add_argument("facility")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "create":
            facility = _facility(options["facility"])
            token, raw = sensor_token_create(
                actor=Actor.cli(), facility=facility, name=options["name"]
            )
            self.stdout.write(raw)
            self.stderr.write(
                _(
                    "Sensor token %(prefix)s… issued for %(facility)s. "
                    "Store it now: it is not shown again."
                )
                % {"prefix": token.prefix, "facility": facility.code}
            )
        elif action == "revoke":
            token = sensor_token_get(prefix=options["prefix"])
            sensor_token_revoke(actor=Actor.cli(), token=token)
            self.stderr.write(_("Sensor token %(prefix)s… revoked.") % {"prefix": token.prefix})
        else:
            facility = _facility(options["facility"])
            for token in SensorToken.objects.filter(facility=facility):
                state = (
                    _("revoked %(at)s") % {"at": instant_str(token.revoked_at)}
                    if token.revoked_at
                    else _("active")
                )
                used = instant_str(token.last_used_at) or "-"
                self.stdout.write(
                    f"{token.prefix}\t{token.name}\t{instant_str(token.created_at)}\t{used}\t{state}"
                )
