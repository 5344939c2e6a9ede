"""``habeas demo [--scale small|full] [--no-serve]``: load the demo scenario and serve it."""

from __future__ import annotations

import io
import sys
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandParser

from habeas.core.commands import HabeasCommand
from habeas.people.models import Person
from habeas.web.demo import USERS, demo_password, load_demo, total_people


class Command(HabeasCommand):
    help = "Load the demo scenario (the 2025 arrangement, synthetic people) and serve it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--scale", choices=["small", "full"], default="small")
        parser.add_argument("--no-serve", action="store_true")
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)

    def handle(self, *args: Any, **options: Any) -> None:
        call_command("init", verbosity=0, stdout=self.stdout)
        if Person.objects.exists():
            self.stdout.write("demo data already loaded; keeping it")
        else:
            total = total_people(options["scale"])
            if sys.stderr.isatty():
                from rich.progress import Progress

                with Progress(transient=True) as bar:
                    task = bar.add_task(f"Admitting {total:,} people", total=total)
                    loaded = load_demo(
                        scale=options["scale"], advance=lambda n: bar.advance(task, n)
                    )
            else:
                loaded = load_demo(scale=options["scale"])
            from habeas.custody.models import CustodyEpisode

            held = CustodyEpisode.objects.open().count()
            self.stdout.write(
                f"demo loaded at scale {options['scale']}: {held:,} people in custody "
                "(a resident population, transferees, and the two March 2025 flights decided "
                "rule by rule)"
            )
            # As an oversight body would: keep a signed checkpoint and verify the ledger, so
            # the oversight page shows the ledger's status from the start.
            checkpoint = settings.HABEAS_HOME / "demo-checkpoint.txt"
            call_command("ledger", "checkpoint", "--out", str(checkpoint), stdout=io.StringIO())
            call_command("verify-ledger", stdout=io.StringIO())
            self.stdout.write(f"ledger verified; signed checkpoint kept in {checkpoint}")
            billing = loaded["billing"]
            if billing["reconcile_csv"]:
                theirs = settings.HABEAS_HOME / f"demo-their-list-{billing['reconcile_period']}.csv"
                theirs.write_text(billing["reconcile_csv"], encoding="utf-8")
                self.stdout.write(
                    f"{billing['invoices']} invoices issued, credit note "
                    f"{billing['credit_note']}; the sending state's list for "
                    f"{billing['reconcile_period']} (two discrepancies) is in {theirs}"
                )
        self.stdout.write("demo logins (user / password — role):")
        for u in USERS:
            self.stdout.write(
                f"  {u['username']:<9} / {demo_password(u['username']):<21} — {u['label']}"
            )
        if not options["no_serve"]:
            call_command("serve", host=options["host"], port=options["port"])
