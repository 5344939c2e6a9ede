"""Append-only ledger, continued: on PostgreSQL a statement-level trigger also refuses
TRUNCATE (row-level triggers do not fire on it). SQLite has no TRUNCATE; its DELETE without
WHERE is refused row by row by migration 0002."""

from typing import Any

from django.db import migrations

TABLES = ["ledger_ledgerentry", "ledger_ledgernode"]


def _install(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION habeas_ledger_append_only();",
            params=None,
        )


def _remove(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table};", params=None)


class Migration(migrations.Migration):
    dependencies = [("ledger", "0002_append_only")]
    operations = [migrations.RunPython(_install, _remove)]
