"""``habeas worker``: background work (INTERFACES.md v1.1) — notification delivery with
retries, and the daily custody check — on Django's tasks API with the database backend. Any
number of workers may run against one PostgreSQL database: each task row is claimed by one
worker (``SELECT … FOR UPDATE SKIP LOCKED``), and each delivery again by its own claim.
See docs/lifecycle.md for systemd and cron."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from django.conf import settings
from django.core.management.base import CommandParser
from django.utils import timezone
from django_tasks_db.management.commands.db_worker import Worker

from habeas.core.commands import HabeasCommand
from habeas.notifications import scheduler
from habeas.notifications.tasks import worker_id


class Command(HabeasCommand):
    help = "Run background work: notification delivery with retries, the daily custody check."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--once",
            action="store_true",
            help="run what is due now and exit (for cron, and for tests)",
        )
        parser.add_argument(
            "--interval", type=float, default=1.0, help="seconds to sleep when idle"
        )
        parser.add_argument("--id", default="", help="this worker's id (default host:pid)")

    def handle(self, *args: Any, **options: Any) -> None:
        ident = options["id"] or worker_id()
        while True:
            scheduler.schedule_due(at=timezone.now(), check_at=settings.HABEAS_DAILY_CHECK_AT)
            Worker(
                queue_names=["*"],
                interval=0,
                batch=True,
                backend_name="default",
                startup_delay=False,
                max_tasks=None,
                worker_id=ident,
                excluded_queue_names=[],
            ).run()
            if options["once"]:
                return
            time.sleep(max(options["interval"], 0.05))


__all__ = ["Command", "dt"]
