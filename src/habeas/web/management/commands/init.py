"""``habeas init``: create or migrate the database and the ledger signing key (idempotent)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command

from habeas.core.commands import HabeasCommand
from habeas.ledger.keys import ensure_signing_key


class Command(HabeasCommand):
    help = "Create or migrate the database and generate the Ed25519 ledger key (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)
        call_command("migrate", interactive=False, verbosity=0)
        path, created = ensure_signing_key()
        self.stdout.write(f"home: {settings.HABEAS_HOME}")
        self.stdout.write(
            f"database: {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]} ready"
        )
        self.stdout.write(f"ledger key: {path} ({'created' if created else 'kept'})")
