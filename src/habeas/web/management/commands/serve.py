"""``habeas serve [--host H] [--port P]``: gunicorn + whitenoise, the production server."""

from __future__ import annotations

import io
import os
import sys
from typing import Any

from django.core.management import call_command
from django.core.management.base import CommandParser

from habeas.core.commands import HabeasCommand


class Command(HabeasCommand):
    help = "Serve Habeas with gunicorn (static files by whitenoise)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument(
            "--workers", type=int, default=int(os.environ.get("HABEAS_WORKERS", "2"))
        )

    def handle(self, *args: Any, **options: Any) -> None:
        # a fresh home is initialised first (idempotent: an initialised one is kept as it is)
        call_command("init", verbosity=0, stdout=io.StringIO())
        bind = f"{options['host']}:{options['port']}"
        self.stdout.write(f"Habeas serving on http://{bind}/  (Ctrl-C to stop)")
        self.stdout.flush()
        argv = [
            sys.executable,
            "-m",
            "gunicorn",
            "habeas.wsgi:application",
            "--bind",
            bind,
            "--workers",
            str(options["workers"]),
            "--access-logfile",
            "-",
            "--graceful-timeout",
            "5",
            # one shared control socket per user would clash between instances (tests, demo)
            "--no-control-socket",
        ]
        os.execv(sys.executable, argv)  # noqa: S606 - fixed argv, replaces this process
