"""``habeas mqtt-listen --broker HOST[:PORT] [--topic T]``: cell readings from an MQTT broker
(INTERFACES.md; topic default ``habeas/readings/#``), JSON payloads with the CSV's keys, one
reading or a list; ingested in batches (every second or 5,000 readings), one ledger entry a
batch, heat alerts evaluated as they arrive. Bad readings go to stderr by number, column and
reason. Runs until interrupted (``--seconds`` / ``--readings`` stop it, for tests)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from habeas.conditions.mqtt import DEFAULT_TOPIC, Listener
from habeas.conditions.readings import IngestReport
from habeas.core.actor import Actor
from habeas.core.commands import HabeasCommand


class Command(HabeasCommand):
    help = "Ingest cell readings from an MQTT broker (JSON payloads with the CSV's keys)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--broker", required=True, metavar="HOST[:PORT]")
        parser.add_argument("--topic", default=DEFAULT_TOPIC)
        parser.add_argument("--seconds", type=float, help="stop after this many seconds")
        parser.add_argument("--readings", type=int, help="stop after this many readings")

    def handle(self, *args: Any, **options: Any) -> None:
        host, _, port = options["broker"].partition(":")
        if not host or (port and not port.isdigit()):
            raise CommandError(
                f"--broker {options['broker']!r}: give HOST or HOST:PORT", returncode=2
            )

        def report(r: IngestReport) -> None:
            if r.batch:
                self.stdout.write(f"batch {r.batch}: {r.stored} readings stored")
            for alert in r.opened:
                self.stdout.write(f"  alert opened: {alert}")
            for alert in r.closed:
                self.stdout.write(f"  alert closed: {alert}")
            for e in r.errors[:50]:
                self.stderr.write(f"reading {e}")

        listener = Listener(
            host, int(port or 1883), options["topic"], actor=Actor.cli(), on_batch=report
        )
        try:
            totals = listener.run(seconds=options["seconds"], readings=options["readings"])
        except OSError as exc:
            raise CommandError(
                f"cannot reach the broker {options['broker']}: {exc}", returncode=2
            ) from exc
        except KeyboardInterrupt:
            totals = listener.totals
        self.stdout.write(
            f"{totals.messages} messages, {totals.received} readings, {totals.stored} stored "
            f"in {totals.batches} batches, {len(totals.errors)} bad"
        )
