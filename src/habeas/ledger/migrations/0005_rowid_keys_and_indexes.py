"""Ledger tables for append speed (performance of the one rule's write path).

* SQLite: the entries' ``index`` and the nodes' ``key`` become the tables' rowid
  (``integer primary key``). Django's ``bigint primary key`` made SQLite keep a second,
  unique index beside each table, written by every append and read by every lookup. The
  tables are rebuilt (rows copied in order) and the append-only triggers of migration 0002,
  dropped with the old tables, are installed again in the same transaction.
* Both engines: no index on ``action`` (no query looks entries up by action alone: the one
  filter on it is bounded by an index range), and the ``subject`` index is one plain index
  (PostgreSQL had a second, pattern-ops one that no query used).
"""

from typing import Any

from django.db import migrations, models

import habeas.ledger.models

TABLES = ["ledger_ledgerentry", "ledger_ledgernode"]


def _sqlite_triggers(schema_editor: Any) -> None:
    for table in TABLES:
        for op in ("UPDATE", "DELETE"):
            schema_editor.execute(
                f"CREATE TRIGGER {table}_no_{op.lower()} BEFORE {op} ON {table} BEGIN SELECT "
                f"RAISE(ABORT, 'ledger is append-only: {op} refused on {table}'); END;",
                params=None,
            )


def _with_index(field: Any, model: Any, db_index: bool) -> Any:
    other = field.clone()
    other.db_index = db_index
    other.set_attributes_from_name(field.name)
    other.model = model
    return other


def _forwards(apps: Any, schema_editor: Any) -> None:
    entry = apps.get_model("ledger", "LedgerEntry")
    node = apps.get_model("ledger", "LedgerNode")
    if schema_editor.connection.vendor == "sqlite":
        for model in (entry, node):
            schema_editor._remake_table(model)  # what AlterField does, once per table
        _sqlite_triggers(schema_editor)
        return
    for name in ("action", "subject"):
        field = entry._meta.get_field(name)
        schema_editor.alter_field(entry, _with_index(field, entry, True), field)
    schema_editor.add_index(entry, entry._meta.indexes[0])


def _backwards(apps: Any, schema_editor: Any) -> None:
    """Runs with the models as they were before this migration (see the operations)."""
    entry = apps.get_model("ledger", "LedgerEntry")
    node = apps.get_model("ledger", "LedgerNode")
    if schema_editor.connection.vendor == "sqlite":
        for model in (entry, node):
            schema_editor._remake_table(model)
        _sqlite_triggers(schema_editor)
        return
    schema_editor.execute("DROP INDEX IF EXISTS ledger_entry_subject", params=None)
    for name in ("action", "subject"):
        field = entry._meta.get_field(name)
        schema_editor.alter_field(entry, _with_index(field, entry, False), field)


class Migration(migrations.Migration):
    dependencies = [("ledger", "0004_head_border")]

    # Unapplying runs the operations in reverse: the first one, last, sees the old models.
    operations = [
        migrations.RunPython(migrations.RunPython.noop, _backwards),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="ledgerentry",
                    name="index",
                    field=habeas.ledger.models.RowidKeyField(primary_key=True, serialize=False),
                ),
                migrations.AlterField(
                    model_name="ledgernode",
                    name="key",
                    field=habeas.ledger.models.RowidKeyField(primary_key=True, serialize=False),
                ),
                migrations.AlterField(
                    model_name="ledgerentry",
                    name="action",
                    field=models.CharField(max_length=64),
                ),
                migrations.AlterField(
                    model_name="ledgerentry",
                    name="subject",
                    field=models.CharField(max_length=128),
                ),
                migrations.AddIndex(
                    model_name="ledgerentry",
                    index=models.Index(fields=["subject"], name="ledger_entry_subject"),
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(_forwards, migrations.RunPython.noop),
    ]
