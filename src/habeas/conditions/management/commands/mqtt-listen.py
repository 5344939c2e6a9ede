"""``habeas mqtt-listen --broker HOST[:PORT] [--topic T]``: cell readings from an MQTT broker
(INTERFACES.md; topic default ``habeas/readings/#``), JSON payloads with the CSV's keys, one
reading or a list; buffered as they arrive and ingested in batches (every 2,000 messages or
250 ms, ``--flush-messages`` / ``--flush-ms``), one ledger entry a batch, heat alerts evaluated
as they arrive. Subscribed with QoS 1 over MQTT v5, each message acknowledged once its batch is
stored; the broker keeps the session (``--client-id``, ``--session-expiry``) so a crash loses
nothing. Bad readings go to stderr by number, column and reason. Runs until interrupted
(``--seconds`` / ``--readings`` stop it, for tests)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from habeas.conditions.mqtt import (
    DEFAULT_TOPIC,
    FLUSH_MESSAGES,
    FLUSH_MS,
    RECEIVE_MAXIMUM,
    Listener,
)
from habeas.conditions.readings import IngestReport
from habeas.core.actor import Actor
from habeas.core.commands import HabeasCommand

CLIENT_ID = "habeas-mqtt-listen"
SESSION_EXPIRY = 86_400


class Command(HabeasCommand):
    help = "Ingest cell readings from an MQTT broker (JSON payloads with the CSV's keys)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--broker", required=True, metavar="HOST[:PORT]")
        parser.add_argument("--topic", default=DEFAULT_TOPIC)
        parser.add_argument(
            "--flush-messages", type=int, default=FLUSH_MESSAGES, metavar="N",
            help=f"ingest a batch once N messages wait (default {FLUSH_MESSAGES})",
        )  # fmt: skip
        parser.add_argument(
            "--flush-ms", type=float, default=FLUSH_MS, metavar="MS",
            help=f"or MS milliseconds after the first of them arrived (default {FLUSH_MS})",
        )  # fmt: skip
        parser.add_argument(
            "--receive-maximum", type=int, default=RECEIVE_MAXIMUM, metavar="N",
            help="messages the broker may send before one is acknowledged "
            f"(MQTT v5 Receive Maximum, default {RECEIVE_MAXIMUM})",
        )  # fmt: skip
        parser.add_argument(
            "--client-id", default=CLIENT_ID,
            help=f"the MQTT client id, which names the kept session (default {CLIENT_ID})",
        )  # fmt: skip
        parser.add_argument(
            "--session-expiry", type=int, default=SESSION_EXPIRY, metavar="SECONDS",
            help="how long the broker keeps the session and the messages not acknowledged "
            f"while the listener is away (default {SESSION_EXPIRY}; 0: a fresh session)",
        )  # fmt: skip
        parser.add_argument("--seconds", type=float, help="stop after this many seconds")
        parser.add_argument("--readings", type=int, help="stop after this many readings")

    def handle(self, *args: Any, **options: Any) -> None:
        host, _, port = options["broker"].partition(":")
        if not host or (port and not port.isdigit()):
            raise CommandError(
                f"--broker {options['broker']!r}: give HOST or HOST:PORT", returncode=2
            )
        if options["flush_messages"] < 1 or options["flush_ms"] <= 0:
            raise CommandError("--flush-messages and --flush-ms must be positive", returncode=2)
        if not 1 <= options["receive_maximum"] <= RECEIVE_MAXIMUM:
            raise CommandError(f"--receive-maximum must be 1..{RECEIVE_MAXIMUM}", returncode=2)
        if options["session_expiry"] < 0:
            raise CommandError("--session-expiry must be 0 or more", returncode=2)

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
            host,
            int(port or 1883),
            options["topic"],
            actor=Actor.cli(),
            on_batch=report,
            flush_messages=options["flush_messages"],
            flush_ms=options["flush_ms"],
            receive_maximum=options["receive_maximum"],
            client_id=options["client_id"],
            session_expiry=options["session_expiry"],
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
