"""Append-only ledger (ARCHITECTURE.md rule 3): the database refuses UPDATE and DELETE on
entries and tree nodes, on SQLite and PostgreSQL; the index allocator starts at zero."""

from typing import Any

from django.db import migrations

TABLES = ["ledger_ledgerentry", "ledger_ledgernode"]


def _install(apps: Any, schema_editor: Any) -> None:
    vendor = schema_editor.connection.vendor

    def run(sql: str) -> None:
        schema_editor.execute(sql, params=None)  # no placeholders: '%' is plpgsql's

    if vendor == "sqlite":
        for table in TABLES:
            for op in ("UPDATE", "DELETE"):
                run(
                    f"CREATE TRIGGER {table}_no_{op.lower()} BEFORE {op} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, 'ledger is append-only: {op} refused on {table}'); END;"
                )
    elif vendor == "postgresql":
        run(
            """
            CREATE OR REPLACE FUNCTION habeas_ledger_append_only() RETURNS trigger AS $$
            BEGIN
              RAISE EXCEPTION 'ledger is append-only: % refused on %', TG_OP, TG_TABLE_NAME
                USING ERRCODE = 'insufficient_privilege';
            END;
            $$ LANGUAGE plpgsql;
            """
        )
        for table in TABLES:
            run(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION habeas_ledger_append_only();"
            )
    else:  # pragma: no cover - only the two supported engines
        raise RuntimeError(f"unsupported database vendor {vendor}")
    LedgerHead = apps.get_model("ledger", "LedgerHead")
    LedgerHead.objects.using(schema_editor.connection.alias).get_or_create(pk=1, defaults={"size": 0})


def _remove(apps: Any, schema_editor: Any) -> None:
    vendor = schema_editor.connection.vendor
    for table in TABLES:
        if vendor == "sqlite":
            for op in ("update", "delete"):
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_{op};")
        else:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};")


class Migration(migrations.Migration):
    dependencies = [("ledger", "0001_initial")]
    operations = [migrations.RunPython(_install, _remove)]
